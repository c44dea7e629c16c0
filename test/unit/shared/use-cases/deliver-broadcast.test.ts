import { beforeAll, describe, expect, it } from 'vitest';
import type { Broadcast } from '../../../../shared/domain/broadcast.ts';
import type { CreateBroadcastBody } from '../../../../shared/domain/schemas.ts';
import { logger } from '../../../../shared/observability/logger.ts';
import { createBroadcast } from '../../../../shared/use-cases/broadcasts.ts';
import { deliverBroadcastMessage } from '../../../../shared/use-cases/deliver-broadcast.ts';
import { aBroadcastWorld } from '../../fakes/broadcast-world.ts';
import type { BroadcastWorld } from '../../fakes/broadcast-world.ts';
import { aRecipient, admin, awsError, tenantId } from '../../fakes/fixtures.ts';

beforeAll(() => {
  logger.setLogLevel('SILENT');
});

/** A broadcast fanned out to `recipientIds` (all in the directory unless `missing`), ready to deliver. */
async function fannedOut(
  world: BroadcastWorld,
  recipientIds: readonly string[],
  overrides: Partial<CreateBroadcastBody> = {},
): Promise<string> {
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
  return broadcastId;
}

async function broadcastOf(world: BroadcastWorld, id: string): Promise<Broadcast> {
  const b = await world.broadcasts.get(tenantId, id);
  if (!b) throw new Error('no broadcast');
  return b;
}

const message = (broadcastId: string, recipientIds: string[]): { tenantId: string; broadcastId: string; recipientIds: string[] } => ({
  tenantId,
  broadcastId,
  recipientIds,
});

const invocation = (world: BroadcastWorld): { deadline: Date } => ({ deadline: new Date(world.clock.now().getTime() + 60_000) });

describe('deliverBroadcastMessage', () => {
  it('puts the broadcast in the inbox under its own id, posts it to open sockets, emails it, and completes', async () => {
    // Prepare
    const world = aBroadcastWorld({ shards: 1 });
    await world.recipients.put(aRecipient({ id: 'bob', email: 'bob@example.com' }));
    await world.connections.put({ connectionId: 'c1', tenantId, userId: 'bob', connectedAt: '2030-01-01T11:00:00.000Z' }, new Date('2030-01-02'));
    world.sockets.open('c1');
    const id = await fannedOut(world, ['bob']);

    // Act
    const outcome = await deliverBroadcastMessage(world.delivery, message(id, ['bob']), invocation(world));

    // Assess
    expect(outcome).toEqual({ sent: 1, failed: 0, cancelled: 0 });
    expect((await world.inbox.list(tenantId, 'bob')).map((i) => [i.notificationId, i.title, i.message])).toEqual([[id, 'Maintenance', 'Tonight at 2am']]);
    expect(world.sockets.posted.map((p) => (p.payload as { type: string }).type)).toEqual(['inboxChanged', 'notification']);
    expect(world.mailer.sent).toEqual([{ to: 'bob@example.com', subject: 'Maintenance', text: 'Tonight at 2am' }]);
    expect(await broadcastOf(world, id)).toMatchObject({ status: 'completed', counts: { total: 1, sent: 1 } });
  });

  it('honours the recipient switching email off, and does not fail a recipient who is not connected', async () => {
    // Prepare
    const world = aBroadcastWorld({ shards: 1 });
    await world.recipients.put(aRecipient({ id: 'bob', email: 'bob@example.com', channelPreferences: { email: false } }));
    const id = await fannedOut(world, ['bob']);

    // Act
    await deliverBroadcastMessage(world.delivery, message(id, ['bob']), invocation(world));

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
    const [first, second] = await Promise.all([
      deliverBroadcastMessage(world.delivery, message(id, ['a', 'b']), invocation(world)),
      deliverBroadcastMessage(world.delivery, message(id, ['a', 'b']), invocation(world)),
    ]);
    const third = await deliverBroadcastMessage(world.delivery, message(id, ['a', 'b']), invocation(world));

    // Assess
    expect((first?.sent ?? 0) + (second?.sent ?? 0) + third.sent).toBe(2);
    expect(world.mailer.sent).toHaveLength(2);
    expect(world.inbox.addCalls).toBe(2);
    expect(await broadcastOf(world, id)).toMatchObject({ status: 'completed', counts: { sent: 2 } });
  });

  it('fails a recipient no longer in the directory, and the broadcast when nobody got it', async () => {
    // Prepare
    const world = aBroadcastWorld({ shards: 1 });
    const id = await fannedOut(world, ['ghost']);

    // Act
    const outcome = await deliverBroadcastMessage(world.delivery, message(id, ['ghost']), invocation(world));

    // Assess
    expect(outcome.failed).toBe(1);
    expect(world.rows.all(tenantId, id)[0]).toMatchObject({ status: 'failed', lastError: 'Recipient ghost is not in the directory' });
    expect(await broadcastOf(world, id)).toMatchObject({ status: 'failed', lastError: 'Recipient ghost is not in the directory' });
  });

  it('fails a recipient erased while being delivered to (the inbox refuses it)', async () => {
    // Prepare
    const world = aBroadcastWorld({ shards: 1 });
    await world.recipients.put(aRecipient({ id: 'bob' }));
    world.inbox.recipientLeft(tenantId, 'bob');
    const id = await fannedOut(world, ['bob']);

    // Act
    await deliverBroadcastMessage(world.delivery, message(id, ['bob']), invocation(world));

    // Assess
    expect(world.rows.all(tenantId, id)[0]?.status).toBe('failed');
    expect(world.mailer.sent).toEqual([]);
  });

  it('records a permanent email failure on its channel and still counts the recipient sent', async () => {
    // Prepare
    const world = aBroadcastWorld({ shards: 1 });
    await world.recipients.put(aRecipient({ id: 'bob', email: 'bob@example.com' }));
    world.mailer.failures.add(awsError('MessageRejected', 400, 'Address blacklisted'));
    const id = await fannedOut(world, ['bob']);

    // Act
    await deliverBroadcastMessage(world.delivery, message(id, ['bob']), invocation(world));

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
    await deliverBroadcastMessage(world.delivery, message(id, ['bob']), invocation(world));

    // Assess
    expect(world.rows.all(tenantId, id)[0]).toMatchObject({ status: 'failed', lastError: 'Every channel failed (email: MessageRejected: MessageRejected happened)' });
  });

  it('keeps a recipient pending after a transient failure, retries only the failed channel after the backoff, then gives up', async () => {
    // Prepare
    const world = aBroadcastWorld({ shards: 1, retry: { baseSeconds: 10, factor: 2, maxRetries: 1, jitter: 0, capSeconds: 3600 } });
    await world.recipients.put(aRecipient({ id: 'bob', email: 'bob@example.com' }));
    const id = await fannedOut(world, ['bob']);
    world.mailer.failures.add(awsError('Throttling', 400), awsError('ServiceUnavailable', 503));

    // Act
    const first = await deliverBroadcastMessage(world.delivery, message(id, ['bob']), invocation(world));
    const early = await deliverBroadcastMessage(world.delivery, message(id, ['bob']), invocation(world));
    world.clock.advanceSeconds(10);
    const last = await deliverBroadcastMessage(world.delivery, message(id, ['bob']), invocation(world));

    // Assess
    expect(first).toEqual({ sent: 0, failed: 0, cancelled: 0, comeBackInSeconds: 10 });
    expect(early).toEqual({ sent: 0, failed: 0, cancelled: 0, comeBackInSeconds: 10 });
    expect(last.failed).toBe(1);
    const [row] = world.rows.all(tenantId, id);
    expect(row?.lastError).toMatch(/^Gave up after 2 attempts: email: ServiceUnavailable/);
    expect(row?.deliveries.inbox?.status).toBe('sent');
    expect(world.inbox.addCalls).toBe(1);
  });

  it('never sends the email or frame again for a row taken over from a worker that died holding it', async () => {
    // Prepare
    const world = aBroadcastWorld({ shards: 1 });
    await world.recipients.put(aRecipient({ id: 'bob', email: 'bob@example.com' }));
    const id = await fannedOut(world, ['bob']);
    world.rows.patch(tenantId, id, 'bob', { status: 'sending', attempts: 1, leaseUntil: world.clock.now().getTime() - 1 });

    // Act
    const outcome = await deliverBroadcastMessage(world.delivery, message(id, ['bob']), invocation(world));

    // Assess
    expect(outcome.sent).toBe(1);
    const [row] = world.rows.all(tenantId, id);
    expect(row?.deliveries.email?.status).toBe('unconfirmed');
    expect(row?.deliveries.inbox?.status).toBe('sent');
    expect(world.mailer.sent).toEqual([]);
  });

  it('comes back when another worker holds a recipient, in case it dies', async () => {
    // Prepare
    const world = aBroadcastWorld({ shards: 1 });
    await world.recipients.put(aRecipient({ id: 'bob' }));
    const id = await fannedOut(world, ['bob']);
    world.rows.patch(tenantId, id, 'bob', { status: 'sending', leaseUntil: world.clock.now().getTime() + 30_000 });

    // Act
    const outcome = await deliverBroadcastMessage(world.delivery, message(id, ['bob']), invocation(world));

    // Assess
    expect(outcome).toEqual({ sent: 0, failed: 0, cancelled: 0, comeBackInSeconds: 30 });
  });

  it('cancels, and counts once, the recipients of a broadcast cancelled before they were delivered', async () => {
    // Prepare
    const world = aBroadcastWorld({ shards: 1 });
    for (const id of ['a', 'b']) await world.recipients.put(aRecipient({ id }));
    const id = await fannedOut(world, ['a', 'b']);
    await world.broadcasts.cancel(tenantId, id, world.clock.now());

    // Act
    const outcome = await deliverBroadcastMessage(world.delivery, message(id, ['a', 'b']), invocation(world));

    // Assess
    expect(outcome.cancelled).toBe(2);
    expect(await world.inbox.list(tenantId, 'a')).toEqual([]);
    const b = await broadcastOf(world, id);
    expect(b).toMatchObject({ status: 'cancelled', counts: { cancelled: 2, sent: 0 } });
    expect(b.completedAt).toBeDefined();
  });

  it('hands the rows back at once when it fails before sending anything', async () => {
    // Prepare
    const world = aBroadcastWorld({ shards: 1 });
    await world.recipients.put(aRecipient({ id: 'bob', email: 'bob@example.com' }));
    const id = await fannedOut(world, ['bob']);
    world.broadcasts.getFailures.add(awsError('ProvisionedThroughputExceededException', 400));

    // Act
    const failure = await deliverBroadcastMessage(world.delivery, message(id, ['bob']), invocation(world)).catch((e: unknown) => e);
    const retried = await deliverBroadcastMessage(world.delivery, message(id, ['bob']), invocation(world));

    // Assess
    expect(failure).toBeInstanceOf(Error);
    expect(retried.sent).toBe(1);
    expect(world.mailer.sent).toHaveLength(1);
  });
});
