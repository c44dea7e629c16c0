/**
 * The browser subscriptions' owner records on the real DynamoDB protocol (dynalite behind the local
 * transactions front): one item per subscription in the inbox table, and a take-over that removes
 * the subscription from the previous user's live item only while the record names the new user.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoPushTargetStore, liveKey } from '../../../../shared/adapters/dynamo-live-state-store.ts';
import { DynamoPushSubscriptionOwners, subscriptionOwnerKey } from '../../../../shared/adapters/dynamo-push-subscription-owners.ts';
import type { WebPushSubscription } from '../../../../shared/domain/push-targets.ts';
import { startLocalDynamo } from '../../support/local-dynamo.ts';
import type { LocalDynamo } from '../../support/local-dynamo.ts';

let dynamo: LocalDynamo;
let owners: DynamoPushSubscriptionOwners;
let targets: DynamoPushTargetStore;
let subscriptions = 0;

beforeAll(async () => {
  dynamo = await startLocalDynamo({ withTables: true });
  owners = new DynamoPushSubscriptionOwners(dynamo.documentClient, 'inbox');
  targets = new DynamoPushTargetStore(dynamo.documentClient, 'inbox');
});

afterAll(async () => {
  await dynamo?.stop();
});

/** A subscription nobody else in this file uses. */
function aSubscription(): WebPushSubscription {
  const n = ++subscriptions;
  return { id: `ps_${n}`, endpoint: `https://push.example.com/${n}`, keys: { p256dh: 'B'.repeat(87), auth: 'A'.repeat(22) }, createdAt: '2030-01-01T10:00:00.000Z' };
}

const alice = { tenantId: 'tenant-a', userId: 'alice' };
const bob = { tenantId: 'tenant-b', userId: 'bob' };

describe('DynamoPushSubscriptionOwners', () => {
  const subscriptionsOf = async (owner: { tenantId: string; userId: string }): Promise<string[]> => (await targets.list(owner.tenantId, owner.userId)).subscriptions.map((s) => s.id);

  it("claims a subscription nobody holds, again for its holder, and from another user with their record losing it in the same write", async () => {
    // Prepare: on Alice's record beside another of hers
    const subscription = aSubscription();
    const hers = aSubscription();
    await targets.add(alice.tenantId, alice.userId, hers, 10);

    // Act
    const first = await owners.claim(subscription.id, alice);
    await targets.add(alice.tenantId, alice.userId, subscription, 10);
    const again = await owners.claim(subscription.id, alice);
    const taken = await owners.claim(subscription.id, bob);

    // Assess
    expect(first).toEqual({ claimed: true });
    expect(again).toEqual({ claimed: true });
    expect(taken).toEqual({ claimed: true, from: alice });
    expect(await owners.ownerOf(subscription.id)).toEqual(bob);
    expect(await subscriptionsOf(alice)).toEqual([hers.id]);
    expect(await owners.ownerOf(aSubscription().id)).toBeUndefined();
  });

  it('deletes the record only for the user it names', async () => {
    // Prepare
    const { id } = aSubscription();
    await owners.claim(id, bob);

    // Act
    await owners.release(id, alice);
    const afterOther = await owners.ownerOf(id);
    await owners.release(id, bob);
    await owners.release(id, bob);

    // Assess: another's release left it; the second of Bob's found nothing, and is no error
    expect(afterOther).toEqual(bob);
    expect(await owners.ownerOf(id)).toBeUndefined();
    const raw = await dynamo.documentClient.send(new GetCommand({ TableName: 'inbox', Key: subscriptionOwnerKey(id), ConsistentRead: true }));
    expect(raw.Item).toBeUndefined();
  });

  it('leaves it on no earlier holder when users claim it at once: each claim takes it from the one before', async () => {
    for (let round = 0; round < 5; round++) {
      // Prepare: Alice's, on her record; Bob, Carol and Dan claim it at once (and add it to theirs)
      const subscription = aSubscription();
      await owners.claim(subscription.id, alice);
      await targets.add(alice.tenantId, alice.userId, subscription, 10);
      const others = ['bob', 'carol', 'dan'].map((userId) => ({ tenantId: `tenant-${userId}`, userId }));

      // Act
      const claims = await Promise.all(others.map((o) => owners.claim(subscription.id, o)));

      // Assess: Alice's record lost it; the record names one of them, taken from someone each time
      expect(await subscriptionsOf(alice), `round ${round}`).not.toContain(subscription.id);
      const holder = await owners.ownerOf(subscription.id);
      expect(others, `round ${round}`).toContainEqual(holder);
      for (const claim of claims) if (claim.claimed) expect(claim.from, `round ${round}`).toBeDefined();
    }
  });

  it('claims from a user whose item is gone (erased) without writing it back', async () => {
    // Prepare
    const { id } = aSubscription();
    const erased = { tenantId: 'tenant-a', userId: 'erased-user' };
    await owners.claim(id, erased);

    // Act
    const taken = await owners.claim(id, bob);

    // Assess
    expect(taken).toEqual({ claimed: true, from: erased });
    expect(await owners.ownerOf(id)).toEqual(bob);
    const raw = await dynamo.documentClient.send(new GetCommand({ TableName: 'inbox', Key: liveKey(erased.tenantId, erased.userId), ConsistentRead: true }));
    expect(raw.Item).toBeUndefined();
  });
});
