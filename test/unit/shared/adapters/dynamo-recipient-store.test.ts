import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoRecipientStore } from '../../../../shared/adapters/dynamo-recipient-store.ts';
import type { Recipient } from '../../../../shared/domain/recipient.ts';
import { aRecipient } from '../../fakes/fixtures.ts';
import { startLocalDynamo } from '../../support/local-dynamo.ts';
import type { LocalDynamo } from '../../support/local-dynamo.ts';

let dynamo: LocalDynamo;
let store: DynamoRecipientStore;
let tenants = 0;

/** A tenant of its own, so that tests never see each other's directories. */
function aTenant(): string {
  tenants += 1;
  return `tenant${tenants}`;
}

async function membersOf(tenantId: string, group: string): Promise<string[]> {
  const result = await dynamo.documentClient.send(
    new QueryCommand({
      TableName: 'memberships',
      KeyConditionExpression: 'groupKey = :g',
      ExpressionAttributeValues: { ':g': `${tenantId}#${group}` },
      ConsistentRead: true,
    }),
  );
  return (result.Items ?? []).map((item) => String(item.recipientId));
}

async function create(recipient: Recipient): Promise<Recipient> {
  expect(await store.save(recipient, undefined)).toBe(true);
  const saved = await store.get(recipient.tenantId, recipient.id);
  if (!saved) throw new Error('not saved');
  return saved;
}

beforeAll(async () => {
  dynamo = await startLocalDynamo({ withTables: true });
  store = new DynamoRecipientStore(dynamo.documentClient, 'recipients', () => 'memberships');
});

afterAll(async () => {
  await dynamo?.stop();
});

describe('DynamoRecipientStore against dynalite', () => {
  it('creates a recipient with its memberships, at version 1', async () => {
    // Prepare
    const tenantId = aTenant();

    // Act
    const saved = await create(aRecipient({ tenantId, id: 'bob', groups: ['ops', 'eng'] }));

    // Assess
    expect(saved).toEqual({ ...aRecipient({ tenantId, id: 'bob', groups: ['ops', 'eng'] }), version: 1 });
    expect(await membersOf(tenantId, 'ops')).toEqual(['bob']);
    expect(await membersOf(tenantId, 'eng')).toEqual(['bob']);
  });

  it('keeps per-type switches whatever the types are called, constructor and toString included', async () => {
    // Prepare: the tenant's own words as type names, some of which are names of Object's prototype
    const tenantId = aTenant();
    const typePreferences = { constructor: { email: false }, toString: { sms: false }, marketing: { push: false } };

    // Act
    const saved = await create(aRecipient({ tenantId, id: 'tina', typePreferences }));

    // Assess
    expect(saved.typePreferences).toEqual(typePreferences);
  });

  it('moves memberships with the groups, in one write', async () => {
    // Prepare
    const tenantId = aTenant();
    const bob = await create(aRecipient({ tenantId, id: 'bob', groups: ['ops', 'eng'] }));

    // Act
    const saved = await store.save({ ...bob, groups: ['eng', 'sales'] }, bob);

    // Assess
    expect(saved).toBe(true);
    expect(await membersOf(tenantId, 'ops')).toEqual([]);
    expect(await membersOf(tenantId, 'eng')).toEqual(['bob']);
    expect(await membersOf(tenantId, 'sales')).toEqual(['bob']);
    expect((await store.get(tenantId, 'bob'))?.version).toBe(2);
  });

  it('refuses a write based on a version that is no longer stored, changing nothing', async () => {
    // Prepare
    const tenantId = aTenant();
    const bob = await create(aRecipient({ tenantId, id: 'bob', groups: ['ops'] }));
    expect(await store.save({ ...bob, email: 'first@example.com' }, bob)).toBe(true);

    // Act
    const stale = await store.save({ ...bob, email: 'second@example.com', groups: ['eng'] }, bob);
    const created = await store.save(aRecipient({ tenantId, id: 'bob' }), undefined);

    // Assess
    expect([stale, created]).toEqual([false, false]);
    expect(await store.get(tenantId, 'bob')).toMatchObject({ email: 'first@example.com', groups: ['ops'], version: 2 });
    expect(await membersOf(tenantId, 'eng')).toEqual([]);
  });

  it('writes more membership changes than one transaction holds', async () => {
    // Prepare
    const tenantId = aTenant();
    const before = Array.from({ length: 100 }, (_, i) => `a${i}`);
    const after = Array.from({ length: 100 }, (_, i) => `b${i}`);
    const bob = await create(aRecipient({ tenantId, id: 'bob', groups: before }));

    // Act
    const saved = await store.save({ ...bob, groups: after }, bob);

    // Assess
    expect(saved).toBe(true);
    expect(await membersOf(tenantId, 'a0')).toEqual([]);
    expect(await membersOf(tenantId, 'a99')).toEqual([]);
    expect(await membersOf(tenantId, 'b0')).toEqual(['bob']);
    expect(await membersOf(tenantId, 'b99')).toEqual(['bob']);
  });

  it('puts over whatever is stored, keeping memberships right', async () => {
    // Prepare
    const tenantId = aTenant();
    await create(aRecipient({ tenantId, id: 'bob', groups: ['ops'] }));

    // Act
    await store.put(aRecipient({ tenantId, id: 'bob', groups: ['eng'] }));

    // Assess
    expect(await membersOf(tenantId, 'ops')).toEqual([]);
    expect(await membersOf(tenantId, 'eng')).toEqual(['bob']);
  });

  it('removes a recipient with its memberships, unless it changed since it was read', async () => {
    // Prepare
    const tenantId = aTenant();
    const bob = await create(aRecipient({ tenantId, id: 'bob', groups: ['ops'] }));
    const carol = await create(aRecipient({ tenantId, id: 'carol', groups: ['ops'] }));
    await store.save({ ...carol, email: 'carol@example.com' }, carol);

    // Act
    const removedBob = await store.remove(bob);
    const removedStaleCarol = await store.remove(carol);

    // Assess
    expect([removedBob, removedStaleCarol]).toEqual([true, false]);
    expect(await store.get(tenantId, 'bob')).toBeUndefined();
    expect(await store.get(tenantId, 'carol')).toBeDefined();
    expect(await membersOf(tenantId, 'ops')).toEqual(['carol']);
  });

  it('pages a tenant directory in id order, and nobody of another tenant', async () => {
    // Prepare
    const tenantId = aTenant();
    const other = aTenant();
    for (const id of ['dave', 'bob', 'erin', 'carol']) await create(aRecipient({ tenantId, id }));
    await create(aRecipient({ tenantId: other, id: 'mallory' }));

    // Act
    const first = await store.list(tenantId, { limit: 3 });
    const second = await store.list(tenantId, { limit: 3, ...(first.after ? { after: first.after } : {}) });

    // Assess
    expect(first.recipients.map((r) => r.id)).toEqual(['bob', 'carol', 'dave']);
    expect(first.after).toBe('dave');
    expect(second.recipients.map((r) => r.id)).toEqual(['erin']);
    expect(second.after).toBeUndefined();
  });

  it('pages the members of a group through the membership index', async () => {
    // Prepare
    const tenantId = aTenant();
    for (const id of ['bob', 'carol', 'dave', 'erin']) await create(aRecipient({ tenantId, id, groups: id === 'carol' ? ['eng'] : ['ops'] }));

    // Act
    const first = await store.list(tenantId, { group: 'ops', limit: 2 });
    const second = await store.list(tenantId, { group: 'ops', limit: 2, ...(first.after ? { after: first.after } : {}) });

    // Assess
    expect(first.recipients.map((r) => r.id)).toEqual(['bob', 'dave']);
    expect(first.recipients[0]).toMatchObject({ tenantId, id: 'bob', email: 'bob@example.com', groups: ['ops'] });
    expect(second.recipients.map((r) => r.id)).toEqual(['erin']);
    expect(second.after).toBeUndefined();
  });
});
