import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoInboxStore, unreadCounterKey } from '../../../../shared/adapters/dynamo-inbox-store.ts';
import { RecipientGoneError } from '../../../../shared/ports.ts';
import type { InboxItem } from '../../../../shared/ports.ts';
import { startLocalDynamo } from '../../support/local-dynamo.ts';
import type { LocalDynamo } from '../../support/local-dynamo.ts';

let dynamo: LocalDynamo;
let store: DynamoInboxStore;
let users = 0;
const at = new Date('2030-01-02T10:00:00.000Z');
const expiresAt = new Date('2030-02-01T10:00:00.000Z');

/** A recipient of its own in the directory, so that tests never see each other's inboxes. */
async function aRecipient(): Promise<string> {
  users += 1;
  const id = `user${users}`;
  await dynamo.documentClient.send(new PutCommand({ TableName: 'recipients', Item: { pk: `acme#${id}`, tenantId: 'acme', id, groups: [] } }));
  return id;
}

function anItem(recipientId: string, n: number, deliveredAt = `2030-01-01T12:00:${String(n).padStart(2, '0')}.000Z`): InboxItem {
  return {
    tenantId: 'acme',
    recipientId,
    notificationId: `ntf_${String(n).padStart(26, '0')}`,
    title: `Title ${n}`,
    message: 'Hello',
    type: 'reminder',
    priority: 'normal',
    createdAt: '2030-01-01T11:00:00.000Z',
    deliveredAt,
  };
}

async function stored(recipientId: string, id: string): Promise<Record<string, unknown> | undefined> {
  const result = await dynamo.documentClient.send(
    new GetCommand({ TableName: 'inbox', Key: { pk: `acme#${recipientId}`, notificationId: id }, ConsistentRead: true }),
  );
  return result.Item;
}

beforeAll(async () => {
  dynamo = await startLocalDynamo({ withTables: true });
  store = new DynamoInboxStore(dynamo.documentClient, 'inbox', () => 'recipients');
});

afterAll(async () => {
  await dynamo?.stop();
});

describe('DynamoInboxStore against dynalite', () => {
  it('adds an item unread and counts it once, however often the delivery repeats', async () => {
    // Prepare
    const bob = await aRecipient();
    const item = anItem(bob, 1);

    // Act
    const first = await store.add(item);
    const again = await store.add({ ...item, deliveredAt: '2030-01-01T13:00:00.000Z' });

    // Assess
    expect([first, again]).toEqual([true, false]);
    expect((await store.unreadCount('acme', bob)).unread).toBe(1);
    expect(await stored(bob, item.notificationId)).toMatchObject({ unreadKey: `acme#${bob}`, deliveredAt: item.deliveredAt });
    expect((await stored(bob, item.notificationId))?.expiresAt).toBeUndefined();
  });

  it('counts one add when the same delivery races with itself', async () => {
    // Prepare
    const bob = await aRecipient();

    // Act
    const results = await Promise.all(Array.from({ length: 10 }, () => store.add(anItem(bob, 1))));

    // Assess
    expect(results.filter(Boolean)).toHaveLength(1);
    expect((await store.unreadCount('acme', bob)).unread).toBe(1);
  });

  it('refuses an item for a recipient no longer in the directory, writing nothing', async () => {
    // Prepare
    const item = anItem('erased', 1);

    // Act
    const result = store.add(item);

    // Assess
    await expect(result).rejects.toBeInstanceOf(RecipientGoneError);
    expect(await stored('erased', item.notificationId)).toBeUndefined();
    expect((await store.unreadCount('acme', 'erased')).unread).toBe(0);
  });

  it('pages an inbox newest arrival first, whatever the ids, and keeps the counter out of it', async () => {
    // Prepare
    const bob = await aRecipient();
    await store.add(anItem(bob, 1, '2030-01-01T12:00:03.000Z'));
    await store.add(anItem(bob, 2, '2030-01-01T12:00:01.000Z'));
    await store.add(anItem(bob, 3, '2030-01-01T12:00:02.000Z'));

    // Act
    const first = await store.page('acme', bob, { unreadOnly: false, limit: 2 });
    const second = await store.page('acme', bob, { unreadOnly: false, limit: 2, ...(first.after ? { after: first.after } : {}) });

    // Assess
    expect(first.items.map((i) => i.title)).toEqual(['Title 1', 'Title 3']);
    expect(first.after).toBe(`2030-01-01T12:00:02.000Z#${anItem(bob, 3).notificationId}`);
    expect(second.items.map((i) => i.title)).toEqual(['Title 2']);
    expect(second.after).toBeUndefined();
    expect((await store.list('acme', bob)).map((i) => i.title)).toEqual(['Title 1', 'Title 3', 'Title 2']);
  });

  it('reads an item once: the count drops once, the item expires after its retention, again is a no-op', async () => {
    // Prepare
    const bob = await aRecipient();
    const item = anItem(bob, 1);
    await store.add(item);
    await store.add(anItem(bob, 2));

    // Act
    const outcomes = await Promise.all(Array.from({ length: 5 }, () => store.markRead('acme', bob, item.notificationId, at, expiresAt)));
    const again = await store.markRead('acme', bob, item.notificationId, at, expiresAt);

    // Assess
    expect(outcomes.filter((o) => o === 'read')).toHaveLength(1);
    expect(again).toBe('alreadyRead');
    expect((await store.unreadCount('acme', bob)).unread).toBe(1);
    const row = await stored(bob, item.notificationId);
    expect(row).toMatchObject({ readAt: at.toISOString(), expiresAt: expiresAt.getTime() / 1000 });
    expect(row?.unreadKey).toBeUndefined();
    const unread = await store.page('acme', bob, { unreadOnly: true, limit: 10 });
    expect(unread.items.map((i) => i.notificationId)).toEqual([anItem(bob, 2).notificationId]);
  });

  it('says missing for an item the recipient does not have, even the counter', async () => {
    // Prepare
    const bob = await aRecipient();
    await store.add(anItem(bob, 1));

    // Act
    const unknown = await store.markRead('acme', bob, 'ntf_nope', at, expiresAt);
    const counter = await store.markRead('acme', bob, unreadCounterKey, at, expiresAt);

    // Assess
    expect([unknown, counter]).toEqual(['missing', 'missing']);
    expect((await store.unreadCount('acme', bob)).unread).toBe(1);
  });

  it('reads many items at once, counting only those still unread', async () => {
    // Prepare
    const bob = await aRecipient();
    for (let n = 1; n <= 4; n++) await store.add(anItem(bob, n));
    await store.markRead('acme', bob, anItem(bob, 2).notificationId, at, expiresAt);
    const ids = [1, 2, 3, 4].map((n) => anItem(bob, n).notificationId);

    // Act
    const read = await store.markManyRead('acme', bob, [...ids, 'ntf_missing'], at, expiresAt);

    // Assess
    expect(read).toBe(3);
    expect((await store.unreadCount('acme', bob)).unread).toBe(0);
    expect((await store.page('acme', bob, { unreadOnly: true, limit: 10 })).items).toEqual([]);
  });

  it('reads more items than one transaction holds', async () => {
    // Prepare
    const bob = await aRecipient();
    const ids: string[] = [];
    for (let n = 1; n <= 120; n++) {
      const item = anItem(bob, n, `2030-01-01T12:${String(Math.floor(n / 60)).padStart(2, '0')}:${String(n % 60).padStart(2, '0')}.000Z`);
      await store.add(item);
      ids.push(item.notificationId);
    }

    // Act
    const read = await store.markManyRead('acme', bob, ids, at, expiresAt);

    // Assess
    expect(read).toBe(120);
    expect((await store.unreadCount('acme', bob)).unread).toBe(0);
  });

  it('raises the count\'s version by one with every write that moves the count, in the same write, and only then', async () => {
    // Prepare
    const bob = await aRecipient();

    // Act
    const seen = [await store.unreadCount('acme', bob)];
    for (const n of [1, 2, 3]) {
      await store.add(anItem(bob, n));
      seen.push(await store.unreadCount('acme', bob));
    }
    await store.add(anItem(bob, 1));
    seen.push(await store.unreadCount('acme', bob));
    await store.markRead('acme', bob, anItem(bob, 2).notificationId, at, expiresAt);
    seen.push(await store.unreadCount('acme', bob));
    await store.markRead('acme', bob, anItem(bob, 2).notificationId, at, expiresAt);
    seen.push(await store.unreadCount('acme', bob));
    await store.markManyRead('acme', bob, [anItem(bob, 1).notificationId, anItem(bob, 3).notificationId], at, expiresAt);
    seen.push(await store.unreadCount('acme', bob));

    // Assess: a repeat (an add of an item there, a read of an item read) moves neither; read-all
    // moves the count by 2 in one write, the version by 1
    expect(seen).toEqual([
      { unread: 0, unreadVersion: 0 },
      { unread: 1, unreadVersion: 1 },
      { unread: 2, unreadVersion: 2 },
      { unread: 3, unreadVersion: 3 },
      { unread: 3, unreadVersion: 3 },
      { unread: 2, unreadVersion: 4 },
      { unread: 2, unreadVersion: 4 },
      { unread: 0, unreadVersion: 5 },
    ]);
  });

  it('reads a counter written before versions existed as version 0, and the next write makes it 1', async () => {
    // Prepare: two unread items and a counter as the code before versions wrote it
    const bob = await aRecipient();
    await store.add(anItem(bob, 1));
    await store.add(anItem(bob, 2));
    await dynamo.documentClient.send(new PutCommand({ TableName: 'inbox', Item: { pk: `acme#${bob}`, notificationId: unreadCounterKey, unread: 2 } }));

    // Act
    const before = await store.unreadCount('acme', bob);
    await store.markRead('acme', bob, anItem(bob, 1).notificationId, at, expiresAt);
    const after = await store.unreadCount('acme', bob);

    // Assess
    expect(before).toEqual({ unread: 2, unreadVersion: 0 });
    expect(after).toEqual({ unread: 1, unreadVersion: 1 });
  });

  it('removes every item and the count of a recipient', async () => {
    // Prepare
    const bob = await aRecipient();
    await store.add(anItem(bob, 1));
    await store.add(anItem(bob, 2));

    // Act
    const removed = await store.removeAll('acme', bob);

    // Assess
    expect(removed).toBe(2);
    expect(await store.list('acme', bob)).toEqual([]);
    expect((await store.unreadCount('acme', bob)).unread).toBe(0);
    expect(await stored(bob, unreadCounterKey)).toBeUndefined();
  });
});
