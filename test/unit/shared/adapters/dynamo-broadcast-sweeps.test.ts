/**
 * The broadcasts' `due` index on dynalite, with the table as lib/app-description.ts describes it:
 * every write that makes a broadcast scheduled sets `dueShard`/`dueAt` (the instant its schedule
 * fires for), every write that takes it out of scheduled removes them, and the stuck-retry sweep
 * finds through it exactly the scheduled broadcasts past due, and starts each once.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { broadcastKey, DynamoBroadcastStore } from '../../../../shared/adapters/dynamo-broadcast-store.ts';
import { broadcastDueShardKey, DynamoBroadcastSweeps } from '../../../../shared/adapters/dynamo-broadcast-sweeps.ts';
import { BROADCAST_DUE_INDEX_SHARDS } from '../../../../lib/app-description.ts';
import type { CreateBroadcastBody } from '../../../../shared/domain/schemas.ts';
import { logger } from '../../../../shared/observability/logger.ts';
import type { BroadcastDeps } from '../../../../shared/use-cases/broadcasts.ts';
import { cancelBroadcast, createBroadcast, scheduleBroadcast } from '../../../../shared/use-cases/broadcasts.ts';
import { runFanoutStep } from '../../../../shared/use-cases/fan-out-broadcast.ts';
import { stuckRetrySweep } from '../../../../shared/use-cases/stuck-retry-sweep.ts';
import {
  FakeBroadcastDeliveryQueue,
  FakeBroadcastScheduler,
  FakeClock,
  FakeDeliveryEnqueuer,
  FakeFanoutQueue,
  InMemoryBroadcastRecipientStore,
  InMemoryNotificationStore,
  InMemoryNotificationSweeps,
  InMemoryRecipientStore,
} from '../../fakes/index.ts';
import { admin, aRecipient, tenantId } from '../../fakes/fixtures.ts';
import { startDynalite } from '../../support/dynalite.ts';
import type { Dynalite } from '../../support/dynalite.ts';

let dynamo: Dynalite;

beforeAll(async () => {
  logger.setLogLevel('SILENT');
  dynamo = await startDynalite();
});

afterAll(async () => {
  await dynamo?.stop();
});

interface World {
  readonly clock: FakeClock;
  readonly store: DynamoBroadcastStore;
  readonly sweeps: DynamoBroadcastSweeps;
  readonly scheduler: FakeBroadcastScheduler;
  readonly fanout: FakeFanoutQueue;
  readonly api: BroadcastDeps;
  /** The broadcast item's `dueShard`/`dueAt` as stored (strongly consistent), absent ones left out. */
  due(id: string): Promise<{ dueShard?: unknown; dueAt?: unknown }>;
  create(overrides?: Partial<CreateBroadcastBody>): Promise<string>;
  /** The ids the index lists as overdue at `dueBy`, every shard, every page (`limit` items a page). */
  overdue(dueBy: string, limit?: number): Promise<string[]>;
}

/** Each test has a tenant of its own, so the shared table's other broadcasts never meet it. */
let worlds = 0;

async function aWorld(): Promise<World & { readonly tenant: string }> {
  const tenant = `${tenantId}-${++worlds}`;
  const caller = { ...admin, tenantId: tenant };
  const clock = new FakeClock('2030-01-01T12:00:00.000Z');
  const store = new DynamoBroadcastStore(dynamo.db, dynamo.tableName('broadcasts'));
  const sweeps = new DynamoBroadcastSweeps(dynamo.db, dynamo.tableName('broadcasts'));
  const scheduler = new FakeBroadcastScheduler();
  const fanout = new FakeFanoutQueue();
  const recipients = new InMemoryRecipientStore();
  await recipients.put(aRecipient({ tenantId: tenant, id: 'ann' }));
  const api: BroadcastDeps = { broadcasts: store, recipients, rows: new InMemoryBroadcastRecipientStore(4), scheduler, fanout, clock };
  return {
    tenant,
    clock,
    store,
    sweeps,
    scheduler,
    fanout,
    api,
    due: async (id) => {
      const { Item } = await dynamo.db.send(
        new GetCommand({ TableName: dynamo.tableName('broadcasts'), Key: broadcastKey(tenant, id), ConsistentRead: true, ProjectionExpression: 'dueShard, dueAt' }),
      );
      return Item ?? {};
    },
    create: async (overrides = {}) => {
      const body: CreateBroadcastBody = { audience: { all: true }, title: 'Hello', message: 'World', type: 'system', priority: 'normal', draft: false, ...overrides };
      return (await createBroadcast(api, caller, body)).broadcastId;
    },
    overdue: async (dueBy, limit = 100) => {
      const ids: string[] = [];
      for (let shard = 0; shard < sweeps.shardCount; shard++) {
        let cursor: string | undefined;
        do {
          const page = await sweeps.pageOverdue(shard, new Date(dueBy), limit, cursor);
          ids.push(...page.items.filter((b) => b.tenantId === tenant).map((b) => b.id));
          cursor = page.cursor;
        } while (cursor !== undefined);
      }
      return ids;
    },
  };
}

const callerOf = (world: { tenant: string }): typeof admin => ({ ...admin, tenantId: world.tenant });

describe('the broadcasts\' due index, as each write keeps it', () => {
  it('is set by the create of a scheduled broadcast, at the instant its schedule fires for', async () => {
    // Prepare
    const world = await aWorld();

    // Act
    const id = await world.create({ scheduledAt: '2030-01-01T13:00:00Z' });

    // Assess
    expect(world.scheduler.scheduledAt(world.tenant, id)).toBe('2030-01-01T13:00:00.000Z');
    expect(await world.due(id)).toEqual({ dueShard: expect.stringMatching(/^due#[0-3]$/), dueAt: '2030-01-01T13:00:00.000Z' });
  });

  it('is set at the earliest wall time for a broadcast sent at each recipient\'s local time', async () => {
    // Prepare
    const world = await aWorld();

    // Act: 09:00 comes first in UTC+14
    const id = await world.create({ scheduledAt: '2030-01-02T09:00', timezone: 'recipient' });

    // Assess
    expect(world.scheduler.scheduledAt(world.tenant, id)).toBe('2030-01-01T19:00:00.000Z');
    expect((await world.due(id)).dueAt).toBe('2030-01-01T19:00:00.000Z');
  });

  it('is not set on a draft, even one with a planned time, and is set when the draft is scheduled', async () => {
    // Prepare
    const world = await aWorld();
    const id = await world.create({ scheduledAt: '2030-01-01T13:00:00Z', draft: true });
    const asDraft = await world.due(id);

    // Act
    await scheduleBroadcast(world.api, callerOf(world), id, { scheduledAt: '2030-01-01T14:00:00Z' });

    // Assess
    expect(asDraft).toEqual({});
    expect(await world.due(id)).toEqual({ dueShard: expect.stringMatching(/^due#[0-3]$/), dueAt: '2030-01-01T14:00:00.000Z' });
  });

  it('is removed when a schedule that cannot be made takes the broadcast back to draft', async () => {
    // Prepare
    const world = await aWorld();
    const id = await world.create({ draft: true });
    world.scheduler.scheduleFailures.add(new Error('ThrottlingException'));

    // Act
    await expect(scheduleBroadcast(world.api, callerOf(world), id, {})).rejects.toThrow('still a draft');

    // Assess
    expect((await world.store.get(world.tenant, id))?.status).toBe('draft');
    expect(await world.due(id)).toEqual({});
  });

  it('is removed by the start and by the cancel', async () => {
    // Prepare
    const world = await aWorld();
    const started = await world.create();
    const cancelled = await world.create({ scheduledAt: '2030-01-01T13:00:00Z' });

    // Act
    await world.store.start(world.tenant, started, world.clock.now());
    await cancelBroadcast(world.api, callerOf(world), cancelled);

    // Assess
    expect((await world.store.get(world.tenant, started))?.status).toBe('sending');
    expect(await world.due(started)).toEqual({});
    expect((await world.store.get(world.tenant, cancelled))?.status).toBe('cancelled');
    expect(await world.due(cancelled)).toEqual({});
  });
});

describe('DynamoBroadcastSweeps.pageOverdue', () => {
  it('lists the scheduled broadcasts due at or before the cutoff, page by page, and nothing else', async () => {
    // Prepare: five due at 12:00:01..12:00:05, one at 12:00:06, one started, one cancelled, one draft
    const world = await aWorld();
    const due = [];
    for (let i = 1; i <= 5; i++) due.push(await world.create({ scheduledAt: `2030-01-01T12:00:0${i}Z` }));
    await world.create({ scheduledAt: '2030-01-01T12:00:06Z' });
    const started = await world.create({ scheduledAt: '2030-01-01T12:00:01Z' });
    await world.store.start(world.tenant, started, world.clock.now());
    const cancelled = await world.create({ scheduledAt: '2030-01-01T12:00:01Z' });
    await cancelBroadcast(world.api, callerOf(world), cancelled);
    await world.create({ scheduledAt: '2030-01-01T12:00:01Z', draft: true });

    // Act
    const pagedByOne = await world.overdue('2030-01-01T12:00:05.000Z', 1);
    const all = await world.overdue('2030-01-01T12:00:05.000Z');

    // Assess
    expect(BROADCAST_DUE_INDEX_SHARDS).toBe(world.sweeps.shardCount);
    expect(pagedByOne.sort()).toEqual([...due].sort());
    expect(all.sort()).toEqual([...due].sort());
    expect(broadcastDueShardKey(2)).toBe('due#2');
  });
});

describe('the stuck-retry sweep on the real table', () => {
  it('starts a broadcast whose schedule is gone once, and a second run finds nothing', async () => {
    // Prepare: due at 12:01, its schedule lost; the sweep runs at 12:06:01
    const world = await aWorld();
    const id = await world.create({ scheduledAt: '2030-01-01T12:01:00Z' });
    await world.scheduler.unschedule({ tenantId: world.tenant, id });
    world.clock.set('2030-01-01T12:06:01.000Z');
    const notifications = new InMemoryNotificationStore();
    const sweep = (): ReturnType<typeof stuckRetrySweep> =>
      stuckRetrySweep({
        sweeps: new InMemoryNotificationSweeps(notifications, 4),
        queue: new FakeDeliveryEnqueuer(),
        broadcasts: { sweeps: world.sweeps, fanout: world.fanout },
        clock: world.clock,
        settings: { stuckAfterSeconds: 300, maxItems: 1000 },
        remainingMs: () => 60_000,
      });

    // Act: the sweep, then the fan-out runs the start it sent, then the sweep again
    const first = await sweep();
    const starts = world.fanout.sent.map(({ message }) => message).filter((m) => m.kind === 'start' && m.tenantId === world.tenant);
    const fanoutDeps = {
      broadcasts: world.store,
      rows: new InMemoryBroadcastRecipientStore(4),
      recipients: new InMemoryRecipientStore(),
      fanout: new FakeFanoutQueue(),
      delivery: new FakeBroadcastDeliveryQueue(),
      clock: world.clock,
      settings: { pageSize: 10, watchSeconds: 60 },
    };
    const outcomes = [];
    for (const start of [...starts, ...starts]) outcomes.push(await runFanoutStep(fanoutDeps, start, { deadline: new Date('2030-01-01T12:07:00Z') }));
    const second = await sweep();

    // Assess: started by the first start; the duplicate found it sending. (The other tests' broadcasts
    // share the table and stay scheduled: each run starts them again, so only this tenant's are counted.)
    expect(starts).toEqual([{ kind: 'start', tenantId: world.tenant, broadcastId: id }]);
    expect(outcomes[0]).toEqual({ kind: 'done', note: 'started' });
    expect(await world.store.get(world.tenant, id)).toMatchObject({ status: 'sending', startedAt: '2030-01-01T12:06:01.000Z' });
    expect(await world.due(id)).toEqual({});
    expect(await world.overdue('2030-01-01T12:06:01.000Z')).toEqual([]);
    expect(second.broadcastStarts).toBe(first.broadcastStarts - 1);
    expect(world.fanout.sent.filter(({ message }) => message.tenantId === world.tenant)).toHaveLength(1);
  });
});
