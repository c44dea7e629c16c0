/**
 * The delivery engine delivering the recipients of a broadcast, through `deliverMessages` as the
 * broadcast-deliver function calls it, on the in-memory broadcast world (fan-out included).
 * (Ported from the tests of the deleted deliverBroadcastMessage use case.)
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Broadcast } from '../../../../shared/domain/broadcast.ts';
import type { CreateBroadcastBody } from '../../../../shared/domain/schemas.ts';
import { logger } from '../../../../shared/observability/logger.ts';
import { createBroadcast, retryBroadcast } from '../../../../shared/use-cases/broadcasts.ts';
import { deliverMessages } from '../../../../shared/use-cases/deliver-messages.ts';
import type { MessageResult, MessageWork } from '../../../../shared/use-cases/deliver-messages.ts';
import { aBroadcastWorld } from '../../fakes/broadcast-world.ts';
import type { BroadcastWorld } from '../../fakes/broadcast-world.ts';
import { aNotification, aRecipient, admin, awsError, tenantId } from '../../fakes/fixtures.ts';
import { emailTags } from '../../../../shared/domain/email-feedback.ts';

beforeAll(() => {
  logger.setLogLevel('SILENT');
});

const noonMs = Date.parse('2030-01-01T12:00:00.000Z');

/** A broadcast fanned out to `recipientIds`, ready to deliver. */
async function fannedOut(world: BroadcastWorld, recipientIds: readonly string[], overrides: Partial<CreateBroadcastBody> = {}): Promise<string> {
  const body: CreateBroadcastBody = {
    audience: { recipientIds: [...recipientIds] },
    title: 'Maintenance',
    message: 'Tonight at 2am',
    type: 'system',
    priority: 'high',
    draft: false,
    ...overrides,
  };
  const { broadcastId } = await createBroadcast(world.api, admin, body);
  await world.step({ kind: 'start', tenantId, broadcastId });
  await world.runFanout();
  world.deliveryQueue.waiting.length = 0;
  return broadcastId;
}

async function broadcastOf(world: BroadcastWorld, id: string): Promise<Broadcast> {
  const b = await world.broadcasts.get(tenantId, id);
  if (!b) throw new Error('no broadcast');
  return b;
}

/** Delivers one batch of messages through the engine, as the broadcast-deliver function does. */
function deliverMessagesOf(world: BroadcastWorld, messages: readonly MessageWork[]): Promise<MessageResult[]> {
  return deliverMessages(world.delivery, messages, { deadline: new Date(world.clock.now().getTime() + 10_000) });
}

/** Delivers one message naming `recipientIds` of broadcast `broadcastId`. */
async function deliver(world: BroadcastWorld, broadcastId: string, recipientIds: readonly string[]): Promise<MessageResult> {
  const [result] = await deliverMessagesOf(world, [{ refs: recipientIds.map((recipientId) => ({ kind: 'broadcast', tenantId, broadcastId, recipientId })) }]);
  if (!result) throw new Error('no result');
  return result;
}

const nothingMore: MessageResult = { later: [], deadLetters: [] };

describe('the engine delivering a broadcast', () => {
  it('puts the broadcast in the inbox under its own id, posts it to open sockets with the count, emails it, and completes', async () => {
    // Prepare
    const world = aBroadcastWorld({ shards: 1 });
    await world.recipients.put(aRecipient({ id: 'bob', email: 'bob@example.com' }));
    await world.live.connect(tenantId, 'bob', { connectionId: 'c1', connectedAt: '2030-01-01T11:00:00.000Z' });
    world.sockets.open('c1');
    const id = await fannedOut(world, ['bob']);

    // Act
    const result = await deliver(world, id, ['bob']);

    // Assess
    expect(result).toEqual(nothingMore);
    expect((await world.inbox.list(tenantId, 'bob')).map((i) => [i.notificationId, i.title, i.message])).toEqual([[id, 'Maintenance', 'Tonight at 2am']]);
    // One frame: the notification, carrying the new unread count (no separate inboxChanged).
    expect(world.sockets.posted).toEqual([
      { connectionId: 'c1', payload: { type: 'notification', notification: expect.objectContaining({ id, broadcastId: id, title: 'Maintenance' }), unread: 1, unreadVersion: 1 } },
    ]);
    expect(world.mailer.sent).toEqual([{ to: 'bob@example.com', subject: 'Maintenance', text: 'Tonight at 2am', tags: emailTags(tenantId, 'bob') }]);
    expect(await broadcastOf(world, id)).toMatchObject({ status: 'completed', counts: { total: 1, sent: 1 } });
    expect(world.rows.all(tenantId, id)[0]).toMatchObject({ status: 'sent', attempts: 1 });
  });

  it('honours the recipient switching email off, and does not fail a recipient who is not connected', async () => {
    // Prepare
    const world = aBroadcastWorld({ shards: 1 });
    await world.recipients.put(aRecipient({ id: 'bob', email: 'bob@example.com', channelPreferences: { email: false } }));
    const id = await fannedOut(world, ['bob']);

    // Act
    await deliver(world, id, ['bob']);

    // Assess
    const [row] = world.rows.all(tenantId, id);
    expect(row?.status).toBe('sent');
    expect(row?.deliveries.email).toMatchObject({ status: 'skipped', detail: 'disabled by preference' });
    expect(row?.deliveries.websocket).toMatchObject({ status: 'skipped', detail: 'not connected' });
    expect(world.mailer.sent).toEqual([]);
  });

  it('delivers a duplicate message to nobody a second time and counts nobody twice', async () => {
    // Prepare
    const world = aBroadcastWorld({ shards: 1 });
    for (const id of ['a', 'b']) await world.recipients.put(aRecipient({ id, email: `${id}@example.com` }));
    const id = await fannedOut(world, ['a', 'b']);

    // Act
    await Promise.all([deliver(world, id, ['a', 'b']), deliver(world, id, ['a', 'b'])]);
    const third = await deliver(world, id, ['a', 'b']);

    // Assess
    expect(third).toEqual(nothingMore);
    expect(world.mailer.sent).toHaveLength(2);
    expect(world.inbox.addCalls).toBe(2);
    expect(await broadcastOf(world, id)).toMatchObject({ status: 'completed', counts: { sent: 2 } });
  });

  it('fails a recipient erased from the directory after the broadcast was made, and the broadcast when nobody got it', async () => {
    // Prepare
    const world = aBroadcastWorld({ shards: 1 });
    await world.recipients.put(aRecipient({ id: 'ghost' }));
    const id = await fannedOut(world, ['ghost']);
    world.recipients.delete(tenantId, 'ghost');

    // Act
    await deliver(world, id, ['ghost']);

    // Assess
    expect(world.rows.all(tenantId, id)[0]).toMatchObject({ status: 'failed', lastError: 'Recipient ghost no longer exists' });
    expect(await broadcastOf(world, id)).toMatchObject({ status: 'failed', counts: { failed: 1 }, lastError: 'Recipient ghost no longer exists' });
  });

  it('fails a recipient erased while being delivered to, adding nothing to their inbox', async () => {
    // Prepare: the erasure lands between the claim (and the sends) and the write
    const world = aBroadcastWorld({ shards: 1 });
    await world.recipients.put(aRecipient({ id: 'bob' }));
    const id = await fannedOut(world, ['bob']);
    world.store.beforeCommit = () => {
      world.recipients.delete(tenantId, 'bob');
    };

    // Act
    await deliver(world, id, ['bob']);

    // Assess
    expect(world.rows.all(tenantId, id)[0]).toMatchObject({ status: 'failed', lastError: 'Recipient bob no longer exists' });
    expect(await world.inbox.list(tenantId, 'bob')).toEqual([]);
    expect(await broadcastOf(world, id)).toMatchObject({ status: 'failed', counts: { failed: 1 } });
  });

  it('records a permanent email failure on its channel and still counts the recipient sent', async () => {
    // Prepare
    const world = aBroadcastWorld({ shards: 1 });
    await world.recipients.put(aRecipient({ id: 'bob', email: 'bob@example.com' }));
    world.mailer.failures.add(awsError('MessageRejected', 400, 'Address blacklisted'));
    const id = await fannedOut(world, ['bob']);

    // Act
    await deliver(world, id, ['bob']);

    // Assess
    const [row] = world.rows.all(tenantId, id);
    expect(row?.status).toBe('sent');
    expect(row?.deliveries.email).toMatchObject({ status: 'failed', error: 'MessageRejected: Address blacklisted' });
  });

  it('fails a recipient whose every channel failed for good', async () => {
    // Prepare
    const world = aBroadcastWorld({ shards: 1 });
    await world.recipients.put(aRecipient({ id: 'bob', email: 'bob@example.com' }));
    world.mailer.failures.add(awsError('MessageRejected', 400));
    const id = await fannedOut(world, ['bob'], { channels: ['email'] });

    // Act
    await deliver(world, id, ['bob']);

    // Assess
    expect(world.rows.all(tenantId, id)[0]).toMatchObject({ status: 'failed', lastError: 'Every channel failed (email: MessageRejected: MessageRejected happened)' });
  });

  it('keeps a recipient pending after a transient failure, retries only the failed channel after the backoff, then gives up', async () => {
    // Prepare
    const world = aBroadcastWorld({ shards: 1, retry: { baseSeconds: 10, factor: 2, maxRetries: 1, jitter: 0, capSeconds: 3600 } });
    await world.recipients.put(aRecipient({ id: 'bob', email: 'bob@example.com' }));
    const id = await fannedOut(world, ['bob']);
    world.mailer.failures.add(awsError('ServiceUnavailable', 503), awsError('ServiceUnavailable', 503));
    const bob = { kind: 'broadcast', tenantId, broadcastId: id, recipientId: 'bob' } as const;

    // Act
    const first = await deliver(world, id, ['bob']);
    const early = await deliver(world, id, ['bob']);
    world.clock.advanceSeconds(10);
    const last = await deliver(world, id, ['bob']);

    // Assess
    expect(first).toEqual({ later: [{ at: noonMs + 10_000, refs: [bob] }], deadLetters: [] });
    expect(early).toEqual({ later: [{ at: noonMs + 10_000, refs: [bob] }], deadLetters: [] });
    const [row] = world.rows.all(tenantId, id);
    expect(row?.status).toBe('failed');
    expect(row?.lastError).toMatch(/^Gave up after 2 attempts: email: ServiceUnavailable/);
    expect(last.deadLetters).toEqual([{ ref: bob, reason: row?.lastError, attempts: 2 }]);
    expect(row?.deliveries.inbox?.status).toBe('sent');
    expect(world.inbox.addCalls).toBe(1);
    expect(await broadcastOf(world, id)).toMatchObject({ status: 'failed', counts: { failed: 1, sent: 0 } });
  });

  it('never sends the email or frame again for a row taken over from a worker that died holding it', async () => {
    // Prepare: the dead worker's claim recorded its intents; its lease has run out
    const world = aBroadcastWorld({ shards: 1 });
    await world.recipients.put(aRecipient({ id: 'bob', email: 'bob@example.com' }));
    await world.live.connect(tenantId, 'bob', { connectionId: 'c1', connectedAt: '2030-01-01T11:00:00.000Z' });
    world.sockets.open('c1');
    const id = await fannedOut(world, ['bob']);
    const intent = { status: 'sending', at: '2030-01-01T11:59:00.000Z', detail: 'attempt 1' } as const;
    world.rows.patch(tenantId, id, 'bob', { status: 'sending', attempts: 1, leaseUntil: noonMs - 1, deliveries: { websocket: intent, email: intent } });

    // Act
    await deliver(world, id, ['bob']);

    // Assess
    const [row] = world.rows.all(tenantId, id);
    expect(row).toMatchObject({ status: 'sent', attempts: 2 });
    expect(row?.deliveries.email?.status).toBe('unconfirmed');
    expect(row?.deliveries.websocket?.status).toBe('unconfirmed');
    expect(row?.deliveries.inbox?.status).toBe('sent');
    expect(world.mailer.sendCalls).toBe(0);
    expect(world.sockets.posted.filter((p) => (p.payload as { type?: string }).type === 'notification')).toEqual([]);
  });

  it('comes back when another worker holds a recipient, in case it dies', async () => {
    // Prepare
    const world = aBroadcastWorld({ shards: 1 });
    await world.recipients.put(aRecipient({ id: 'bob' }));
    const id = await fannedOut(world, ['bob']);
    world.rows.patch(tenantId, id, 'bob', { status: 'sending', attempts: 1, leaseUntil: noonMs + 30_000 });

    // Act
    const result = await deliver(world, id, ['bob']);

    // Assess
    expect(result).toEqual({ later: [{ at: noonMs + 30_000, refs: [{ kind: 'broadcast', tenantId, broadcastId: id, recipientId: 'bob' }] }], deadLetters: [] });
    expect(world.inbox.addCalls).toBe(0);
  });

  it('cancels, and counts once, the recipients of a broadcast cancelled before they were delivered', async () => {
    // Prepare
    const world = aBroadcastWorld({ shards: 1 });
    for (const id of ['a', 'b']) await world.recipients.put(aRecipient({ id }));
    const id = await fannedOut(world, ['a', 'b']);
    await world.broadcasts.cancel(tenantId, id, world.clock.now());

    // Act
    const result = await deliver(world, id, ['a', 'b']);
    await deliver(world, id, ['a', 'b']);

    // Assess
    expect(result).toEqual(nothingMore);
    expect(world.rows.all(tenantId, id).map((r) => r.status)).toEqual(['cancelled', 'cancelled']);
    expect(await world.inbox.list(tenantId, 'a')).toEqual([]);
    const b = await broadcastOf(world, id);
    expect(b).toMatchObject({ status: 'cancelled', counts: { cancelled: 2, sent: 0 } });
    expect(b.completedAt).toBeDefined();
  });

  it('settles a cancelled broadcast whose row a dead worker still held: the row is cancelled, its intent unconfirmed', async () => {
    // Prepare: a worker claimed bob's row, recorded its email intent and died; then the broadcast
    // was cancelled, and the cancel walk hands the orphaned row back to delivery
    const world = aBroadcastWorld({ shards: 1 });
    await world.recipients.put(aRecipient({ id: 'bob', email: 'bob@example.com' }));
    const id = await fannedOut(world, ['bob']);
    const intent = { status: 'sending', at: '2030-01-01T11:59:00.000Z', detail: 'attempt 1' } as const;
    world.rows.patch(tenantId, id, 'bob', { status: 'sending', attempts: 1, leaseUntil: noonMs - 1, deliveries: { email: intent } });
    await world.broadcasts.cancel(tenantId, id, world.clock.now());
    await world.step({ kind: 'cancel', tenantId, broadcastId: id });

    // Act
    await world.runAll();

    // Assess
    const [row] = world.rows.all(tenantId, id);
    expect(row).toMatchObject({ status: 'cancelled', deliveries: { email: { status: 'unconfirmed' } } });
    expect(row?.leaseUntil).toBeUndefined();
    expect(world.mailer.sendCalls).toBe(0);
    const b = await broadcastOf(world, id);
    expect(b).toMatchObject({ status: 'cancelled', counts: { total: 1, cancelled: 1 } });
    expect(b.completedAt).toBeDefined();
  });

  it('looks again, at the end of its lease, at a row a live worker holds when the broadcast is cancelled', async () => {
    // Prepare
    const world = aBroadcastWorld({ shards: 1 });
    await world.recipients.put(aRecipient({ id: 'bob' }));
    const id = await fannedOut(world, ['bob']);
    world.rows.patch(tenantId, id, 'bob', { status: 'sending', attempts: 1, leaseUntil: noonMs + 30_000 });
    await world.broadcasts.cancel(tenantId, id, world.clock.now());
    const bob = { kind: 'broadcast', tenantId, broadcastId: id, recipientId: 'bob' } as const;

    // Act
    const whileHeld = await deliver(world, id, ['bob']);
    world.clock.advanceSeconds(31);
    const afterLease = await deliver(world, id, ['bob']);

    // Assess
    expect(whileHeld).toEqual({ later: [{ at: noonMs + 30_000, refs: [bob] }], deadLetters: [] });
    expect(afterLease).toEqual(nothingMore);
    expect(world.rows.all(tenantId, id)[0]?.status).toBe('cancelled');
    expect((await broadcastOf(world, id)).completedAt).toBeDefined();
  });

  it('lets a cancel that lands between the read and the claim win: the row it claimed is cancelled at once, nothing sent', async () => {
    // Prepare
    const world = aBroadcastWorld({ shards: 1 });
    await world.recipients.put(aRecipient({ id: 'bob', email: 'bob@example.com' }));
    const id = await fannedOut(world, ['bob']);
    world.store.beforeClaim = async () => {
      await world.broadcasts.cancel(tenantId, id, world.clock.now());
    };

    // Act
    const first = await deliver(world, id, ['bob']);
    world.clock.advanceSeconds(1);
    const second = await deliver(world, id, ['bob']);

    // Assess: the claim went through, the status read after it found the cancel
    expect(first).toEqual(nothingMore);
    expect(second).toEqual(nothingMore);
    expect(world.mailer.sendCalls).toBe(0);
    expect(world.inbox.addCalls).toBe(0);
    expect(world.rows.all(tenantId, id)[0]).toMatchObject({ status: 'cancelled', attempts: 0 });
    expect(world.rows.all(tenantId, id)[0]?.deliveries.email).toBeUndefined();
    expect(await broadcastOf(world, id)).toMatchObject({ status: 'cancelled', counts: { cancelled: 1 } });
    expect((await broadcastOf(world, id)).completedAt).toBeDefined();
  });

  it('sends nothing and claims again later when the status cannot be read after the claim', async () => {
    // Prepare: the batch's read works; the status read after the claim fails
    const world = aBroadcastWorld({ shards: 1 });
    await world.recipients.put(aRecipient({ id: 'bob', email: 'bob@example.com' }));
    const id = await fannedOut(world, ['bob']);
    world.store.beforeClaim = () => {
      world.broadcasts.getFailures.add(awsError('ProvisionedThroughputExceededException', 400));
    };

    // Act
    const first = await deliver(world, id, ['bob']);
    const afterFirst = world.rows.all(tenantId, id)[0];
    world.clock.advanceSeconds(1);
    const second = await deliver(world, id, ['bob']);

    // Assess
    expect(first).toEqual({ later: [{ at: noonMs + 1_000, refs: [{ kind: 'broadcast', tenantId, broadcastId: id, recipientId: 'bob' }] }], deadLetters: [] });
    expect(afterFirst).toMatchObject({ status: 'pending', attempts: 0 });
    expect(afterFirst?.deliveries.email).toBeUndefined();
    expect(second).toEqual(nothingMore);
    expect(world.mailer.sendCalls).toBe(1);
    expect(await broadcastOf(world, id)).toMatchObject({ counts: { sent: 1 } });
  });

  it('claims nothing when it fails before sending anything, and delivers once on the next try', async () => {
    // Prepare: the batch's one read fails, before any claim
    const world = aBroadcastWorld({ shards: 1 });
    await world.recipients.put(aRecipient({ id: 'bob', email: 'bob@example.com' }));
    const id = await fannedOut(world, ['bob']);
    world.broadcasts.getFailures.add(awsError('ProvisionedThroughputExceededException', 400));

    // Act
    const failure = await deliver(world, id, ['bob']).catch((e: unknown) => e);
    const rowAfterFailure = world.rows.all(tenantId, id)[0];
    const retried = await deliver(world, id, ['bob']);

    // Assess
    expect(failure).toMatchObject({ name: 'ProvisionedThroughputExceededException' });
    expect(rowAfterFailure).toMatchObject({ status: 'pending', attempts: 0 });
    expect(retried).toEqual(nothingMore);
    expect(world.mailer.sent).toHaveLength(1);
  });

  it('delivers a notification and a broadcast recipient in one batch, with the same rules', async () => {
    // Prepare: the one engine takes both kinds of unit at once
    const world = aBroadcastWorld({ shards: 1 });
    await world.recipients.put(aRecipient({ id: 'bob', email: 'bob@example.com' }));
    const id = await fannedOut(world, ['bob']);
    const n = aNotification({ scheduledAt: '2030-01-01T12:00:00.000Z', recipientId: 'bob' });
    world.notifications.seed(n);

    // Act
    const [result] = await deliverMessagesOf(world, [
      { refs: [{ kind: 'notification', tenantId, notificationId: n.id }, { kind: 'broadcast', tenantId, broadcastId: id, recipientId: 'bob' }] },
    ]);

    // Assess
    expect(result).toEqual(nothingMore);
    expect((await world.inbox.list(tenantId, 'bob')).map((i) => i.notificationId).sort()).toEqual([id, n.id].sort());
    expect(await world.inbox.unreadCount(tenantId, 'bob')).toEqual({ unread: 2, unreadVersion: 2 });
    expect(world.mailer.sent).toHaveLength(2);
  });

  it('counts a broadcast recipient’s lateness from the broadcast’s time, not from the epoch', async () => {
    // Prepare: a send-now broadcast started at noon, its recipient delivered 2.5 s later
    const world = aBroadcastWorld({ shards: 1 });
    await world.recipients.put(aRecipient({ id: 'bob', email: 'bob@example.com' }));
    const id = await fannedOut(world, ['bob']);
    const startedAt = Date.parse((await broadcastOf(world, id)).startedAt ?? '');
    world.clock.advanceSeconds(2.5);
    const latenesses: [string, number][] = [];
    const metrics = { count: (): void => undefined, lateness: (channel: string, ms: number): void => void latenesses.push([channel, ms]), flush: (): void => undefined };

    // Act
    await deliverMessages({ ...world.delivery, metrics }, [{ refs: [{ kind: 'broadcast', tenantId, broadcastId: id, recipientId: 'bob' }] }], {
      deadline: new Date(world.clock.now().getTime() + 10_000),
    });

    // Assess
    expect(world.mailer.sent).toHaveLength(1);
    expect(latenesses).toEqual([
      ['email', world.clock.now().getTime() - startedAt],
      ['inbox', world.clock.now().getTime() - startedAt],
    ]);
    expect(latenesses[0]?.[1]).toBe(2500);
  });
});

describe('a broadcast recipient held by quiet hours', () => {
  it('is counted held while its window lasts, counted off when its attempt is made, and counted again when a retry of the broadcast is held', async () => {
    // Prepare: bob's quiet hours hold the broadcast at noon (UTC) till 12:30
    const world = aBroadcastWorld({ shards: 1 });
    await world.recipients.put(aRecipient({ id: 'bob', email: 'bob@example.com', timezone: 'UTC', quietHours: { start: '11:00', end: '12:30' } }));
    const id = await fannedOut(world, ['bob'], { channels: ['email'] });
    await deliver(world, id, ['bob']);
    const heldFirst = (await broadcastOf(world, id)).counts.held;

    // Act: at the window's end SES refuses the address for good; then, held again, the broadcast is retried
    world.clock.set(new Date('2030-01-01T12:30:00.000Z'));
    world.mailer.failures.add(awsError('MessageRejected', 400, 'Address blacklisted'));
    await deliver(world, id, ['bob']);
    const afterFailure = await broadcastOf(world, id);
    await world.recipients.put(aRecipient({ id: 'bob', email: 'bob@example.com', timezone: 'UTC', quietHours: { start: '12:00', end: '13:30' } }));
    await retryBroadcast(world.api, admin, id);
    await world.runFanout();
    await deliver(world, id, ['bob']);

    // Assess
    expect(heldFirst).toBe(1);
    expect(afterFailure.counts).toMatchObject({ failed: 1, held: 0 });
    expect(world.rows.all(tenantId, id)[0]).toMatchObject({ status: 'pending', heldUntil: '2030-01-01T13:30:00.000Z' });
    expect((await broadcastOf(world, id)).counts.held).toBe(1);
  });

  it('is no longer held, nor counted so, once the attempt its window held back failed for now and waits for its retry', async () => {
    // Prepare
    const world = aBroadcastWorld({ shards: 1 });
    await world.recipients.put(aRecipient({ id: 'bob', email: 'bob@example.com', timezone: 'UTC', quietHours: { start: '11:00', end: '12:30' } }));
    const id = await fannedOut(world, ['bob'], { channels: ['email'] });
    await deliver(world, id, ['bob']);

    // Act: at the window's end SES is unavailable, to be tried again
    world.clock.set(new Date('2030-01-01T12:30:00.000Z'));
    world.mailer.failures.add(awsError('ServiceUnavailable', 503));
    await deliver(world, id, ['bob']);

    // Assess
    const [row] = world.rows.all(tenantId, id);
    expect(row).toMatchObject({ status: 'pending' });
    expect(row).not.toHaveProperty('heldUntil');
    expect((await broadcastOf(world, id)).counts.held).toBe(0);
  });
});
