/**
 * What the delivery engine does for the inbox and for the recipient's own channel switches: the
 * unread count reaches every connection of the recipient when an item is added (in the
 * notification frame, or in an `inboxChanged` frame when no frame carried it or it moved), a
 * channel the recipient switched off is skipped, and an erasure that wins the race leaves no
 * inbox item. (Ported from the tests of the deleted deliverNotification use case.)
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { UnitRef } from '../../../../shared/domain/delivery.ts';
import type { Notification } from '../../../../shared/domain/notification.ts';
import type { ChannelPreferences } from '../../../../shared/domain/recipient.ts';
import { logger } from '../../../../shared/observability/logger.ts';
import { aDeliveryWorld } from '../../fakes/index.ts';
import type { DeliveryWorld } from '../../fakes/index.ts';
import { aNotification, aRecipient, tenantId } from '../../fakes/fixtures.ts';
import { pendingVerification } from '../../../../shared/domain/contact-verification.ts';

beforeAll(() => {
  logger.setLogLevel('SILENT');
});

const noon = '2030-01-01T12:00:00.000Z';

interface World extends DeliveryWorld {
  /** Seeds `n` (once) and delivers it alone. */
  deliverNotification(n: Notification): ReturnType<DeliveryWorld['deliverOne']>;
  frames(type: string): { connectionId: string; payload: unknown }[];
}

function refOf(n: Notification): UnitRef {
  return { kind: 'notification', tenantId, notificationId: n.id };
}

/** Bob with an address and two open sockets, and his own switches. */
async function aWorld(channelPreferences?: ChannelPreferences): Promise<World> {
  const world = aDeliveryWorld({ start: noon });
  await world.recipients.put(aRecipient({ id: 'bob', ...(channelPreferences ? { channelPreferences } : {}) }));
  for (const connectionId of ['conn-1', 'conn-2']) await world.live.connect(tenantId, 'bob', { connectionId, connectedAt: noon });
  world.sockets.open('conn-1', 'conn-2');
  return {
    ...world,
    deliverNotification: (n) => {
      if (!world.notifications.all().some((stored) => stored.id === n.id)) world.notifications.seed(n);
      return world.deliverOne(refOf(n));
    },
    frames: (type) => world.sockets.posted.filter((p) => (p.payload as { type?: string }).type === type),
  };
}

/** The unread count and version a frame carries. */
function countIn(payload: unknown): { unread?: number; unreadVersion?: number } {
  const { unread, unreadVersion } = payload as { unread?: number; unreadVersion?: number };
  return { unread, unreadVersion };
}

function inboxItemOf(n: Notification): Parameters<DeliveryWorld['inbox']['add']>[0] {
  return { tenantId, recipientId: 'bob', notificationId: n.id, title: n.title, message: n.message, type: n.type, priority: n.priority, createdAt: n.createdAt, deliveredAt: noon };
}

describe('delivery and the inbox', () => {
  it('tells every connection of the recipient the new unread count when it adds an item no frame announced', async () => {
    // Prepare: inbox-only notifications, so no notification frame carries the count
    const world = await aWorld();
    await world.deliverNotification(aNotification({ scheduledAt: noon, channels: ['inbox'] }));

    // Act
    await world.deliverNotification(aNotification({ scheduledAt: noon, channels: ['inbox'] }));

    // Assess
    expect(world.frames('inboxChanged')).toEqual([
      { connectionId: 'conn-1', payload: { type: 'inboxChanged', unread: 1, unreadVersion: 1 } },
      { connectionId: 'conn-2', payload: { type: 'inboxChanged', unread: 1, unreadVersion: 1 } },
      { connectionId: 'conn-1', payload: { type: 'inboxChanged', unread: 2, unreadVersion: 2 } },
      { connectionId: 'conn-2', payload: { type: 'inboxChanged', unread: 2, unreadVersion: 2 } },
    ]);
    expect(world.frames('notification')).toEqual([]);
  });

  it('forgets a connection that answers the inboxChanged frame with 410, so it no longer holds one of the user\'s places', async () => {
    // Prepare: conn-2 closed at the gateway, its $disconnect lost: still recorded, and counted against the limit
    const world = await aWorld();
    await world.sockets.disconnect('conn-2');

    // Act: an inbox-only delivery, whose count only an inboxChanged frame tells
    await world.deliverNotification(aNotification({ scheduledAt: noon, channels: ['inbox'] }));

    // Assess
    expect(world.frames('inboxChanged').map((f) => f.connectionId)).toEqual(['conn-1']);
    expect(world.live.connectionIds(tenantId, 'bob')).toEqual(['conn-1']);
  });

  it('carries the new count in the notification frame and posts no inboxChanged frame', async () => {
    // Prepare
    const world = await aWorld();
    world.inbox.setUnread(tenantId, 'bob', 4, 9);

    // Act
    await world.deliverNotification(aNotification({ scheduledAt: noon, channels: ['inbox', 'websocket'] }));

    // Assess: the frame carries the count and the version the write made
    expect(world.frames('notification').map((f) => [f.connectionId, countIn(f.payload)])).toEqual([
      ['conn-1', { unread: 5, unreadVersion: 10 }],
      ['conn-2', { unread: 5, unreadVersion: 10 }],
    ]);
    expect(world.frames('inboxChanged')).toEqual([]);
    expect(await world.inbox.unreadCount(tenantId, 'bob')).toEqual({ unread: 5, unreadVersion: 10 });
  });

  it('tells nobody anything when a repeated delivery adds nothing', async () => {
    // Prepare
    const world = await aWorld();
    const n = aNotification({ scheduledAt: noon, channels: ['inbox'] });
    await world.inbox.add(inboxItemOf(n));

    // Act
    const outcome = await world.deliverNotification(n);

    // Assess
    expect(outcome).toEqual({ kind: 'done', status: 'sent' });
    expect(world.frames('inboxChanged')).toEqual([]);
    expect(await world.inbox.unreadCount(tenantId, 'bob')).toEqual({ unread: 1, unreadVersion: 1 });
    expect((await world.notifications.get(tenantId, n.id))?.deliveries.inbox).toEqual({ status: 'sent', at: noon, detail: 'already in the inbox' });
  });

  it('corrects the count a frame announced when the item was in the inbox already, with a newer version than the frame\'s', async () => {
    // Prepare: the frame will announce 2 (version 2), but the item is there and the count stays 1
    const world = await aWorld();
    const n = aNotification({ scheduledAt: noon, channels: ['inbox', 'websocket'] });
    await world.inbox.add(inboxItemOf(n));

    // Act
    await world.deliverNotification(n);

    // Assess: the write raised the version past the frame's, so a client keeps the correction
    // whichever of the two frames reaches it first
    expect(world.frames('notification').map((f) => countIn(f.payload))).toEqual([
      { unread: 2, unreadVersion: 2 },
      { unread: 2, unreadVersion: 2 },
    ]);
    expect(world.frames('inboxChanged').map((f) => f.payload)).toEqual([
      { type: 'inboxChanged', unread: 1, unreadVersion: 3 },
      { type: 'inboxChanged', unread: 1, unreadVersion: 3 },
    ]);
    expect(await world.inbox.unreadCount(tenantId, 'bob')).toEqual({ unread: 1, unreadVersion: 3 });
  });

  it('adds the item anyway and tells the count the refused write found, without reading it, when a read moved it between the frame and the write', async () => {
    // Prepare: bob has one unread item; the frame announces 2; he reads the old item meanwhile.
    // A read of the count would fail: the count told must come from the refusal itself.
    const world = await aWorld();
    const old = aNotification({ scheduledAt: noon, channels: ['inbox'] });
    await world.inbox.add(inboxItemOf(old));
    const n = aNotification({ scheduledAt: noon, channels: ['inbox', 'websocket'] });
    world.store.beforeCommit = async () => {
      await world.inbox.markRead(tenantId, 'bob', old.id, world.clock.now(), new Date('2030-02-01T00:00:00Z'));
    };
    world.live.getFailures.add(new Error('DynamoDB is unreachable'));

    // Act
    const outcome = await world.deliverNotification(n);

    // Assess
    expect(outcome).toEqual({ kind: 'done', status: 'sent' });
    // The frame announced version 2; the read made version 2 too (count 0); the write, on what the
    // refusal found, made version 3, which the correction carries.
    expect(world.frames('notification').map((f) => countIn(f.payload))).toEqual([
      { unread: 2, unreadVersion: 2 },
      { unread: 2, unreadVersion: 2 },
    ]);
    expect(world.frames('inboxChanged').map((f) => f.payload)).toEqual([
      { type: 'inboxChanged', unread: 1, unreadVersion: 3 },
      { type: 'inboxChanged', unread: 1, unreadVersion: 3 },
    ]);
    expect(await world.inbox.unreadCount(tenantId, 'bob')).toEqual({ unread: 1, unreadVersion: 3 });
    expect(world.store.commitCalls).toBe(2);
    // The refusal was answered: the adjusted write goes again at once, with no backoff.
    expect(world.sleeps).toEqual([]);
  });

  it('delivers two notifications of one recipient in one batch one after the other, each frame with its exact count', async () => {
    // Prepare
    const world = await aWorld();
    const first = aNotification({ scheduledAt: noon, channels: ['inbox', 'websocket'] });
    const second = aNotification({ scheduledAt: noon, channels: ['inbox', 'websocket'] });
    world.notifications.seed(first);
    world.notifications.seed(second);

    // Act
    const outcomes = await world.deliver(refOf(first), refOf(second));

    // Assess: two rounds, one claim each, so the counter moves one item at a time
    expect([...outcomes.values()]).toEqual([
      { kind: 'done', status: 'sent' },
      { kind: 'done', status: 'sent' },
    ]);
    expect(world.store.claimsWritten.map((units) => units.length)).toEqual([1, 1]);
    expect(world.frames('notification').map((f) => [f.connectionId, countIn(f.payload)])).toEqual([
      ['conn-1', { unread: 1, unreadVersion: 1 }],
      ['conn-2', { unread: 1, unreadVersion: 1 }],
      ['conn-1', { unread: 2, unreadVersion: 2 }],
      ['conn-2', { unread: 2, unreadVersion: 2 }],
    ]);
    expect(world.frames('inboxChanged')).toEqual([]);
    expect(await world.inbox.unreadCount(tenantId, 'bob')).toEqual({ unread: 2, unreadVersion: 2 });
  });

  it('sends the second round back to the queue, unclaimed, when the first took more than half the time left', async () => {
    // Prepare: the invocation has 10 s; bob's first round takes 6 s (its write is slow)
    const world = await aWorld();
    const first = aNotification({ scheduledAt: noon, channels: ['inbox', 'websocket'] });
    const second = aNotification({ scheduledAt: noon, channels: ['inbox', 'websocket'] });
    world.notifications.seed(first);
    world.notifications.seed(second);
    world.store.beforeCommit = () => world.clock.advanceSeconds(6);

    // Act
    const outcomes = await world.deliver(refOf(first), refOf(second));

    // Assess: the first delivered; the second comes back at once, never claimed, still pending
    expect([...outcomes.values()]).toEqual([
      { kind: 'done', status: 'sent' },
      { kind: 'later', at: new Date(noon).getTime() + 6_000, cause: 'deadline', reason: 'the invocation ran short of time' },
    ]);
    expect(world.store.claimsWritten.map((units) => units.length)).toEqual([1]);
    expect(world.notifications.all().find((n) => n.id === second.id)?.status).toBe('pending');
    expect(world.frames('notification')).toHaveLength(2);
  });

  it('claims the notifications of different recipients in one batch together', async () => {
    // Prepare
    const world = await aWorld();
    await world.recipients.put(aRecipient({ id: 'carol' }));
    const forBob = aNotification({ scheduledAt: noon, channels: ['inbox'] });
    const forCarol = aNotification({ scheduledAt: noon, channels: ['inbox'], recipientId: 'carol' });
    world.notifications.seed(forBob);
    world.notifications.seed(forCarol);

    // Act
    await world.deliver(refOf(forBob), refOf(forCarol));

    // Assess
    expect(world.store.claimsWritten.map((units) => units.length)).toEqual([2]);
    expect(world.store.commitCalls).toBe(1);
    expect((await world.inbox.unreadCount(tenantId, 'carol')).unread).toBe(1);
  });

  it('still delivers when the unread count cannot be told', async () => {
    // Prepare
    const world = await aWorld();
    world.sockets.failures.add(new Error('throttled'), new Error('throttled'));

    // Act
    const outcome = await world.deliverNotification(aNotification({ scheduledAt: noon, channels: ['inbox'] }));

    // Assess
    expect(outcome).toEqual({ kind: 'done', status: 'sent' });
    expect((await world.inbox.unreadCount(tenantId, 'bob')).unread).toBe(1);
  });

  it('writes without the condition when the count moves again, and still delivers when that count cannot be read to be told', async () => {
    // Prepare: the count moves before the write (bob reads his old item), and again before the
    // write on the count that refusal found (another item lands); the read that would tell it fails
    const world = await aWorld();
    const old = aNotification({ scheduledAt: noon, channels: ['inbox'] });
    const other = aNotification({ scheduledAt: noon, channels: ['inbox'] });
    await world.inbox.add(inboxItemOf(old));
    world.store.beforeCommit = async () => {
      await world.inbox.markRead(tenantId, 'bob', old.id, world.clock.now(), new Date('2030-02-01T00:00:00Z'));
      world.store.beforeCommit = async () => {
        await world.inbox.add(inboxItemOf(other));
      };
    };
    world.live.getFailures.add(new Error('DynamoDB is unreachable'));

    // Act
    const outcome = await world.deliverNotification(aNotification({ scheduledAt: noon, channels: ['inbox', 'websocket'] }));

    // Assess: three writes (announced count, found count, no condition), no count told
    expect(outcome).toEqual({ kind: 'done', status: 'sent' });
    expect(world.store.commitCalls).toBe(3);
    expect(world.frames('inboxChanged')).toEqual([]);
    expect(await world.inbox.unreadCount(tenantId, 'bob')).toEqual({ unread: 2, unreadVersion: 4 });
  });

  it('fails, adding nothing to the inbox, when the recipient was erased between the claim and the write', async () => {
    // Prepare: the erasure lands after the sends (which cannot be taken back), before the write
    const world = await aWorld();
    const n = aNotification({ scheduledAt: noon });
    world.store.beforeCommit = () => {
      world.recipients.delete(tenantId, 'bob');
    };

    // Act
    const outcome = await world.deliverNotification(n);

    // Assess
    expect(outcome).toEqual({ kind: 'done', status: 'failed' });
    expect(await world.inbox.list(tenantId, 'bob')).toEqual([]);
    const stored = await world.notifications.get(tenantId, n.id);
    expect(stored).toMatchObject({ status: 'failed', lastError: 'Recipient bob no longer exists' });
    expect(stored?.deliveries.inbox).toMatchObject({ status: 'failed', error: 'Recipient bob no longer exists' });
    expect(world.frames('inboxChanged')).toEqual([]);
  });
});

describe('delivery to an address its owner has not confirmed', () => {
  it('skips the e-mail with detail "address not verified", and sends it once the address is confirmed', async () => {
    // Prepare: bob set victim@example.org himself (PATCH /v1/me) and never confirmed it
    const world = await aWorld();
    const pending = pendingVerification({ tenantId, id: 'bob' }, 'email', 'victim@example.org', '123456', new Date(noon));
    await world.recipients.put(aRecipient({ id: 'bob', email: 'victim@example.org', pendingVerifications: { email: pending } }));
    const before = aNotification({ scheduledAt: noon, channels: ['inbox', 'email'] });

    // Act
    await world.deliverNotification(before);
    await world.recipients.put(aRecipient({ id: 'bob', email: 'victim@example.org' }));
    const after = aNotification({ scheduledAt: noon, channels: ['email'] });
    await world.deliverNotification(after);

    // Assess
    expect((await world.notifications.get(tenantId, before.id))?.deliveries.email).toEqual({ status: 'skipped', at: noon, detail: 'address not verified' });
    expect(world.mailer.sent.map((mail) => mail.to)).toEqual(['victim@example.org']);
    expect((await world.notifications.get(tenantId, after.id))?.deliveries.email?.status).toBe('sent');
  });
});

describe('delivery and the recipient channel switches', () => {
  it('skips email switched off, sending no mail, and still fills the inbox and the sockets', async () => {
    // Prepare
    const world = await aWorld({ email: false });
    const n = aNotification({ scheduledAt: noon });

    // Act
    const outcome = await world.deliverNotification(n);

    // Assess
    expect(outcome).toEqual({ kind: 'done', status: 'sent' });
    expect(world.mailer.sent).toEqual([]);
    const stored = await world.notifications.get(tenantId, n.id);
    expect(stored?.deliveries.email).toEqual({ status: 'skipped', at: noon, detail: 'disabled by preference' });
    expect(stored?.deliveries.inbox?.status).toBe('sent');
    expect(stored?.deliveries.websocket?.status).toBe('sent');
  });

  it('skips the WebSocket switched off, posting no notification frame, and tells the count in an inboxChanged frame', async () => {
    // Prepare
    const world = await aWorld({ websocket: false });
    const n = aNotification({ scheduledAt: noon });

    // Act
    await world.deliverNotification(n);

    // Assess
    expect(world.frames('notification')).toEqual([]);
    expect(world.frames('inboxChanged').map((f) => f.payload)).toEqual([
      { type: 'inboxChanged', unread: 1, unreadVersion: 1 },
      { type: 'inboxChanged', unread: 1, unreadVersion: 1 },
    ]);
    expect((await world.notifications.get(tenantId, n.id))?.deliveries.websocket).toEqual({ status: 'skipped', at: noon, detail: 'disabled by preference' });
    expect(world.mailer.sent).toHaveLength(1);
  });

  it('ends failed as unreachable, not sent, when every channel it names is switched off', async () => {
    // Prepare
    const world = await aWorld({ websocket: false, email: false });
    const n = aNotification({ scheduledAt: noon, channels: ['websocket', 'email'] });

    // Act
    const outcome = await world.deliverNotification(n);

    // Assess
    expect(outcome).toEqual({ kind: 'done', status: 'failed' });
    expect(await world.notifications.get(tenantId, n.id)).toMatchObject({
      status: 'failed',
      lastError: 'Nothing to deliver it to (websocket: skipped, disabled by preference; email: skipped, disabled by preference)',
      lastErrorCategory: 'unreachable',
    });
    expect(world.sockets.posted).toEqual([]);
    expect(world.mailer.sent).toEqual([]);
  });
});
