/**
 * The notification store and the sweeps' queries against the real DynamoDB protocol (dynalite):
 * conditional writes under races and leases, and the index bookkeeping the sweeps depend on.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoNotificationStore, cancelledShard, dueShard } from '../../../../shared/adapters/dynamo-notification-store.ts';
import { DynamoNotificationSweeps } from '../../../../shared/adapters/dynamo-notification-sweeps.ts';
import { newNotificationId } from '../../../../shared/domain/ids.ts';
import type { Notification } from '../../../../shared/domain/notification.ts';
import { ClaimLostError } from '../../../../shared/ports.ts';
import type { Claim, StuckNotification, SweepPage } from '../../../../shared/ports.ts';
import { aNotification, tenantId } from '../../fakes/fixtures.ts';
import { startDynalite } from '../../support/dynalite.ts';
import type { Dynalite } from '../../support/dynalite.ts';

let dynamo: Dynalite;
let store: DynamoNotificationStore;
let sweeps: DynamoNotificationSweeps;

const noon = new Date('2030-01-01T12:00:00.000Z');
const at = (seconds: number): Date => new Date(noon.getTime() + seconds * 1000);

beforeAll(async () => {
  dynamo = await startDynalite();
  store = new DynamoNotificationStore(dynamo.db, dynamo.tableName('notifications'));
  sweeps = new DynamoNotificationSweeps(dynamo.db, dynamo.tableName('notifications'));
});

afterAll(async () => {
  await dynamo?.stop();
});

/** A new pending notification due at `scheduledAt`, written to the table. */
async function aStoredNotification(overrides: Partial<Notification> = {}): Promise<Notification> {
  const n = aNotification({ id: newNotificationId(noon), scheduledAt: noon.toISOString(), ...overrides });
  await store.createMany([n]);
  return n;
}

/** The raw item, bookkeeping attributes included. */
async function rawItem(n: Notification): Promise<Record<string, unknown> | undefined> {
  const result = await dynamo.db.send(
    new GetCommand({ TableName: dynamo.tableName('notifications'), Key: { pk: `${n.tenantId}#${n.id}` }, ConsistentRead: true }),
  );
  return result.Item;
}

async function claimOrFail(n: Notification, now: Date, leaseSeconds = 60): Promise<Claim> {
  const claim = await store.claim(n.tenantId, n.id, now, leaseSeconds);
  if (!claim) throw new Error(`could not claim ${n.id}`);
  return claim;
}

/** Every stuck notification in every shard, reading `limit` items per query. */
async function allStuck(criteria: { pendingDueBy: Date; leaseEndedBefore: Date }, limit = 100): Promise<StuckNotification[]> {
  const found: StuckNotification[] = [];
  for (let shard = 0; shard < sweeps.shardCount; shard++) {
    let cursor: string | undefined;
    do {
      const page: SweepPage<StuckNotification> = await sweeps.pageStuck(shard, criteria, limit, cursor);
      found.push(...page.items);
      cursor = page.cursor;
    } while (cursor !== undefined);
  }
  return found;
}

describe('leases and races on the real protocol', () => {
  it('lets no second worker claim while a lease holds, and lets one take over once it ends', async () => {
    // Prepare
    const n = await aStoredNotification();
    const first = await claimOrFail(n, noon);

    // Act
    const whileLeased = await store.claim(tenantId, n.id, at(30), 60);
    const afterLease = await store.claim(tenantId, n.id, at(61), 60);

    // Assess
    expect(whileLeased).toBeUndefined();
    expect(afterLease?.notification).toMatchObject({ status: 'sending', attempts: 2 });
    await expect(store.recordDelivery(first, 'email', { status: 'sent', at: noon.toISOString() })).rejects.toBeInstanceOf(ClaimLostError);
    await expect(store.markSent(first, noon, at(3600))).rejects.toBeInstanceOf(ClaimLostError);
    await expect(store.release(first, 'late', at(300))).rejects.toBeInstanceOf(ClaimLostError);
  });

  it('gives exactly one of two racing workers the claim', async () => {
    // Prepare
    const n = await aStoredNotification();

    // Act
    const claims = await Promise.all([store.claim(tenantId, n.id, noon, 60), store.claim(tenantId, n.id, noon, 60)]);

    // Assess
    expect(claims.filter(Boolean)).toHaveLength(1);
    expect(await store.get(tenantId, n.id)).toMatchObject({ status: 'sending', attempts: 1 });
  });

  it('lets either a cancel or a claim win a race, never both', async () => {
    // Prepare
    const n = await aStoredNotification();

    // Act
    const [{ cancelled }, claim] = await Promise.all([store.cancel(tenantId, n.id, noon), store.claim(tenantId, n.id, noon, 60)]);

    // Assess
    expect(Boolean(cancelled) !== Boolean(claim)).toBe(true);
    expect((await store.get(tenantId, n.id))?.status).toBe(cancelled ? 'cancelled' : 'sending');
  });

  it('claims nothing after a cancel: a late schedule finds the notification final', async () => {
    // Prepare
    const n = await aStoredNotification();
    await store.cancel(tenantId, n.id, noon);

    // Act
    const claim = await store.claim(tenantId, n.id, at(60), 60);

    // Assess
    expect(claim).toBeUndefined();
  });

  it('forgets a channel intent only under the claim', async () => {
    // Prepare
    const n = await aStoredNotification();
    const claim = await claimOrFail(n, noon);
    await store.recordDelivery(claim, 'email', { status: 'sending', at: noon.toISOString(), detail: 'attempt 1' });
    await store.recordDelivery(claim, 'inbox', { status: 'sent', at: noon.toISOString() });

    // Act
    await store.forgetDelivery(claim, 'email');

    // Assess
    expect((await store.get(tenantId, n.id))?.deliveries).toEqual({ inbox: { status: 'sent', at: noon.toISOString() } });
    await store.release(claim, 'retry', at(300));
    await expect(store.forgetDelivery(claim, 'inbox')).rejects.toBeInstanceOf(ClaimLostError);
  });
});

describe('index bookkeeping', () => {
  it('keeps a pending notification in the due index, due at its time, with no TTL', async () => {
    // Prepare + Act
    const n = await aStoredNotification();

    // Assess
    const item = await rawItem(n);
    expect(item).toMatchObject({ dueShard: dueShard(n.id), dueAt: noon.toISOString() });
    expect(item?.expiresAt).toBeUndefined();
    expect(item?.cancelledShard).toBeUndefined();
  });

  it('keeps a claimed and a taken-over notification in the due index', async () => {
    // Prepare
    const n = await aStoredNotification();

    // Act
    await claimOrFail(n, noon);
    const claimed = await rawItem(n);
    await claimOrFail(n, at(61));
    const takenOver = await rawItem(n);

    // Assess
    for (const item of [claimed, takenOver]) {
      expect(item).toMatchObject({ status: 'sending', dueShard: dueShard(n.id), dueAt: noon.toISOString() });
      expect(item?.expiresAt).toBeUndefined();
    }
  });

  it('keeps a released notification in the due index, due again at its retry', async () => {
    // Prepare
    const n = await aStoredNotification();
    const claim = await claimOrFail(n, noon);

    // Act
    await store.release(claim, 'email: Throttling', at(300));

    // Assess
    const item = await rawItem(n);
    expect(item).toMatchObject({
      status: 'pending',
      dueShard: dueShard(n.id),
      dueAt: at(300).toISOString(),
      nextAttemptAt: at(300).toISOString(),
      lastError: 'email: Throttling',
    });
    expect(item?.expiresAt).toBeUndefined();
    expect(await store.get(tenantId, n.id)).toMatchObject({ nextAttemptAt: at(300).toISOString() });
  });

  it.each([
    ['sent', (claim: Claim) => store.markSent(claim, noon, at(86_400))],
    ['failed', (claim: Claim) => store.markFailed(claim, 'Every channel failed', noon, at(86_400))],
  ] as const)('takes a %s notification out of the due index and gives it a TTL', async (status, finish) => {
    // Prepare
    const n = await aStoredNotification();
    const claim = await claimOrFail(n, noon);

    // Act
    await finish(claim);

    // Assess
    const item = await rawItem(n);
    expect(item).toMatchObject({ status, expiresAt: Math.floor(at(86_400).getTime() / 1000) });
    expect(item?.dueShard).toBeUndefined();
    expect(item?.dueAt).toBeUndefined();
  });

  it('moves a cancelled notification from the due index to the cancelled one, with no TTL', async () => {
    // Prepare
    const n = await aStoredNotification();

    // Act
    const { cancelled } = await store.cancel(tenantId, n.id, at(-60));

    // Assess
    const item = await rawItem(n);
    expect(item).toMatchObject({ status: 'cancelled', cancelledShard: cancelledShard(n.id), cancelledAt: at(-60).toISOString() });
    expect(item?.dueShard).toBeUndefined();
    expect(item?.expiresAt).toBeUndefined();
    expect(cancelled).not.toHaveProperty('cancelledShard');
  });
});

describe('DynamoNotificationSweeps', () => {
  it('finds pending notifications past the cutoff and sending ones whose lease ended, and nothing else', async () => {
    // Prepare: a fresh tenant, so the other tests' items do not count
    const tenant = `stuck-${Date.now()}`;
    const make = (overrides: Partial<Notification>): Promise<Notification> => aStoredNotification({ tenantId: tenant, ...overrides });
    const overdue = await make({ scheduledAt: at(-600).toISOString() });
    const recent = await make({ scheduledAt: at(-60).toISOString() });
    await make({ scheduledAt: at(3600).toISOString() });
    const deadWorker = await make({ scheduledAt: at(-120).toISOString() });
    await claimOrFail(deadWorker, at(-120), 60);
    const liveWorker = await make({ scheduledAt: at(-600).toISOString() });
    await claimOrFail(liveWorker, at(-10), 60);
    const retrying = await make({ scheduledAt: at(-3600).toISOString() });
    await store.release(await claimOrFail(retrying, at(-3600)), 'Throttling', at(600));
    const retryOverdue = await make({ scheduledAt: at(-3600).toISOString() });
    await store.release(await claimOrFail(retryOverdue, at(-3600)), 'Throttling', at(-900));
    const sent = await make({ scheduledAt: at(-600).toISOString() });
    await store.markSent(await claimOrFail(sent, at(-600)), at(-600), at(86_400));
    const cancelled = await make({ scheduledAt: at(-600).toISOString() });
    await store.cancel(tenant, cancelled.id, at(-700));

    // Act
    const found = (await allStuck({ pendingDueBy: at(-300), leaseEndedBefore: noon })).filter((s) => s.tenantId === tenant);

    // Assess
    expect(found.map((s) => s.id).sort()).toEqual([overdue.id, deadWorker.id, retryOverdue.id].sort());
    expect(found.find((s) => s.id === deadWorker.id)?.status).toBe('sending');
    expect(found.find((s) => s.id === overdue.id)).toEqual({ tenantId: tenant, id: overdue.id, status: 'pending' });
    expect(found.map((s) => s.id)).not.toContain(recent.id);
  });

  it('pages every shard with a cursor until it is read', async () => {
    // Prepare: twenty overdue notifications of a fresh tenant, spread over the shards
    const tenant = `paging-${Date.now()}`;
    const made: Notification[] = [];
    for (let i = 0; i < 20; i++) made.push(await aStoredNotification({ tenantId: tenant, scheduledAt: at(-1000 - i).toISOString() }));

    // Act: one item per query
    const found = (await allStuck({ pendingDueBy: at(-300), leaseEndedBefore: noon }, 1)).filter((s) => s.tenantId === tenant);

    // Assess
    expect(found.map((s) => s.id).sort()).toEqual(made.map((n) => n.id).sort());
  });

  it('reads a shard oldest first', async () => {
    // Prepare: three overdue notifications in one shard, written newest first
    const tenant = `order-${Date.now()}`;
    const sameShard: Notification[] = [];
    for (let i = 0; sameShard.length < 3; i++) {
      const n = aNotification({ tenantId: tenant, id: newNotificationId(noon), scheduledAt: at(-1000 - sameShard.length * 100).toISOString() });
      if (sameShard.length > 0 && dueShard(n.id) !== dueShard(sameShard[0]?.id ?? '')) continue;
      await store.createMany([n]);
      sameShard.push(n);
    }
    const shard = Number(dueShard(sameShard[0]?.id ?? '').split('#')[1]);

    // Act
    const page = await sweeps.pageStuck(shard, { pendingDueBy: at(-300), leaseEndedBefore: noon }, 100);

    // Assess
    const ours = page.items.filter((s) => s.tenantId === tenant).map((s) => s.id);
    expect(ours).toEqual([...sameShard].reverse().map((n) => n.id));
  });

  it('finds cancelled notifications cancelled before the cutoff, and deletes only cancelled ones', async () => {
    // Prepare
    const tenant = `cleanup-${Date.now()}`;
    const old = await aStoredNotification({ tenantId: tenant });
    await store.cancel(tenant, old.id, at(-40 * 86_400));
    const fresh = await aStoredNotification({ tenantId: tenant });
    await store.cancel(tenant, fresh.id, at(-86_400));
    const pending = await aStoredNotification({ tenantId: tenant });

    // Act
    const found = [];
    for (let shard = 0; shard < sweeps.shardCount; shard++) {
      found.push(...(await sweeps.pageCancelled(shard, at(-30 * 86_400), 100)).items.filter((c) => c.tenantId === tenant));
    }
    const result = await sweeps.deleteCancelled([...found, { tenantId: tenant, id: pending.id }]);
    const again = await sweeps.deleteCancelled(found);

    // Assess
    expect(found).toEqual([{ tenantId: tenant, id: old.id, cancelledAt: at(-40 * 86_400).toISOString() }]);
    expect(result).toEqual({ deleted: 1, errors: [] });
    expect(again).toEqual({ deleted: 0, errors: [] });
    expect(await store.get(tenant, old.id)).toBeUndefined();
    expect(await store.get(tenant, fresh.id)).toMatchObject({ status: 'cancelled' });
    expect(await store.get(tenant, pending.id)).toMatchObject({ status: 'pending' });
  });
});
