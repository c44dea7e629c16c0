import { beforeAll, describe, expect, it, vi } from 'vitest';
import type { Broadcast } from '../../../../shared/domain/broadcast.ts';
import type { CreateBroadcastBody, FanoutMessage } from '../../../../shared/domain/schemas.ts';
import { logger } from '../../../../shared/observability/logger.ts';
import { createBroadcast } from '../../../../shared/use-cases/broadcasts.ts';
import { runFanoutStep } from '../../../../shared/use-cases/fan-out-broadcast.ts';
import { aBroadcastWorld } from '../../fakes/broadcast-world.ts';
import type { BroadcastWorld } from '../../fakes/broadcast-world.ts';
import { aRecipient, admin, tenantId } from '../../fakes/fixtures.ts';

beforeAll(() => {
  logger.setLogLevel('SILENT');
});

const ids = (n: number, prefix = 'user'): string[] => Array.from({ length: n }, (_, i) => `${prefix}-${String(i).padStart(4, '0')}`);

async function register(world: BroadcastWorld, recipientIds: readonly string[], groups: string[] = ['staff']): Promise<void> {
  for (const id of recipientIds) {
    const existing = await world.recipients.get(tenantId, id);
    await world.recipients.put(aRecipient({ id, email: undefined, groups: [...new Set([...(existing?.groups ?? []), ...groups])] }));
  }
}

/** A broadcast created now; the recipients an explicit list names are registered first (in no group) when they are not yet. */
async function created(world: BroadcastWorld, audience: CreateBroadcastBody['audience'], overrides: Partial<CreateBroadcastBody> = {}): Promise<string> {
  for (const id of audience.recipientIds ?? []) {
    if (!(await world.recipients.get(tenantId, id))) await world.recipients.put(aRecipient({ id, email: undefined, groups: [] }));
  }
  const body: CreateBroadcastBody = { audience, title: 'Hello', message: 'World', type: 'system', priority: 'normal', draft: false, ...overrides };
  return (await createBroadcast(world.api, admin, body)).broadcastId;
}

async function broadcastOf(world: BroadcastWorld, id: string): Promise<Broadcast> {
  const b = await world.broadcasts.get(tenantId, id);
  if (!b) throw new Error('no broadcast');
  return b;
}

const ref = (broadcastId: string): { tenantId: string; broadcastId: string } => ({ tenantId, broadcastId });

/** The `dispatch` messages of the fan-out queue: those still waiting, or every one sent. */
function dispatchesOf(world: BroadcastWorld, which: 'waiting' | 'sent'): Extract<FanoutMessage, { kind: 'dispatch' }>[] {
  return world.fanoutQueue[which].map((entry) => entry.message).filter((message) => message.kind === 'dispatch');
}

/** Records what the fan-out logs through its per-broadcast child logger, until `stop()` (which answers the lines). */
function recordBroadcastLogs(): { stop(): { level: string; message: string }[] } {
  const lines: { level: string; message: string }[] = [];
  const recorded = (level: string) => (message: string): void => void lines.push({ level, message });
  const child = { debug: recorded('debug'), info: recorded('info'), warn: recorded('warn'), error: recorded('error') };
  const spy = vi.spyOn(logger, 'createChild').mockReturnValue(child as unknown as ReturnType<typeof logger.createChild>);
  return {
    stop() {
      spy.mockRestore();
      return lines;
    },
  };
}

describe('start', () => {
  it('holds a start that arrives before the broadcast is due', async () => {
    // Prepare
    const world = aBroadcastWorld();
    const id = await created(world, { all: true }, { scheduledAt: '2030-01-01T12:00:40Z' });

    // Act
    const outcome = await world.step({ kind: 'start', ...ref(id) });

    // Assess: back two seconds before its time; the last two it waits for in the worker.
    expect(outcome).toEqual({ kind: 'later', seconds: 38, reason: 'not yet due' });
    expect((await broadcastOf(world, id)).status).toBe('scheduled');
  });

  it('waits for its last moments in the worker, then starts exactly at its time', async () => {
    // Prepare
    const world = aBroadcastWorld();
    const id = await created(world, { all: true }, { scheduledAt: '2030-01-01T12:00:01.500Z' });
    const waits: number[] = [];
    const fanout = { ...world.fanout, sleep: async (ms: number): Promise<void> => { waits.push(ms); world.clock.advanceSeconds(ms / 1000); } };

    // Act
    const outcome = await runFanoutStep(fanout, { kind: 'start', ...ref(id) }, { deadline: new Date('2030-01-01T12:01:00Z') });

    // Assess
    expect(waits).toEqual([1_500]);
    expect(outcome).toEqual({ kind: 'done', note: 'started' });
    expect((await broadcastOf(world, id)).startedAt).toBe('2030-01-01T12:00:01.500Z');
  });

  it('sleeps again when its timer wakes a millisecond before the time, and starts no earlier', async () => {
    // Prepare: the first timer ends 1 ms short, as a Node timer can (shared/domain/sleep-until.ts)
    const world = aBroadcastWorld();
    const id = await created(world, { all: true }, { scheduledAt: '2030-01-01T12:00:01.500Z' });
    const waits: number[] = [];
    const sleep = async (ms: number): Promise<void> => {
      waits.push(ms);
      world.clock.advanceSeconds((waits.length === 1 ? ms - 1 : ms) / 1000);
    };

    // Act
    const outcome = await runFanoutStep({ ...world.fanout, sleep }, { kind: 'start', ...ref(id) }, { deadline: new Date('2030-01-01T12:01:00Z') });

    // Assess
    expect(waits).toEqual([1_500, 1]);
    expect(outcome).toEqual({ kind: 'done', note: 'started' });
    expect((await broadcastOf(world, id)).startedAt).toBe('2030-01-01T12:00:01.500Z');
  });

  it('starts sending: the watch first, then the first page', async () => {
    // Prepare
    const world = aBroadcastWorld();
    const id = await created(world, { all: true });

    // Act
    await world.step({ kind: 'start', ...ref(id) });

    // Assess
    expect((await broadcastOf(world, id)).status).toBe('sending');
    expect(world.fanoutQueue.sent.map((e) => [e.message.kind, e.delaySeconds])).toEqual([
      ['watch', 60],
      ['resolve', undefined],
    ]);
  });

  it('sends the first steps again when the start is redelivered before any page was taken', async () => {
    // Prepare
    const world = aBroadcastWorld();
    const id = await created(world, { all: true });
    world.fanoutQueue.sendFailures.add(new Error('SQS down'));
    await world.step({ kind: 'start', ...ref(id) }).catch(() => undefined);
    world.fanoutQueue.waiting.length = 0;

    // Act
    await world.step({ kind: 'start', ...ref(id) });

    // Assess
    expect(world.fanoutQueue.kinds()).toEqual(['watch', 'resolve']);
  });

  it('does nothing for a cancelled broadcast', async () => {
    // Prepare
    const world = aBroadcastWorld();
    const id = await created(world, { all: true });
    await world.broadcasts.cancel(tenantId, id, world.clock.now());

    // Act
    const outcome = await world.step({ kind: 'start', ...ref(id) });

    // Assess
    expect(outcome.kind).toBe('done');
    expect(world.fanoutQueue.sent).toEqual([]);
  });
});

describe('resolving the audience page by page', () => {
  it('writes one row per recipient of an explicit list, slice by slice, then counts them', async () => {
    // Prepare
    const world = aBroadcastWorld();
    const list = ids(1_500);
    const id = await created(world, { recipientIds: list });
    await world.step({ kind: 'start', ...ref(id) });

    // Act
    await world.runFanout();

    // Assess
    expect(world.rows.pendingWrites.map((w) => w.length)).toEqual([250, 250, 250, 250, 250, 250]);
    const b = await broadcastOf(world, id);
    expect(b.fanout?.phase).toBe('delivering');
    expect(b.counts.total).toBe(1_500);
  });

  it('resolves groups through the directory, page by page, and counts a member of two groups once', async () => {
    // Prepare
    const world = aBroadcastWorld({ pageSize: 10 });
    await register(world, ids(25, 'a'), ['ops']);
    await register(world, ids(12, 'b'), ['dev']);
    await register(world, ['a-0000', 'a-0001'], ['dev']);
    const id = await created(world, { groups: ['ops', 'dev'] });
    await world.step({ kind: 'start', ...ref(id) });

    // Act
    await world.runFanout();

    // Assess
    expect(world.rows.pendingWrites.map((w) => w.length)).toEqual([10, 10, 5, 10, 4]);
    expect((await broadcastOf(world, id)).counts.total).toBe(37);
  });

  it('resolves the whole tenant for `all`', async () => {
    // Prepare
    const world = aBroadcastWorld({ pageSize: 7 });
    await register(world, ids(20));
    const id = await created(world, { all: true });
    await world.step({ kind: 'start', ...ref(id) });

    // Act
    await world.runFanout();

    // Assess
    expect((await broadcastOf(world, id)).counts.total).toBe(20);
  });

  it('completes an empty audience at once', async () => {
    // Prepare
    const world = aBroadcastWorld();
    const id = await created(world, { groups: ['nobody'] });
    await world.step({ kind: 'start', ...ref(id) });

    // Act
    await world.runFanout();

    // Assess
    expect(await broadcastOf(world, id)).toMatchObject({ status: 'completed', counts: { total: 0 } });
  });

  it('does nothing when a page message is redelivered after the page was done', async () => {
    // Prepare
    const world = aBroadcastWorld();
    const id = await created(world, { recipientIds: ids(1_200) });
    await world.step({ kind: 'start', ...ref(id) });
    const page0 = world.fanoutQueue.take('resolve') as FanoutMessage;
    await world.step(page0);

    // Act
    const again = await world.step(page0);

    // Assess
    expect(again).toEqual({ kind: 'done', note: 'page already resolved' });
    expect(world.rows.pendingWrites).toHaveLength(1);
  });

  it('lets one of two concurrent invocations of a page resolve it, and sends the other back later', async () => {
    // Prepare
    const world = aBroadcastWorld();
    const id = await created(world, { recipientIds: ids(50) });
    await world.step({ kind: 'start', ...ref(id) });
    const page0 = world.fanoutQueue.take('resolve') as FanoutMessage;

    // Act
    const outcomes = await Promise.all([world.step(page0), world.step(page0)]);

    // Assess
    expect(outcomes.map((o) => o.kind).sort()).toEqual(['done', 'later']);
    expect(world.rows.pendingWrites).toHaveLength(1);
    expect(world.fanoutQueue.kinds().filter((k) => k === 'count')).toHaveLength(1);
  });

  it('lets a retry take over at once a page whose invocation failed mid-page, with no duplicate row', async () => {
    // Prepare
    const world = aBroadcastWorld();
    const list = ids(1_200);
    const id = await created(world, { recipientIds: list });
    await world.step({ kind: 'start', ...ref(id) });
    const page0 = world.fanoutQueue.take('resolve') as FanoutMessage;
    world.rows.putFailures.add(new Error('DynamoDB throttled'));
    const failure = await world.step(page0).catch((error: unknown) => error);

    // Act
    await world.step(page0);
    await world.runFanout();

    // Assess
    expect(failure).toBeInstanceOf(Error);
    expect((await broadcastOf(world, id)).lastError).toContain('DynamoDB throttled');
    expect((await broadcastOf(world, id)).counts.total).toBe(1_200);
    expect(world.rows.all(tenantId, id)).toHaveLength(1_200);
  });

  it('takes over a page whose invocation died, once its lease ran out', async () => {
    // Prepare
    const world = aBroadcastWorld();
    const id = await created(world, { recipientIds: ids(30) });
    await world.step({ kind: 'start', ...ref(id) });
    const page0 = world.fanoutQueue.take('resolve') as FanoutMessage;
    // An invocation that claimed the page and died: its lease holds until its deadline + 5 s.
    await world.broadcasts.claimPage(tenantId, id, 0, world.clock.now(), new Date(world.clock.now().getTime() + 65_000));

    // Act
    const early = await world.step(page0);
    world.clock.advanceSeconds(66);
    const late = await world.step(page0);

    // Assess
    expect(early).toMatchObject({ kind: 'later', seconds: 65 });
    expect(late).toEqual({ kind: 'done', note: 'page resolved' });
  });

  it('stops resolving a broadcast cancelled mid-way and cancels the rows already written', async () => {
    // Prepare
    const world = aBroadcastWorld();
    const id = await created(world, { recipientIds: ids(1_000) });
    await world.step({ kind: 'start', ...ref(id) });
    await world.step(world.fanoutQueue.take('resolve') as FanoutMessage);
    await world.broadcasts.cancel(tenantId, id, world.clock.now());

    // Act
    await world.runAll();

    // Assess
    const b = await broadcastOf(world, id);
    expect(world.rows.pendingWrites).toHaveLength(1);
    expect(b).toMatchObject({ status: 'cancelled', counts: { total: 250, cancelled: 250, sent: 0 } });
    expect(b.completedAt).toBeDefined();
    expect(world.deliveryQueue.sent).toEqual([]);
  });
});

describe('dispatch', () => {
  it('enqueues 25 recipients per delivery message, every shard walked to its end', async () => {
    // Prepare
    const world = aBroadcastWorld({ pageSize: 20 });
    const id = await created(world, { recipientIds: ids(260) });
    await world.step({ kind: 'start', ...ref(id) });

    // Act
    await world.runFanout();

    // Assess
    const enqueued = world.deliveryQueue.sent.flatMap((m) => m.recipientIds);
    expect(enqueued.sort()).toEqual(ids(260));
    expect(Math.max(...world.deliveryQueue.sent.map((m) => m.recipientIds.length))).toBeLessThanOrEqual(25);
  });

  it('dispatches a broadcast whose rows fit one page from the count, 25 recipients to a message, with no walk', async () => {
    // Prepare: 100 recipients over 16 shards (6 or 7 each), a page of 1,000
    const world = aBroadcastWorld({ pageSize: 1_000, shards: 16 });
    const id = await created(world, { recipientIds: ids(100) });
    await world.step({ kind: 'start', ...ref(id) });
    await world.step(world.fanoutQueue.take('resolve') as FanoutMessage);

    // Act
    await world.step(world.fanoutQueue.take('count') as FanoutMessage);

    // Assess
    expect(dispatchesOf(world, 'sent')).toEqual([]);
    expect(world.deliveryQueue.sent.map((m) => m.recipientIds.length)).toEqual([25, 25, 25, 25]);
    expect(world.deliveryQueue.sent.flatMap((m) => m.recipientIds).sort()).toEqual(ids(100));
    expect(await broadcastOf(world, id)).toMatchObject({ counts: { total: 100 } });
  });

  it('walks a small broadcast in one step over every shard when the watch repairs it', async () => {
    // Prepare: 100 recipients over 16 shards, dispatched, and their delivery messages lost
    const world = aBroadcastWorld({ pageSize: 1_000, shards: 16 });
    const id = await created(world, { recipientIds: ids(100) });
    await world.step({ kind: 'start', ...ref(id) });
    await world.runFanout();
    world.deliveryQueue.waiting.length = 0;
    world.deliveryQueue.sent.length = 0;
    const seen = ['sending', 0, 'delivering', 0, 100, 0, 0, 0].join('|');

    // Act
    await world.step({ kind: 'watch', ...ref(id), seen, stalls: 1 });
    const walks = dispatchesOf(world, 'waiting');
    await world.runFanout();

    // Assess
    expect(walks).toEqual([{ kind: 'dispatch', ...ref(id), run: 0, everyShard: true }]);
    expect(world.deliveryQueue.sent.map((m) => m.recipientIds.length)).toEqual([25, 25, 25, 25]);
    expect(world.deliveryQueue.sent.flatMap((m) => m.recipientIds).sort()).toEqual(ids(100));
  });

  it('cancels the rows of a small broadcast cancelled before its count, from the count itself', async () => {
    // Prepare
    const world = aBroadcastWorld({ pageSize: 1_000, shards: 16 });
    const id = await created(world, { recipientIds: ids(12) });
    await world.step({ kind: 'start', ...ref(id) });
    await world.step(world.fanoutQueue.take('resolve') as FanoutMessage);
    await world.broadcasts.cancel(tenantId, id, world.clock.now());

    // Act
    await world.step(world.fanoutQueue.take('count') as FanoutMessage);

    // Assess
    const b = await broadcastOf(world, id);
    expect(b).toMatchObject({ status: 'cancelled', counts: { total: 12, cancelled: 12, sent: 0 } });
    expect(b.completedAt).toBeDefined();
    expect(world.deliveryQueue.sent).toEqual([]);
    expect(dispatchesOf(world, 'waiting')).toEqual([]);
  });

  it('counts a shard past its first page without reading those rows, and walks the shards', async () => {
    // Prepare: 30 rows over 2 shards, pages of 5
    const world = aBroadcastWorld({ pageSize: 5, shards: 2 });
    const id = await created(world, { recipientIds: ids(30) });
    await world.step({ kind: 'start', ...ref(id) });
    await world.step(world.fanoutQueue.take('resolve') as FanoutMessage);
    while (world.fanoutQueue.kinds().includes('resolve')) await world.step(world.fanoutQueue.take('resolve') as FanoutMessage);

    // Act
    await world.step(world.fanoutQueue.take('count') as FanoutMessage);

    // Assess
    expect(await broadcastOf(world, id)).toMatchObject({ counts: { total: 30 } });
    expect(world.deliveryQueue.sent).toEqual([]);
    expect(dispatchesOf(world, 'waiting').map((message) => message.shard)).toEqual([0, 1]);
  });

  it('walks one shard per step once the rows are more than a page', async () => {
    // Prepare
    const world = aBroadcastWorld({ pageSize: 20, shards: 4 });
    const id = await created(world, { recipientIds: ids(21) });
    await world.step({ kind: 'start', ...ref(id) });

    // Act
    await world.runFanout();

    // Assess
    const dispatches = dispatchesOf(world, 'sent');
    expect(dispatches.filter((message) => message.after === undefined).map((message) => message.shard)).toEqual([0, 1, 2, 3]);
    expect(dispatches.some((message) => message.everyShard)).toBe(false);
    expect(world.deliveryQueue.sent.flatMap((m) => m.recipientIds).sort()).toEqual(ids(21));
  });

  it('goes on in a walk of its own for each shard that held more than a page at a step over every shard', async () => {
    // Prepare: 30 rows over 4 shards, read 5 at a time; a step over every shard (as a count that
    // saw fewer rows than were later written would have sent)
    const world = aBroadcastWorld({ pageSize: 5, shards: 4 });
    const id = await created(world, { recipientIds: ids(30) });
    await world.step({ kind: 'start', ...ref(id) });
    await world.runFanout();
    world.deliveryQueue.sent.length = 0;
    world.deliveryQueue.waiting.length = 0;

    // Act
    await world.step({ kind: 'dispatch', ...ref(id), run: 0, everyShard: true });
    const walks = dispatchesOf(world, 'waiting');
    await world.runFanout();

    // Assess
    expect(walks).toHaveLength(4);
    expect(walks.every((message) => message.shard !== undefined && message.after !== undefined && !message.everyShard)).toBe(true);
    const enqueued = world.deliveryQueue.sent.flatMap((m) => m.recipientIds);
    expect(enqueued.sort()).toEqual(ids(30));
  });

  it('cancels every pending row of a small broadcast in the one step over every shard the cancel nudge sends', async () => {
    // Prepare
    const world = aBroadcastWorld({ pageSize: 50, shards: 8 });
    const id = await created(world, { recipientIds: ids(12) });
    await world.step({ kind: 'start', ...ref(id) });
    await world.runFanout();
    world.deliveryQueue.waiting.length = 0;
    await world.broadcasts.cancel(tenantId, id, world.clock.now());

    // Act
    await world.step({ kind: 'cancel', ...ref(id) });
    const walks = dispatchesOf(world, 'waiting');
    await world.runFanout();

    // Assess
    expect(walks).toEqual([{ kind: 'dispatch', ...ref(id), run: 0, everyShard: true }]);
    expect(await broadcastOf(world, id)).toMatchObject({ status: 'cancelled', counts: { total: 12, cancelled: 12, sent: 0 } });
  });

  it('leaves out rows waiting out a retry backoff and rows a live worker holds', async () => {
    // Prepare
    const world = aBroadcastWorld();
    const id = await created(world, { recipientIds: ['a', 'b', 'c'] });
    await world.step({ kind: 'start', ...ref(id) });
    await world.step(world.fanoutQueue.take('resolve') as FanoutMessage);
    world.rows.patch(tenantId, id, 'a', { nextAttemptAt: '2030-01-01T12:05:00.000Z' });
    world.rows.patch(tenantId, id, 'b', { status: 'sending', leaseUntil: Date.parse('2030-01-01T12:01:00.000Z') });
    await world.step(world.fanoutQueue.take('count') as FanoutMessage);

    // Act
    await world.runFanout();

    // Assess
    expect(world.deliveryQueue.sent.flatMap((m) => m.recipientIds)).toEqual(['c']);
  });

  it('ignores a walk of an earlier run', async () => {
    // Prepare
    const world = aBroadcastWorld();
    const id = await created(world, { recipientIds: ['a'] });
    await world.step({ kind: 'start', ...ref(id) });
    await world.runFanout();
    world.deliveryQueue.waiting.length = 0;
    world.broadcasts.patch(tenantId, id, { run: 2 });

    // Act
    const outcome = await world.step({ kind: 'dispatch', ...ref(id), run: 1, shard: 0 });

    // Assess
    expect(outcome.kind).toBe('done');
    expect(world.deliveryQueue.waiting).toEqual([]);
  });
});

describe('cancel and retry walks', () => {
  it('cancels every pending row after a cancel nudge, and settles the broadcast', async () => {
    // Prepare
    const world = aBroadcastWorld();
    await register(world, ids(40));
    const id = await created(world, { groups: ['staff'] });
    await world.step({ kind: 'start', ...ref(id) });
    await world.runFanout();
    for (let i = 0; i < 2; i++) await world.deliverNext();
    world.deliveryQueue.waiting.length = 0;
    await world.broadcasts.cancel(tenantId, id, world.clock.now());

    // Act
    await world.step({ kind: 'cancel', ...ref(id) });
    await world.runFanout();

    // Assess
    const b = await broadcastOf(world, id);
    expect(b.counts).toEqual({ total: 40, sent: 40 - b.counts.cancelled, failed: 0, cancelled: b.counts.cancelled });
    expect(b.counts.cancelled).toBeGreaterThan(0);
    expect(b.completedAt).toBeDefined();
  });

  it('settles a broadcast cancelled between its retry and the retry\'s walk, every row still failed', async () => {
    // Prepare: both recipients fail; a retry reopens it, and a cancel comes before the walk runs
    const world = aBroadcastWorld();
    const id = await created(world, { recipientIds: ['gone-1', 'gone-2'] });
    world.recipients.delete(tenantId, 'gone-1');
    world.recipients.delete(tenantId, 'gone-2');
    await world.step({ kind: 'start', ...ref(id) });
    await world.runAll();
    const failed = await broadcastOf(world, id);
    const reopened = await world.broadcasts.reopen(tenantId, id, world.clock.now());
    await world.broadcasts.cancel(tenantId, id, world.clock.now());

    // Act: the retry walk finds it cancelled; the cancel nudge follows
    await world.step({ kind: 'retry', ...ref(id), run: reopened?.run ?? 0 });
    await world.step({ kind: 'cancel', ...ref(id) });
    await world.runFanout();

    // Assess: settled at once, not left to the watch's repair
    expect(failed).toMatchObject({ status: 'failed', counts: { total: 2, failed: 2 } });
    const b = await broadcastOf(world, id);
    expect(b).toMatchObject({ status: 'cancelled', counts: { total: 2, sent: 0, failed: 2, cancelled: 0 } });
    expect(b.completedAt).toBeDefined();
  });

  it('puts failed rows back to pending once per run and delivers them', async () => {
    // Prepare
    const world = aBroadcastWorld();
    await register(world, ['a']);
    const id = await created(world, { recipientIds: ['a', 'late'] });
    // Erased after the create: its row fails, until it is registered again.
    world.recipients.delete(tenantId, 'late');
    await world.step({ kind: 'start', ...ref(id) });
    await world.runAll();
    await register(world, ['late']);
    const reopened = await world.broadcasts.reopen(tenantId, id, world.clock.now());

    // Act
    await world.step({ kind: 'retry', ...ref(id), run: reopened?.run ?? 0 });
    await world.runAll();

    // Assess
    expect(await broadcastOf(world, id)).toMatchObject({ status: 'completed', counts: { total: 2, sent: 2, failed: 0 } });
    expect(await world.inbox.list(tenantId, 'late')).toHaveLength(1);
  });
});

describe('the watch', () => {
  it('keeps watching while the broadcast progresses and stops once it is finished', async () => {
    // Prepare
    const world = aBroadcastWorld();
    await register(world, ['a']);
    const id = await created(world, { recipientIds: ['a'] });
    await world.step({ kind: 'start', ...ref(id) });
    const watch = world.fanoutQueue.take('watch') as FanoutMessage;
    await world.step(world.fanoutQueue.take('resolve') as FanoutMessage);

    // Act
    const progressing = await world.step(watch);
    await world.runAll();
    const finished = await world.step(world.fanoutQueue.take('watch') as FanoutMessage);

    // Assess
    expect(progressing).toEqual({ kind: 'done', note: 'progressing' });
    expect(finished).toEqual({ kind: 'done', note: 'finished' });
  });

  it('restarts a fan-out whose next page message was lost', async () => {
    // Prepare
    const world = aBroadcastWorld();
    await register(world, ['a', 'b']);
    const id = await created(world, { recipientIds: ['a', 'b'] });
    await world.step({ kind: 'start', ...ref(id) });
    world.fanoutQueue.take('resolve');
    const seen = (world.fanoutQueue.take('watch') as Extract<FanoutMessage, { kind: 'watch' }>).seen;

    // Act
    const outcomes = [];
    for (const stalls of [0, 1]) outcomes.push(await world.step({ kind: 'watch', ...ref(id), seen, stalls }));
    await world.runAll();

    // Assess
    expect(outcomes.map((o) => (o.kind === 'done' ? o.note : o.kind))).toEqual(['quiet', 'repaired']);
    expect(await broadcastOf(world, id)).toMatchObject({ status: 'completed', counts: { sent: 2 } });
  });

  it('re-enqueues rows a lost delivery message left pending', async () => {
    // Prepare
    const world = aBroadcastWorld();
    await register(world, ['a', 'b', 'c']);
    const id = await created(world, { recipientIds: ['a', 'b', 'c'] });
    await world.step({ kind: 'start', ...ref(id) });
    await world.runFanout();
    world.deliveryQueue.waiting.length = 0;
    const seen = ['sending', 0, 'delivering', 0, 3, 0, 0, 0].join('|');

    // Act
    await world.step({ kind: 'watch', ...ref(id), seen, stalls: 1 });
    await world.runAll();

    // Assess
    expect(await broadcastOf(world, id)).toMatchObject({ status: 'completed', counts: { sent: 3 } });
  });

  it('recounts counters a crash left short, then completes the broadcast exactly once', async () => {
    // Prepare
    const world = aBroadcastWorld({ pageSize: 50 });
    await register(world, ids(27));
    const id = await created(world, { recipientIds: ids(27) });
    await world.step({ kind: 'start', ...ref(id) });
    await world.runFanout();
    expect(world.deliveryQueue.waiting.map((m) => m.recipientIds.length)).toEqual([25, 2]);
    world.broadcasts.addCountsFailures.add(new Error('crashed before counting'));
    await world.deliverNext().catch(() => undefined);
    await world.deliverNext();
    const stuck = await broadcastOf(world, id);

    // Act
    const seen = ['sending', 0, 'delivering', 0, 27, 2, 0, 0].join('|');
    await world.step({ kind: 'watch', ...ref(id), seen, stalls: 1 });

    // Assess
    expect(stuck).toMatchObject({ status: 'sending', counts: { sent: 2 } });
    expect(await broadcastOf(world, id)).toMatchObject({ status: 'completed', counts: { total: 27, sent: 27 } });
  });

  it('checks a broadcast whose every recipient left is held by quiet hours without warning that it stalled', async () => {
    // Prepare: night is in their quiet hours (11:00-13:00 UTC, it is 12:00), alice is not
    const world = aBroadcastWorld();
    await world.recipients.put(aRecipient({ id: 'night', email: undefined, timezone: 'UTC', quietHours: { start: '11:00', end: '13:00' } }));
    const id = await created(world, { recipientIds: ['night', 'alice'] }, { channels: ['inbox'] });
    await world.step({ kind: 'start', ...ref(id) });
    await world.runAll();
    const held = await broadcastOf(world, id);
    const logs = recordBroadcastLogs();

    // Act
    const seen = [held.status, held.run, held.fanout?.phase ?? '-', held.fanout?.page ?? '-', held.counts.total, held.counts.sent, held.counts.failed, held.counts.cancelled].join('|');
    const outcome = await world.step({ kind: 'watch', ...ref(id), seen, stalls: 1 });
    const lines = logs.stop();

    // Assess
    expect(held).toMatchObject({ status: 'sending', counts: { total: 2, sent: 1, held: 1 } });
    expect(outcome).toEqual({ kind: 'done', note: 'repaired' });
    expect(lines).toEqual([{ level: 'info', message: 'Broadcast waits for quiet hours; checking its rows' }]);
  });

  it('warns that a fan-out stalled when a recipient left is not held', async () => {
    // Prepare
    const world = aBroadcastWorld();
    const id = await created(world, { recipientIds: ['a'] });
    await world.step({ kind: 'start', ...ref(id) });
    const seen = (world.fanoutQueue.take('watch') as Extract<FanoutMessage, { kind: 'watch' }>).seen;
    const logs = recordBroadcastLogs();

    // Act
    await world.step({ kind: 'watch', ...ref(id), seen, stalls: 1 });
    const lines = logs.stop();

    // Assess
    expect(lines).toEqual([{ level: 'warn', message: 'Broadcast fan-out stalled; repairing' }]);
  });

  it('repairs after 2, 4, 8 quiet looks only, so a long backoff is not walked every minute', async () => {
    // Prepare
    const world = aBroadcastWorld();
    const id = await created(world, { recipientIds: ['a'] });
    await world.step({ kind: 'start', ...ref(id) });
    const seen = (world.fanoutQueue.take('watch') as Extract<FanoutMessage, { kind: 'watch' }>).seen;

    // Act
    const notes: string[] = [];
    for (const stalls of [1, 2, 3, 6, 7]) {
      const outcome = await runFanoutStep(world.fanout, { kind: 'watch', ...ref(id), seen, stalls }, { deadline: world.clock.now() });
      notes.push(outcome.kind === 'done' ? outcome.note : outcome.kind);
    }

    // Assess
    expect(notes).toEqual(['repaired', 'quiet', 'repaired', 'quiet', 'repaired']);
  });
});
