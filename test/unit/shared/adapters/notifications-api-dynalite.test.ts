/**
 * The adapters behind the notifications API against the real DynamoDB protocol (dynalite):
 * rescheduling and requeueing writes, the sharded listing, the metric counters and the
 * Powertools idempotency store.
 */
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { LISTING_INDEX_SHARDS, METRICS_SHARDS } from '../../../../lib/app-description.ts';
import { DynamoMetricsStore } from '../../../../shared/adapters/dynamo-metrics-store.ts';
import { DynamoNotificationListing, mergeNewestFirst } from '../../../../shared/adapters/dynamo-notification-listing.ts';
import { DynamoNotificationStore, dueShard } from '../../../../shared/adapters/dynamo-notification-store.ts';
import { PowertoolsIdempotencyStore } from '../../../../shared/adapters/powertools-idempotency-store.ts';
import { newNotificationId } from '../../../../shared/domain/ids.ts';
import type { Notification } from '../../../../shared/domain/notification.ts';
import { IdempotencyConflictError, IdempotencyInProgressError } from '../../../../shared/errors.ts';
import type { NotificationListQuery } from '../../../../shared/ports.ts';
import { InMemoryNotificationStore } from '../../fakes/index.ts';
import { aNotification, tenantId } from '../../fakes/fixtures.ts';
import { racingClient, startLocalDynamo } from '../../support/local-dynamo.ts';
import type { LocalDynamo } from '../../support/local-dynamo.ts';

let dynamo: LocalDynamo;
let store: DynamoNotificationStore;

const noon = new Date('2030-01-01T12:00:00.000Z');

beforeAll(async () => {
  dynamo = await startLocalDynamo({ withTables: true });
  store = new DynamoNotificationStore(dynamo.documentClient, 'notifications');
});

afterAll(async () => {
  await dynamo?.stop();
});

async function rawItem(n: Pick<Notification, 'tenantId' | 'id'>): Promise<Record<string, unknown> | undefined> {
  const result = await dynamo.documentClient.send(
    new GetCommand({ TableName: 'notifications', Key: { pk: `${n.tenantId}#${n.id}` }, ConsistentRead: true }),
  );
  return result.Item;
}

describe('DynamoNotificationStore.reschedule', () => {
  it('moves a pending notification, its due time with it, and forgets a retry back-off', async () => {
    // Prepare
    const n = aNotification({ id: newNotificationId(noon), nextAttemptAt: '2030-01-01T12:30:00.000Z' });
    await store.createMany([n]);
    const later = new Date('2030-01-02T08:00:00.000Z');

    // Act
    const moved = await store.reschedule(tenantId, n.id, later);

    // Assess
    expect(moved).toMatchObject({ id: n.id, status: 'pending', scheduledAt: later.toISOString() });
    expect(moved?.nextAttemptAt).toBeUndefined();
    expect(await rawItem(n)).toMatchObject({ scheduledAt: later.toISOString(), dueAt: later.toISOString(), dueShard: dueShard(n.id) });
  });

  it('changes nothing once the notification has left pending', async () => {
    // Prepare
    const n = aNotification({ id: newNotificationId(noon) });
    await store.createMany([n]);
    await store.claim(tenantId, n.id, noon, 60);

    // Act
    const moved = await store.reschedule(tenantId, n.id, new Date('2030-01-02T08:00:00.000Z'));

    // Assess
    expect(moved).toBeUndefined();
    expect((await rawItem(n))?.scheduledAt).toBe(n.scheduledAt);
  });
});

describe('DynamoNotificationStore.requeueFailed', () => {
  async function aFailedNotification(): Promise<Notification> {
    const n = aNotification({ id: newNotificationId(noon), channels: ['inbox', 'websocket', 'email', 'webhook'] });
    await store.createMany([n]);
    const claim = await store.claim(tenantId, n.id, noon, 60);
    if (!claim) throw new Error('not claimed');
    await store.recordDelivery(claim, 'inbox', { status: 'sent', at: noon.toISOString() });
    await store.recordDelivery(claim, 'websocket', { status: 'skipped', at: noon.toISOString(), detail: 'not connected' });
    await store.recordDelivery(claim, 'email', { status: 'failed', at: noon.toISOString(), error: 'MessageRejected' });
    await store.recordDelivery(claim, 'webhook', { status: 'unconfirmed', at: noon.toISOString(), detail: 'no answer' });
    await store.markFailed(claim, 'email: MessageRejected', noon, new Date('2030-04-01T00:00:00.000Z'));
    return n;
  }

  it('puts a failed notification back to pending with a fresh budget, keeping the outcomes that may have reached the recipient', async () => {
    // Prepare
    const n = await aFailedNotification();
    const due = new Date('2030-01-01T13:00:00.000Z');

    // Act
    const requeued = await store.requeueFailed(tenantId, n.id, due, noon);

    // Assess
    expect(requeued).toMatchObject({ status: 'pending', scheduledAt: due.toISOString(), attempts: 0 });
    // The failed and the skipped channels are tried again: neither reached anyone.
    expect(requeued?.deliveries).toEqual({
      inbox: { status: 'sent', at: noon.toISOString() },
      webhook: { status: 'unconfirmed', at: noon.toISOString(), detail: 'no answer' },
    });
    const item = await rawItem(n);
    // Back in the due index, and out of TTL: a pending notification never expires.
    expect(item).toMatchObject({ dueShard: dueShard(n.id), dueAt: due.toISOString() });
    expect(item).not.toHaveProperty('expiresAt');
    expect(item).not.toHaveProperty('failedAt');
  });

  it('refuses a notification that is not failed', async () => {
    // Prepare
    const n = aNotification({ id: newNotificationId(noon) });
    await store.createMany([n]);

    // Act
    const requeued = await store.requeueFailed(tenantId, n.id, noon, noon);

    // Assess
    expect(requeued).toBeUndefined();
    expect((await rawItem(n))?.status).toBe('pending');
  });
});

describe('DynamoNotificationListing', () => {
  const listingTenant = 'listing-co';
  let catalogue: Notification[];
  /** The same notifications in the in-memory fake, whose brute-force listing is the reference. */
  const reference = new InMemoryNotificationStore();

  beforeAll(async () => {
    const creators = ['svc-a', 'svc-b'];
    const recipients = ['r1', 'r2', 'r3'];
    const statuses = ['pending', 'sent', 'cancelled'] as const;
    catalogue = Array.from({ length: 45 }, (_, i) => {
      const createdAt = new Date(Date.parse('2031-06-01T00:00:00.000Z') + i * 60_000);
      return aNotification({
        tenantId: listingTenant,
        id: newNotificationId(createdAt),
        createdAt: createdAt.toISOString(),
        createdBy: creators[i % 2] as string,
        recipientId: recipients[i % 3] as string,
        status: statuses[i % 3] as Notification['status'],
        type: i % 5 === 0 ? 'rare' : 'common',
      });
    });
    await store.createMany(catalogue);
    for (const n of catalogue) reference.seed(n);
    await store.createMany([aNotification({ tenantId: 'elsewhere', id: newNotificationId(new Date('2031-06-01T00:10:00Z')) })]);
  });

  /** Every page of a listing, followed cursor to cursor. */
  async function everyPage(listing: DynamoNotificationListing, query: Omit<NotificationListQuery, 'olderThan'>): Promise<string[][]> {
    const pages: string[][] = [];
    let olderThan: string | undefined;
    do {
      const page = await listing.list({ ...query, ...(olderThan ? { olderThan } : {}) });
      pages.push(page.items.map((n) => n.id));
      olderThan = page.olderThan;
    } while (olderThan && pages.length < 200);
    return pages;
  }

  async function expected(query: Omit<NotificationListQuery, 'olderThan' | 'limit'>): Promise<string[]> {
    return (await reference.list({ ...query, limit: 1_000 })).items.map((n) => n.id);
  }

  it.each<[string, Omit<NotificationListQuery, 'olderThan' | 'limit'>]>([
    ['the whole tenant', { tenantId: listingTenant, scope: { kind: 'tenant' } }],
    ['a creator', { tenantId: listingTenant, scope: { kind: 'creator', createdBy: 'svc-a' } }],
    ['a recipient', { tenantId: listingTenant, scope: { kind: 'recipient', recipientId: 'r2' } }],
    ['a recipient, as one creator', { tenantId: listingTenant, scope: { kind: 'recipient', recipientId: 'r2', createdBy: 'svc-b' } }],
    ['a status of the tenant', { tenantId: listingTenant, scope: { kind: 'tenant' }, status: 'cancelled' }],
    ['a rare type of a creator', { tenantId: listingTenant, scope: { kind: 'creator', createdBy: 'svc-b' }, type: 'rare' }],
    ['a status and a type of the tenant', { tenantId: listingTenant, scope: { kind: 'tenant' }, status: 'sent', type: 'common' }],
    [
      'a creation window',
      {
        tenantId: listingTenant,
        scope: { kind: 'tenant' },
        createdFrom: new Date('2031-06-01T00:05:00.000Z'),
        createdTo: new Date('2031-06-01T00:20:00.000Z'),
      },
    ],
  ])('lists %s newest first across pages, each notification once', async (_case, query) => {
    // Prepare
    const listing = new DynamoNotificationListing(dynamo.documentClient, 'notifications');

    // Act
    const pages = await everyPage(listing, { ...query, limit: 7 });

    // Assess
    expect(pages.flat()).toEqual(await expected(query));
    expect(pages.slice(0, -1).every((page) => page.length === 7)).toBe(true);
  });

  it('never skips or repeats a notification when filtered reads stop early on some shards', async () => {
    // Prepare: one tiny read per shard per page, so shards stop at different places
    const listing = new DynamoNotificationListing(dynamo.documentClient, 'notifications', { maxRoundsPerShard: 1, filteredReadSize: 2 });
    const query = { tenantId: listingTenant, scope: { kind: 'tenant' } as const, type: 'rare' };

    // Act
    const pages = await everyPage(listing, { ...query, limit: 3 });

    // Assess
    expect(pages.flat()).toEqual(await expected(query));
    expect(pages.some((page) => page.length < 3)).toBe(true);
  });

  it('lists each notification as the table holds it now, and leaves out one deleted after the index listed its key', async () => {
    // Prepare: a tenant of three; a client that, once the first index page has answered, cancels
    // one of them and deletes another, as a cancel and the TTL reaper would between the two reads
    const tenant = 'listing-race';
    const [older, middle, newest] = [1, 2, 3].map((minute) =>
      aNotification({ tenantId: tenant, id: newNotificationId(new Date(Date.parse('2031-07-01T00:00:00Z') + minute * 60_000)), recipientId: 'r1' }),
    ) as [Notification, Notification, Notification];
    await store.createMany([older, middle, newest]);
    const racing = racingClient(dynamo, 'QueryCommand', async () => {
      await store.cancel(tenant, newest.id, noon);
      await store.deleteMany(tenant, [middle.id]);
    });
    const listing = new DynamoNotificationListing(racing.client, 'notifications');

    // Act
    const page = await listing.list({ tenantId: tenant, scope: { kind: 'recipient', recipientId: 'r1' }, limit: 10 });

    // Assess
    expect(racing.raced()).toBe(true);
    expect(page.items.map((n) => [n.id, n.status])).toEqual([
      [newest.id, 'cancelled'],
      [older.id, 'pending'],
    ]);
  });

  it('writes the listing indexes when a notification is created, and not when its status changes', async () => {
    // Prepare
    const n = aNotification({ tenantId: 'listing-writes', id: newNotificationId(noon) });
    const writesOf = async (act: () => Promise<unknown>) => {
      const before = dynamo.writes();
      await act();
      const after = dynamo.writes();
      return { tableItems: after.tableItems - before.tableItems, indexEntries: after.indexEntries - before.indexEntries };
    };

    // Act
    const created = await writesOf(() => store.createMany([n]));
    const cancelled = await writesOf(() => store.cancel(n.tenantId, n.id, noon));

    // Assess: created, it enters the three listing indexes and `due`; cancelled, it leaves `due`
    // and enters `cancelled`, and the listing indexes (keys only) are not written
    expect(created).toEqual({ tableItems: 1, indexEntries: 4 });
    expect(cancelled).toEqual({ tableItems: 1, indexEntries: 2 });
  });

  it('spreads a tenant over every listing shard', async () => {
    // Act
    const items = await Promise.all(catalogue.slice(0, 20).map((n) => rawItem(n)));

    // Assess
    const shards = new Set(items.map((item) => item?.tenantKey));
    expect(shards.size).toBe(LISTING_INDEX_SHARDS);
  });
});

describe('mergeNewestFirst', () => {
  const ids = Array.from({ length: 6 }, (_, i) => aNotification({ id: newNotificationId(new Date(Date.parse('2032-01-01T00:00:00Z') + i * 1000)) }));
  const [n0, n1, n2, n3, n4, n5] = ids as [Notification, Notification, Notification, Notification, Notification, Notification];

  it('holds back what lies below a shard that stopped early, and starts the next page there', () => {
    // Act
    const page = mergeNewestFirst(
      [
        { items: [n5, n1], lastEvaluatedId: undefined },
        { items: [n4], lastEvaluatedId: n3.id },
      ],
      10,
    );

    // Assess
    expect(page).toEqual({ items: [n5, n4], olderThan: n3.id });
  });

  it('ends without a position when every shard was read to its end', () => {
    // Act
    const page = mergeNewestFirst([{ items: [n2, n0] }, { items: [n3] }], 3);

    // Assess
    expect(page).toEqual({ items: [n3, n2, n0] });
  });

  it('cuts a full page at its limit and continues from its last item', () => {
    // Act
    const page = mergeNewestFirst([{ items: [n5, n3, n1] }, { items: [n4, n2, n0] }], 4);

    // Assess
    expect(page).toEqual({ items: [n5, n4, n3, n2], olderThan: n2.id });
  });
});

describe('DynamoMetricsStore', () => {
  it('adds counters atomically from concurrent writers and sums the hours of a window, per tenant', async () => {
    // Prepare
    let shard = 0;
    const metrics = new DynamoMetricsStore(dynamo.documentClient, 'metrics', () => shard++ % METRICS_SHARDS);
    const hour = (h: number, m = 0): Date => new Date(Date.UTC(2030, 0, 1, h, m));

    // Act
    await Promise.all(Array.from({ length: 20 }, () => metrics.add('metrics-co', hour(10, 30), { 'notifications.sent': 1 })));
    await metrics.add('metrics-co', hour(11), { 'notifications.sent': 2, 'deliveries.email.failed': 1 });
    await metrics.add('metrics-co', hour(12), { 'notifications.sent': 100 });
    await metrics.add('other-co', hour(11), { 'notifications.sent': 100 });
    const sums = await metrics.sum('metrics-co', hour(10, 59), hour(11, 59));

    // Assess
    expect(sums).toEqual({ 'notifications.sent': 22, 'deliveries.email.failed': 1 });
  });
});

describe('PowertoolsIdempotencyStore', () => {
  let idempotency: PowertoolsIdempotencyStore;
  let sequence = 0;
  const request = (key: string, fingerprint = 'f1', lockSeconds = 30): { key: string; fingerprint: string; lockSeconds: number } => ({
    key: `${key}-${sequence}`,
    fingerprint,
    lockSeconds,
  });

  beforeAll(() => {
    idempotency = new PowertoolsIdempotencyStore(dynamo.client, 'idempotency');
  });

  afterEach(() => {
    sequence++;
    vi.useRealTimers();
  });

  it('runs the first request and replays its result to a repeat', async () => {
    // Prepare
    let runs = 0;
    const work = async (): Promise<{ statusCode: number; body: string }> => ({ statusCode: 201, body: `run ${++runs}` });

    // Act
    const first = await idempotency.run(request('k'), work);
    const second = await idempotency.run(request('k'), work);

    // Assess
    expect(first).toEqual({ result: { statusCode: 201, body: 'run 1' }, replayed: false });
    expect(second).toEqual({ result: { statusCode: 201, body: 'run 1' }, replayed: true });
    expect(runs).toBe(1);
  });

  it('refuses a repeat with another fingerprint', async () => {
    // Prepare
    await idempotency.run(request('k', 'f1'), async () => 'done');

    // Act + Assess
    await expect(idempotency.run(request('k', 'f2'), async () => 'again')).rejects.toBeInstanceOf(IdempotencyConflictError);
  });

  it('forgets the key when the work throws, so the retry runs', async () => {
    // Prepare
    await expect(idempotency.run(request('k'), async () => Promise.reject(new Error('scheduler down')))).rejects.toThrow('scheduler down');

    // Act
    const retried = await idempotency.run(request('k'), async () => 'done');

    // Assess
    expect(retried).toEqual({ result: 'done', replayed: false });
  });

  it('refuses a duplicate while the first still runs, and lets one take over once its lock expired', async () => {
    // Prepare
    let release: () => void = () => undefined;
    const first = idempotency.run(request('k', 'f1', 1), () => new Promise<string>((resolve) => (release = () => resolve('first'))));
    await new Promise((r) => setTimeout(r, 100));

    // Act
    const duplicate = idempotency.run(request('k', 'f1', 1), async () => 'duplicate');
    await expect(duplicate).rejects.toBeInstanceOf(IdempotencyInProgressError);
    await new Promise((r) => setTimeout(r, 1_100));
    const takeover = await idempotency.run(request('k', 'f1', 1), async () => 'takeover');

    // Assess
    expect(takeover).toEqual({ result: 'takeover', replayed: false });
    release();
    await first;
  });

  it('runs a repeat again once the key is older than 24 hours', async () => {
    // Prepare
    await idempotency.run(request('k'), async () => 'first');
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 24 * 60 * 60 * 1000 + 5_000);

    // Act
    const later = await idempotency.run(request('k'), async () => 'second');

    // Assess
    expect(later).toEqual({ result: 'second', replayed: false });
  });

  it('keeps only a hash of the key, in an item that expires in 24 hours', async () => {
    // Prepare
    const before = Math.floor(Date.now() / 1000);

    // Act
    await idempotency.run(request('secret-key'), async () => 'done');

    // Assess
    const { Items } = await dynamo.client.send(new ScanCommand({ TableName: 'idempotency' }));
    const ids = (Items ?? []).map((item) => item.id?.S ?? '');
    expect(ids.some((id) => id.includes('secret-key'))).toBe(false);
    const expirations = (Items ?? []).map((item) => Number(item.expiration?.N));
    expect(expirations.some((e) => e >= before + 24 * 60 * 60 - 5 && e <= before + 24 * 60 * 60 + 5)).toBe(true);
  });
});
