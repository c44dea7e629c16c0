/**
 * The stuck-retry sweep's broadcast part on in-memory fakes: a scheduled broadcast whose schedule
 * never started it (lost, or never made because the create died) is started once it is
 * `stuckAfterSeconds` past due; nothing else is; a start that also arrives from the schedule is
 * harmless; and a run is bounded like the notifications' part.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { CreateBroadcastBody } from '../../../../shared/domain/schemas.ts';
import { logger } from '../../../../shared/observability/logger.ts';
import { cancelBroadcast, createBroadcast } from '../../../../shared/use-cases/broadcasts.ts';
import { stuckRetrySweep } from '../../../../shared/use-cases/stuck-retry-sweep.ts';
import { FakeDeliveryEnqueuer, InMemoryBroadcastSweeps, InMemoryNotificationSweeps } from '../../fakes/index.ts';
import { aBroadcastWorld } from '../../fakes/broadcast-world.ts';
import { notificationIdsOf } from '../../fakes/delivery-world.ts';
import type { BroadcastWorld } from '../../fakes/broadcast-world.ts';
import { aNotification, aRecipient, admin, tenantId } from '../../fakes/fixtures.ts';

beforeAll(() => {
  logger.setLogLevel('SILENT');
});

const people = ['ann', 'bob', 'cy'];

async function aWorld(): Promise<BroadcastWorld> {
  const world = aBroadcastWorld();
  for (const id of people) await world.recipients.put(aRecipient({ id, email: undefined, groups: [] }));
  return world;
}

/** A broadcast to everyone, created at the world's clock (noon). */
async function created(world: BroadcastWorld, overrides: Partial<CreateBroadcastBody> = {}): Promise<string> {
  const body: CreateBroadcastBody = { audience: { all: true }, title: 'Hello', message: 'World', type: 'system', priority: 'normal', draft: false, ...overrides };
  return (await createBroadcast(world.api, admin, body)).broadcastId;
}

/** Its schedule is gone (deleted after exhausting its retries, a region event): only the sweep is left. */
async function scheduleLost(world: BroadcastWorld, id: string): Promise<void> {
  await world.scheduler.unschedule({ tenantId, id });
}

function sweep(world: BroadcastWorld, options: { maxItems?: number; remainingMs?: () => number } = {}): ReturnType<typeof stuckRetrySweep> {
  return stuckRetrySweep({
    sweeps: new InMemoryNotificationSweeps(world.notifications, 4),
    queue: new FakeDeliveryEnqueuer(),
    broadcasts: { sweeps: new InMemoryBroadcastSweeps(world.broadcasts, 4), fanout: world.fanoutQueue },
    clock: world.clock,
    settings: { stuckAfterSeconds: 300, maxItems: options.maxItems ?? 1000 },
    remainingMs: options.remainingMs ?? ((): number => 60_000),
  });
}

const startsSent = (world: BroadcastWorld): string[] =>
  world.fanoutQueue.sent.flatMap(({ message }) => (message.kind === 'start' ? [message.broadcastId] : []));

describe('stuckRetrySweep, broadcasts', () => {
  it('starts a scheduled broadcast past due whose schedule is gone, and every recipient gets it', async () => {
    // Prepare: due at 12:01, its schedule lost; the sweep runs at 12:06:01
    const world = await aWorld();
    const id = await created(world, { scheduledAt: '2030-01-01T12:01:00.000Z' });
    await scheduleLost(world, id);
    world.clock.set('2030-01-01T12:06:01.000Z');

    // Act
    const result = await sweep(world);
    await world.runAll();

    // Assess
    expect(result).toEqual({ retried: 0, broadcastStarts: 1, timestamp: '2030-01-01T12:06:01.000Z' });
    expect(startsSent(world)).toEqual([id]);
    expect(await world.broadcasts.get(tenantId, id)).toMatchObject({ status: 'completed', counts: { total: 3, sent: 3 } });
    for (const person of people) expect(await world.inbox.list(tenantId, person)).toHaveLength(1);
  });

  it('starts a broadcast whose create died between its item and its schedule', async () => {
    // Prepare: the Scheduler fails and the invocation dies before its rollback removes the item
    const world = await aWorld();
    world.scheduler.scheduleFailures.add(new Error('Task timed out after 29.00 seconds'));
    const remove = world.broadcasts.remove.bind(world.broadcasts);
    world.broadcasts.remove = async (): Promise<boolean> => {
      throw new Error('the invocation is gone');
    };
    // The rollback's failure is logged; the client gets the 503 either way.
    await expect(created(world)).rejects.toThrow('Could not schedule the broadcast');
    world.broadcasts.remove = remove;
    const [stray] = (await world.broadcasts.list({ tenantId, limit: 10 })).items;
    world.clock.set('2030-01-01T12:05:00.000Z');

    // Act
    const result = await sweep(world);
    await world.runAll();

    // Assess
    expect(stray?.status).toBe('scheduled');
    expect(world.scheduler.scheduledAt(tenantId, stray?.id ?? '')).toBeUndefined();
    expect(result.broadcastStarts).toBe(1);
    expect(await world.broadcasts.get(tenantId, stray?.id ?? '')).toMatchObject({ status: 'completed', counts: { sent: 3 } });
  });

  it('leaves alone a broadcast not yet past the threshold, a draft, a cancelled one and a sending one', async () => {
    // Prepare: all due at noon or just after; the sweep runs at 12:05:01.5, so 12:00:01.5 is the cutoff
    const world = await aWorld();
    const overdue = await created(world, { scheduledAt: '2030-01-01T12:00:01.000Z' });
    const notYet = await created(world, { scheduledAt: '2030-01-01T12:00:02.000Z' });
    const draft = await created(world, { scheduledAt: '2030-01-01T12:00:01.000Z', draft: true });
    const cancelled = await created(world, { scheduledAt: '2030-01-01T12:00:01.000Z' });
    await cancelBroadcast(world.api, admin, cancelled);
    const sending = await created(world);
    await world.step({ kind: 'start', tenantId, broadcastId: sending });
    for (const id of [overdue, notYet]) await scheduleLost(world, id);
    world.fanoutQueue.sent.length = 0;
    world.clock.set('2030-01-01T12:05:01.500Z');

    // Act
    const result = await sweep(world);

    // Assess
    expect(result.broadcastStarts).toBe(1);
    expect(startsSent(world)).toEqual([overdue]);
    expect(world.broadcasts.dueEntries().map((e) => e.id).sort()).toEqual([overdue, notYet].sort());
    expect((await world.broadcasts.get(tenantId, draft))?.status).toBe('draft');
    expect((await world.broadcasts.get(tenantId, cancelled))?.status).toBe('cancelled');
  });

  it('is harmless when the schedule fires after all: the broadcast starts once and each recipient gets it once', async () => {
    // Prepare: the schedule is late, not lost; the sweep's start and the schedule's both arrive
    const world = await aWorld();
    const id = await created(world, { scheduledAt: '2030-01-01T12:01:00.000Z' });
    world.clock.set('2030-01-01T12:06:01.000Z');

    // Act
    await sweep(world);
    await world.fanoutQueue.send([{ kind: 'start', tenantId, broadcastId: id }]);
    await world.runAll();
    const again = await sweep(world);
    await world.runAll();

    // Assess
    expect(again.broadcastStarts).toBe(0);
    expect(await world.broadcasts.get(tenantId, id)).toMatchObject({
      status: 'completed',
      startedAt: '2030-01-01T12:06:01.000Z',
      counts: { total: 3, sent: 3, failed: 0 },
    });
    for (const person of people) expect(await world.inbox.list(tenantId, person)).toHaveLength(1);
    expect(startsSent(world)).toEqual([id, id]);
  });

  it('starts at most maxItems broadcasts per run, and the next run goes on', async () => {
    // Prepare
    const world = await aWorld();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await created(world, { scheduledAt: `2030-01-01T12:01:0${i}.000Z` }));
    for (const id of ids) await scheduleLost(world, id);
    world.clock.set('2030-01-01T12:10:00.000Z');

    // Act
    const runs: number[] = [];
    for (let run = 0; run < 4; run++) {
      runs.push((await sweep(world, { maxItems: 2 })).broadcastStarts);
      await world.runFanout();
    }

    // Assess
    expect(runs).toEqual([2, 2, 1, 0]);
    expect(startsSent(world).sort()).toEqual([...ids].sort());
  });

  it('starts nothing when the run has no time left, and sends nothing twice in one run', async () => {
    // Prepare
    const world = await aWorld();
    const id = await created(world, { scheduledAt: '2030-01-01T12:01:00.000Z' });
    await scheduleLost(world, id);
    world.clock.set('2030-01-01T12:10:00.000Z');

    // Act
    const hurried = await sweep(world, { remainingMs: () => 5_000 });
    const unhurried = await sweep(world);

    // Assess
    expect([hurried.broadcastStarts, unhurried.broadcastStarts]).toEqual([0, 1]);
    expect(startsSent(world)).toEqual([id]);
  });

  it('puts stuck notifications back when the broadcasts cannot be read, then fails the run', async () => {
    // Prepare: the broadcasts' index answers an error (as one still backfilling after a deploy)
    const world = await aWorld();
    const notification = aNotification({ scheduledAt: '2030-01-01T12:00:00.000Z' });
    world.notifications.seed(notification);
    world.clock.set('2030-01-01T12:10:00.000Z');
    const queue = new FakeDeliveryEnqueuer();
    const unreadable = {
      shardCount: 4,
      pageOverdue: async (): Promise<never> => {
        throw new Error('Cannot read from backfilling global secondary index: due');
      },
    };

    // Act
    const run = stuckRetrySweep({
      sweeps: new InMemoryNotificationSweeps(world.notifications, 4),
      queue,
      broadcasts: { sweeps: unreadable, fanout: world.fanoutQueue },
      clock: world.clock,
      settings: { stuckAfterSeconds: 300, maxItems: 1000 },
      remainingMs: () => 60_000,
    });

    // Assess
    await expect(run).rejects.toThrow('backfilling');
    expect(notificationIdsOf(queue.messages)).toEqual([notification.id]);
  });

  it('still puts stuck notifications back when the fan-out queue refuses the starts, and the next run starts the broadcast', async () => {
    // Prepare
    const world = await aWorld();
    const id = await created(world, { scheduledAt: '2030-01-01T12:01:00.000Z' });
    await scheduleLost(world, id);
    const notification = aNotification({ scheduledAt: '2030-01-01T12:00:00.000Z' });
    world.notifications.seed(notification);
    world.clock.set('2030-01-01T12:10:00.000Z');
    world.fanoutQueue.sendFailures.add(new Error('SQS did not accept 1 message(s)'));

    // Act
    const refused = await sweep(world);
    const next = await sweep(world);

    // Assess
    expect(refused).toMatchObject({ retried: 1, broadcastStarts: 0 });
    expect(next).toMatchObject({ broadcastStarts: 1 });
    expect(startsSent(world)).toEqual([id]);
  });
});
