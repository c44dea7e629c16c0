/**
 * A broadcast create with an `Idempotency-Key` whose first attempt died before answering, and its
 * retry with the same key: one broadcast, the first attempt's, never a second one that would reach
 * every recipient again (shared/use-cases/create-records.ts). A death is a call that never settles.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Broadcast } from '../../../../shared/domain/broadcast.ts';
import type { CreateBroadcastBody } from '../../../../shared/domain/schemas.ts';
import { ServiceUnavailableError } from '../../../../shared/errors.ts';
import { logger } from '../../../../shared/observability/logger.ts';
import { createBroadcast } from '../../../../shared/use-cases/broadcasts.ts';
import type { BroadcastDeps } from '../../../../shared/use-cases/broadcasts.ts';
import type { CreateKey } from '../../../../shared/use-cases/create-records.ts';
import { aBroadcastWorld } from '../../fakes/broadcast-world.ts';
import type { BroadcastWorld } from '../../fakes/broadcast-world.ts';
import { InMemoryCreateRecords } from '../../fakes/index.ts';
import { aRecipient, awsError, sender, tenantId } from '../../fakes/fixtures.ts';

beforeAll(() => {
  logger.setLogLevel('SILENT');
});

const key: CreateKey = { key: JSON.stringify([tenantId, sender.sub, 'POST /v1/broadcasts', '/v1/broadcasts', 'k-1']), fingerprint: 'body-1' };

function aBody(): CreateBroadcastBody {
  return { audience: { groups: ['staff'] }, title: 'Maintenance', message: 'Tonight at 2am', scheduledAt: '2030-01-01T13:00:00.000Z', type: 'system', priority: 'normal', draft: false };
}

function setUp(): { world: BroadcastWorld; deps: BroadcastDeps } {
  const world = aBroadcastWorld();
  world.clock.set('2030-01-01T12:00:00.000Z');
  return { world, deps: { ...world.api, createRecords: new InMemoryCreateRecords() } };
}

/** The next `schedule` never returns (the SDK retrying a throttled Scheduler until the Lambda times out); later ones work. */
function dieOnNextSchedule(world: BroadcastWorld): void {
  const schedule = world.scheduler.schedule.bind(world.scheduler);
  let calls = 0;
  world.scheduler.schedule = async (...args) => (++calls === 1 ? new Promise<never>(() => undefined) : schedule(...args));
}

/** Lets a dying attempt run as far as it gets. */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
}

describe('a broadcast create with an Idempotency-Key retried after its first attempt died', () => {
  it('makes one broadcast, the first attempt\'s, and its schedule', async () => {
    // Prepare: the first attempt writes its broadcast, then dies waiting for the Scheduler
    const { world, deps } = setUp();
    dieOnNextSchedule(world);
    void createBroadcast(deps, sender, aBody(), { idempotency: key });
    await settle();
    const written = world.broadcasts.dueEntries();
    expect(written).toHaveLength(1);
    world.clock.advanceSeconds(40);

    // Act
    const retried = await createBroadcast(deps, sender, aBody(), { idempotency: key });

    // Assess
    expect(retried).toEqual({ broadcastId: written[0]?.id, status: 'scheduled' });
    expect(world.broadcasts.dueEntries()).toHaveLength(1);
    expect(world.scheduler.scheduledAt(tenantId, retried.broadcastId)).toBe('2030-01-01T13:00:00.000Z');
  });

  it('leaves the broadcast its dead attempt wrote as it is now, cancelled, and answers it so', async () => {
    // Prepare
    const { world, deps } = setUp();
    dieOnNextSchedule(world);
    void createBroadcast(deps, sender, aBody(), { idempotency: key });
    await settle();
    const [written] = world.broadcasts.dueEntries();
    if (!written) throw new Error('the first attempt wrote nothing');
    await world.broadcasts.cancel(tenantId, written.id, world.clock.now());

    // Act
    const retried = await createBroadcast(deps, sender, aBody(), { idempotency: key });

    // Assess
    expect(retried).toEqual({ broadcastId: written.id, status: 'cancelled' });
    expect((await world.broadcasts.get(tenantId, written.id))?.status).toBe('cancelled');
    expect(world.broadcasts.dueEntries().filter((e) => e.status === 'scheduled')).toEqual([]);
  });

  it('after a rollback that could not remove its broadcast, removes it before it creates anew: one broadcast goes out', async () => {
    // Prepare: the schedule fails, and the rollback's remove fails too
    const { world, deps } = setUp();
    world.scheduler.scheduleFailures.add(awsError('ThrottlingException', 400));
    const remove = world.broadcasts.remove.bind(world.broadcasts);
    let removes = 0;
    world.broadcasts.remove = async (broadcast: Pick<Broadcast, 'tenantId' | 'id' | 'audience'>) => {
      if (++removes === 1) throw awsError('ProvisionedThroughputExceededException', 400);
      return remove(broadcast);
    };
    await expect(createBroadcast(deps, sender, aBody(), { idempotency: key })).rejects.toBeInstanceOf(ServiceUnavailableError);
    const [left] = world.broadcasts.dueEntries();
    expect(left?.status).toBe('scheduled');

    // Act
    const retried = await createBroadcast(deps, sender, aBody(), { idempotency: key });

    // Assess: the stuck-retry sweep starts any scheduled broadcast; only the retry's is there
    expect(world.broadcasts.dueEntries().map((e) => e.id)).toEqual([retried.broadcastId]);
    expect(retried.broadcastId).not.toBe(left?.id);
  });
});

const people = ['ann', 'bob', 'cy'];

/** A broadcast due at once (no `scheduledAt`): its start may reach the fan-out before the create answers. */
function dueNow(): CreateBroadcastBody {
  const { scheduledAt: _later, ...body } = aBody();
  return body;
}

/**
 * The next `schedule` hangs (the SDK retrying a throttled Scheduler) while the broadcast's start
 * reaches the fan-out (the stuck-retry sweep, or a schedule a dead first attempt made), which
 * delivers it to everyone; then it fails.
 */
function startThenFail(world: BroadcastWorld): void {
  const schedule = world.scheduler.schedule.bind(world.scheduler);
  let calls = 0;
  world.scheduler.schedule = async (broadcast): Promise<void> => {
    if (++calls > 1) return schedule(broadcast);
    await world.step({ kind: 'start', tenantId: broadcast.tenantId, broadcastId: broadcast.id });
    await world.runAll();
    throw awsError('ThrottlingException', 400);
  };
}

async function inboxSizes(world: BroadcastWorld): Promise<number[]> {
  return Promise.all(people.map(async (person) => (await world.inbox.list(tenantId, person)).length));
}

describe('a broadcast create whose schedule failed after its fan-out started', () => {
  async function setUpWithPeople(): Promise<{ world: BroadcastWorld; deps: BroadcastDeps; records: InMemoryCreateRecords }> {
    const { world, deps } = setUp();
    for (const id of people) await world.recipients.put(aRecipient({ id, email: undefined, groups: ['staff'] }));
    return { world, deps, records: deps.createRecords as InMemoryCreateRecords };
  }

  it('leaves the started broadcast, says so in its 503, and the retry with the same key answers it: everyone gets it once', async () => {
    // Prepare
    const { world, deps, records } = await setUpWithPeople();
    startThenFail(world);

    // Act
    const failure = await createBroadcast(deps, sender, dueNow(), { idempotency: key }).catch((error: unknown) => error);
    const [started] = (await world.broadcasts.list({ tenantId, limit: 10 })).items;
    const retried = await createBroadcast(deps, sender, dueNow(), { idempotency: key });
    await world.runAll();

    // Assess
    expect(failure).toBeInstanceOf(ServiceUnavailableError);
    expect((failure as ServiceUnavailableError).message).toMatch(/already started.*same Idempotency-Key/);
    expect((failure as ServiceUnavailableError).details).toEqual({ broadcastId: started?.id });
    expect(started?.status).not.toBe('scheduled');
    expect(records.get(key.key)?.state).toBe('creating');
    expect(retried).toEqual({ broadcastId: started?.id, status: started?.status });
    expect((await world.broadcasts.list({ tenantId, limit: 10 })).items).toHaveLength(1);
    expect(await inboxSizes(world)).toEqual([1, 1, 1]);
  });

  it('without a key, leaves the started broadcast and names it in its 503', async () => {
    // Prepare
    const { world, deps } = await setUpWithPeople();
    startThenFail(world);

    // Act
    const failure = await createBroadcast(deps, sender, dueNow()).catch((error: unknown) => error);

    // Assess
    const [started] = (await world.broadcasts.list({ tenantId, limit: 10 })).items;
    expect((failure as ServiceUnavailableError).message).toMatch(/already started.*a retry would make a second one/);
    expect((failure as ServiceUnavailableError).details).toEqual({ broadcastId: started?.id });
    expect(await world.broadcasts.getContent(tenantId, started?.id ?? '')).toBeDefined();
    expect(await inboxSizes(world)).toEqual([1, 1, 1]);
  });

  it('after a rollback that died part-way, a retry that finds the broadcast started answers it instead of making a second one', async () => {
    // Prepare: the fan-out starts it; the rollback marks the record and dies before its remove
    const { world, deps, records } = await setUpWithPeople();
    startThenFail(world);
    const remove = world.broadcasts.remove.bind(world.broadcasts);
    let removes = 0;
    world.broadcasts.remove = async (broadcast: Pick<Broadcast, 'tenantId' | 'id' | 'audience'>): Promise<boolean> => {
      if (++removes === 1) throw awsError('ProvisionedThroughputExceededException', 400);
      return remove(broadcast);
    };
    const failure = await createBroadcast(deps, sender, dueNow(), { idempotency: key }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ServiceUnavailableError);
    expect((failure as ServiceUnavailableError).message).toMatch(/nor withdraw it: it may still go out.*same Idempotency-Key/);
    expect(records.get(key.key)?.state).toBe('rolledBack');
    const [started] = (await world.broadcasts.list({ tenantId, limit: 10 })).items;

    // Act
    const retried = await createBroadcast(deps, sender, dueNow(), { idempotency: key });
    await world.runAll();

    // Assess
    expect(retried).toEqual({ broadcastId: started?.id, status: started?.status });
    expect((await world.broadcasts.list({ tenantId, limit: 10 })).items).toHaveLength(1);
    expect(await inboxSizes(world)).toEqual([1, 1, 1]);
  });
});
