/**
 * deliverMessages: a batch of queue messages through the one engine, and what each message
 * must do next: come back (grouped by instant), be done, or be dead-lettered.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { UnitRef } from '../../../../shared/domain/delivery.ts';
import type { Notification } from '../../../../shared/domain/notification.ts';
import { defaultRetryPolicy } from '../../../../shared/domain/retry-policy.ts';
import { logger } from '../../../../shared/observability/logger.ts';
import { aDeliveryWorld } from '../../fakes/index.ts';
import type { DeliveryWorld } from '../../fakes/index.ts';
import { aNotification, aRecipient, awsError, tenantId } from '../../fakes/fixtures.ts';

beforeAll(() => {
  logger.setLogLevel('SILENT');
});

const noon = '2030-01-01T12:00:00.000Z';
const t = Date.parse(noon);
const at = (seconds: number): string => new Date(t + seconds * 1000).toISOString();

async function aWorld(retry = { ...defaultRetryPolicy, jitter: 0 }): Promise<DeliveryWorld> {
  const world = aDeliveryWorld({ start: noon, retry });
  await world.recipients.put(aRecipient({ id: 'bob', email: 'bob@example.com' }));
  return world;
}

function seeded(world: DeliveryWorld, overrides: Partial<Notification> = {}): UnitRef {
  const n = aNotification({ scheduledAt: noon, channels: ['inbox'], ...overrides });
  world.notifications.seed(n);
  return { kind: 'notification', tenantId, notificationId: n.id, recipientId: n.recipientId };
}

describe('deliverMessages', () => {
  it('puts a message that came early back as it is, without reading anything', async () => {
    // Prepare: a schedule fired a minute ahead on purpose
    const world = await aWorld();
    const ref = seeded(world, { scheduledAt: at(60) });

    // Act
    const [result] = await world.deliverMessages([{ refs: [ref], notBefore: t + 60_000 }]);

    // Assess
    expect(result).toEqual({ later: [{ at: t + 60_000, refs: [ref] }], deadLetters: [] });
    expect(world.store.loadCalls).toBe(0);
  });

  it('delivers a message due within the hold, waiting for its instant', async () => {
    // Prepare: due in 1.5 s; the hold is 2 s
    const world = await aWorld();
    const ref = seeded(world, { scheduledAt: at(1.5) });

    // Act
    const [result] = await world.deliverMessages([{ refs: [ref], notBefore: t + 1_500 }]);

    // Assess
    expect(result).toEqual({ later: [], deadLetters: [] });
    expect(world.sleeps).toEqual([1_500]);
    expect(await world.inbox.unreadCount(tenantId, 'bob')).toEqual({ unread: 1, unreadVersion: 1 });
  });

  it('is done with a notification rescheduled later than the message naming it: its new schedule delivers it', async () => {
    // Prepare: the message was for noon; the notification now goes out at 13:00
    const world = await aWorld();
    const ref = seeded(world, { scheduledAt: at(3_600) });

    // Act
    const [result] = await world.deliverMessages([{ refs: [ref], notBefore: t }]);

    // Assess
    expect(result).toEqual({ later: [], deadLetters: [] });
    expect(world.store.claimCalls).toBe(0);
  });

  it('brings back a notification not yet due when the message says nothing of its time (a sweep\'s, a redrive)', async () => {
    // Prepare
    const world = await aWorld();
    const ref = seeded(world, { scheduledAt: at(3_600) });

    // Act
    const [result] = await world.deliverMessages([{ refs: [ref] }]);

    // Assess
    expect(result).toEqual({ later: [{ at: t + 3_600_000, refs: [ref] }], deadLetters: [] });
  });

  it('brings back a retry due just after the message\'s time, within the tolerance of a reschedule', async () => {
    // Prepare: released for a retry 0.5 s after the message's instant
    const world = await aWorld();
    const ref = seeded(world, { nextAttemptAt: at(2.5), attempts: 1 });

    // Act
    const [result] = await world.deliverMessages([{ refs: [ref], notBefore: t + 2_000 }]);

    // Assess: the message is held (within the hold), the unit not yet due: it comes back at its retry
    expect(result?.later).toEqual([{ at: t + 2_500, refs: [ref] }]);
  });

  it('groups what must come back by instant, one group per instant, naming only those units', async () => {
    // Prepare
    const world = await aWorld();
    const now = seeded(world);
    const inAMinute = [seeded(world, { scheduledAt: at(60) }), seeded(world, { scheduledAt: at(60) })];
    const inAnHour = seeded(world, { scheduledAt: at(3_600) });

    // Act
    const [result] = await world.deliverMessages([{ refs: [now, ...inAMinute, inAnHour] }]);

    // Assess
    expect(result).toEqual({
      later: [
        { at: t + 60_000, refs: inAMinute },
        { at: t + 3_600_000, refs: [inAnHour] },
      ],
      deadLetters: [],
    });
  });

  it('answers each message of a batch in order, delivering a unit two messages name once', async () => {
    // Prepare
    const world = await aWorld();
    const shared = seeded(world);
    const early = seeded(world, { scheduledAt: at(600) });

    // Act
    const results = await world.deliverMessages([{ refs: [shared] }, { refs: [early], notBefore: t + 600_000 }, { refs: [shared] }]);

    // Assess
    expect(results).toEqual([
      { later: [], deadLetters: [] },
      { later: [{ at: t + 600_000, refs: [early] }], deadLetters: [] },
      { later: [], deadLetters: [] },
    ]);
    expect(world.store.loadCalls).toBe(1);
    expect(await world.inbox.unreadCount(tenantId, 'bob')).toEqual({ unread: 1, unreadVersion: 1 });
  });

  it('names the units that failed after their last retry, with why and after how many attempts', async () => {
    // Prepare
    const world = await aWorld({ ...defaultRetryPolicy, maxRetries: 0, jitter: 0 });
    const ref = seeded(world, { channels: ['email'] });
    world.mailer.failures.add(awsError('ServiceUnavailable', 503, 'try later'));

    // Act
    const [result] = await world.deliverMessages([{ refs: [ref] }]);

    // Assess: the channel that was to be tried again has failed, and says why
    expect(result).toEqual({ later: [], deadLetters: [{ ref, reason: 'Gave up after 1 attempts: email: ServiceUnavailable: try later', attempts: 1 }] });
    const stored = await world.notifications.get(tenantId, ref.kind === 'notification' ? ref.notificationId : '');
    expect(stored).toMatchObject({ status: 'failed', deliveries: { email: { status: 'failed', error: 'ServiceUnavailable: try later' } } });
  });

  it('does not dead-letter a unit that failed for good on its first attempt (nothing to retry)', async () => {
    // Prepare
    const world = await aWorld();
    const ref = seeded(world, { channels: ['email'] });
    world.mailer.failures.add(awsError('MessageRejected', 400, 'no'));

    // Act
    const [result] = await world.deliverMessages([{ refs: [ref] }]);

    // Assess
    expect(result).toEqual({ later: [], deadLetters: [] });
  });

  it('is done with a unit that no longer exists', async () => {
    // Prepare
    const world = await aWorld();
    const ref: UnitRef = { kind: 'notification', tenantId, notificationId: 'ntf_00000000000000000000000000' };

    // Act
    const [result] = await world.deliverMessages([{ refs: [ref] }]);

    // Assess
    expect(result).toEqual({ later: [], deadLetters: [] });
  });

  it('fails a message one of whose units could not be written, after naming its dead letters, and leaves the other messages alone', async () => {
    // Prepare: carol is in her quiet hours, and her hold's write throws; bob's unit fails for good after its last retry
    const world = await aWorld({ ...defaultRetryPolicy, maxRetries: 0, jitter: 0 });
    await world.recipients.put(aRecipient({ id: 'carol', timezone: 'UTC', quietHours: { start: '11:00', end: '13:00' } }));
    const held = seeded(world, { recipientId: 'carol', priority: 'normal' });
    const lost = seeded(world, { channels: ['email'] });
    const later = seeded(world, { scheduledAt: at(30) });
    world.mailer.failures.add(awsError('ServiceUnavailable', 503, 'try later'));
    const throttled = awsError('ThrottlingException', 400, 'Rate exceeded');
    world.store.unitWriteFailures.add(throttled);

    // Act
    const [failed, other] = await world.deliverMessages([{ refs: [held, lost, later] }, { refs: [later] }]);

    // Assess: the first message fails (for carol), naming its dead letter and what must come back on its own
    expect(failed).toEqual({
      later: [{ at: t + 30_000, refs: [later] }],
      deadLetters: [{ ref: lost, reason: 'Gave up after 1 attempts: email: ServiceUnavailable: try later', attempts: 1 }],
      error: throttled,
    });
    expect(other).toEqual({ later: [{ at: t + 30_000, refs: [later] }], deadLetters: [] });
  });

  it('names a unit held beside one whose hold failed, so that it comes back on its own at the end of the quiet hours', async () => {
    // Prepare: carol and dave are in their quiet hours until 13:00; carol's hold throws, dave's lands
    const world = await aWorld();
    const quiet = { timezone: 'UTC', quietHours: { start: '11:00', end: '13:00' } };
    await world.recipients.put(aRecipient({ id: 'carol', ...quiet }));
    await world.recipients.put(aRecipient({ id: 'dave', ...quiet }));
    const carol = seeded(world, { recipientId: 'carol' });
    const dave = seeded(world, { recipientId: 'dave' });
    world.store.unitWriteFailures.add(awsError('ThrottlingException', 400, 'Rate exceeded'));

    // Act
    const [result] = await world.deliverMessages([{ refs: [carol, dave], notBefore: t }]);

    // Assess: dave comes back at 13:00 on his own (the failed message, back, would find him moved on)
    expect(result).toMatchObject({ later: [{ at: Date.parse('2030-01-01T13:00:00.000Z'), refs: [dave] }], deadLetters: [] });
    expect(result?.error).toBeDefined();
  });

  it('throws when the batch cannot be read, so the consumer retries every message after the backoff', async () => {
    // Prepare
    const world = await aWorld();
    world.store.loadFailures.add(new Error('DynamoDB is unreachable'));

    // Act
    const delivering = world.deliverMessages([{ refs: [seeded(world)] }]);

    // Assess
    await expect(delivering).rejects.toThrow('DynamoDB is unreachable');
  });
});
