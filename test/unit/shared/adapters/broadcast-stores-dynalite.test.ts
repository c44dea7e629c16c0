/**
 * The broadcast stores against the real DynamoDB protocol (the local endpoint: dynalite with the
 * transactions the cancel needs): conditional transitions,
 * counters, listing, the fan-out lease, and the recipient rows with their shards and status index.
 */
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoBroadcastRecipientStore } from '../../../../shared/adapters/dynamo-broadcast-recipient-store.ts';
import { DynamoBroadcastStore } from '../../../../shared/adapters/dynamo-broadcast-store.ts';
import { recipientShard, zeroCounts } from '../../../../shared/domain/broadcast.ts';
import type { Broadcast, BroadcastRecipient, RecipientClaim } from '../../../../shared/domain/broadcast.ts';
import { newBroadcastId } from '../../../../shared/domain/ids.ts';
import type { Caller } from '../../../../shared/domain/caller.ts';
import { listBroadcastRecipients } from '../../../../shared/use-cases/broadcasts.ts';
import { failingClient, racingClient, startLocalDynamo } from '../../support/local-dynamo.ts';
import type { LocalDynamo } from '../../support/local-dynamo.ts';

let dynamo: LocalDynamo;
let store: DynamoBroadcastStore;
let rows: DynamoBroadcastRecipientStore;

const noon = new Date('2030-01-01T12:00:00.000Z');
const at = (seconds: number): Date => new Date(noon.getTime() + seconds * 1000);
const tenantId = 'acme';

beforeAll(async () => {
  dynamo = await startLocalDynamo({ withTables: true });
  store = new DynamoBroadcastStore(dynamo.documentClient, 'broadcasts');
  rows = new DynamoBroadcastRecipientStore(dynamo.documentClient, 'broadcast-recipients', { retentionDays: 90, shardCount: 4 });
});

afterAll(async () => {
  await dynamo?.stop();
});

function aBroadcast(overrides: Partial<Broadcast> = {}): Broadcast {
  return {
    tenantId,
    id: newBroadcastId(noon),
    createdBy: 'sam',
    title: 'Maintenance',
    type: 'system',
    priority: 'normal',
    channels: ['inbox'],
    audience: { kind: 'groups', groups: ['staff'] },
    status: 'scheduled',
    scheduledAt: noon.toISOString(),
    createdAt: noon.toISOString(),
    counts: zeroCounts,
    run: 0,
    ...overrides,
  };
}

async function aStarted(overrides: Partial<Broadcast> = {}): Promise<Broadcast> {
  const b = aBroadcast(overrides);
  await store.create(b, { message: 'Tonight' });
  const started = await store.start(tenantId, b.id, noon);
  if (!started) throw new Error('not started');
  return started;
}

describe('DynamoBroadcastStore', () => {
  it('keeps the content and an explicit audience apart from the broadcast item', async () => {
    // Prepare
    const ids = Array.from({ length: 2_100 }, (_, i) => `u${i}`);
    const b = aBroadcast({ audience: { kind: 'recipients', count: ids.length } });

    // Act
    await store.create(b, { message: 'Tonight', data: { ticket: 7 } }, ids);

    // Assess
    expect(await store.get(tenantId, b.id)).toEqual(b);
    expect(await store.getContent(tenantId, b.id)).toEqual({ message: 'Tonight', data: { ticket: 7 } });
    expect(await store.audienceSlice(tenantId, b.id, 2)).toEqual(ids.slice(2_000));
    expect(await store.audienceSlice(tenantId, b.id, 3)).toEqual([]);
  });

  it.each([
    ['before it reached DynamoDB: its parts are taken back', 'before', undefined],
    ['after it was written (an error answer to a call that got through): the broadcast is whole', 'after', 'Tonight'],
  ] as const)('answers the error of a broadcast item put that failed %s', async (_case, when, content) => {
    // Prepare: a store whose PutCommand fails once, before or after it is sent
    const ids = Array.from({ length: 2_100 }, (_, i) => `u${i}`);
    const b = aBroadcast({ audience: { kind: 'recipients', count: ids.length } });
    const failing = new DynamoBroadcastStore(failingClient(dynamo, 'PutItemCommand', { sent: when === 'after' }).client, 'broadcasts');

    // Act
    const creating = failing.create(b, { message: 'Tonight' }, ids);

    // Assess
    await expect(creating).rejects.toMatchObject({ name: 'ProvisionedThroughputExceededException' });
    expect((await store.getContent(tenantId, b.id))?.message).toBe(content);
    // Every slice (of 1,000 ids, as a broadcast stored before slices of 250 were recorded)
    const slices = await Promise.all([0, 1, 2].map((slice) => store.audienceSlice(tenantId, b.id, slice)));
    expect(slices.map((slice) => slice.length)).toEqual(content ? [1_000, 1_000, 100] : [0, 0, 0]);
    expect(await store.get(tenantId, b.id)).toEqual(content ? b : undefined);
  });

  it('removes every part of a broadcast that never went out', async () => {
    // Prepare
    const b = aBroadcast({ audience: { kind: 'recipients', count: 1 } });
    await store.create(b, { message: 'x' }, ['bob']);

    // Act
    const removed = await store.remove(b);

    // Assess
    expect(removed).toBe(true);
    expect(await store.get(tenantId, b.id)).toBeUndefined();
    expect(await store.getContent(tenantId, b.id)).toBeUndefined();
    expect(await store.audienceSlice(tenantId, b.id, 0)).toEqual([]);
  });

  it('answers removed for a broadcast not there, and writes nothing in its place', async () => {
    // Prepare: removed already by a rollback that died before its record was removed
    const gone = aBroadcast();

    // Act
    const removed = await store.remove(gone);

    // Assess
    expect(removed).toBe(true);
    expect(await store.get(tenantId, gone.id)).toBeUndefined();
  });

  it('removes nothing of a broadcast whose fan-out started: a rollback cannot take it back', async () => {
    // Prepare: started between the rollback's read and its remove
    const seen = aBroadcast({ audience: { kind: 'recipients', count: 1 } });
    await store.create(seen, { message: 'x' }, ['bob']);
    await store.start(tenantId, seen.id, noon);

    // Act
    const removed = await store.remove(seen);

    // Assess
    expect(removed).toBe(false);
    expect((await store.get(tenantId, seen.id))?.status).toBe('sending');
    expect(await store.getContent(tenantId, seen.id)).toEqual({ message: 'x' });
    expect(await store.audienceSlice(tenantId, seen.id, 0)).toEqual(['bob']);
  });

  it('moves draft → scheduled → sending, each once, and refuses the rest', async () => {
    // Prepare
    const b = aBroadcast({ status: 'draft' });
    await store.create(b, { message: 'x' });

    // Act
    const scheduled = await store.schedule(tenantId, b.id, at(60), false);
    const again = await store.schedule(tenantId, b.id, at(60), false);
    const started = await store.start(tenantId, b.id, at(60));
    const startedAgain = await store.start(tenantId, b.id, at(61));

    // Assess
    expect(scheduled).toMatchObject({ status: 'scheduled', scheduledAt: at(60).toISOString() });
    expect(again).toBeUndefined();
    expect(started).toMatchObject({ status: 'sending', startedAt: at(60).toISOString(), fanout: { phase: 'resolving', page: 0 } });
    expect(startedAgain).toBeUndefined();
  });

  it('keeps a draft\'s plan in each recipient\'s zone when scheduled as planned, and drops it for a new instant', async () => {
    // Prepare: two drafts planned at 09:00 in each recipient's zone
    const planned = { timezone: 'recipient', localTime: '2030-01-05T09:00', scheduledAt: at(3_600).toISOString() };
    const asPlanned = aBroadcast({ status: 'draft', ...planned });
    const moved = aBroadcast({ status: 'draft', ...planned });
    await store.create(asPlanned, { message: 'x' });
    await store.create(moved, { message: 'x' });

    // Act
    await store.schedule(tenantId, asPlanned.id, at(3_600), false);
    await store.schedule(tenantId, moved.id, at(10), true);

    // Assess
    expect(await store.get(tenantId, asPlanned.id)).toMatchObject({ status: 'scheduled', ...planned });
    const stored = await store.get(tenantId, moved.id);
    expect(stored).toMatchObject({ status: 'scheduled', scheduledAt: at(10).toISOString() });
    expect(stored).not.toHaveProperty('timezone');
    expect(stored).not.toHaveProperty('localTime');
  });

  it('reverts a scheduled broadcast to a draft, and does nothing to one in another state', async () => {
    // Prepare
    const scheduled = aBroadcast();
    await store.create(scheduled, { message: 'x' });
    const sending = await aStarted();

    // Act
    await store.revertToDraft(tenantId, scheduled.id);
    await store.revertToDraft(tenantId, sending.id);

    // Assess
    expect((await store.get(tenantId, scheduled.id))?.status).toBe('draft');
    expect((await store.get(tenantId, sending.id))?.status).toBe('sending');
  });

  it('holds a fan-out page for one invocation, moves past it once, then counts', async () => {
    // Prepare
    const b = await aStarted();

    // Act
    const claim = await store.claimPage(tenantId, b.id, 0, noon, at(65));
    const rival = await store.claimPage(tenantId, b.id, 0, at(10), at(75));
    const committed = claim ? await store.commitPage(claim, 'cursor-1') : false;
    const committedAgain = claim ? await store.commitPage(claim, 'cursor-1') : true;
    const next = await store.claimPage(tenantId, b.id, 1, at(11), at(76));
    const last = next ? await store.commitPage(next, undefined) : false;

    // Assess
    expect(claim?.cursor).toBeUndefined();
    expect(rival).toBeUndefined();
    expect([committed, committedAgain]).toEqual([true, false]);
    expect(next?.cursor).toBe('cursor-1');
    expect(last).toBe(true);
    expect((await store.get(tenantId, b.id))?.fanout).toEqual({ phase: 'counting', page: 1 });
  });

  it('lets a page be taken over once its lease ran out, or at once when released', async () => {
    // Prepare
    const b = await aStarted();
    const first = await store.claimPage(tenantId, b.id, 0, noon, at(65));

    // Act
    const afterLease = await store.claimPage(tenantId, b.id, 0, at(66), at(130));
    if (afterLease) await store.releasePage(afterLease);
    const afterRelease = await store.claimPage(tenantId, b.id, 0, at(67), at(131));
    const stale = first ? await store.commitPage(first, undefined) : true;

    // Assess
    expect(afterLease).toBeDefined();
    expect(afterRelease).toBeDefined();
    expect(stale).toBe(false);
  });

  it('sets the total once, adds counters per batch and finishes exactly once', async () => {
    // Prepare
    const b = await aStarted();
    const page = await store.claimPage(tenantId, b.id, 0, noon, at(65));
    if (page) await store.commitPage(page, undefined);

    // Act
    const counted = await store.setTotal(tenantId, b.id, 3);
    const recounted = await store.setTotal(tenantId, b.id, 4);
    await store.addCounts(tenantId, b.id, { sent: 2 });
    const latest = await store.addCounts(tenantId, b.id, { failed: 1 }, 'bob: SES down');
    const finished = latest ? await store.finish(latest, at(90)) : undefined;
    const twice = latest ? await store.finish(latest, at(91)) : undefined;

    // Assess
    expect(counted?.counts.total).toBe(3);
    expect(recounted).toBeUndefined();
    expect(latest).toMatchObject({ counts: { total: 3, sent: 2, failed: 1, cancelled: 0 }, lastError: 'bob: SES down' });
    expect(finished).toMatchObject({ status: 'completed', completedAt: at(90).toISOString(), lastError: 'bob: SES down' });
    expect(twice).toBeUndefined();
  });

  it('forgets an error met on the way when it finishes with nobody failed, and keeps one that a failed recipient left', async () => {
    // Prepare: a fan-out page that failed once and was tried again, then everyone sent
    const b = await aStarted();
    const page = await store.claimPage(tenantId, b.id, 0, noon, at(65));
    if (page) await store.commitPage(page, undefined);
    await store.recordError(tenantId, b.id, 'fan-out page 0: InternalServerError');
    await store.setTotal(tenantId, b.id, 2);
    const latest = await store.addCounts(tenantId, b.id, { sent: 2 });

    // Act
    const finished = latest ? await store.finish(latest, at(90)) : undefined;

    // Assess
    expect(finished).toMatchObject({ status: 'completed', counts: { sent: 2, failed: 0 } });
    expect(finished).not.toHaveProperty('lastError');
  });

  it('does not finish on a stale view of the counters', async () => {
    // Prepare
    const b = await aStarted();
    const page = await store.claimPage(tenantId, b.id, 0, noon, at(65));
    if (page) await store.commitPage(page, undefined);
    const counted = await store.setTotal(tenantId, b.id, 1);
    await store.addCounts(tenantId, b.id, { sent: 1 });

    // Act
    const stale = counted ? await store.finish(counted, at(5)) : undefined;
    const corrected = counted ? await store.correctCounts(counted, { sent: 9, failed: 0, cancelled: 0 }) : undefined;

    // Assess
    expect(stale).toBeUndefined();
    expect(corrected).toBeUndefined();
  });

  it('reopens a finished broadcast with failed recipients for one more run, and no other', async () => {
    // Prepare
    const b = await aStarted();
    const page = await store.claimPage(tenantId, b.id, 0, noon, at(65));
    if (page) await store.commitPage(page, undefined);
    await store.setTotal(tenantId, b.id, 1);
    const latest = await store.addCounts(tenantId, b.id, { failed: 1 }, 'bob: Gave up after 3 attempts');
    if (latest) await store.finish(latest, at(5));

    // Act
    const reopened = await store.reopen(tenantId, b.id, at(10));
    const twice = await store.reopen(tenantId, b.id, at(11));

    // Assess
    expect(reopened).toMatchObject({ status: 'sending', run: 1 });
    expect(reopened?.completedAt).toBeUndefined();
    expect(reopened).not.toHaveProperty('lastError');
    expect(twice).toBeUndefined();
  });

  it('cancels a draft, a scheduled or a sending broadcast, never a cancelled one', async () => {
    // Prepare
    const draft = aBroadcast({ status: 'draft' });
    await store.create(draft, { message: 'x' });
    const sending = await aStarted();

    // Act / Assess
    expect(await store.cancel(tenantId, draft.id, at(1))).toMatchObject({ status: 'cancelled', cancelledAt: at(1).toISOString() });
    expect(await store.cancel(tenantId, sending.id, at(1))).toMatchObject({ status: 'cancelled' });
    expect(await store.cancel(tenantId, sending.id, at(2))).toBeUndefined();
  });

  it('never brings a removed broadcast back through a counter', async () => {
    // Act / Assess
    expect(await store.addCounts(tenantId, newBroadcastId(noon), { sent: 1 })).toBeUndefined();
  });

  it('lists a tenant newest first, by creator, status and creation time, page by page', async () => {
    // Prepare
    const other = 'globex';
    const made: Broadcast[] = [];
    for (let i = 0; i < 5; i++) {
      const b = aBroadcast({ tenantId: other, id: newBroadcastId(at(i * 60)), createdAt: at(i * 60).toISOString(), createdBy: i % 2 ? 'ann' : 'sam', status: i === 4 ? 'draft' : 'scheduled' });
      await store.create(b, { message: 'x' });
      made.push(b);
    }

    // Act
    const page1 = await store.list({ tenantId: other, limit: 2 });
    const page2 = await store.list({ tenantId: other, limit: 2, ...(page1.olderThan ? { olderThan: page1.olderThan } : {}) });
    const anns = await store.list({ tenantId: other, limit: 10, createdBy: 'ann' });
    const drafts = await store.list({ tenantId: other, limit: 10, status: 'draft' });
    const window = await store.list({ tenantId: other, limit: 10, createdFrom: at(60), createdTo: at(180) });

    // Assess
    const idsOf = (list: { items: readonly Broadcast[] }): string[] => list.items.map((b) => b.id);
    expect(idsOf(page1)).toEqual([made[4]?.id, made[3]?.id]);
    expect(idsOf(page2)).toEqual([made[2]?.id, made[1]?.id]);
    expect(idsOf(anns)).toEqual([made[3]?.id, made[1]?.id]);
    expect(idsOf(drafts)).toEqual([made[4]?.id]);
    expect(idsOf(window)).toEqual([made[3]?.id, made[2]?.id, made[1]?.id]);
  });
});

describe('DynamoBroadcastRecipientStore', () => {
  const broadcastId = newBroadcastId(noon);
  const ids = Array.from({ length: 60 }, (_, i) => `user-${String(i).padStart(2, '0')}`);

  beforeAll(async () => {
    await rows.putPending(tenantId, broadcastId, ids, noon);
    // Written again (a redelivered page): nothing changes.
    await rows.putPending(tenantId, broadcastId, ids.slice(0, 10), noon);
  });

  it('spreads the rows over the shards and counts every one once', async () => {
    // Act
    const counts = await Promise.all([0, 1, 2, 3].map((s) => rows.countShard(tenantId, broadcastId, s)));

    // Assess
    expect(counts.reduce((a, b) => a + b, 0)).toBe(60);
    expect(counts.every((n) => n > 0)).toBe(true);
  });

  it('counts the rows of a shard after a given one', async () => {
    // Act
    const [first] = (await rows.pageShard(tenantId, broadcastId, 1, 4)).rows.slice(-1);
    const all = await rows.countShard(tenantId, broadcastId, 1);
    const past = await rows.countShard(tenantId, broadcastId, 1, first?.recipientId);

    // Assess
    expect(past).toBe(all - 4);
  });

  it('pages a shard in recipient id order, consistently', async () => {
    // Act
    const first = await rows.pageShard(tenantId, broadcastId, 0, 3);
    const second = await rows.pageShard(tenantId, broadcastId, 0, 100, first.after);

    // Assess
    const all = [...first.rows, ...second.rows].map((r) => r.recipientId);
    expect(all).toEqual([...all].sort());
    expect(all.length).toBe(await rows.countShard(tenantId, broadcastId, 0));
    expect(first.rows[0]).toMatchObject({ status: 'pending', attempts: 0, deliveries: {}, run: 0 });
  });

  it('claims a pending row once, keeps showing it pending, and lets a takeover in after its lease', async () => {
    // Act
    const claim = await rows.claim(tenantId, broadcastId, 'user-00', noon, at(65));
    const rival = await rows.claim(tenantId, broadcastId, 'user-00', at(1), at(66));
    const takeover = await rows.claim(tenantId, broadcastId, 'user-00', at(70), at(135));

    // Assess
    expect(claim).toMatchObject({ takeover: false, row: { status: 'sending', attempts: 1 } });
    expect(rival).toBeUndefined();
    expect(takeover).toMatchObject({ takeover: true, row: { attempts: 2 } });
    const shard = (await Promise.all([0, 1, 2, 3].map((s) => rows.pageByStatus(tenantId, broadcastId, 'pending', s, 100)))).flatMap((p) => p.rows);
    expect(shard.find((r) => r.recipientId === 'user-00')?.status).toBe('sending');
  });

  it('writes outcomes in batches and moves them in the status index', async () => {
    // Prepare
    const claim = await rows.claim(tenantId, broadcastId, 'user-01', noon, at(65));
    if (!claim) throw new Error('not claimed');

    // Act
    await rows.finish([{ ...claim.row, status: 'failed', lastError: 'SES down', deliveries: { email: { status: 'failed', at: 'x', error: 'SES down' } } }], at(2));

    // Assess
    const failed = (await Promise.all([0, 1, 2, 3].map((s) => rows.pageByStatus(tenantId, broadcastId, 'failed', s, 100)))).flatMap((p) => p.rows);
    expect(failed.map((r) => [r.recipientId, r.lastError])).toEqual([['user-01', 'SES down']]);
    expect(failed[0]?.leaseUntil).toBeUndefined();
  });

  it('does not claim a row waiting out a retry backoff before it is due', async () => {
    // Prepare
    const claim = await rows.claim(tenantId, broadcastId, 'user-02', noon, at(65));
    if (!claim) throw new Error('not claimed');
    await rows.finish([{ ...claim.row, status: 'pending', nextAttemptAt: at(300).toISOString() }], noon);

    // Act / Assess
    expect(await rows.claim(tenantId, broadcastId, 'user-02', at(299), at(360))).toBeUndefined();
    expect(await rows.claim(tenantId, broadcastId, 'user-02', at(300), at(360))).toBeDefined();
  });

  it('writes nothing to the status index when it claims a row, which has no status key while pending', async () => {
    // Prepare
    const before = dynamo.writes();

    // Act
    const claim = await rows.claim(tenantId, broadcastId, 'user-05', noon, at(65));

    // Assess: the row is written, its `byStatus` entry (keys only) is not
    const after = dynamo.writes();
    expect(claim).toBeDefined();
    expect({ tableItems: after.tableItems - before.tableItems, indexEntries: after.indexEntries - before.indexEntries }).toEqual({ tableItems: 1, indexEntries: 0 });
  });

  it('pages a status from the rows as they are, leaving out one that left the status after the index listed it', async () => {
    // Prepare: a broadcast of its own whose rows all failed, and a client that puts one of them
    // back to pending (a retry) right after the index answered
    const raceId = newBroadcastId(at(1));
    await rows.putPending(tenantId, raceId, ids.slice(0, 12), noon);
    const victim = 'user-07';
    const shard = recipientShard(victim, 4);
    const claims = await Promise.all(ids.slice(0, 12).map((id) => rows.claim(tenantId, raceId, id, noon, at(65))));
    await rows.finish(
      claims.map((claim) => ({ ...(claim as RecipientClaim).row, status: 'failed' as const, lastError: 'SES down' })),
      noon,
    );
    const [failedVictim] = await rows.getMany(tenantId, raceId, [victim]);
    const racing = racingClient(dynamo, 'QueryCommand', async () => {
      await rows.requeue(failedVictim as BroadcastRecipient, 1, at(2));
    });
    const racingRows = new DynamoBroadcastRecipientStore(racing.client, 'broadcast-recipients', { retentionDays: 90, shardCount: 4 });
    const before = await rows.pageByStatus(tenantId, raceId, 'failed', shard, 100);

    // Act
    const page = await racingRows.pageByStatus(tenantId, raceId, 'failed', shard, 100);

    // Assess: the index listed it, the table no longer holds it as pending
    expect(racing.raced()).toBe(true);
    expect(before.rows.map((r) => r.recipientId)).toContain(victim);
    expect(page.rows.map((r) => r.recipientId)).toEqual(before.rows.map((r) => r.recipientId).filter((id) => id !== victim));
  });

  it('keeps pending rows out of the status index, finds them by reading their shard, and indexes a row once it is final', async () => {
    // Prepare: a broadcast of its own, over one shard, and a client that writes through the counted endpoint
    const sparseId = newBroadcastId(at(3));
    const oneShard = new DynamoBroadcastRecipientStore(dynamo.documentClient, 'broadcast-recipients', { retentionDays: 90, shardCount: 1 });
    const writes = async (write: () => Promise<unknown>): Promise<{ tableItems: number; indexEntries: number }> => {
      const before = dynamo.writes();
      await write();
      const after = dynamo.writes();
      return { tableItems: after.tableItems - before.tableItems, indexEntries: after.indexEntries - before.indexEntries };
    };
    const indexed = async (status: 'pending' | 'sent' | 'failed' | 'cancelled'): Promise<string[]> => {
      const { Items = [] } = await dynamo.documentClient.send(
        new QueryCommand({ TableName: 'broadcast-recipients', IndexName: 'byStatus', KeyConditionExpression: 'statusKey = :k', ExpressionAttributeValues: { ':k': `${tenantId}#${sparseId}#${status}#0` } }),
      );
      return Items.map((item) => item.recipientId as string);
    };

    // Act
    const put = await writes(() => oneShard.putPending(tenantId, sparseId, ['a', 'b', 'c', 'd'], noon));
    const claim = await oneShard.claim(tenantId, sparseId, 'a', noon, at(65));
    const cancelled = await writes(() => oneShard.cancel(tenantId, sparseId, 'b', noon));
    const pending = await oneShard.pageByStatus(tenantId, sparseId, 'pending', 0, 100);
    const pendingCount = await oneShard.countByStatus(tenantId, sparseId, 'pending', 0);

    // Assess: four rows and no index entry; the cancel adds one and deletes none
    expect(put).toEqual({ tableItems: 4, indexEntries: 0 });
    expect(cancelled).toEqual({ tableItems: 1, indexEntries: 1 });
    expect(await indexed('pending')).toEqual([]);
    expect(await indexed('cancelled')).toEqual(['b']);
    // The one a worker holds (`sending`) shows pending, as it did in the index
    expect(claim?.row.status).toBe('sending');
    expect(pending.rows.map((r) => r.recipientId)).toEqual(['a', 'c', 'd']);
    expect(pending.after).toBeUndefined();
    expect(pendingCount).toBe(3);
  });

  it('pages pending rows by reading the shard, at most a limit of them, and goes on after the last one it answered', async () => {
    // Prepare: 30 rows over one shard, 10 of them cancelled
    const pagedId = newBroadcastId(at(4));
    const oneShard = new DynamoBroadcastRecipientStore(dynamo.documentClient, 'broadcast-recipients', { retentionDays: 90, shardCount: 1 });
    const all = Array.from({ length: 30 }, (_, i) => `r-${String(i).padStart(2, '0')}`);
    await oneShard.putPending(tenantId, pagedId, all, noon);
    for (const id of all.filter((_, i) => i % 3 === 0)) await oneShard.cancel(tenantId, pagedId, id, noon);

    // Act
    const found: string[] = [];
    let after: string | undefined;
    let pages = 0;
    do {
      const page = await oneShard.pageByStatus(tenantId, pagedId, 'pending', 0, 7, after);
      expect(page.rows.length).toBeLessThanOrEqual(7);
      found.push(...page.rows.map((r) => r.recipientId));
      after = page.after;
      pages++;
    } while (after !== undefined);

    // Assess
    expect(found).toEqual(all.filter((_, i) => i % 3 !== 0));
    expect(pages).toBe(3);
  });

  it('answers a page of pending recipients after 32 reads with what it found, and a cursor that finds the rest', async () => {
    // Prepare: 40 rows over one shard, all cancelled but the last, and a store that reads no more
    // rows per Query than the page asks for
    const b = aBroadcast();
    await store.create(b, { message: 'x' }, []);
    const oneRowAtATime = new DynamoBroadcastRecipientStore(dynamo.documentClient, 'broadcast-recipients', { retentionDays: 90, shardCount: 1, pendingPageReads: 1 });
    const all = Array.from({ length: 40 }, (_, i) => `r-${String(i).padStart(2, '0')}`);
    await oneRowAtATime.putPending(tenantId, b.id, all, noon);
    for (const id of all.slice(0, 39)) await oneRowAtATime.cancel(tenantId, b.id, id, noon);
    const caller: Caller = { sub: 'ops', tenantId, roles: ['admin'] };
    const deps = { broadcasts: store, rows: oneRowAtATime };

    // Act: pages of one recipient, so that each Query reads one row
    const first = await listBroadcastRecipients(deps, caller, b.id, { limit: 1, status: 'pending' });
    const second = await listBroadcastRecipients(deps, caller, b.id, { limit: 1, status: 'pending', cursor: first.nextCursor ?? '' });

    // Assess: 32 rows read, none pending, and a cursor; the next page reads on to the pending one
    expect(first.items).toEqual([]);
    expect(first.nextCursor).not.toBeNull();
    expect(second.items.map((r) => r.recipientId)).toEqual(['r-39']);
  });

  it('cancels only pending rows', async () => {
    // Act / Assess
    expect(await rows.cancel(tenantId, broadcastId, 'user-03', noon)).toBe(true);
    expect(await rows.cancel(tenantId, broadcastId, 'user-03', noon)).toBe(false);
    expect(await rows.countByStatus(tenantId, broadcastId, 'cancelled', 0) + (await rows.countByStatus(tenantId, broadcastId, 'cancelled', 1)) + (await rows.countByStatus(tenantId, broadcastId, 'cancelled', 2)) + (await rows.countByStatus(tenantId, broadcastId, 'cancelled', 3))).toBe(1);
  });

  it('requeues a failed row once, forgetting only its channels that reached nobody (failed, skipped)', async () => {
    // Prepare
    const claim = await rows.claim(tenantId, broadcastId, 'user-04', noon, at(65));
    if (!claim) throw new Error('not claimed');
    const deliveries = {
      inbox: { status: 'sent', at: 'a' },
      email: { status: 'failed', at: 'b', error: 'x' },
      websocket: { status: 'skipped', at: 'c', detail: 'not connected' },
      webhook: { status: 'unconfirmed', at: 'd', detail: 'no answer' },
    } as const;
    await rows.finish([{ ...claim.row, status: 'failed', lastError: 'x', deliveries }], noon);
    const [failedRow] = await rows.getMany(tenantId, broadcastId, ['user-04']);
    if (!failedRow) throw new Error('no row');

    // Act
    const requeued = await rows.requeue(failedRow, 1, at(5));
    const twice = await rows.requeue(failedRow, 1, at(6));

    // Assess
    expect([requeued, twice]).toEqual([true, false]);
    const [row] = await rows.getMany(tenantId, broadcastId, ['user-04']);
    expect(row).toMatchObject({ status: 'pending', run: 1, attempts: 0 });
    expect(row?.deliveries).toEqual({ inbox: deliveries.inbox, webhook: deliveries.webhook });
    expect(row?.lastError).toBeUndefined();
  });
});
