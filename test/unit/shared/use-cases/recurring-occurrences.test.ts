/**
 * Running occurrences of a recurring notification: one notification per recipient (linked by
 * `recurringId`) or one broadcast per occurrence; the same occurrence delivered twice creates
 * nothing the second time; a paused or ended definition creates nothing.
 */
import { beforeAll, describe, expect, it, vi } from 'vitest';
import type { RecurringScheduler } from '../../../../shared/ports.ts';
import { InMemoryRecurringStore } from '../../fakes/recurring-store.ts';
import { NotFoundError } from '../../../../shared/errors.ts';
import { logger } from '../../../../shared/observability/logger.ts';
import { deleteRecurring, patchRecurring, runOccurrence } from '../../../../shared/use-cases/recurring.ts';
import type { OccurrenceDeps } from '../../../../shared/use-cases/recurring.ts';
import { aBroadcastWorld } from '../../fakes/broadcast-world.ts';
import { FakeClock, FakeDeliveryScheduler, InMemoryNotificationStore, InMemorySelfSendLimits } from '../../fakes/index.ts';
import { admin, aRecipient, aRecurringDefinition, tenantId } from '../../fakes/fixtures.ts';

beforeAll(() => {
  logger.setLogLevel('SILENT');
});

async function setUp(): Promise<{ deps: OccurrenceDeps; store: InMemoryRecurringStore; notifications: InMemoryNotificationStore; world: ReturnType<typeof aBroadcastWorld> }> {
  const clock = new FakeClock('2030-01-02T09:00:00.000Z');
  // One directory for the notifications and the broadcasts, as on AWS (one table).
  const world = aBroadcastWorld();
  const recipients = world.recipients;
  for (const id of ['bob', 'carol']) await recipients.put(aRecipient({ id }));
  const notifications = new InMemoryNotificationStore();
  const store = new InMemoryRecurringStore();
  const deps: OccurrenceDeps = {
    recurring: store,
    notifications: { notifications, recipients, scheduler: new FakeDeliveryScheduler(), clock, selfSend: new InMemorySelfSendLimits() },
    broadcasts: world.api,
    clock,
  };
  return { deps, store, notifications, world };
}

describe('runOccurrence', () => {
  it('creates one notification per recipient, linked to the definition, and records the occurrence', async () => {
    // Prepare
    const { deps, store, notifications } = await setUp();
    await store.put(aRecurringDefinition());

    // Act
    const outcome = await runOccurrence(deps, tenantId, 'rec_01J0000000000000000000000A', '2030-01-02T09:00:00Z');

    // Assess
    expect(outcome).toEqual({ kind: 'done', note: 'created' });
    expect(notifications.all().map((n) => [n.recipientId, n.recurringId])).toEqual([
      ['bob', 'rec_01J0000000000000000000000A'],
      ['carol', 'rec_01J0000000000000000000000A'],
    ]);
    expect(store.definitions.get('rec_01J0000000000000000000000A')?.occurrences).toEqual([
      { at: '2030-01-02T09:00:00.000Z', notificationIds: notifications.all().map((n) => n.id) },
    ]);
  });

  it('creates nothing the second time the same occurrence arrives, and the next occurrence again', async () => {
    // Prepare
    const { deps, store, notifications } = await setUp();
    await store.put(aRecurringDefinition());
    await runOccurrence(deps, tenantId, 'rec_01J0000000000000000000000A', '2030-01-02T09:00:00Z');

    // Act
    const repeat = await runOccurrence(deps, tenantId, 'rec_01J0000000000000000000000A', '2030-01-02T09:00:00.000Z');
    const next = await runOccurrence(deps, tenantId, 'rec_01J0000000000000000000000A', '2030-01-03T09:00:00Z');

    // Assess
    expect(repeat).toEqual({ kind: 'done', note: 'already created' });
    expect(next).toEqual({ kind: 'done', note: 'created' });
    expect(notifications.all()).toHaveLength(4);
  });

  it('creates nothing for a paused or ended definition', async () => {
    // Prepare
    const { deps, store, notifications } = await setUp();
    await store.put(aRecurringDefinition({ status: 'paused' }));

    // Act
    const paused = await runOccurrence(deps, tenantId, 'rec_01J0000000000000000000000A', '2030-01-02T09:00:00Z');
    const ended = await runOccurrence(deps, tenantId, 'rec_01J0000000000000000000000B', '2030-01-02T09:00:00Z');

    // Assess
    expect([paused, ended]).toEqual([
      { kind: 'done', note: 'paused' },
      { kind: 'done', note: 'ended' },
    ]);
    expect(notifications.all()).toHaveLength(0);
  });

  it('leaves out the recipients erased since the definition was made, names them on the occurrence, and notifies the others', async () => {
    // Prepare: carol was erased after the definition was made
    const { deps, store, notifications, world } = await setUp();
    await store.put(aRecurringDefinition());
    world.recipients.delete(tenantId, 'carol');

    // Act
    const outcome = await runOccurrence(deps, tenantId, 'rec_01J0000000000000000000000A', '2030-01-02T09:00:00Z');

    // Assess
    expect(outcome).toEqual({ kind: 'done', note: 'created' });
    expect(notifications.all().map((n) => n.recipientId)).toEqual(['bob']);
    expect(store.definitions.get('rec_01J0000000000000000000000A')?.occurrences).toEqual([
      { at: '2030-01-02T09:00:00.000Z', notificationIds: notifications.all().map((n) => n.id), skippedRecipients: ['carol'] },
    ]);
  });

  it('reads the directory again when a recipient is erased between its read and the create, and leaves them out', async () => {
    // Prepare: carol is erased right after the occurrence has read the directory
    const { deps, store, notifications, world } = await setUp();
    await store.put(aRecurringDefinition());
    const getMany = world.recipients.getMany.bind(world.recipients);
    vi.spyOn(world.recipients, 'getMany').mockImplementationOnce(async (...args) => {
      const found = await getMany(...args);
      world.recipients.delete(tenantId, 'carol');
      return found;
    });

    // Act
    const outcome = await runOccurrence(deps, tenantId, 'rec_01J0000000000000000000000A', '2030-01-02T09:00:00Z');

    // Assess: created for bob, carol named as skipped, once
    expect(outcome).toEqual({ kind: 'done', note: 'created' });
    expect(notifications.all().map((n) => n.recipientId)).toEqual(['bob']);
    expect(store.definitions.get('rec_01J0000000000000000000000A')?.occurrences).toEqual([
      { at: '2030-01-02T09:00:00.000Z', notificationIds: notifications.all().map((n) => n.id), skippedRecipients: ['carol'] },
    ]);
  });

  it('records an occurrence that creates nothing when every named recipient was erased', async () => {
    // Prepare
    const { deps, store, notifications, world } = await setUp();
    await store.put(aRecurringDefinition());
    world.recipients.delete(tenantId, 'bob');
    world.recipients.delete(tenantId, 'carol');

    // Act
    const outcome = await runOccurrence(deps, tenantId, 'rec_01J0000000000000000000000A', '2030-01-02T09:00:00Z');
    const repeat = await runOccurrence(deps, tenantId, 'rec_01J0000000000000000000000A', '2030-01-02T09:00:00Z');

    // Assess: done, not failed (nothing for a retry to change), and once only
    expect([outcome, repeat]).toEqual([
      { kind: 'done', note: 'created' },
      { kind: 'done', note: 'already created' },
    ]);
    expect(notifications.all()).toHaveLength(0);
    expect(store.definitions.get('rec_01J0000000000000000000000A')?.occurrences).toEqual([{ at: '2030-01-02T09:00:00.000Z', skippedRecipients: ['bob', 'carol'] }]);
  });

  it('leaves the erased recipients out of the broadcast of an explicit audience', async () => {
    // Prepare
    const { deps, store, world } = await setUp();
    const { recipients: _recipients, ...definition } = aRecurringDefinition();
    await store.put({ ...definition, audience: { kind: 'recipients', count: 2, sliceSize: 250 }, audienceIds: ['bob', 'carol'] });
    world.recipients.delete(tenantId, 'bob');

    // Act
    await runOccurrence(deps, tenantId, 'rec_01J0000000000000000000000A', '2030-01-02T09:00:00Z');

    // Assess
    const [occurrence] = store.definitions.get('rec_01J0000000000000000000000A')?.occurrences ?? [];
    expect(occurrence?.skippedRecipients).toEqual(['bob']);
    expect(await world.broadcasts.get(tenantId, occurrence?.broadcastId ?? '')).toMatchObject({ audience: { kind: 'recipients', count: 1 } });
    expect(await world.broadcasts.audienceSlice(tenantId, occurrence?.broadcastId ?? '', 0)).toEqual(['carol']);
  });

  it('creates one broadcast for an audience', async () => {
    // Prepare
    const { deps, store, world } = await setUp();
    const { recipients: _recipients, ...definition } = aRecurringDefinition();
    await store.put({ ...definition, audience: { kind: 'groups', groups: ['staff'] } });

    // Act
    await runOccurrence(deps, tenantId, 'rec_01J0000000000000000000000A', '2030-01-02T09:00:00Z');

    // Assess
    const [occurrence] = store.definitions.get('rec_01J0000000000000000000000A')?.occurrences ?? [];
    const broadcast = await world.broadcasts.get(tenantId, occurrence?.broadcastId ?? '');
    expect(broadcast).toMatchObject({ title: 'Standup', audience: { kind: 'groups', groups: ['staff'] }, status: 'scheduled' });
  });
});

/** What only a retried create asks of the Scheduler: a PATCH or a DELETE that asks it fails. */
const notAskedByAPatch: Pick<RecurringScheduler, 'exists' | 'fire'> = {
  exists: () => Promise.reject(new Error('a PATCH or a DELETE asks no schedule whether it exists')),
  fire: () => Promise.reject(new Error('a PATCH or a DELETE fires nothing')),
};

describe('patchRecurring', () => {
  it('answers 404 for a definition deleted between its read and its write, makes nothing again, and takes back the schedule it put', async () => {
    // Prepare: the definition is deleted right after the change has read it
    const store = new InMemoryRecurringStore();
    const definition = aRecurringDefinition();
    await store.put(definition);
    const schedules: string[] = [];
    const scheduler: RecurringScheduler = {
      put: async (r) => {
        schedules.push(`put ${r.id}`);
        await store.remove(r.tenantId, r.id);
      },
      remove: async (r) => {
        schedules.push(`remove ${r.id}`);
      },
      ...notAskedByAPatch,
    };
    const clock = new FakeClock('2030-01-02T09:00:00.000Z');

    // Act
    const error = await patchRecurring({ recurring: store, scheduler, recipients: aBroadcastWorld().recipients, clock }, admin, definition.id, { title: 'Again' }).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(NotFoundError);
    expect(store.definitions.has(definition.id)).toBe(false);
    expect(schedules).toEqual([`put ${definition.id}`, `remove ${definition.id}`]);
  });

  it('leaves no schedule when a PATCH puts its schedule back between the DELETE\'s removal of the schedule and of the definition', async () => {
    // Prepare: a PATCH that read the definition before the DELETE puts its schedule back just
    // before the DELETE removes the definition
    const store = new InMemoryRecurringStore();
    const definition = aRecurringDefinition();
    await store.put(definition);
    let scheduled = true;
    const scheduler: RecurringScheduler = {
      put: async () => {
        scheduled = true;
      },
      remove: async () => {
        scheduled = false;
      },
      ...notAskedByAPatch,
    };
    const removeDefinition = store.remove.bind(store);
    store.remove = async (tenant, id) => {
      await scheduler.put(definition, undefined);
      return removeDefinition(tenant, id);
    };

    // Act
    await deleteRecurring({ recurring: store, scheduler, recipients: aBroadcastWorld().recipients, clock: new FakeClock('2030-01-02T09:00:00.000Z') }, admin, definition.id);

    // Assess
    expect(store.definitions.has(definition.id)).toBe(false);
    expect(scheduled).toBe(false);
  });
});
