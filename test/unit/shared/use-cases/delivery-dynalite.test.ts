/**
 * Delivery and the sweeps on the real DynamoDB protocol (dynalite) for the notification store:
 * leases that outlive a dead worker, duplicate and racing messages, a late schedule after a
 * cancel, and sweeps running twice or beside delivery. Channels are in-memory fakes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoNotificationStore } from '../../../../shared/adapters/dynamo-notification-store.ts';
import { DynamoNotificationSweeps } from '../../../../shared/adapters/dynamo-notification-sweeps.ts';
import { newNotificationId } from '../../../../shared/domain/ids.ts';
import type { Notification } from '../../../../shared/domain/notification.ts';
import { defaultRetryPolicy } from '../../../../shared/domain/retry-policy.ts';
import { logger } from '../../../../shared/observability/logger.ts';
import { cleanupSweep } from '../../../../shared/use-cases/cleanup-sweep.ts';
import { deliverNotification } from '../../../../shared/use-cases/deliver-notification.ts';
import type { DeliveryDeps } from '../../../../shared/use-cases/deliver-notification.ts';
import { stuckRetrySweep } from '../../../../shared/use-cases/stuck-retry-sweep.ts';
import {
  FakeClock,
  FakeDeliveryEnqueuer,
  FakeMailer,
  FakeSocketPoster,
  InMemoryConnectionStore,
  InMemoryInboxStore,
  InMemoryRecipientStore,
} from '../../fakes/index.ts';
import { aNotification, aRecipient } from '../../fakes/fixtures.ts';
import { startDynalite } from '../../support/dynalite.ts';
import type { Dynalite } from '../../support/dynalite.ts';

let dynamo: Dynalite;
let store: DynamoNotificationStore;
let sweeps: DynamoNotificationSweeps;

beforeAll(async () => {
  logger.setLogLevel('SILENT');
  dynamo = await startDynalite();
  store = new DynamoNotificationStore(dynamo.db, dynamo.tableName('notifications'));
  sweeps = new DynamoNotificationSweeps(dynamo.db, dynamo.tableName('notifications'));
});

afterAll(async () => {
  await dynamo?.stop();
});

const noon = new Date('2030-01-01T12:00:00.000Z');
let tenants = 0;

interface World {
  tenantId: string;
  clock: FakeClock;
  mailer: FakeMailer;
  inbox: InMemoryInboxStore;
  deps: DeliveryDeps;
  /** A pending notification for bob, written to the table. */
  create(overrides?: Partial<Notification>): Promise<Notification>;
  deliver(n: Notification): ReturnType<typeof deliverNotification>;
}

/** A fresh tenant (so that sweeps see only this test's items) with bob, who has an address. */
async function setUp(): Promise<World> {
  const tenantId = `t${++tenants}-${Date.now()}`;
  const clock = new FakeClock(noon);
  const recipients = new InMemoryRecipientStore();
  await recipients.put(aRecipient({ tenantId, id: 'bob', email: 'bob@example.com' }));
  const mailer = new FakeMailer();
  const inbox = new InMemoryInboxStore();
  const deps: DeliveryDeps = {
    notifications: store,
    recipients,
    inbox,
    connections: new InMemoryConnectionStore(),
    sockets: new FakeSocketPoster(),
    mailer,
    clock,
    settings: { leaseSeconds: 60, sentRetentionDays: 90, retry: { ...defaultRetryPolicy, jitter: 0 } },
  };
  return {
    tenantId,
    clock,
    mailer,
    inbox,
    deps,
    create: async (overrides = {}) => {
      const n = aNotification({ tenantId, id: newNotificationId(noon), scheduledAt: noon.toISOString(), channels: ['inbox', 'email'], ...overrides });
      await store.createMany([n]);
      return n;
    },
    deliver: (n) => deliverNotification(deps, { tenantId, notificationId: n.id }),
  };
}

describe('a claim is a lease', () => {
  it('does not let a worker that died mid-delivery block the notification: the next receive after the lease takes over', async () => {
    // Prepare: a worker claimed at noon, recorded its email intent, and died
    const world = await setUp();
    const n = await world.create();
    const dead = await store.claim(world.tenantId, n.id, noon, 60);
    if (!dead) throw new Error('no claim');
    await store.recordDelivery(dead, 'email', { status: 'sending', at: noon.toISOString(), detail: 'attempt 1' });

    // Act
    world.clock.advanceSeconds(30);
    const duringLease = await world.deliver(n);
    world.clock.advanceSeconds(31);
    const afterLease = await world.deliver(n);

    // Assess
    expect(duringLease).toEqual({ kind: 'later', seconds: 30, reason: 'leased by another worker' });
    expect(afterLease).toEqual({ kind: 'done', status: 'sent' });
    const stored = await store.get(world.tenantId, n.id);
    expect(stored).toMatchObject({ status: 'sent', attempts: 2, deliveries: { inbox: { status: 'sent' }, email: { status: 'unconfirmed' } } });
    expect(world.mailer.sendCalls).toBe(0);
    expect(await world.inbox.list(world.tenantId, 'bob')).toHaveLength(1);
  });

  it('sends the email once when the dead worker never got as far as sending', async () => {
    // Prepare
    const world = await setUp();
    const n = await world.create();
    await store.claim(world.tenantId, n.id, noon, 60);

    // Act
    world.clock.advanceSeconds(61);
    const outcome = await world.deliver(n);

    // Assess
    expect(outcome).toEqual({ kind: 'done', status: 'sent' });
    expect(world.mailer.sent).toHaveLength(1);
  });
});

describe('duplicates and races', () => {
  it('delivers once when the same message comes twice', async () => {
    // Prepare
    const world = await setUp();
    const n = await world.create();

    // Act
    const outcomes = [await world.deliver(n), await world.deliver(n)];

    // Assess
    expect(outcomes).toEqual([
      { kind: 'done', status: 'sent' },
      { kind: 'done', status: 'sent' },
    ]);
    expect(world.mailer.sent).toHaveLength(1);
    expect(await world.inbox.list(world.tenantId, 'bob')).toHaveLength(1);
  });

  it('delivers once when three workers race on the same notification', async () => {
    // Prepare
    const world = await setUp();
    const n = await world.create();

    // Act
    const outcomes = await Promise.all([world.deliver(n), world.deliver(n), world.deliver(n)]);

    // Assess
    expect(outcomes.filter((o) => o.kind === 'done' && o.status === 'sent')).not.toHaveLength(0);
    expect(world.mailer.sent).toHaveLength(1);
    expect(world.inbox.addCalls).toBe(1);
    expect(await store.get(world.tenantId, n.id)).toMatchObject({ status: 'sent', attempts: 1 });
  });

  it('delivers nothing when a schedule fires late, after a cancel', async () => {
    // Prepare
    const world = await setUp();
    const n = await world.create();
    await store.cancel(world.tenantId, n.id, new Date(noon.getTime() - 60_000));

    // Act
    world.clock.advanceSeconds(120);
    const outcome = await world.deliver(n);

    // Assess
    expect(outcome).toEqual({ kind: 'done', status: 'cancelled' });
    expect(world.mailer.sendCalls).toBe(0);
    expect(world.inbox.addCalls).toBe(0);
  });
});

describe('sweeps on the real protocol', () => {
  it('puts a stuck notification back, and delivering every copy (the sweep run twice, the late original) sends once', async () => {
    // Prepare: due at noon, nothing delivered it; the sweep runs at 12:06
    const world = await setUp();
    const n = await world.create();
    const queue = new FakeDeliveryEnqueuer();
    world.clock.advanceSeconds(360);
    const sweep = (): ReturnType<typeof stuckRetrySweep> =>
      stuckRetrySweep({ sweeps, queue, clock: world.clock, settings: { stuckAfterSeconds: 300, maxItems: 1000 }, remainingMs: () => 60_000 });

    const mine = (): number => queue.messages.filter((m) => m.tenantId === world.tenantId).length;

    // Act
    await sweep();
    await sweep();
    const queuedByTwoSweeps = queue.messages.filter((m) => m.tenantId === world.tenantId);
    await Promise.all([...queuedByTwoSweeps.map((m) => deliverNotification(world.deps, m)), world.deliver(n)]);
    await sweep();

    // Assess
    expect(queuedByTwoSweeps).toEqual([
      { tenantId: world.tenantId, notificationId: n.id },
      { tenantId: world.tenantId, notificationId: n.id },
    ]);
    expect(mine()).toBe(2);
    expect(world.mailer.sent).toHaveLength(1);
    expect(await store.get(world.tenantId, n.id)).toMatchObject({ status: 'sent', attempts: 1 });
  });

  it('deletes each old cancelled notification once when two cleanups run at the same time', async () => {
    // Prepare: a fresh store view of old cancellations (the cutoff is 30 days before the clock)
    const world = await setUp();
    const made: Notification[] = [];
    for (let i = 0; i < 12; i++) {
      const n = await world.create();
      await store.cancel(world.tenantId, n.id, new Date(noon.getTime() - (40 + i) * 86_400_000));
      made.push(n);
    }
    const cleanup = (): ReturnType<typeof cleanupSweep> =>
      cleanupSweep({ sweeps, clock: world.clock, settings: { cancelledRetentionDays: 30, maxItems: 10_000 }, remainingMs: () => 60_000 });

    // Act
    const [a, b] = await Promise.all([cleanup(), cleanup()]);
    const after = await cleanup();

    // Assess: other tests' cancellations are younger than the cutoff, so only these count
    expect(a.deleted + b.deleted).toBe(12);
    expect(after).toMatchObject({ deleted: 0, before_cutoff: 0 });
    for (const n of made) expect(await store.get(world.tenantId, n.id)).toBeUndefined();
  });
});
