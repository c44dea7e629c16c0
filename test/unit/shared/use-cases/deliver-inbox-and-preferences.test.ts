/**
 * What delivery does for the inbox and for the recipient's own channel switches: the unread count
 * reaches every connection of the recipient when an item is added (and only then), a channel the
 * recipient switched off is skipped, and an erasure that wins the race leaves no inbox item.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Notification } from '../../../../shared/domain/notification.ts';
import type { ChannelPreferences } from '../../../../shared/domain/recipient.ts';
import { defaultRetryPolicy } from '../../../../shared/domain/retry-policy.ts';
import { logger } from '../../../../shared/observability/logger.ts';
import { deliverNotification } from '../../../../shared/use-cases/deliver-notification.ts';
import type { DeliveryDeps } from '../../../../shared/use-cases/deliver-notification.ts';
import {
  FakeClock,
  FakeMailer,
  FakeSocketPoster,
  InMemoryConnectionStore,
  InMemoryInboxStore,
  InMemoryNotificationStore,
  InMemoryRecipientStore,
} from '../../fakes/index.ts';
import { aNotification, aRecipient, tenantId } from '../../fakes/fixtures.ts';

beforeAll(() => {
  logger.setLogLevel('SILENT');
});

const noon = '2030-01-01T12:00:00.000Z';

interface World {
  deps: DeliveryDeps;
  inbox: InMemoryInboxStore;
  sockets: FakeSocketPoster;
  mailer: FakeMailer;
  notifications: InMemoryNotificationStore;
  deliver: (n: Notification) => ReturnType<typeof deliverNotification>;
}

/** Bob with an address and two open sockets, and his own switches. */
async function aWorld(channelPreferences?: ChannelPreferences): Promise<World> {
  const notifications = new InMemoryNotificationStore();
  const recipients = new InMemoryRecipientStore();
  const inbox = new InMemoryInboxStore();
  const connections = new InMemoryConnectionStore();
  const sockets = new FakeSocketPoster();
  const mailer = new FakeMailer();
  await recipients.put(aRecipient({ id: 'bob', ...(channelPreferences ? { channelPreferences } : {}) }));
  for (const connectionId of ['conn-1', 'conn-2']) {
    await connections.put({ connectionId, tenantId, userId: 'bob', connectedAt: noon }, new Date('2030-01-01T14:00:00Z'));
  }
  sockets.open('conn-1', 'conn-2');
  const deps: DeliveryDeps = {
    notifications,
    recipients,
    inbox,
    connections,
    sockets,
    mailer,
    clock: new FakeClock(noon),
    settings: { leaseSeconds: 60, sentRetentionDays: 90, retry: { ...defaultRetryPolicy, jitter: 0 } },
  };
  return {
    deps,
    inbox,
    sockets,
    mailer,
    notifications,
    deliver: (n) => {
      if (!notifications.all().some((stored) => stored.id === n.id)) notifications.seed(n);
      return deliverNotification(deps, { tenantId, notificationId: n.id });
    },
  };
}

function frames(world: World, type: string): { connectionId: string; payload: unknown }[] {
  return world.sockets.posted.filter((p) => (p.payload as { type?: string }).type === type);
}

describe('delivery and the inbox', () => {
  it('tells every connection of the recipient the new unread count when it adds an item', async () => {
    // Prepare
    const world = await aWorld();
    await world.deliver(aNotification({ scheduledAt: noon, channels: ['inbox'] }));

    // Act
    await world.deliver(aNotification({ scheduledAt: noon, channels: ['inbox'] }));

    // Assess
    expect(frames(world, 'inboxChanged')).toEqual([
      { connectionId: 'conn-1', payload: { type: 'inboxChanged', unread: 1 } },
      { connectionId: 'conn-2', payload: { type: 'inboxChanged', unread: 1 } },
      { connectionId: 'conn-1', payload: { type: 'inboxChanged', unread: 2 } },
      { connectionId: 'conn-2', payload: { type: 'inboxChanged', unread: 2 } },
    ]);
  });

  it('tells nobody anything when a repeated delivery adds nothing', async () => {
    // Prepare
    const world = await aWorld();
    const n = aNotification({ scheduledAt: noon, channels: ['inbox'] });
    await world.inbox.add({
      tenantId,
      recipientId: 'bob',
      notificationId: n.id,
      title: n.title,
      message: n.message,
      type: n.type,
      priority: n.priority,
      createdAt: n.createdAt,
      deliveredAt: noon,
    });

    // Act
    const outcome = await world.deliver(n);

    // Assess
    expect(outcome).toEqual({ kind: 'done', status: 'sent' });
    expect(frames(world, 'inboxChanged')).toEqual([]);
    expect(await world.inbox.unreadCount(tenantId, 'bob')).toBe(1);
  });

  it('still delivers when the unread count cannot be told', async () => {
    // Prepare
    const world = await aWorld();
    world.sockets.failures.add(new Error('throttled'), new Error('throttled'));

    // Act
    const outcome = await world.deliver(aNotification({ scheduledAt: noon, channels: ['inbox'] }));

    // Assess
    expect(outcome).toEqual({ kind: 'done', status: 'sent' });
    expect(await world.inbox.unreadCount(tenantId, 'bob')).toBe(1);
  });

  it('fails, adding nothing, when the recipient was erased after the delivery loaded them', async () => {
    // Prepare
    const world = await aWorld();
    world.inbox.recipientLeft(tenantId, 'bob');
    const n = aNotification({ scheduledAt: noon });

    // Act
    const outcome = await world.deliver(n);

    // Assess
    expect(outcome).toEqual({ kind: 'done', status: 'failed' });
    expect(await world.inbox.list(tenantId, 'bob')).toEqual([]);
    expect(world.sockets.posted).toEqual([]);
    expect(world.mailer.sent).toEqual([]);
    expect((await world.notifications.get(tenantId, n.id))?.lastError).toContain('no longer in the directory');
  });
});

describe('delivery and the recipient channel switches', () => {
  it('skips email switched off, sending no mail, and still fills the inbox and the sockets', async () => {
    // Prepare
    const world = await aWorld({ email: false });
    const n = aNotification({ scheduledAt: noon });

    // Act
    const outcome = await world.deliver(n);

    // Assess
    expect(outcome).toEqual({ kind: 'done', status: 'sent' });
    expect(world.mailer.sent).toEqual([]);
    const stored = await world.notifications.get(tenantId, n.id);
    expect(stored?.deliveries.email).toEqual({ status: 'skipped', at: noon, detail: 'disabled by preference' });
    expect(stored?.deliveries.inbox?.status).toBe('sent');
    expect(stored?.deliveries.websocket?.status).toBe('sent');
  });

  it('skips the WebSocket switched off, posting no notification frame', async () => {
    // Prepare
    const world = await aWorld({ websocket: false });
    const n = aNotification({ scheduledAt: noon });

    // Act
    await world.deliver(n);

    // Assess
    expect(frames(world, 'notification')).toEqual([]);
    expect((await world.notifications.get(tenantId, n.id))?.deliveries.websocket).toEqual({ status: 'skipped', at: noon, detail: 'disabled by preference' });
    expect(world.mailer.sent).toHaveLength(1);
  });

  it('ends sent, not failed, when every channel it names is switched off (skipped is no failure)', async () => {
    // Prepare
    const world = await aWorld({ websocket: false, email: false });
    const n = aNotification({ scheduledAt: noon, channels: ['websocket', 'email'] });

    // Act
    const outcome = await world.deliver(n);

    // Assess
    expect(outcome).toEqual({ kind: 'done', status: 'sent' });
    expect(world.sockets.posted).toEqual([]);
    expect(world.mailer.sent).toEqual([]);
  });
});
