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
  it('answers the owner a claim replaced, none for the first, and reads the owner now', async () => {
    // Prepare
    const { id } = aSubscription();

    // Act
    const first = await owners.claim(id, alice);
    const again = await owners.claim(id, alice);
    const taken = await owners.claim(id, bob);

    // Assess
    expect(first).toBeUndefined();
    expect(again).toEqual(alice);
    expect(taken).toEqual(alice);
    expect(await owners.ownerOf(id)).toEqual(bob);
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

  it("takes a subscription off the previous user's item while the record names the new user, and nothing once another holds it", async () => {
    // Prepare: on Alice's item beside one of her other subscriptions, claimed by Bob
    const subscription = aSubscription();
    const hers = aSubscription();
    await targets.add(alice.tenantId, alice.userId, subscription, 10);
    await targets.add(alice.tenantId, alice.userId, hers, 10);
    await owners.claim(subscription.id, bob);

    // Act: Carol claims it after Bob, so a take-over of Bob's refuses; then Carol's goes through
    const carol = { tenantId: 'tenant-c', userId: 'carol' };
    await owners.claim(subscription.id, carol);
    const bobs = await owners.takeOver(subscription.id, alice, bob);
    const before = (await targets.list(alice.tenantId, alice.userId)).subscriptions.map((s) => s.id);
    const carols = await owners.takeOver(subscription.id, alice, carol);

    // Assess
    expect(bobs).toBe(false);
    expect(before).toEqual([subscription.id, hers.id]);
    expect(carols).toBe(true);
    expect((await targets.list(alice.tenantId, alice.userId)).subscriptions.map((s) => s.id)).toEqual([hers.id]);
  });

  it('takes over from a user whose item is gone (erased) without writing it back', async () => {
    // Prepare
    const { id } = aSubscription();
    await owners.claim(id, bob);
    const erased = { tenantId: 'tenant-a', userId: 'erased-user' };

    // Act
    const taken = await owners.takeOver(id, erased, bob);

    // Assess
    expect(taken).toBe(true);
    const raw = await dynamo.documentClient.send(new GetCommand({ TableName: 'inbox', Key: liveKey(erased.tenantId, erased.userId), ConsistentRead: true }));
    expect(raw.Item).toBeUndefined();
  });
});
