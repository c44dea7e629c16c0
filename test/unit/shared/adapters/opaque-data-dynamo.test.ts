/**
 * `data` comes back from DynamoDB exactly as it was sent: numbers no double (and no DynamoDB
 * number) can hold, any member name, 32 levels of nesting: on notifications, inbox items and
 * broadcast contents, against the real DynamoDB protocol (the local stack's DynamoDB endpoint).
 */
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoBroadcastStore } from '../../../../shared/adapters/dynamo-broadcast-store.ts';
import { DynamoInboxStore } from '../../../../shared/adapters/dynamo-inbox-store.ts';
import { DynamoNotificationStore, notificationKey } from '../../../../shared/adapters/dynamo-notification-store.ts';
import { recipientKey } from '../../../../shared/adapters/dynamo-recipient-store.ts';
import { zeroCounts } from '../../../../shared/domain/broadcast.ts';
import type { Broadcast } from '../../../../shared/domain/broadcast.ts';
import { newBroadcastId, newNotificationId } from '../../../../shared/domain/ids.ts';
import { parseJsonKeepingNumbers } from '../../../../shared/domain/opaque-json.ts';
import { aNotification, tenantId } from '../../fakes/fixtures.ts';
import { startLocalDynamo } from '../../support/local-dynamo.ts';
import type { LocalDynamo } from '../../support/local-dynamo.ts';

let local: LocalDynamo;
/** Tables by their logical name, as `startLocalDynamo` creates them. */
const dynamo = {
  get db() {
    return local.documentClient;
  },
  tableName: (name: string): string => name,
};
const noon = new Date('2030-01-01T12:00:00.000Z');

/** The example and its kin, as a client would send them. */
const sentText = `{"orderId":12345678901234567890,"big":1e400,"tiny":1e-200,"negativeZero":-0,"key with #, . and spaces":[1.5,"x"],"":{"nested":${'{"a":'.repeat(29)}true${'}'.repeat(29)}}}`;
const sent = parseJsonKeepingNumbers(sentText) as Record<string, unknown>;

beforeAll(async () => {
  local = await startLocalDynamo({ withTables: true });
});

afterAll(async () => {
  await local?.stop();
});

describe('data kept as opaque JSON', () => {
  it('comes back from a notification as it was sent', async () => {
    // Prepare
    const store = new DynamoNotificationStore(dynamo.db, dynamo.tableName('notifications'));
    const n = aNotification({ id: newNotificationId(noon), data: sent });

    // Act
    await store.createMany([n]);
    const read = await store.get(tenantId, n.id);

    // Assess
    expect(JSON.stringify(read?.data)).toBe(sentText);
  });

  it('comes back from an inbox item as it was sent', async () => {
    // Prepare
    const inbox = new DynamoInboxStore(dynamo.db, dynamo.tableName('inbox'), () => dynamo.tableName('recipients'));
    await dynamo.db.send(new PutCommand({ TableName: dynamo.tableName('recipients'), Item: { ...recipientKey(tenantId, 'auth0|bob'), tenantId, id: 'auth0|bob' } }));
    const item = {
      tenantId,
      recipientId: 'auth0|bob',
      notificationId: newNotificationId(noon),
      title: 'Hi',
      message: 'Hello',
      type: 'system',
      priority: 'normal',
      data: sent,
      createdAt: noon.toISOString(),
      deliveredAt: noon.toISOString(),
    };

    // Act
    await inbox.add(item);
    const [read] = await inbox.list(tenantId, 'auth0|bob');

    // Assess
    expect(JSON.stringify(read?.data)).toBe(sentText);
  });

  it('comes back from a broadcast content as it was sent', async () => {
    // Prepare
    const broadcasts = new DynamoBroadcastStore(dynamo.db, dynamo.tableName('broadcasts'));
    const broadcast: Broadcast = {
      tenantId,
      id: newBroadcastId(noon),
      createdBy: 'ops',
      title: 'Hi',
      type: 'system',
      priority: 'normal',
      channels: ['inbox'],
      audience: { kind: 'all' },
      status: 'draft',
      createdAt: noon.toISOString(),
      counts: zeroCounts,
      run: 0,
    };

    // Act
    await broadcasts.create(broadcast, { message: 'Hello', data: sent });
    const content = await broadcasts.getContent(tenantId, broadcast.id);

    // Assess
    expect(JSON.stringify(content?.data)).toBe(sentText);
  });

  it('is stored as JSON text, and an older item holding a data map is still read', async () => {
    // Prepare
    const store = new DynamoNotificationStore(dynamo.db, dynamo.tableName('notifications'));
    const n = aNotification({ id: newNotificationId(noon), data: { amount: 12 } });
    await store.createMany([n]);
    const legacy = aNotification({ id: newNotificationId(noon) });
    const { data: _none, ...legacyFields } = legacy;
    await dynamo.db.send(new PutCommand({ TableName: dynamo.tableName('notifications'), Item: { ...legacyFields, ...notificationKey(tenantId, legacy.id), data: { amount: 7 } } }));

    // Act
    const raw = await dynamo.db.send(new GetCommand({ TableName: dynamo.tableName('notifications'), Key: notificationKey(tenantId, n.id) }));
    const old = await store.get(tenantId, legacy.id);

    // Assess
    expect(raw.Item?.dataJson).toBe('{"amount":12}');
    expect(raw.Item?.data).toBeUndefined();
    expect(old?.data).toEqual({ amount: 7 });
  });
});
