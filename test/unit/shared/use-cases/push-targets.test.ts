/** The push target routes' use cases: who may register what, and every refusal, over in-memory ports. */
import { describe, expect, it } from 'vitest';
import { PlatformNotConfiguredError } from '../../../../shared/adapters/sns-messaging.ts';
import { pushSubscriptionId } from '../../../../shared/domain/push-targets.ts';
import type { PushDevice, WebPushSubscription } from '../../../../shared/domain/push-targets.ts';
import { ConflictError, NotFoundError, ServiceUnavailableError, ValidationError } from '../../../../shared/errors.ts';
import type { DeviceEndpoints, PushTargetList, PushTargetStore } from '../../../../shared/ports.ts';
import { addDevice, addPushSubscription, listPushTargets, removePushTarget } from '../../../../shared/use-cases/push-targets.ts';
import type { PushTargetDeps } from '../../../../shared/use-cases/push-targets.ts';
import { FakeClock, InMemoryPushSubscriptionOwners, InMemoryRecipientStore } from '../../fakes/index.ts';
import { aRecipient, plainUser } from '../../fakes/fixtures.ts';

class InMemoryPushTargets implements PushTargetStore {
  readonly byUser = new Map<string, (WebPushSubscription | PushDevice)[]>();
  async list(tenantId: string, userId: string): Promise<PushTargetList> {
    const all = this.byUser.get(`${tenantId}#${userId}`) ?? [];
    return { subscriptions: all.filter((t): t is WebPushSubscription => 'endpoint' in t), devices: all.filter((t): t is PushDevice => 'endpointArn' in t) };
  }
  async add(tenantId: string, userId: string, target: WebPushSubscription | PushDevice, max: number): Promise<(WebPushSubscription | PushDevice)[]> {
    const all = (this.byUser.get(`${tenantId}#${userId}`) ?? []).filter((t) => t.id !== target.id);
    const same = all.filter((t) => ('endpoint' in t) === ('endpoint' in target));
    const dropped = same.slice(0, Math.max(0, same.length + 1 - max));
    this.byUser.set(`${tenantId}#${userId}`, [...all.filter((t) => !dropped.includes(t)), target]);
    return dropped;
  }
  async remove(tenantId: string, userId: string, id: string): Promise<WebPushSubscription | PushDevice | undefined> {
    const all = this.byUser.get(`${tenantId}#${userId}`) ?? [];
    const found = all.find((t) => t.id === id);
    this.byUser.set(`${tenantId}#${userId}`, all.filter((t) => t.id !== id));
    return found;
  }
  async forget(tenantId: string, userId: string, ids: readonly string[]): Promise<void> {
    this.byUser.set(`${tenantId}#${userId}`, (this.byUser.get(`${tenantId}#${userId}`) ?? []).filter((t) => !ids.includes(t.id)));
  }
}

interface FakeEndpoint {
  readonly endpointArn: string;
  enabled: boolean;
  token: string;
  userData: string;
}

/**
 * In-memory ports; `mobile` keeps one endpoint per token as SNS does, answered as it is (another
 * user's, or disabled) until claimed.
 */
function aWorld(options: { registerFails?: Error; claimFails?: Error; forgetFails?: Error } = {}): PushTargetDeps & {
  unregistered: string[];
  claims: string[];
  endpoints: Map<string, FakeEndpoint>;
  recipients: InMemoryRecipientStore;
  targets: InMemoryPushTargets;
  owners: InMemoryPushSubscriptionOwners;
} {
  const unregistered: string[] = [];
  const claims: string[] = [];
  const endpoints = new Map<string, FakeEndpoint>();
  let next = 0;
  const mobile: DeviceEndpoints = {
    register: async (platform, token, userData) => {
      if (options.registerFails) throw options.registerFails;
      const found = endpoints.get(token) ?? { endpointArn: `arn:aws:sns:us-east-1:000000000000:endpoint/${platform}/app/${++next}`, enabled: true, token, userData };
      endpoints.set(token, found);
      return { ...found };
    },
    claim: async (arn, token, userData) => {
      if (options.claimFails) throw options.claimFails;
      claims.push(arn);
      const endpoint = [...endpoints.values()].find((e) => e.endpointArn === arn);
      if (endpoint) Object.assign(endpoint, { enabled: true, token, userData });
    },
    read: async (arn) => {
      const endpoint = [...endpoints.values()].find((e) => e.endpointArn === arn);
      return endpoint && { ...endpoint };
    },
    unregister: async (arn) => void unregistered.push(arn),
  };
  const targets = new InMemoryPushTargets();
  if (options.forgetFails) targets.forget = () => Promise.reject(options.forgetFails);
  const owners = new InMemoryPushSubscriptionOwners((tenantId, userId, ids) => targets.forget(tenantId, userId, ids));
  return { recipients: new InMemoryRecipientStore(), targets, owners, clock: new FakeClock('2030-01-01T12:00:00.000Z'), mobile, allowHttpLoopback: false, unregistered, claims, endpoints };
}

const subscription = { endpoint: 'https://push.example.com/abc', keys: { p256dh: 'B'.repeat(87), auth: 'A'.repeat(22) } };

describe('push targets', () => {
  it('registers a subscription once however often it is sent, and refuses plain http where only https is allowed', async () => {
    const world = aWorld();
    await world.recipients.put(aRecipient({ id: plainUser.sub }));
    const first = await addPushSubscription(world, plainUser, subscription);
    const again = await addPushSubscription(world, plainUser, subscription);
    expect(again.id).toBe(first.id);
    expect((await listPushTargets(world, plainUser)).subscriptions).toHaveLength(1);
    const http = addPushSubscription(world, plainUser, { ...subscription, endpoint: 'http://127.0.0.1:9001/2018-06-01/runtime/invocation/next' });
    await expect(http).rejects.toMatchObject({ details: [{ field: 'endpoint', message: 'must be an https URL' }] });
  });

  it.each([
    ['https:///x', 'must name a host after https://'],
    ['https://user:secret@push.example.com/x', 'must not carry a user name or password'],
    ['https:push.example.com/x', 'must name a host after https://'],
    // The URL parser would drop the line break and post to https://push.example.com/ab
    ['https://push.example.com/a\nb', 'must not contain spaces or control characters'],
    ['https://push.example.com/a\tb', 'must not contain spaces or control characters'],
    [' https://push.example.com/x', 'must not contain spaces or control characters'],
  ])('refuses the endpoint %j, naming endpoint: %s', async (endpoint, message) => {
    // Prepare
    const world = aWorld();
    await world.recipients.put(aRecipient({ id: plainUser.sub }));

    // Act
    const refused = addPushSubscription(world, plainUser, { ...subscription, endpoint });

    // Assess
    await expect(refused).rejects.toMatchObject({ details: [{ field: 'endpoint', message }] });
    expect((await listPushTargets(world, plainUser)).subscriptions).toEqual([]);
  });

  it('does not let a user outside the directory register anything', async () => {
    const world = aWorld();
    await expect(addPushSubscription(world, plainUser, subscription)).rejects.toBeInstanceOf(NotFoundError);
    await expect(addDevice(world, plainUser, { platform: 'fcm', token: 't' })).rejects.toBeInstanceOf(NotFoundError);
  });

  it('keeps ten devices, unregistering from SNS the oldest an eleventh pushes out, and the one removed', async () => {
    const world = aWorld();
    await world.recipients.put(aRecipient({ id: plainUser.sub }));
    const devices = [];
    for (let i = 0; i < 11; i++) devices.push(await addDevice(world, plainUser, { platform: 'fcm', token: `token-${i}` }));
    expect((await listPushTargets(world, plainUser)).devices.map((d) => d.token)).toEqual(devices.slice(1).map((d) => d.token));
    expect(world.unregistered).toEqual([devices[0]?.endpointArn]);
    await removePushTarget(world, plainUser, 'device', devices[5]?.id ?? '');
    expect(world.unregistered).toEqual([devices[0]?.endpointArn, devices[5]?.endpointArn]);
    await expect(removePushTarget(world, plainUser, 'device', devices[5]?.id ?? '')).rejects.toBeInstanceOf(NotFoundError);
    // A subscription's id does not name a device.
    const sub = await addPushSubscription(world, plainUser, subscription);
    await expect(removePushTarget(world, plainUser, 'device', sub.id)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('answers 400 naming the platform SNS has no application for, 400 naming a token SNS refuses, 503 when SNS fails', async () => {
    const cases: [Error, unknown][] = [
      [new PlatformNotConfiguredError('apns'), ValidationError],
      [Object.assign(new Error('Invalid parameter: Token'), { name: 'InvalidParameterException', $metadata: { httpStatusCode: 400 } }), ValidationError],
      [Object.assign(new Error('boom'), { name: 'InternalErrorException', $metadata: { httpStatusCode: 500 } }), ServiceUnavailableError],
      // SNS's 400s that say nothing of the token: throttling (a common error, 400 in the query
      // protocol), an expired request, an application whose FCM or APNs credentials were refused.
      [Object.assign(new Error('Rate exceeded'), { name: 'Throttling', $metadata: { httpStatusCode: 400 } }), ServiceUnavailableError],
      [Object.assign(new Error('Request has expired'), { name: 'RequestExpired', $metadata: { httpStatusCode: 400 } }), ServiceUnavailableError],
      [Object.assign(new Error('Platform application is disabled'), { name: 'PlatformApplicationDisabledException', $metadata: { httpStatusCode: 400 } }), ServiceUnavailableError],
    ];
    const fields: unknown[] = [];
    for (const [failure, expected] of cases) {
      const world = aWorld({ registerFails: failure });
      await world.recipients.put(aRecipient({ id: plainUser.sub }));
      const error = await addDevice(world, plainUser, { platform: 'apns', token: 't' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(expected);
      fields.push((error as ValidationError).details);
      expect((await listPushTargets(world, plainUser)).devices).toEqual([]);
    }
    expect(fields.slice(0, 2)).toEqual([[{ field: 'platform', message: expect.any(String) }], [{ field: 'token', message: expect.any(String) }]]);
  });

  describe('a browser subscription has one user', () => {
    /** Alice (tenant A) and Bob (tenant B), both in their directories, in a new world. */
    async function aliceAndBob(): Promise<{ world: ReturnType<typeof aWorld>; alice: typeof plainUser; bob: typeof plainUser }> {
      const world = aWorld();
      await world.recipients.put(aRecipient({ tenantId: 'tenant-a', id: 'alice' }));
      await world.recipients.put(aRecipient({ tenantId: 'tenant-b', id: 'bob' }));
      return { world, alice: { ...plainUser, tenantId: 'tenant-a', sub: 'alice' }, bob: { ...plainUser, tenantId: 'tenant-b', sub: 'bob' } };
    }
    const ids = async (world: ReturnType<typeof aWorld>, user: typeof plainUser): Promise<string[]> => (await listPushTargets(world, user)).subscriptions.map((s) => s.endpoint);

    it("leaves the previous user's record when another registers the same browser's endpoint, in another tenant too", async () => {
      // Prepare: one browser, signed in by Alice, then signed out (no unsubscribe()) and in by Bob
      const { world, alice, bob } = await aliceAndBob();
      const hers = await addPushSubscription(world, alice, subscription);
      await addPushSubscription(world, alice, { ...subscription, endpoint: 'https://push.example.com/her-laptop' });

      // Act
      const his = await addPushSubscription(world, bob, subscription);

      // Assess: the same subscription, now Bob's alone; Alice keeps her other browser, and cannot remove his
      expect(his.id).toBe(hers.id);
      expect(await ids(world, bob)).toEqual([subscription.endpoint]);
      expect(await ids(world, alice)).toEqual(['https://push.example.com/her-laptop']);
      expect(world.owners.owners.get(hers.id)).toEqual({ tenantId: 'tenant-b', userId: 'bob' });
      await expect(removePushTarget(world, alice, 'subscription', hers.id)).rejects.toBeInstanceOf(NotFoundError);
      expect(world.owners.owners.get(hers.id)).toEqual({ tenantId: 'tenant-b', userId: 'bob' });
    });

    it('keeps it on the record of whoever registered it last when two register it at once, whichever goes first', async () => {
      // Each interleaving: one registration runs whole at a point of the other's.
      const interleavings = [
        // Bob registers between Alice's owner record and her add: she loses, with a 409.
        { name: 'bob within alice, after her claim', outer: 'alice', at: 'claim', winner: 'bob' },
        // Alice registers between Bob's owner record and his take-over: his take-over reads a stale
        // previous owner and must take nothing from her; he loses, with a 409.
        { name: 'alice within bob, after his claim', outer: 'bob', at: 'claim', winner: 'alice' },
        // Bob registers between Alice's add and her read-back: she loses, with a 409.
        { name: 'bob within alice, after her add', outer: 'alice', at: 'add', winner: 'bob' },
      ] as const;
      for (const interleaving of interleavings) {
        // Prepare: Alice registered the browser before; now both register it
        const { world, alice, bob } = await aliceAndBob();
        await addPushSubscription(world, alice, subscription);
        const users = { alice, bob };
        const outer = users[interleaving.outer];
        const inner = interleaving.outer === 'alice' ? bob : alice;
        let innerOutcome: Promise<unknown> | undefined;
        const runInner = async (userId: string): Promise<void> => {
          if (userId !== outer.sub || innerOutcome) return;
          innerOutcome = addPushSubscription(world, inner, subscription).catch((e: unknown) => e);
          await innerOutcome;
        };
        if (interleaving.at === 'claim') {
          world.owners.afterClaim = async (id) => runInner(world.owners.owners.get(id)?.userId ?? '');
        } else {
          const add = world.targets.add.bind(world.targets);
          world.targets.add = async (tenantId, userId, target, max) => {
            const dropped = await add(tenantId, userId, target, max);
            await runInner(userId);
            return [...dropped];
          };
        }

        // Act
        const outerOutcome = await addPushSubscription(world, outer, subscription).catch((e: unknown) => e);

        // Assess: the winner holds it alone, and the loser was told
        const winner = users[interleaving.winner];
        const loser = winner === alice ? bob : alice;
        const [winnerOutcome, loserOutcome] = winner === outer ? [outerOutcome, await innerOutcome] : [await innerOutcome, outerOutcome];
        expect(winnerOutcome, interleaving.name).toMatchObject({ endpoint: subscription.endpoint });
        expect(loserOutcome, interleaving.name).toBeInstanceOf(ConflictError);
        expect(await ids(world, winner), interleaving.name).toEqual([subscription.endpoint]);
        expect(await ids(world, loser), interleaving.name).toEqual([]);
        expect(world.owners.owners.get(pushSubscriptionId(subscription.endpoint)), interleaving.name).toEqual({ tenantId: winner.tenantId, userId: winner.sub });
      }
    });

    it('deletes the owner record of the subscription the limit pushes out, and of the one removed', async () => {
      // Prepare
      const world = aWorld();
      await world.recipients.put(aRecipient({ id: plainUser.sub }));
      const added: WebPushSubscription[] = [];
      for (let i = 0; i < 11; i++) added.push(await addPushSubscription(world, plainUser, { ...subscription, endpoint: `https://push.example.com/${i}` }));

      // Act
      await removePushTarget(world, plainUser, 'subscription', added[5]?.id ?? '');

      // Assess
      const expected = added.filter((_, i) => i !== 0 && i !== 5).map((s) => s.id);
      expect([...world.owners.owners.keys()].sort()).toEqual([...expected].sort());
      expect((await listPushTargets(world, plainUser)).subscriptions.map((s) => s.id)).toEqual(expected);
    });

    it("keeps the subscription when its owner record cannot be deleted, so that repeating the removal deletes both", async () => {
      // Prepare
      const world = aWorld();
      await world.recipients.put(aRecipient({ id: plainUser.sub }));
      const added = await addPushSubscription(world, plainUser, subscription);
      world.owners.releaseFailures.add(Object.assign(new Error('Throughput exceeds the current capacity'), { name: 'ProvisionedThroughputExceededException' }));

      // Act
      const first = await removePushTarget(world, plainUser, 'subscription', added.id).catch((e: unknown) => e);
      const kept = await listPushTargets(world, plainUser);
      await removePushTarget(world, plainUser, 'subscription', added.id);

      // Assess
      expect(first).toMatchObject({ name: 'ProvisionedThroughputExceededException' });
      expect(kept.subscriptions.map((s) => s.id)).toEqual([added.id]);
      expect((await listPushTargets(world, plainUser)).subscriptions).toEqual([]);
      expect(world.owners.owners.size).toBe(0);
    });

    it('takes it from the previous user when a registration that failed after its claim is repeated', async () => {
      // Prepare: Alice's browser; Bob's first registration dies after the owner record moved (its add fails)
      const { world, alice, bob } = await aliceAndBob();
      await addPushSubscription(world, alice, subscription);
      const add = world.targets.add.bind(world.targets);
      let failed = false;
      world.targets.add = async (tenantId, userId, target, max) => {
        if (userId === 'bob' && !failed) {
          failed = true;
          throw Object.assign(new Error('Throughput exceeds the current capacity'), { name: 'ProvisionedThroughputExceededException' });
        }
        return [...(await add(tenantId, userId, target, max))];
      };

      // Act
      const first = await addPushSubscription(world, bob, subscription).catch((e: unknown) => e);
      const between = await ids(world, alice);
      const again = await addPushSubscription(world, bob, subscription);

      // Assess: Alice lost it with the first claim already; the repeat put it on Bob's record
      expect(first).toMatchObject({ name: 'ProvisionedThroughputExceededException' });
      expect(between).toEqual([]);
      expect(again.endpoint).toBe(subscription.endpoint);
      expect(await ids(world, bob)).toEqual([subscription.endpoint]);
      expect(await ids(world, alice)).toEqual([]);
    });

    it('takes a subscription back, owner record and all, from a user erased while registering it (404)', async () => {
      // Prepare: Alice's erasure removes her record between her first read and her add
      const { world, alice } = await aliceAndBob();
      const add = world.targets.add.bind(world.targets);
      world.targets.add = async (tenantId, userId, target, max) => {
        const record = await world.recipients.get(tenantId, userId);
        if (record) await world.recipients.remove(record);
        return [...(await add(tenantId, userId, target, max))];
      };

      // Act
      const outcome = await addPushSubscription(world, alice, subscription).catch((e: unknown) => e);

      // Assess
      expect(outcome).toBeInstanceOf(NotFoundError);
      expect((await world.targets.list('tenant-a', 'alice')).subscriptions).toEqual([]);
      expect(world.owners.owners.size).toBe(0);
    });

    it('answers 404 all the same when the target of a user erased while registering cannot be taken back (left for the repeated erasure)', async () => {
      // Prepare: as above, and the owner record's release fails
      const { world, alice } = await aliceAndBob();
      const add = world.targets.add.bind(world.targets);
      world.targets.add = async (tenantId, userId, target, max) => {
        const record = await world.recipients.get(tenantId, userId);
        if (record) await world.recipients.remove(record);
        return [...(await add(tenantId, userId, target, max))];
      };
      world.owners.releaseFailures.add(Object.assign(new Error('Throughput exceeds the current capacity'), { name: 'ProvisionedThroughputExceededException' }));

      // Act
      const outcome = await addPushSubscription(world, alice, subscription).catch((e: unknown) => e);

      // Assess: the caller is told the truth; the owner record stays, listed on the item where the erasure's repeat finds it
      expect(outcome).toBeInstanceOf(NotFoundError);
      expect([...world.owners.owners.values()]).toEqual([{ tenantId: 'tenant-a', userId: 'alice' }]);
      expect((await world.targets.list('tenant-a', 'alice')).subscriptions.map((s) => s.endpoint)).toEqual([subscription.endpoint]);
    });

    it('writes nothing for a subscription the caller does not have (404), not even the owner record of one', async () => {
      // Prepare: another user's subscription; a release would fail loudly
      const { world, alice, bob } = await aliceAndBob();
      const his = await addPushSubscription(world, bob, subscription);
      world.owners.releaseFailures.add(new Error('no write may happen'));

      // Act
      const refused = removePushTarget(world, alice, 'subscription', his.id);

      // Assess
      await expect(refused).rejects.toBeInstanceOf(NotFoundError);
      expect(world.owners.releaseFailures.pending).toBe(1);
      expect(world.owners.owners.get(his.id)).toEqual({ tenantId: 'tenant-b', userId: 'bob' });
    });
  });

  it('leaves the record as it was when a registration at the limit loses its race: the oldest kept, its endpoint and owner record too', async () => {
    // Prepare: Alice has ten devices and ten browsers; Bob registers the phone and the browser she
    // is registering, each between her add and her read-back, so she loses both (409)
    const world = aWorld();
    const alice = { ...plainUser, tenantId: 'tenant-a', sub: 'alice' };
    const bob = { ...plainUser, tenantId: 'tenant-b', sub: 'bob' };
    await world.recipients.put(aRecipient({ tenantId: 'tenant-a', id: 'alice' }));
    await world.recipients.put(aRecipient({ tenantId: 'tenant-b', id: 'bob' }));
    const devices: PushDevice[] = [];
    const browsers: WebPushSubscription[] = [];
    for (let i = 0; i < 10; i++) {
      devices.push(await addDevice(world, alice, { platform: 'fcm', token: `token-${i}` }));
      browsers.push(await addPushSubscription(world, alice, { ...subscription, endpoint: `https://push.example.com/${i}` }));
    }
    const add = world.targets.add.bind(world.targets);
    world.targets.add = async (tenantId, userId, target, max) => {
      const dropped = await add(tenantId, userId, target, max);
      if (userId === 'alice' && 'endpointArn' in target && target.token === 'shared-phone') await addDevice(world, bob, { platform: 'fcm', token: 'shared-phone' });
      if (userId === 'alice' && 'endpoint' in target && target.endpoint === subscription.endpoint) await addPushSubscription(world, bob, subscription);
      return [...dropped];
    };

    // Act
    const phone = await addDevice(world, alice, { platform: 'fcm', token: 'shared-phone' }).catch((e: unknown) => e);
    const browser = await addPushSubscription(world, alice, subscription).catch((e: unknown) => e);

    // Assess: both lost; her record holds what it held, the oldest included, none unregistered or released
    expect(phone).toBeInstanceOf(ConflictError);
    expect(browser).toBeInstanceOf(ConflictError);
    const hers = await listPushTargets(world, alice);
    expect(hers.devices.map((d) => d.id).sort()).toEqual(devices.map((d) => d.id).sort());
    expect(hers.subscriptions.map((b) => b.id).sort()).toEqual(browsers.map((b) => b.id).sort());
    expect(world.unregistered).toEqual([]);
    for (const b of browsers) expect(world.owners.owners.get(b.id)).toEqual({ tenantId: 'tenant-a', userId: 'alice' });
    expect((await listPushTargets(world, bob)).devices.map((d) => d.token)).toEqual(['shared-phone']);
    expect((await listPushTargets(world, bob)).subscriptions.map((b) => b.endpoint)).toEqual([subscription.endpoint]);
  });

  it('takes over a device another user registered, in another tenant too: it leaves their record, its endpoint names the new user', async () => {
    // Prepare: one phone, signed in by Alice (tenant A), then signed out, and in by Bob (tenant B)
    const world = aWorld();
    const alice = { ...plainUser, tenantId: 'tenant-a', sub: 'alice' };
    const bob = { ...plainUser, tenantId: 'tenant-b', sub: 'bob' };
    await world.recipients.put(aRecipient({ tenantId: 'tenant-a', id: 'alice' }));
    await world.recipients.put(aRecipient({ tenantId: 'tenant-b', id: 'bob' }));
    const hers = await addDevice(world, alice, { platform: 'fcm', token: 'phone-1' });
    await addDevice(world, alice, { platform: 'fcm', token: 'her-tablet' });

    // Act
    const his = await addDevice(world, bob, { platform: 'fcm', token: 'phone-1' });

    // Assess: the same endpoint, now Bob's alone; Alice keeps her other device; SNS deleted nothing
    expect(his.endpointArn).toBe(hers.endpointArn);
    expect((await listPushTargets(world, bob)).devices.map((d) => d.token)).toEqual(['phone-1']);
    expect((await listPushTargets(world, alice)).devices.map((d) => d.token)).toEqual(['her-tablet']);
    expect(world.endpoints.get('phone-1')).toMatchObject({ enabled: true, userData: JSON.stringify({ tenantId: 'tenant-b', userId: 'bob' }) });
    expect(world.unregistered).toEqual([]);
    await expect(removePushTarget(world, alice, 'device', hers.id)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('keeps the device on one record when its previous user re-registers it while another takes it over, whichever goes first', async () => {
    // Prepare: Alice's phone; the app re-registers her token as Bob signs in on it. Her read of the
    // endpoint comes before Bob's claim, and her record is written after his claim (`late`), or
    // after his first forget but before his claim (`early`).
    for (const interleaving of ['late', 'early'] as const) {
      const world = aWorld();
      const alice = { ...plainUser, tenantId: 'tenant-a', sub: 'alice' };
      const bob = { ...plainUser, tenantId: 'tenant-b', sub: 'bob' };
      await world.recipients.put(aRecipient({ tenantId: 'tenant-a', id: 'alice' }));
      await world.recipients.put(aRecipient({ tenantId: 'tenant-b', id: 'bob' }));
      await addDevice(world, alice, { platform: 'fcm', token: 'phone-1' });
      const add = world.targets.add.bind(world.targets);
      const claim = world.mobile.claim.bind(world.mobile);
      let hers: Promise<unknown> | undefined;
      if (interleaving === 'late') {
        // Bob registers, whole, between Alice's read of the endpoint and her add.
        let raced = false;
        world.targets.add = async (tenantId, userId, target, max) => {
          if (userId === 'alice' && !raced) {
            raced = true;
            await addDevice(world, bob, { platform: 'fcm', token: 'phone-1' });
          }
          return [...(await add(tenantId, userId, target, max))];
        };
        const outcome = await addDevice(world, alice, { platform: 'fcm', token: 'phone-1' }).catch((e: unknown) => e);
        // Assess: Alice lost the race, is told so, and is not left holding Bob's endpoint
        expect(outcome, interleaving).toBeInstanceOf(ConflictError);
      } else {
        // Alice registers, whole, after Bob's first forget and before his claim.
        world.mobile.claim = async (arn, token, userData) => {
          if (userData.includes('bob') && !hers) {
            hers = addDevice(world, alice, { platform: 'fcm', token: 'phone-1' });
            await hers;
          }
          return claim(arn, token, userData);
        };
        await addDevice(world, bob, { platform: 'fcm', token: 'phone-1' });
        await expect(hers, interleaving).resolves.toMatchObject({ token: 'phone-1' });
      }

      // Assess: the endpoint is Bob's, on his record alone
      expect(world.endpoints.get('phone-1')?.userData, interleaving).toBe(JSON.stringify({ tenantId: 'tenant-b', userId: 'bob' }));
      expect((await listPushTargets(world, bob)).devices.map((d) => d.token), interleaving).toEqual(['phone-1']);
      expect((await listPushTargets(world, alice)).devices, interleaving).toEqual([]);
    }
  });

  it('takes a device back, its endpoint deleted, from a user erased while registering it (404)', async () => {
    // Prepare: the erasure removes the record between the registration's first read and its add
    const world = aWorld();
    await world.recipients.put(aRecipient({ id: plainUser.sub }));
    const add = world.targets.add.bind(world.targets);
    world.targets.add = async (tenantId, userId, target, max) => {
      const record = await world.recipients.get(tenantId, userId);
      if (record) await world.recipients.remove(record);
      return [...(await add(tenantId, userId, target, max))];
    };

    // Act
    const outcome = await addDevice(world, plainUser, { platform: 'fcm', token: 'phone-1' }).catch((e: unknown) => e);

    // Assess
    expect(outcome).toBeInstanceOf(NotFoundError);
    expect((await world.targets.list(plainUser.tenantId, plainUser.sub)).devices).toEqual([]);
    expect(world.unregistered).toEqual([world.endpoints.get('phone-1')?.endpointArn]);
  });

  it("removes a device from the record without deleting its endpoint when another user's data is on it now", async () => {
    // Prepare: Alice's record still names the phone Bob has since claimed (a race with her removal)
    const world = aWorld();
    const alice = { ...plainUser, sub: 'alice' };
    const bob = { ...plainUser, sub: 'bob' };
    await world.recipients.put(aRecipient({ id: 'alice' }));
    await world.recipients.put(aRecipient({ id: 'bob' }));
    const hers = await addDevice(world, alice, { platform: 'fcm', token: 'phone-1' });
    await addDevice(world, bob, { platform: 'fcm', token: 'phone-1' });
    await world.targets.add(alice.tenantId, 'alice', hers, 10);

    // Act
    await removePushTarget(world, alice, 'device', hers.id);

    // Assess
    expect((await listPushTargets(world, alice)).devices).toEqual([]);
    expect(world.unregistered).toEqual([]);
    expect((await listPushTargets(world, bob)).devices.map((d) => d.endpointArn)).toEqual([hers.endpointArn]);
  });

  it('enables again the endpoint of a token FCM or APNs had called invalid, and sets nothing on one already right', async () => {
    // Prepare
    const world = aWorld();
    await world.recipients.put(aRecipient({ id: plainUser.sub }));
    const first = await addDevice(world, plainUser, { platform: 'apns', token: 'a'.repeat(64) });
    await addDevice(world, plainUser, { platform: 'apns', token: 'a'.repeat(64) });
    expect(world.claims).toEqual([]);
    const endpoint = world.endpoints.get('a'.repeat(64));
    if (endpoint) endpoint.enabled = false;

    // Act: the app, reinstalled, registers the same token
    await addDevice(world, plainUser, { platform: 'apns', token: 'a'.repeat(64) });

    // Assess
    expect(world.claims).toEqual([first.endpointArn]);
    expect(world.endpoints.get('a'.repeat(64))?.enabled).toBe(true);
    expect((await listPushTargets(world, plainUser)).devices).toHaveLength(1);
  });

  it.each([
    ['the previous user\'s record cannot be written', { forgetFails: new Error('DynamoDB is down') }],
    ['SNS cannot set the endpoint\'s attributes', { claimFails: Object.assign(new Error('boom'), { name: 'InternalErrorException', $metadata: { httpStatusCode: 500 } }) }],
  ])('answers 503 and registers nothing when %s', async (_, failure) => {
    // Prepare: Alice's phone, then Bob's sign-in on it
    const world = aWorld(failure);
    const alice = { ...plainUser, sub: 'alice' };
    const bob = { ...plainUser, sub: 'bob' };
    await world.recipients.put(aRecipient({ id: 'alice' }));
    await world.recipients.put(aRecipient({ id: 'bob' }));
    world.endpoints.set('phone-1', { endpointArn: 'arn:aws:sns:us-east-1:000000000000:endpoint/fcm/app/9', enabled: true, token: 'phone-1', userData: JSON.stringify({ tenantId: alice.tenantId, userId: 'alice' }) });

    // Act
    const error = await addDevice(world, bob, { platform: 'fcm', token: 'phone-1' }).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(ServiceUnavailableError);
    expect((await listPushTargets(world, bob)).devices).toEqual([]);
  });
});
