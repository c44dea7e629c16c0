/**
 * DynamoNotificationStore on the local DynamoDB endpoint with Herald's `notifications` table: each
 * transition is judged by the endpoint's own conditions, and what it did is read back from the
 * table and its indexes. A front on the endpoint (test/unit/support/wire-front.ts) records the
 * calls, where how many and what they asked is the point, and leaves items unprocessed as DynamoDB
 * does when it is throttled.
 */
import { ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import { GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { DUE_INDEX_SHARDS } from '../../../../lib/app-description.ts';
import { DynamoNotificationStore, cancelledShard, dueShard } from '../../../../shared/adapters/dynamo-notification-store.ts';
import { ClaimLostError } from '../../../../shared/ports.ts';
import type { Claim } from '../../../../shared/ports.ts';
import type { Notification } from '../../../../shared/domain/notification.ts';
import { aNotification } from '../../fakes/fixtures.ts';
import { jsonAnswer, startDynamoWire } from '../../support/wire-front.ts';
import type { WireObject } from '../../support/wire-front.ts';
import { startLocalDynamo } from '../../support/local-dynamo.ts';

const tableName = 'notifications';
const now = new Date('2030-01-01T12:00:00.000Z');
const dynamo = await startLocalDynamo({ withTables: true });
const wire = await startDynamoWire(dynamo.endpoint);
const store = new DynamoNotificationStore(wire.documentClient, tableName);

afterEach(() => {
  wire.reset();
});

afterAll(async () => {
  await wire.stop();
  await dynamo.stop();
});

/** The item of `n` as the table holds it, bookkeeping included (undefined: none). */
async function itemOf(n: Pick<Notification, 'id'>): Promise<Record<string, unknown> | undefined> {
  return (await dynamo.documentClient.send(new GetCommand({ TableName: tableName, Key: { pk: `acme#${n.id}` }, ConsistentRead: true }))).Item;
}

/** Sets attributes of the stored item of `n` directly, as another writer would. */
async function setStored(n: Pick<Notification, 'id'>, values: Record<string, unknown>): Promise<void> {
  const names = Object.keys(values);
  await dynamo.documentClient.send(
    new UpdateCommand({
      TableName: tableName,
      Key: { pk: `acme#${n.id}` },
      UpdateExpression: `SET ${names.map((_, i) => `#a${i} = :v${i}`).join(', ')}`,
      ExpressionAttributeNames: Object.fromEntries(names.map((name, i) => [`#a${i}`, name])),
      ExpressionAttributeValues: Object.fromEntries(names.map((name, i) => [`:v${i}`, values[name]])),
    }),
  );
}

/** A pending notification, stored. */
async function aStoredNotification(overrides: Partial<Notification> = {}): Promise<Notification> {
  const n = aNotification(overrides);
  await new DynamoNotificationStore(dynamo.documentClient, tableName).createMany([n]);
  return n;
}

/** A stored notification claimed by a worker, with its claim. */
async function aClaimed(): Promise<Claim> {
  const n = await aStoredNotification();
  const claim = await new DynamoNotificationStore(dynamo.documentClient, tableName).claim('acme', n.id, now, 60);
  if (!claim) throw new Error('could not claim');
  return claim;
}

/** True when the sparse `due` index, which the stuck-retry sweep reads, holds `n`. */
async function inDueIndex(n: Pick<Notification, 'id'>): Promise<boolean> {
  const page = await dynamo.documentClient.send(
    new QueryCommand({ TableName: tableName, IndexName: 'due', KeyConditionExpression: 'dueShard = :shard', ExpressionAttributeValues: { ':shard': dueShard(n.id) } }),
  );
  return (page.Items ?? []).some((item) => item.id === n.id);
}

/** The operations the store called, in order. */
function operations(): string[] {
  return wire.calls().map((call) => call.operation);
}

describe('DynamoNotificationStore', () => {
  it('claims with a conditional update: from pending, or from sending whose lease expired', async () => {
    // Prepare: one pending, one whose worker died (its lease ran out a second ago)
    const pending = await aStoredNotification();
    const abandoned = await aStoredNotification({ status: 'sending', attempts: 1 });
    await setStored(abandoned, { leaseUntil: now.getTime() - 1000, claimToken: 'dead-worker' });

    // Act
    const claim = await store.claim('acme', pending.id, now, 60);
    const takeover = await store.claim('acme', abandoned.id, now, 60);

    // Assess
    const leaseUntil = now.getTime() + 60_000;
    expect(claim).toEqual({ notification: { ...pending, status: 'sending', attempts: 1, leaseUntil }, token: expect.any(String), leaseUntil: new Date(leaseUntil) });
    expect(await itemOf(pending)).toMatchObject({ status: 'sending', attempts: 1, leaseUntil, claimToken: claim?.token });
    expect(takeover?.notification).toMatchObject({ status: 'sending', attempts: 2, leaseUntil });
    expect(takeover?.token).not.toBe('dead-worker');
    expect(await itemOf(abandoned)).toMatchObject({ claimToken: takeover?.token });
    expect(operations()).toEqual(['UpdateItem', 'UpdateItem']);
  });

  it('returns no claim when the condition fails', async () => {
    // Prepare: one held by a live worker, one sent, one cancelled, one never written
    const held = await aStoredNotification({ status: 'sending', attempts: 1 });
    await setStored(held, { leaseUntil: now.getTime() + 1000, claimToken: 'live-worker' });
    const sent = await aStoredNotification({ status: 'sent' });
    const cancelled = await aStoredNotification({ status: 'cancelled' });
    const missing = aNotification();

    // Act
    const claims = await Promise.all([held, sent, cancelled, missing].map((n) => store.claim('acme', n.id, now, 60)));

    // Assess
    expect(claims).toEqual([undefined, undefined, undefined, undefined]);
    expect(await itemOf(held)).toMatchObject({ attempts: 1, claimToken: 'live-worker' });
    expect(await itemOf(sent)).toMatchObject({ status: 'sent', attempts: 0 });
    expect(await itemOf(missing)).toBeUndefined();
  });

  it('passes on any other failure to claim', async () => {
    // Prepare: a table that is not there
    const lost = new DynamoNotificationStore(wire.documentClient, 'no-such-table');

    // Act
    const result = lost.claim('acme', aNotification().id, now, 60);

    // Assess
    await expect(result).rejects.toBeInstanceOf(ResourceNotFoundException);
  });

  it('marks sent under the claim, leaving the due index and setting the TTL', async () => {
    // Prepare: a claim of a notification whose last attempt left an error
    const claim = await aClaimed();
    await setStored(claim.notification, { lastError: 'email: throttled' });
    const expiresAt = new Date('2030-04-01T12:00:00.900Z');

    // Act
    await store.markSent(claim, now, expiresAt);

    // Assess
    const item = await itemOf(claim.notification);
    expect(item).toMatchObject({ status: 'sent', sentAt: now.toISOString(), expiresAt: Math.floor(expiresAt.getTime() / 1000) });
    for (const gone of ['leaseUntil', 'claimToken', 'dueShard', 'dueAt', 'lastError']) expect(item).not.toHaveProperty(gone);
    expect(await inDueIndex(claim.notification)).toBe(false);
  });

  it('marks failed under the claim, leaving the due index and keeping the error', async () => {
    // Prepare
    const claim = await aClaimed();

    // Act
    await store.markFailed(claim, 'Every channel failed', now, new Date('2030-04-01T12:00:00Z'));

    // Assess
    const item = await itemOf(claim.notification);
    expect(item).toMatchObject({ status: 'failed', failedAt: now.toISOString(), lastError: 'Every channel failed', expiresAt: Date.parse('2030-04-01T12:00:00Z') / 1000 });
    for (const gone of ['leaseUntil', 'claimToken', 'dueShard', 'dueAt']) expect(item).not.toHaveProperty(gone);
    expect(await inDueIndex(claim.notification)).toBe(false);
  });

  it('releases under the claim to pending, keeping the error and the due index', async () => {
    // Prepare
    const claim = await aClaimed();

    // Act
    await store.release(claim, 'email: throttled');

    // Assess
    const item = await itemOf(claim.notification);
    expect(item).toMatchObject({ status: 'pending', lastError: 'email: throttled', dueShard: dueShard(claim.notification.id), dueAt: claim.notification.scheduledAt });
    for (const gone of ['leaseUntil', 'claimToken', 'expiresAt']) expect(item).not.toHaveProperty(gone);
    expect(await inDueIndex(claim.notification)).toBe(true);
  });

  it('records one channel under the claim', async () => {
    // Prepare: the inbox already recorded
    const claim = await aClaimed();
    const inbox = { status: 'sent' as const, at: '2030-01-01T11:59:59.000Z' };
    await setStored(claim.notification, { deliveries: { inbox } });
    const delivery = { status: 'sent' as const, at: now.toISOString() };

    // Act
    await store.recordDelivery(claim, 'email', delivery);

    // Assess
    expect(await itemOf(claim.notification)).toMatchObject({ status: 'sending', claimToken: claim.token, deliveries: { inbox, email: delivery } });
  });

  it.each([
    ['recording a channel', (claim: Claim) => store.recordDelivery(claim, 'inbox', { status: 'sent', at: now.toISOString() })],
    ['marking sent', (claim: Claim) => store.markSent(claim, now, now)],
    ['marking failed', (claim: Claim) => store.markFailed(claim, 'x', now, now)],
    ['releasing', (claim: Claim) => store.release(claim, 'x')],
  ])('throws ClaimLostError when %s under a claim that was lost', async (_, write) => {
    // Prepare: the lease ran out and another worker took the notification over
    const claim = await aClaimed();
    await setStored(claim.notification, { claimToken: 'next-worker', attempts: 2 });
    const before = await itemOf(claim.notification);

    // Act
    const result = write(claim);

    // Assess
    await expect(result).rejects.toBeInstanceOf(ClaimLostError);
    expect(await itemOf(claim.notification)).toEqual(before);
  });

  it('cancels only a pending notification, moving it from the due index to the cancelled one', async () => {
    // Prepare
    const n = await aStoredNotification();

    // Act
    const cancelled = await store.cancel('acme', n.id, now);

    // Assess
    expect(cancelled).toEqual({ cancelled: { ...n, status: 'cancelled', cancelledAt: now.toISOString() } });
    const item = await itemOf(n);
    expect(item).toMatchObject({ status: 'cancelled', cancelledAt: now.toISOString(), cancelledShard: cancelledShard(n.id) });
    expect(item).not.toHaveProperty('dueShard');
    expect(await inDueIndex(n)).toBe(false);
    const cancelledIndex = await dynamo.documentClient.send(
      new QueryCommand({ TableName: tableName, IndexName: 'cancelled', KeyConditionExpression: 'cancelledShard = :shard', ExpressionAttributeValues: { ':shard': cancelledShard(n.id) } }),
    );
    expect((cancelledIndex.Items ?? []).map((entry) => entry.id)).toContain(n.id);
  });

  it('cancels nothing when there is no such notification, and says so', async () => {
    // Prepare: a refused write that returns no item (none exists)
    const missing = aNotification();

    // Act
    const cancelled = await store.cancel('acme', missing.id, now);

    // Assess
    expect(cancelled).toEqual({});
    expect(await itemOf(missing)).toBeUndefined();
  });

  it('cancels nothing when the notification is not pending, and learns its status from the refused write', async () => {
    // Prepare
    const n = await aStoredNotification({ status: 'sending', attempts: 1 });
    const before = await itemOf(n);

    // Act
    const cancelled = await store.cancel('acme', n.id, now);

    // Assess: one UpdateItem asking for the item as it is, and no read
    expect(cancelled).toEqual({ status: 'sending' });
    expect(await itemOf(n)).toEqual(before);
    expect(operations()).toEqual(['UpdateItem']);
    expect(wire.calls()[0]?.input).toMatchObject({ ReturnValuesOnConditionCheckFailure: 'ALL_OLD' });
  });

  it('reads a notification consistently, without the table bookkeeping', async () => {
    // Prepare
    const n = await aStoredNotification();
    await setStored(n, { claimToken: 'secret', expiresAt: 1 });

    // Act
    const read = await store.get('acme', n.id);

    // Assess
    expect(read).toEqual(n);
    expect(wire.calls()).toEqual([{ operation: 'GetItem', path: '/', input: expect.objectContaining({ TableName: tableName, Key: { pk: { S: `acme#${n.id}` } }, ConsistentRead: true }) }]);
  });

  it('writes new notifications with their keys and due-index attributes, 25 per batch', async () => {
    // Prepare
    const list = Array.from({ length: 30 }, () => aNotification());

    // Act
    await store.createMany(list);

    // Assess
    const writes = wire.calls('BatchWriteItem').map((call) => (call.input.RequestItems as Record<string, unknown[]>)[tableName]?.length);
    expect(writes).toEqual([25, 5]);
    const first = list[0];
    if (!first) throw new Error('thirty notifications');
    expect(await itemOf(first)).toEqual({
      ...first,
      pk: `acme#${first.id}`,
      recipientKey: 'acme#bob',
      tenantKey: expect.stringMatching(/^acme#\d+$/),
      creatorKey: expect.stringMatching(/^acme#sam-sender#\d+$/),
      dueShard: dueShard(first.id),
      dueAt: first.scheduledAt,
    });
    for (const n of list) expect(await store.get('acme', n.id)).toEqual(n);
    expect(await inDueIndex(first)).toBe(true);
  });

  it('writes again what DynamoDB left unprocessed', async () => {
    // Prepare: the first BatchWriteItem is throttled part-way; DynamoDB writes a and hands b back
    const [a, b] = [aNotification(), aNotification()];
    wire.intercept('BatchWriteItem', async (call, serve) => {
      const [written, ...left] = (call.input.RequestItems as Record<string, WireObject[]>)[tableName] ?? [];
      await serve({ RequestItems: { [tableName]: [written] } });
      return jsonAnswer('dynamodb', { UnprocessedItems: { [tableName]: left } });
    });

    // Act
    await store.createMany([a, b]);

    // Assess: the second call asks for b alone, and both are there
    const writes = wire.calls('BatchWriteItem');
    expect(writes).toHaveLength(2);
    const [, second] = writes;
    expect((second?.input.RequestItems as Record<string, { PutRequest: { Item: WireObject } }[]>)[tableName]?.map((r) => r.PutRequest.Item.pk)).toEqual([{ S: `acme#${b.id}` }]);
    expect(await store.get('acme', a.id)).toEqual(a);
    expect(await store.get('acme', b.id)).toEqual(b);
  });

  it('deletes notifications by key', async () => {
    // Prepare: two of three to go
    const [a, b, kept] = [await aStoredNotification(), await aStoredNotification(), await aStoredNotification()];

    // Act
    await store.deleteMany('acme', [a.id, b.id]);

    // Assess: in one BatchWriteItem
    expect(wire.calls()).toEqual([{ operation: 'BatchWriteItem', path: '/', input: { RequestItems: { [tableName]: [a, b].map((n) => ({ DeleteRequest: { Key: { pk: { S: `acme#${n.id}` } } } })) } } }]);
    expect([await itemOf(a), await itemOf(b)]).toEqual([undefined, undefined]);
    expect(await store.get('acme', kept.id)).toEqual(kept);
  });

  it('spreads ids over the due-index shards', () => {
    // Prepare
    const ids = Array.from({ length: 200 }, () => aNotification().id);

    // Act
    const shards = new Set(ids.map(dueShard));

    // Assess
    expect(shards.size).toBe(DUE_INDEX_SHARDS);
    for (const shard of shards) expect(shard).toMatch(/^due#\d+$/);
    expect(dueShard(ids[0] ?? '')).toBe(dueShard(ids[0] ?? ''));
  });
});
