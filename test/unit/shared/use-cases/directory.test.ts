import { switchableChannels } from '../../../../shared/domain/recipient.ts';
import { describe, expect, it, vi } from 'vitest';
import type { Caller } from '../../../../shared/domain/caller.ts';
import { encodeCursor } from '../../../../shared/domain/page-cursor.ts';
import { ForbiddenError, NotFoundError, ServiceUnavailableError, ValidationError } from '../../../../shared/errors.ts';
import type { PushDevice, WebPushSubscription } from '../../../../shared/domain/push-targets.ts';
import type { MobileEndpoint } from '../../../../shared/ports.ts';
import { eraseRecipient, listRecipients, upsertRecipients } from '../../../../shared/use-cases/recipients.ts';
import type { ErasureDeps } from '../../../../shared/use-cases/recipients.ts';
import {
  FakeClock,
  FakeDeliveryScheduler,
  FakeSocketPoster,
  InMemoryInboxStore,
  InMemoryLiveStateStore,
  InMemoryNotificationStore,
  InMemoryPushSubscriptionOwners,
  InMemoryRecipientStore,
} from '../../fakes/index.ts';
import { aNotification, aRecipient, admin, plainUser, sender, tenantId } from '../../fakes/fixtures.ts';

interface World {
  deps: ErasureDeps;
  recipients: InMemoryRecipientStore;
  inbox: InMemoryInboxStore;
  live: InMemoryLiveStateStore;
  notifications: InMemoryNotificationStore;
  scheduler: FakeDeliveryScheduler;
  sockets: FakeSocketPoster;
  /** The SNS endpoints deleted, in order; `failDeletes` makes each delete fail. */
  deletedEndpoints: string[];
  failDeletes: { on: boolean };
  /** The `CustomUserData` of an SNS endpoint, by ARN (none: no user data). */
  endpointUserData: Map<string, string>;
  /** Whose each browser subscription is. */
  subscriptionOwners: InMemoryPushSubscriptionOwners;
}

function aWorld(): World {
  const recipients = new InMemoryRecipientStore();
  const inbox = new InMemoryInboxStore();
  // Connections live on the inbox's counter item, so they go with the inbox.
  const live = new InMemoryLiveStateStore(inbox);
  const notifications = new InMemoryNotificationStore();
  const scheduler = new FakeDeliveryScheduler();
  const clock = new FakeClock('2030-01-01T12:00:00.000Z');
  const sockets = new FakeSocketPoster();
  const deletedEndpoints: string[] = [];
  const failDeletes = { on: false };
  const endpointUserData = new Map<string, string>();
  // Erasure never takes a subscription over: a take-over here would be a mistake the test shows.
  const subscriptionOwners = new InMemoryPushSubscriptionOwners(() => Promise.reject(new Error('erasure takes nothing over')));
  const devices = {
    read: async (endpointArn: string): Promise<MobileEndpoint> => {
      const userData = endpointUserData.get(endpointArn);
      return { endpointArn, enabled: true, ...(userData !== undefined ? { userData } : {}) };
    },
    unregister: async (endpointArn: string): Promise<void> => {
      if (failDeletes.on) throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottledException' });
      deletedEndpoints.push(endpointArn);
    },
  };
  return {
    deps: { recipients, inbox, live, notifications, listing: notifications, scheduler, clock, sockets, devices, subscriptionOwners },
    deletedEndpoints,
    failDeletes,
    endpointUserData,
    subscriptionOwners,
    recipients,
    inbox,
    live,
    notifications,
    scheduler,
    sockets,
  };
}

describe('listRecipients', () => {
  it('stops a page where its answer would outgrow the response quota, and the next page goes on from there', async () => {
    // Prepare: four recipients of ~2 MiB each as JSON (switches for many long type names)
    const { deps, recipients } = aWorld();
    const heavy = Object.fromEntries(Array.from({ length: 4_000 }, (_, i) => [`${'t'.repeat(480)}-${i}`, { email: false }]));
    for (const id of ['r1', 'r2', 'r3', 'r4']) await recipients.put(aRecipient({ id, typePreferences: heavy }));

    // Act
    const pages: string[][] = [];
    let cursor: string | undefined;
    do {
      const page = await listRecipients(deps, sender, { limit: 10, ...(cursor ? { cursor } : {}) });
      pages.push(page.items.map((r) => String(r.id)));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);

    // Assess: two a page (a third would pass 5 MiB), every recipient once, in order
    expect(pages).toEqual([
      ['r1', 'r2'],
      ['r3', 'r4'],
    ]);
  });

  it('pages the whole directory in id order for a sender', async () => {
    // Prepare
    const { deps, recipients } = aWorld();
    for (const id of ['dave', 'bob', 'carol']) await recipients.put(aRecipient({ id }));
    await recipients.put(aRecipient({ id: 'mallory', tenantId: 'other' }));

    // Act
    const first = await listRecipients(deps, sender, { limit: 2 });
    const second = await listRecipients(deps, sender, { limit: 2, ...(first.nextCursor ? { cursor: first.nextCursor } : {}) });

    // Assess
    expect(first.items.map((r) => r.id)).toEqual(['bob', 'carol']);
    expect(first.items[0]).toEqual({
      id: 'bob',
      email: 'bob@example.com',
      phone: null,
      telegramChatId: null,
      webhookUrl: null,
      locale: null,
      timezone: null,
      groups: [],
      channels: Object.fromEntries(switchableChannels.map((channel) => [channel, true])),
      types: {},
      awaitingVerification: [],
      emailSuppression: null,
      quietHours: 'default',
      createdAt: '2029-12-01T00:00:00.000Z',
      updatedAt: '2029-12-01T00:00:00.000Z',
    });
    expect(second.items.map((r) => r.id)).toEqual(['dave']);
    expect(second.nextCursor).toBeNull();
  });

  it('pages the members of one group', async () => {
    // Prepare
    const { deps, recipients } = aWorld();
    await recipients.put(aRecipient({ id: 'bob', groups: ['ops'] }));
    await recipients.put(aRecipient({ id: 'carol', groups: ['eng'] }));
    await recipients.put(aRecipient({ id: 'dave', groups: ['ops', 'eng'] }));

    // Act
    const page = await listRecipients(deps, admin, { group: 'ops', limit: 20 });

    // Assess
    expect(page.items.map((r) => r.id)).toEqual(['bob', 'dave']);
  });

  it('refuses a cursor of another group, or an altered one, with a 400 naming the cursor', async () => {
    // Prepare
    const { deps, recipients } = aWorld();
    for (const id of ['bob', 'carol']) await recipients.put(aRecipient({ id, groups: ['ops'] }));
    const opsPage = await listRecipients(deps, admin, { group: 'ops', limit: 1 });

    // Act
    const otherGroup = listRecipients(deps, admin, { group: 'eng', limit: 1, cursor: opsPage.nextCursor ?? '' });
    const altered = listRecipients(deps, admin, { limit: 1, cursor: encodeCursor({ directory: '*', after: 'a\nb' }) });

    // Assess
    await expect(otherGroup).rejects.toMatchObject({ details: [{ field: 'cursor' }] });
    await expect(altered).rejects.toBeInstanceOf(ValidationError);
  });

  it('forbids a plain user to list the directory', async () => {
    // Prepare
    const { deps } = aWorld();

    // Act
    const result = listRecipients(deps, plainUser, { limit: 20 });

    // Assess
    await expect(result).rejects.toBeInstanceOf(ForbiddenError);
  });
});

describe('upsertRecipients', () => {
  it('creates and updates recipients, keeping what an entry leaves out', async () => {
    // Prepare
    const { deps, recipients } = aWorld();
    await recipients.put(aRecipient({ id: 'bob', timezone: 'Europe/Paris', groups: ['ops'], channelPreferences: { email: false } }));

    // Act
    const result = await upsertRecipients(deps, sender, [
      { id: 'bob', groups: ['eng'] },
      { id: 'carol', email: 'carol@example.com', timezone: 'Asia/Tokyo' },
    ]);

    // Assess
    expect(result).toEqual({
      succeeded: [
        { index: 0, id: 'bob', created: false },
        { index: 1, id: 'carol', created: true },
      ],
      failed: [],
    });
    expect(await recipients.get(tenantId, 'bob')).toMatchObject({
      email: 'bob@example.com',
      timezone: 'Europe/Paris',
      groups: ['eng'],
      channelPreferences: { email: false },
    });
    expect(await recipients.get(tenantId, 'carol')).toMatchObject({ email: 'carol@example.com', timezone: 'Asia/Tokyo', groups: [] });
    expect(recipients.membersOf(tenantId, 'ops')).toEqual([]);
    expect(recipients.membersOf(tenantId, 'eng')).toEqual(['bob']);
  });

  it('clears a field set to null', async () => {
    // Prepare
    const { deps, recipients } = aWorld();
    await recipients.put(aRecipient({ id: 'bob', timezone: 'Europe/Paris' }));

    // Act
    await upsertRecipients(deps, admin, [{ id: 'bob', email: null, timezone: null, groups: null }]);

    // Assess: groups too, as the README says of every field
    const bob = await recipients.get(tenantId, 'bob');
    expect(bob?.email).toBeUndefined();
    expect(bob?.timezone).toBeUndefined();
    expect(bob?.groups).toEqual([]);
  });

  it('applies the valid entries and says why each other one failed', async () => {
    // Prepare
    const { deps, recipients } = aWorld();

    // Act
    const result = await upsertRecipients(deps, admin, [
      { id: 'bob' },
      { id: 'carol', email: 'not-an-address' },
      { email: 'x@example.com' },
      'just a string',
      { id: 'bob', timezone: 'Europe/Paris' },
      { id: 'dave', timezone: 'Mars/Olympus' },
      { id: 'erin', status: 'vip' },
      { id: 'bad\nid' },
    ]);

    // Assess
    expect(result.succeeded).toEqual([{ index: 0, id: 'bob', created: true }]);
    expect(result.failed.map((f) => [f.index, f.id, f.error.code])).toEqual([
      [1, 'carol', 'VALIDATION_ERROR'],
      [2, null, 'VALIDATION_ERROR'],
      [3, null, 'VALIDATION_ERROR'],
      [4, 'bob', 'DUPLICATE_ID'],
      [5, 'dave', 'VALIDATION_ERROR'],
      [6, 'erin', 'VALIDATION_ERROR'],
      [7, 'bad\nid', 'VALIDATION_ERROR'],
    ]);
    expect(result.failed[0]?.error.message).toContain('email');
    expect(result.failed[1]?.error.message).toContain('id');
    expect(result.failed[4]?.error.message).toContain('timezone');
    expect(result.failed[5]?.error).toMatchObject({ details: [{ field: 'status', message: 'is not a known field' }] });
    expect(await recipients.get(tenantId, 'carol')).toBeUndefined();
    expect((await recipients.get(tenantId, 'bob'))?.timezone).toBeUndefined();
  });

  it('says why an entry failed in the words PUT /v1/recipients/{id} uses, not zod\'s defaults', async () => {
    // Prepare
    const { deps } = aWorld();

    // Act: groups of the wrong type, and an entry without its id
    const result = await upsertRecipients(deps, admin, [{ id: 'bob', groups: 'ops' }, { email: 'x@example.com' }]);

    // Assess: as a PUT's 400 says it (README: "is required" for one left out, else what it must be)
    expect(result.failed.map((f) => f.error)).toEqual([
      { code: 'VALIDATION_ERROR', message: 'groups must be an array', details: [{ field: 'groups', message: 'must be an array' }] },
      { code: 'VALIDATION_ERROR', message: 'id is required', details: [{ field: 'id', message: 'is required' }] },
    ]);
  });

  it('reports an entry whose write failed, and writes the others', async () => {
    // Prepare
    const { deps, recipients } = aWorld();
    recipients.saveFailures.add(new Error('throttled'));

    // Act
    const result = await upsertRecipients(deps, admin, [{ id: 'bob' }, { id: 'carol' }]);

    // Assess
    expect(result.failed).toEqual([{ index: 0, id: 'bob', error: { code: 'WRITE_FAILED', message: 'bob could not be written; retry it' } }]);
    expect(result.succeeded).toEqual([{ index: 1, id: 'carol', created: true }]);
  });

  it('reports an entry that kept losing races to other writers', async () => {
    // Prepare
    const { deps, recipients } = aWorld();
    recipients.savesToLose = 5;

    // Act
    const result = await upsertRecipients(deps, admin, [{ id: 'bob' }]);

    // Assess
    expect(result.failed.map((f) => f.error.code)).toEqual(['CONFLICT']);
    expect(await recipients.get(tenantId, 'bob')).toBeUndefined();
  });

  it('forbids a plain user to upsert, writing nothing', async () => {
    // Prepare
    const { deps, recipients } = aWorld();

    // Act
    const result = upsertRecipients(deps, plainUser, [{ id: 'bob' }]);

    // Assess
    await expect(result).rejects.toBeInstanceOf(ForbiddenError);
    expect(await recipients.get(tenantId, 'bob')).toBeUndefined();
  });
});

describe('eraseRecipient', () => {
  async function bobWithEverything(world: World): Promise<{ pending: string; sent: string }> {
    await world.recipients.put(aRecipient({ id: 'bob', groups: ['ops'] }));
    await world.inbox.add({
      tenantId,
      recipientId: 'bob',
      notificationId: 'ntf_1',
      title: 't',
      message: 'm',
      type: 'reminder',
      priority: 'normal',
      createdAt: '2030-01-01T10:00:00.000Z',
      deliveredAt: '2030-01-01T10:00:00.000Z',
    });
    await world.live.connect(tenantId, 'bob', { connectionId: 'c1', connectedAt: '2030-01-01T11:30:00.000Z' });
    world.sockets.open('c1');
    const pending = aNotification({ recipientId: 'bob' });
    const sent = aNotification({ recipientId: 'bob', status: 'sent' });
    world.notifications.seed(pending);
    await world.scheduler.scheduleMany([pending], new Date('2030-01-01T11:00:00.000Z'));
    world.notifications.seed(sent);
    world.notifications.seed(aNotification({ recipientId: 'carol' }));
    return { pending: pending.id, sent: sent.id };
  }

  it('removes the record, memberships, inbox and connections, and cancels pending notifications', async () => {
    // Prepare
    const world = aWorld();
    const { pending, sent } = await bobWithEverything(world);

    // Act
    const report = await eraseRecipient(world.deps, admin, 'bob');

    // Assess
    expect(report).toEqual({ id: 'bob', cancelledNotifications: 1, removedInboxItems: 1, removedConnections: 1, removedPushTargets: 0 });
    expect(await world.recipients.get(tenantId, 'bob')).toBeUndefined();
    expect(world.recipients.membersOf(tenantId, 'ops')).toEqual([]);
    expect(await world.inbox.list(tenantId, 'bob')).toEqual([]);
    expect(await world.inbox.unreadCount(tenantId, 'bob')).toEqual({ unread: 0, unreadVersion: 0 });
    expect(world.live.connectionIds(tenantId, 'bob')).toEqual([]);
    expect(world.sockets.disconnected).toEqual(['c1']);
    expect((await world.notifications.get(tenantId, pending))?.status).toBe('cancelled');
    expect((await world.notifications.get(tenantId, sent))?.status).toBe('sent');
    expect(world.notifications.all().filter((n) => n.recipientId === 'carol').map((n) => n.status)).toEqual(['pending']);
    expect(world.scheduler.unscheduleCalls).toBe(1);
    expect(world.scheduler.scheduleOf(tenantId, pending)).toBeUndefined();
  });

  it('erases all the same when a socket cannot be closed, and says so in the log', async () => {
    // Prepare
    const world = aWorld();
    await bobWithEverything(world);
    world.sockets.failures.add(new Error('Rate exceeded'));
    const written: string[] = [];
    for (const stream of [process.stdout, process.stderr]) {
      vi.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => written.push(String(chunk)) > 0);
    }

    // Act
    const report = await eraseRecipient(world.deps, admin, 'bob');

    // Assess
    expect(report).toEqual({ id: 'bob', cancelledNotifications: 1, removedInboxItems: 1, removedConnections: 1, removedPushTargets: 0 });
    expect(world.live.connectionIds(tenantId, 'bob')).toEqual([]);
    vi.restoreAllMocks();
    expect(written.map((line) => JSON.parse(line) as Record<string, unknown>)).toContainEqual(
      expect.objectContaining({ level: 'WARN', message: 'Could not close a connection of an erased recipient', recipientId: 'bob', connectionId: 'c1' }),
    );
  });

  it("deletes each device's SNS endpoint, which holds its token and the user's ids, and the push targets with the inbox", async () => {
    // Prepare
    const world = aWorld();
    await bobWithEverything(world);
    const device = (n: number): PushDevice => ({ id: `dv_${n}`, platform: 'fcm', token: `token-${n}`, endpointArn: `arn:aws:sns:us-east-1:000000000000:endpoint/GCM/app/${n}`, createdAt: '2030-01-01T10:00:00.000Z' });
    const browser: WebPushSubscription = { id: 'ps_1', endpoint: 'https://push.example.com/1', keys: { p256dh: 'p', auth: 'a' }, createdAt: '2030-01-01T10:00:00.000Z' };
    world.live.setPushTargets(tenantId, 'bob', { devices: [device(1), device(2)], pushSubscriptions: [browser] });

    // Act
    const report = await eraseRecipient(world.deps, admin, 'bob');

    // Assess
    expect(report.removedPushTargets).toBe(3);
    expect(world.deletedEndpoints.sort()).toEqual([device(1).endpointArn, device(2).endpointArn]);
    expect((await world.live.get(tenantId, 'bob')).devices).toBeUndefined();
  });

  it("deletes no endpoint another user holds now: the device moved to them as the erased user's record was read", async () => {
    // Prepare: Bob's record names two devices; one phone was signed in by Carol (another tenant) since
    const world = aWorld();
    await bobWithEverything(world);
    const device = (n: number): PushDevice => ({ id: `dv_${n}`, platform: 'fcm', token: `token-${n}`, endpointArn: `arn:aws:sns:us-east-1:000000000000:endpoint/GCM/app/${n}`, createdAt: '2030-01-01T10:00:00.000Z' });
    world.live.setPushTargets(tenantId, 'bob', { devices: [device(1), device(2)] });
    world.endpointUserData.set(device(1).endpointArn, JSON.stringify({ tenantId, userId: 'bob' }));
    world.endpointUserData.set(device(2).endpointArn, JSON.stringify({ tenantId: 'other-tenant', userId: 'carol' }));

    // Act
    const report = await eraseRecipient(world.deps, admin, 'bob');

    // Assess: Bob's endpoint deleted, Carol's kept; both gone from Bob's item
    expect(world.deletedEndpoints).toEqual([device(1).endpointArn]);
    expect(report.removedPushTargets).toBe(2);
    expect((await world.live.get(tenantId, 'bob')).devices).toBeUndefined();
  });

  it("finishes when SNS refuses Herald an endpoint's delete (an application the deployment no longer names): no repeat could", async () => {
    // Prepare: a device registered under the APNs sandbox application, before the deployment moved
    // to the production one (its grant covers only the applications it names now)
    const world = aWorld();
    await bobWithEverything(world);
    const device: PushDevice = { id: 'dv_1', platform: 'apns', token: 'a'.repeat(64), endpointArn: 'arn:aws:sns:us-east-1:000000000000:endpoint/APNS_SANDBOX/app/1', createdAt: '2030-01-01T10:00:00.000Z' };
    world.live.setPushTargets(tenantId, 'bob', { devices: [device] });
    const denied = (): Error => Object.assign(new Error('User is not authorized to perform: SNS:GetEndpointAttributes'), { name: 'AuthorizationErrorException', $metadata: { httpStatusCode: 403 } });
    const deps = { ...world.deps, devices: { read: () => Promise.reject(denied()), unregister: () => Promise.reject(denied()) } };

    // Act
    const report = await eraseRecipient(deps, admin, 'bob');

    // Assess
    expect(report).toMatchObject({ removedInboxItems: 1, removedPushTargets: 1 });
    expect(await world.inbox.list(tenantId, 'bob')).toEqual([]);
  });

  it('keeps the inbox and the push targets when SNS does not delete an endpoint (503), and a repeat finishes', async () => {
    // Prepare
    const world = aWorld();
    await bobWithEverything(world);
    const device: PushDevice = { id: 'dv_1', platform: 'apns', token: 'a'.repeat(64), endpointArn: 'arn:aws:sns:us-east-1:000000000000:endpoint/APNS/app/1', createdAt: '2030-01-01T10:00:00.000Z' };
    world.live.setPushTargets(tenantId, 'bob', { devices: [device] });
    world.failDeletes.on = true;

    // Act
    const first = await eraseRecipient(world.deps, admin, 'bob').catch((error: unknown) => error);
    world.failDeletes.on = false;
    const again = await eraseRecipient(world.deps, admin, 'bob');

    // Assess
    expect(first).toBeInstanceOf(ServiceUnavailableError);
    expect(await world.recipients.get(tenantId, 'bob')).toBeUndefined();
    expect(again).toMatchObject({ removedInboxItems: 1, removedPushTargets: 1 });
    expect(world.deletedEndpoints).toEqual([device.endpointArn]);
    expect(await world.inbox.list(tenantId, 'bob')).toEqual([]);
  });

  it("deletes the owner record of each of the user's browser subscriptions, but not one another user holds now", async () => {
    // Prepare: two subscriptions on Bob's item; the second's browser has since been registered by Carol
    const world = aWorld();
    await bobWithEverything(world);
    const subscription = (n: number): WebPushSubscription => ({
      id: `ps_${n}`,
      endpoint: `https://push.example.com/${n}`,
      keys: { p256dh: 'B'.repeat(87), auth: 'A'.repeat(22) },
      createdAt: '2030-01-01T10:00:00.000Z',
    });
    world.live.setPushTargets(tenantId, 'bob', { pushSubscriptions: [subscription(1), subscription(2)] });
    await world.subscriptionOwners.claim('ps_1', { tenantId, userId: 'bob' });
    await world.subscriptionOwners.claim('ps_2', { tenantId: 'other', userId: 'carol' });

    // Act
    const report = await eraseRecipient(world.deps, admin, 'bob');

    // Assess: nothing names Bob; Carol keeps hers
    expect(report.removedPushTargets).toBe(2);
    expect([...world.subscriptionOwners.owners]).toEqual([['ps_2', { tenantId: 'other', userId: 'carol' }]]);
    expect((await world.live.get(tenantId, 'bob')).pushSubscriptions).toBeUndefined();
  });

  it('keeps the inbox and the push targets when an owner record cannot be deleted (503), and a repeat finishes', async () => {
    // Prepare
    const world = aWorld();
    await bobWithEverything(world);
    const subscription: WebPushSubscription = { id: 'ps_1', endpoint: 'https://push.example.com/1', keys: { p256dh: 'B'.repeat(87), auth: 'A'.repeat(22) }, createdAt: '2030-01-01T10:00:00.000Z' };
    world.live.setPushTargets(tenantId, 'bob', { pushSubscriptions: [subscription] });
    await world.subscriptionOwners.claim('ps_1', { tenantId, userId: 'bob' });
    world.subscriptionOwners.releaseFailures.add(Object.assign(new Error('Throughput exceeds the current capacity'), { name: 'ProvisionedThroughputExceededException' }));

    // Act
    const first = await eraseRecipient(world.deps, admin, 'bob').catch((error: unknown) => error);
    const kept = await world.live.get(tenantId, 'bob');
    const again = await eraseRecipient(world.deps, admin, 'bob');

    // Assess
    expect(first).toBeInstanceOf(ServiceUnavailableError);
    expect((first as Error).message).toContain("browser subscriptions' owner records");
    expect(kept.pushSubscriptions?.map((s) => s.id)).toEqual(['ps_1']);
    expect(again).toMatchObject({ removedInboxItems: 1, removedPushTargets: 1 });
    expect(world.subscriptionOwners.owners.size).toBe(0);
    expect(await world.inbox.list(tenantId, 'bob')).toEqual([]);
  });

  it('leaves a notification claimed for delivery before the cancel to its claim', async () => {
    // Prepare
    const world = aWorld();
    const { pending } = await bobWithEverything(world);
    await world.notifications.claim(tenantId, pending, new Date('2030-01-01T12:00:00.000Z'), 60);

    // Act
    const report = await eraseRecipient(world.deps, sender, 'bob');

    // Assess
    expect(report.cancelledNotifications).toBe(0);
    expect((await world.notifications.get(tenantId, pending))?.status).toBe('sending');
  });

  it('finishes an erasure that was cut short after the record went', async () => {
    // Prepare
    const world = aWorld();
    await bobWithEverything(world);
    world.recipients.delete(tenantId, 'bob');

    // Act
    const report = await eraseRecipient(world.deps, admin, 'bob');

    // Assess
    expect(report).toMatchObject({ cancelledNotifications: 1, removedInboxItems: 1, removedConnections: 1 });
  });

  it.each<[string, Caller]>([
    ['an id nobody has', admin],
    ['an id of another tenant', { ...admin, tenantId: 'other' }],
  ])('answers 404 for %s', async (_, caller) => {
    // Prepare
    const world = aWorld();
    await world.recipients.put(aRecipient({ id: 'carol' }));

    // Act
    const result = eraseRecipient(world.deps, caller, caller.tenantId === tenantId ? 'nobody' : 'carol');

    // Assess
    await expect(result).rejects.toBeInstanceOf(NotFoundError);
    expect(await world.recipients.get(tenantId, 'carol')).toBeDefined();
  });

  it('forbids a plain user to erase anyone, even themself', async () => {
    // Prepare
    const world = aWorld();
    await bobWithEverything(world);

    // Act
    const result = eraseRecipient(world.deps, plainUser, 'bob');

    // Assess
    await expect(result).rejects.toBeInstanceOf(ForbiddenError);
    expect(await world.recipients.get(tenantId, 'bob')).toBeDefined();
  });
});
