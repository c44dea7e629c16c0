/**
 * A recurring create with an `Idempotency-Key` whose first attempt died before answering, and its
 * retry with the same key: one definition, the first attempt's, with one schedule, never a second
 * pair that would deliver every occurrence twice (shared/use-cases/create-records.ts). A death is a
 * call that never settles.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { RecurringNotification } from '../../../../shared/domain/recurring.ts';
import type { CreateRecurringBody } from '../../../../shared/domain/schemas.ts';
import { createRecurringBodySchema } from '../../../../shared/domain/schemas.ts';
import { ConflictError, ServiceUnavailableError, ValidationError } from '../../../../shared/errors.ts';
import { logger } from '../../../../shared/observability/logger.ts';
import type { CreateKey } from '../../../../shared/use-cases/create-records.ts';
import { createRecurring, deleteRecurring, patchRecurring } from '../../../../shared/use-cases/recurring.ts';
import type { RecurringDeps } from '../../../../shared/use-cases/recurring.ts';
import { FakeClock, FakeRecurringScheduler, InMemoryCreateRecords, InMemoryRecipientStore } from '../../fakes/index.ts';
import { aRecipient, awsError, sender, tenantId } from '../../fakes/fixtures.ts';
import { InMemoryRecurringStore } from '../../fakes/recurring-store.ts';

beforeAll(() => {
  logger.setLogLevel('SILENT');
});

const key: CreateKey = { key: JSON.stringify([tenantId, sender.sub, 'POST /v1/recurring-notifications', '/v1/recurring-notifications', 'k-1']), fingerprint: 'body-1' };

function aBody(): CreateRecurringBody {
  return createRecurringBodySchema.parse({ recipients: ['bob'], title: 'Digest', message: 'Your day', schedule: { rate: '1 day', timezone: 'Europe/Paris' } });
}

interface World {
  readonly deps: RecurringDeps;
  readonly store: InMemoryRecurringStore;
  readonly scheduler: FakeRecurringScheduler;
  readonly clock: FakeClock;
}

async function setUp(): Promise<World> {
  const recipients = new InMemoryRecipientStore();
  await recipients.put(aRecipient({ id: 'bob' }));
  const store = new InMemoryRecurringStore();
  const scheduler = new FakeRecurringScheduler();
  const clock = new FakeClock('2030-01-01T12:00:00.000Z');
  return { deps: { recurring: store, scheduler, recipients, clock, createRecords: new InMemoryCreateRecords() }, store, scheduler, clock };
}

/** The next `put` never returns (the SDK retrying a throttled Scheduler until the Lambda times out), having made the schedule or not; later ones work. */
function dieOnNextPut(scheduler: FakeRecurringScheduler, after: 'before the schedule' | 'after the schedule'): void {
  const put = scheduler.put.bind(scheduler);
  let calls = 0;
  scheduler.put = async (...args) => {
    if (++calls > 1) return put(...args);
    if (after === 'after the schedule') await put(...args);
    return new Promise<never>(() => undefined);
  };
}

/** Lets a dying attempt run as far as it gets. */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** The first attempt of the keyed create, dying at `when`: the definition it wrote. */
async function deadFirstAttempt(world: World, when: 'before the schedule' | 'after the schedule'): Promise<RecurringNotification> {
  dieOnNextPut(world.scheduler, when);
  void createRecurring(world.deps, sender, aBody(), { idempotency: key });
  await settle();
  const [written] = world.store.definitions.values();
  if (!written) throw new Error('the first attempt wrote nothing');
  return written;
}

/** The first attempt of the keyed create, dying as it writes its definition: it leaves its record only. */
async function deadBeforeItsDefinition(world: World): Promise<void> {
  const put = world.store.put.bind(world.store);
  world.store.put = () => new Promise<never>(() => undefined);
  void createRecurring(world.deps, sender, aBody(), { idempotency: key });
  await settle();
  world.store.put = put;
}

describe('a recurring create with an Idempotency-Key retried after its first attempt died', () => {
  it.each(['before the schedule', 'after the schedule'] as const)('makes one definition, the first attempt\'s, and one schedule, when it died %s', async (when) => {
    // Prepare: the first attempt writes its definition, then dies in the Scheduler call
    const world = await setUp();
    const { deps, store, scheduler, clock } = world;
    const written = await deadFirstAttempt(world, when);
    clock.advanceSeconds(40);

    // Act
    const retried = await createRecurring(deps, sender, aBody(), { idempotency: key });

    // Assess
    expect(retried).toEqual(written);
    expect([...store.definitions.keys()]).toEqual([written.id]);
    expect([...scheduler.schedules.keys()]).toEqual([written.id]);
    // A rate counts from when the first attempt set it: its next period, not one from the retry.
    expect(scheduler.schedules.get(written.id)?.startDate).toBe(Date.parse('2030-01-02T12:00:00.000Z'));
    // Its first firing, at the create, was the dead attempt's schedule's to make: the retry makes it when that schedule never was.
    expect(scheduler.fired).toEqual(when === 'before the schedule' ? [{ id: written.id, at: '2030-01-01T12:00:00Z' }] : []);
  });

  it('fires the first occurrence of a rate whose dead attempt wrote nothing but its record, once, when the retry writes the definition', async () => {
    // Prepare: the first attempt records its id, then dies writing its definition
    const world = await setUp();
    const { deps, scheduler, clock } = world;
    await deadBeforeItsDefinition(world);
    clock.advanceSeconds(40);

    // Act
    const retried = await createRecurring(deps, sender, aBody(), { idempotency: key });

    // Assess
    expect(retried.createdAt).toBe('2030-01-01T12:00:00.000Z');
    expect(scheduler.fired).toEqual([{ id: retried.id, at: '2030-01-01T12:00:00Z' }]);
    expect(scheduler.schedules.get(retried.id)?.startDate).toBe(Date.parse('2030-01-02T12:00:00.000Z'));
  });

  it.each([
    ['a minute rate retried 10.5 minutes on fires the last firing it missed, not eleven', { rate: '1 minute', timezone: 'UTC' }, 630, ['2030-01-01T12:10:00Z']],
    ['a cron whose time passed before the retry fires that time', { cron: '1 12 * * *', timezone: 'UTC' }, 90, ['2030-01-01T12:01:00Z']],
    ['a cron whose time is still ahead fires nothing', { cron: '1 12 * * *', timezone: 'UTC' }, 40, []],
    ['a rate whose startAt is still ahead fires nothing', { rate: '1 day', timezone: 'UTC', startAt: '2030-01-01T13:00:00.000Z' }, 40, []],
  ])('%s', async (_case, schedule, seconds, fired) => {
    // Prepare: the first attempt dies before its schedule is made
    const world = await setUp();
    const body = createRecurringBodySchema.parse({ recipients: ['bob'], title: 'Digest', message: 'Your day', schedule });
    dieOnNextPut(world.scheduler, 'before the schedule');
    void createRecurring(world.deps, sender, body, { idempotency: key });
    await settle();
    world.clock.advanceSeconds(seconds);

    // Act
    const retried = await createRecurring(world.deps, sender, body, { idempotency: key });

    // Assess
    expect(world.scheduler.fired).toEqual(fired.map((at) => ({ id: retried.id, at })));
    expect([...world.scheduler.schedules.keys()]).toEqual([retried.id]);
  });

  it('answers 409 naming the definition and when it was deleted, and makes nothing again, for a retry whose definition was deleted since', async () => {
    // Prepare: the definition the dead attempt wrote was found (listed) and deleted before the retry came
    const world = await setUp();
    const { deps, store, scheduler, clock } = world;
    const written = await deadFirstAttempt(world, 'before the schedule');
    clock.advanceSeconds(30);
    await deleteRecurring(deps, sender, written.id);
    clock.advanceSeconds(10);

    // Act
    const error = await createRecurring(deps, sender, aBody(), { idempotency: key }).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(ConflictError);
    expect(error).toMatchObject({ statusCode: 409, details: { id: written.id, deletedAt: '2030-01-01T12:00:30.000Z' } });
    expect((error as Error).message).toContain(written.id);
    expect([...store.definitions.keys()]).toEqual([]);
    expect([...scheduler.schedules.keys()]).toEqual([]);
    expect(scheduler.fired).toEqual([]);
  });

  it('fires nothing missed more than an hour ago: a daily rate retried 20 hours on', async () => {
    // Prepare
    const world = await setUp();
    const written = await deadFirstAttempt(world, 'before the schedule');
    world.clock.advanceSeconds(20 * 3600);

    // Act
    await createRecurring(world.deps, sender, aBody(), { idempotency: key });

    // Assess: as EventBridge drops a firing it could not deliver within the hour
    expect(world.scheduler.fired).toEqual([]);
    expect(world.scheduler.schedules.get(written.id)?.startDate).toBe(Date.parse('2030-01-02T12:00:00.000Z'));
  });

  it('keeps the definition it wrote when its put fails after it fired the missed occurrence (503), and the next retry converges on it and fires the same instant', async () => {
    // Prepare: the first attempt dies writing its definition; the first retry writes it, fires, and finds the Scheduler throttling
    const world = await setUp();
    const { deps, store, scheduler, clock } = world;
    await deadBeforeItsDefinition(world);
    clock.advanceSeconds(40);
    scheduler.putFailures.add(awsError('ThrottlingException', 400));
    await expect(createRecurring(deps, sender, aBody(), { idempotency: key })).rejects.toBeInstanceOf(ServiceUnavailableError);
    const [kept] = store.definitions.values();

    // Act
    const retried = await createRecurring(deps, sender, aBody(), { idempotency: key });

    // Assess: one definition, fired twice at one instant (which creates one occurrence), then scheduled
    expect(kept).toBeDefined();
    expect(retried.id).toBe(kept?.id);
    expect([...store.definitions.keys()]).toEqual([retried.id]);
    expect(scheduler.fired).toEqual([
      { id: retried.id, at: '2030-01-01T12:00:00Z' },
      { id: retried.id, at: '2030-01-01T12:00:00Z' },
    ]);
    expect([...scheduler.schedules.keys()]).toEqual([retried.id]);
  });

  it('answers 409 and takes nothing up again when a DELETE of the definition failed after its schedule went', async () => {
    // Prepare: the DELETE removes the schedule, then cannot remove the definition (a 500 to its caller)
    const world = await setUp();
    const { deps, store, scheduler, clock } = world;
    const written = await deadFirstAttempt(world, 'after the schedule');
    clock.advanceSeconds(30);
    const remove = store.remove.bind(store);
    store.remove = async () => {
      throw awsError('ProvisionedThroughputExceededException', 400);
    };
    await expect(deleteRecurring(deps, sender, written.id)).rejects.toMatchObject({ name: 'ProvisionedThroughputExceededException' });
    store.remove = remove;
    const putsBefore = scheduler.puts.length;

    // Act
    const error = await createRecurring(deps, sender, aBody(), { idempotency: key }).catch((e: unknown) => e);

    // Assess: the definition stays, never firing, for the DELETE to be repeated
    expect(error).toBeInstanceOf(ConflictError);
    expect(error).toMatchObject({ details: { id: written.id, deletedAt: '2030-01-01T12:00:30.000Z' } });
    expect([...store.definitions.keys()]).toEqual([written.id]);
    expect([...scheduler.schedules.keys()]).toEqual([]);
    expect(scheduler.puts).toHaveLength(putsBefore);
    expect(scheduler.fired).toEqual([]);
  });

  it('takes back the definition it wrote when the Scheduler refuses the schedule after it fired the missed occurrence (400): the occurrence finds nothing', async () => {
    // Prepare: the first attempt dies writing its definition; the retry fires, then its expression is refused
    const world = await setUp();
    const { deps, store, scheduler, clock } = world;
    await deadBeforeItsDefinition(world);
    clock.advanceSeconds(40);
    scheduler.putFailures.add(awsError('ValidationException', 400));

    // Act
    const error = await createRecurring(deps, sender, aBody(), { idempotency: key }).catch((e: unknown) => e);

    // Assess: a 400 keeps nothing, as for a first attempt
    expect(error).toBeInstanceOf(ValidationError);
    expect(scheduler.fired).toHaveLength(1);
    expect([...store.definitions.keys()]).toEqual([]);
    expect([...scheduler.schedules.keys()]).toEqual([]);
  });

  it('answers 409 and takes its schedule back when the definition is deleted between its read and its put', async () => {
    // Prepare: the DELETE comes while the retry asks whether the schedule exists
    const world = await setUp();
    const { deps, store, scheduler, clock } = world;
    const written = await deadFirstAttempt(world, 'before the schedule');
    clock.advanceSeconds(40);
    const exists = scheduler.exists.bind(scheduler);
    scheduler.exists = async (recurring) => {
      await deleteRecurring(deps, sender, written.id);
      return exists(recurring);
    };

    // Act
    const error = await createRecurring(deps, sender, aBody(), { idempotency: key }).catch((e: unknown) => e);

    // Assess: nothing left to fire (the occurrence fired finds no definition)
    expect(error).toBeInstanceOf(ConflictError);
    expect(error).toMatchObject({ details: { id: written.id, deletedAt: '2030-01-01T12:00:40.000Z' } });
    expect([...store.definitions.keys()]).toEqual([]);
    expect([...scheduler.schedules.keys()]).toEqual([]);
  });

  it('answers 409 when a DELETE ends between its read of the definition and its read of the marker', async () => {
    // Prepare: the whole DELETE runs right after the retry has read the definition
    const world = await setUp();
    const { deps, store, scheduler, clock } = world;
    const written = await deadFirstAttempt(world, 'before the schedule');
    clock.advanceSeconds(40);
    const get = store.get.bind(store);
    store.get = async (tenantId, id) => {
      const read = await get(tenantId, id);
      store.get = get;
      await deleteRecurring(deps, sender, id);
      return read;
    };

    // Act
    const error = await createRecurring(deps, sender, aBody(), { idempotency: key }).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(ConflictError);
    expect([...store.definitions.keys()]).toEqual([]);
    expect([...scheduler.schedules.keys()]).toEqual([]);
    expect(scheduler.fired).toEqual([]);
    expect(written.id).toBe((error as ConflictError & { details: { id: string } }).details.id);
  });

  it('keeps the definition it wrote when the SendMessage of its firing answers an error (it may have gone through), and the next retry converges on it', async () => {
    // Prepare: the first attempt dies writing its definition; the first retry's firing is sent, but its answer is an error
    const world = await setUp();
    const { deps, store, scheduler, clock } = world;
    await deadBeforeItsDefinition(world);
    clock.advanceSeconds(40);
    const fire = scheduler.fire.bind(scheduler);
    scheduler.fire = async (recurring, at) => {
      scheduler.fire = fire;
      await fire(recurring, at);
      throw awsError('RequestTimeout', 408);
    };
    await expect(createRecurring(deps, sender, aBody(), { idempotency: key })).rejects.toBeInstanceOf(ServiceUnavailableError);
    const [kept] = store.definitions.keys();

    // Act
    const retried = await createRecurring(deps, sender, aBody(), { idempotency: key });

    // Assess: one definition, its occurrence fired twice at one instant (created once)
    expect(retried.id).toBe(kept);
    expect([...store.definitions.keys()]).toEqual([retried.id]);
    expect(new Set(scheduler.fired.map((f) => `${f.id} ${f.at}`))).toEqual(new Set([`${retried.id} 2030-01-01T12:00:00Z`]));
  });

  it('puts the schedule again from the definition as a PATCH between its read and its put left it, and answers with it', async () => {
    // Prepare: the definition is paused while the retry asks whether its schedule exists
    const world = await setUp();
    const { deps, scheduler, clock } = world;
    const written = await deadFirstAttempt(world, 'before the schedule');
    clock.advanceSeconds(40);
    const exists = scheduler.exists.bind(scheduler);
    scheduler.exists = async (recurring) => {
      const found = await exists(recurring);
      scheduler.exists = exists;
      clock.advanceSeconds(1);
      await patchRecurring(deps, sender, written.id, { paused: true });
      return found;
    };

    // Act
    const retried = await createRecurring(deps, sender, aBody(), { idempotency: key });

    // Assess: the retry's put of the active definition it read did not stand
    expect(retried.status).toBe('paused');
    expect(scheduler.schedules.get(written.id)?.recurring.status).toBe('paused');
  });

  it('has its DELETE mark the definition before anything of it goes, and take the mark back when that DELETE removed nothing (503)', async () => {
    // Prepare: the first DELETE finds the Scheduler throttling; the second works
    const world = await setUp();
    const { deps, store, scheduler, clock } = world;
    const written = await deadFirstAttempt(world, 'after the schedule');
    clock.advanceSeconds(30);
    const remove = scheduler.remove.bind(scheduler);
    const markedWhenRemoving: boolean[] = [];
    let removes = 0;
    scheduler.remove = async (recurring) => {
      markedWhenRemoving.push(store.deletions.has(recurring.id));
      if (++removes === 1) throw awsError('ThrottlingException', 400);
      return remove(recurring);
    };
    await expect(deleteRecurring(deps, sender, written.id)).rejects.toBeInstanceOf(ServiceUnavailableError);
    const markedAfterFailure = store.deletions.has(written.id);

    // Act: a retry of the create while the definition is still there, then the DELETE repeated
    const retried = await createRecurring(deps, sender, aBody(), { idempotency: key });
    await deleteRecurring(deps, sender, written.id);

    // Assess
    expect(markedAfterFailure).toBe(false);
    expect(retried.id).toBe(written.id);
    expect(markedWhenRemoving[0]).toBe(true);
    expect(markedWhenRemoving.at(-1)).toBe(true);
    expect(store.deletions.get(written.id)).toBe('2030-01-01T12:00:30.000Z');
    expect([...store.definitions.keys()]).toEqual([]);
  });

  it('fires nothing for a definition paused before the retry', async () => {
    // Prepare
    const world = await setUp();
    const written = await deadFirstAttempt(world, 'before the schedule');
    await patchRecurring(world.deps, sender, written.id, { paused: true });
    world.clock.advanceSeconds(40);

    // Act
    await createRecurring(world.deps, sender, aBody(), { idempotency: key });

    // Assess
    expect(world.scheduler.fired).toEqual([]);
  });

  it('answers 503 and fires nothing when it cannot ask whether the schedule exists, and the next retry fires the missed occurrence once', async () => {
    // Prepare: the first attempt dies before its schedule; the first retry cannot reach the Scheduler's GetSchedule
    const world = await setUp();
    const { deps, store, scheduler, clock } = world;
    const written = await deadFirstAttempt(world, 'before the schedule');
    clock.advanceSeconds(40);
    scheduler.existsFailures.add(awsError('ThrottlingException', 400));
    await expect(createRecurring(deps, sender, aBody(), { idempotency: key })).rejects.toBeInstanceOf(ServiceUnavailableError);
    const firedAfterFailure = [...scheduler.fired];

    // Act
    const retried = await createRecurring(deps, sender, aBody(), { idempotency: key });

    // Assess: the dead attempt's definition was kept through the 503
    expect(firedAfterFailure).toEqual([]);
    expect(retried.id).toBe(written.id);
    expect([...store.definitions.keys()]).toEqual([written.id]);
    expect(scheduler.fired).toEqual([{ id: written.id, at: '2030-01-01T12:00:00Z' }]);
  });

  it('leaves the definition its dead attempt wrote as it is now, paused, and puts its schedule disabled', async () => {
    // Prepare: the definition was found (listed) and paused before the retry came
    const world = await setUp();
    const { deps, store, scheduler } = world;
    const written = await deadFirstAttempt(world, 'before the schedule');
    await patchRecurring(deps, sender, written.id, { paused: true });

    // Act
    const retried = await createRecurring(deps, sender, aBody(), { idempotency: key });

    // Assess
    expect(retried).toMatchObject({ id: written.id, status: 'paused' });
    expect(store.definitions.size).toBe(1);
    expect(scheduler.schedules.get(written.id)?.recurring.status).toBe('paused');
  });

  it('keeps the dead attempt\'s definition when the retry cannot make its schedule, and the next retry converges on it', async () => {
    // Prepare: the first attempt dies before its schedule; the first retry finds the Scheduler throttling
    const world = await setUp();
    const { deps, store, scheduler } = world;
    const written = await deadFirstAttempt(world, 'before the schedule');
    scheduler.putFailures.add(awsError('ThrottlingException', 400));
    await expect(createRecurring(deps, sender, aBody(), { idempotency: key })).rejects.toBeInstanceOf(ServiceUnavailableError);

    // Act
    const retried = await createRecurring(deps, sender, aBody(), { idempotency: key });

    // Assess
    expect(retried.id).toBe(written.id);
    expect([...store.definitions.keys()]).toEqual([written.id]);
    expect([...scheduler.schedules.keys()]).toEqual([written.id]);
  });

  it('after a rollback that could not remove its definition, removes it and its schedule before it creates anew: one definition is left', async () => {
    // Prepare: the schedule fails (its put may have reached the Scheduler), and the rollback's remove fails too
    const { deps, store, scheduler } = await setUp();
    const put = scheduler.put.bind(scheduler);
    let puts = 0;
    scheduler.put = async (...args) => {
      if (++puts > 1) return put(...args);
      await put(...args);
      throw awsError('ThrottlingException', 400);
    };
    const remove = store.remove.bind(store);
    let removes = 0;
    store.remove = async (...args) => {
      if (++removes === 1) throw awsError('ProvisionedThroughputExceededException', 400);
      return remove(...args);
    };
    await expect(createRecurring(deps, sender, aBody(), { idempotency: key })).rejects.toBeInstanceOf(ServiceUnavailableError);
    const [left] = store.definitions.values();
    expect(left?.status).toBe('active');

    // Act
    const retried = await createRecurring(deps, sender, aBody(), { idempotency: key });

    // Assess: the answer was a 503, so the retry's definition is a new one, and the only one
    expect(retried.id).not.toBe(left?.id);
    expect([...store.definitions.keys()]).toEqual([retried.id]);
    expect([...scheduler.schedules.keys()]).toEqual([retried.id]);
  });

  it.each([
    ['with a key', key],
    ['without a key', undefined],
  ] as const)('deletes the schedule a failed put may have made, with its definition, %s: nothing is left to fire', async (_, idempotency) => {
    // Prepare: the Scheduler makes the schedule, but its answer is an error (a throttled retry of a call that got through)
    const { deps, store, scheduler } = await setUp();
    const put = scheduler.put.bind(scheduler);
    scheduler.put = async (...args) => {
      await put(...args);
      throw awsError('ThrottlingException', 400);
    };

    // Act
    const creating = createRecurring(deps, sender, aBody(), idempotency ? { idempotency } : {});

    // Assess
    await expect(creating).rejects.toBeInstanceOf(ServiceUnavailableError);
    expect(scheduler.puts).toHaveLength(1);
    expect([...scheduler.schedules.keys()]).toEqual([]);
    expect([...store.definitions.keys()]).toEqual([]);
  });

  it('still removes the definition when the schedule a failed put may have made cannot be deleted', async () => {
    // Prepare: the put's answer is lost, and the Scheduler cannot be reached for the delete either
    const { deps, store, scheduler } = await setUp();
    scheduler.putFailures.add(awsError('ThrottlingException', 400));
    scheduler.remove = async () => {
      throw awsError('ThrottlingException', 400);
    };

    // Act
    const creating = createRecurring(deps, sender, aBody());

    // Assess: the answer is the put's 503, and the definition is gone (a schedule, if one was made, fires for nothing)
    await expect(creating).rejects.toBeInstanceOf(ServiceUnavailableError);
    expect([...store.definitions.keys()]).toEqual([]);
  });

  it('makes no delete call when the Scheduler refused the expression: no schedule was made', async () => {
    // Prepare
    const { deps, store, scheduler } = await setUp();
    scheduler.putFailures.add(awsError('ValidationException', 400));
    let removes = 0;
    scheduler.remove = async () => {
      removes += 1;
    };

    // Act
    const creating = createRecurring(deps, sender, aBody());

    // Assess
    await expect(creating).rejects.toMatchObject({ statusCode: 400 });
    expect(removes).toBe(0);
    expect([...store.definitions.keys()]).toEqual([]);
  });

  it('makes a definition of its own for a key reused with another body', async () => {
    // Prepare: the first attempt, of another body, died before its schedule
    const { deps, store, scheduler } = await setUp();
    dieOnNextPut(scheduler, 'before the schedule');
    void createRecurring(deps, sender, aBody(), { idempotency: { ...key, fingerprint: 'body-0' } });
    await settle();
    const [other] = store.definitions.values();

    // Act
    const created = await createRecurring(deps, sender, { ...aBody(), title: 'Weekly' }, { idempotency: key });

    // Assess: never answered with the other body's definition
    expect(created.id).not.toBe(other?.id);
    expect(store.definitions.get(created.id)?.title).toBe('Weekly');
  });

  it('records nothing without a key', async () => {
    // Prepare
    const records = new InMemoryCreateRecords();
    const { deps, store } = await setUp();

    // Act
    await createRecurring({ ...deps, createRecords: records }, sender, aBody());

    // Assess
    expect(records.calls).toBe(0);
    expect(store.definitions.size).toBe(1);
  });
});
