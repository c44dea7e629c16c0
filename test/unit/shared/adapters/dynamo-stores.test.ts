import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DeleteCommand, DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { DynamoConnectionStore } from '../../../../shared/adapters/dynamo-connection-store.ts';
import { DynamoInboxStore } from '../../../../shared/adapters/dynamo-inbox-store.ts';
import { DynamoRecipientStore } from '../../../../shared/adapters/dynamo-recipient-store.ts';
import type { InboxItem } from '../../../../shared/ports.ts';
import { aRecipient } from '../../fakes/fixtures.ts';

const dbMock = mockClient(DynamoDBDocumentClient);
const documentClient = (): DynamoDBDocumentClient => DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1' }));

const inboxItem: InboxItem = {
  tenantId: 'acme',
  recipientId: 'bob',
  notificationId: 'ntf_01JABCDEFGHJKMNPQRSTVWXYZ0',
  title: 'Standup',
  message: 'Starts in 5 minutes',
  type: 'reminder',
  priority: 'normal',
  createdAt: '2030-01-01T11:00:00.000Z',
  deliveredAt: '2030-01-01T12:00:00.000Z',
};

beforeEach(() => {
  dbMock.reset();
});

describe('DynamoInboxStore', () => {
  it('adds an item once, on condition that it is not there yet', async () => {
    // Prepare
    const store = new DynamoInboxStore(documentClient(), 'inbox');
    dbMock.on(PutCommand).resolves({});

    // Act
    const added = await store.add(inboxItem);

    // Assess
    expect(added).toBe(true);
    expect(dbMock).toHaveReceivedCommandWith(PutCommand, {
      TableName: 'inbox',
      Item: { pk: 'acme#bob', ...inboxItem },
      ConditionExpression: 'attribute_not_exists(notificationId)',
    });
  });

  it('says false when the item was already there (a repeated delivery)', async () => {
    // Prepare
    const store = new DynamoInboxStore(documentClient(), 'inbox');
    dbMock.on(PutCommand).rejects(new ConditionalCheckFailedException({ message: 'exists', $metadata: {} }));

    // Act
    const added = await store.add(inboxItem);

    // Assess
    expect(added).toBe(false);
  });

  it('passes on any other failure to add', async () => {
    // Prepare
    const store = new DynamoInboxStore(documentClient(), 'inbox');
    dbMock.on(PutCommand).rejects(new Error('throttled'));

    // Act
    const result = store.add(inboxItem);

    // Assess
    await expect(result).rejects.toThrow('throttled');
  });

  it('lists a recipient inbox newest first, across pages, without keys', async () => {
    // Prepare
    const store = new DynamoInboxStore(documentClient(), 'inbox');
    dbMock
      .on(QueryCommand)
      .resolvesOnce({ Items: [{ pk: 'acme#bob', ...inboxItem }], LastEvaluatedKey: { pk: 'acme#bob', notificationId: 'x' } })
      .resolves({ Items: [{ pk: 'acme#bob', ...inboxItem, notificationId: 'ntf_older' }] });

    // Act
    const items = await store.list('acme', 'bob');

    // Assess
    expect(items).toEqual([inboxItem, { ...inboxItem, notificationId: 'ntf_older' }]);
    expect(dbMock).toHaveReceivedNthCommandWith(QueryCommand, 1, { ScanIndexForward: false, ExpressionAttributeValues: { ':pk': 'acme#bob' } });
    expect(dbMock).toHaveReceivedNthCommandWith(QueryCommand, 2, { ExclusiveStartKey: { pk: 'acme#bob', notificationId: 'x' } });
  });
});

describe('DynamoRecipientStore', () => {
  it('keys a recipient by tenant and id', async () => {
    // Prepare
    const store = new DynamoRecipientStore(documentClient(), 'recipients');
    dbMock.on(PutCommand).resolves({});
    const recipient = aRecipient();

    // Act
    await store.put(recipient);

    // Assess
    expect(dbMock).toHaveReceivedCommandWith(PutCommand, { TableName: 'recipients', Item: { pk: 'acme#bob', ...recipient } });
  });

  it('reads many recipients, asking again for keys left unprocessed', async () => {
    // Prepare
    const store = new DynamoRecipientStore(documentClient(), 'recipients');
    const bob = aRecipient({ id: 'bob' });
    const carol = aRecipient({ id: 'carol' });
    dbMock
      .on(BatchGetCommand)
      .resolvesOnce({
        Responses: { recipients: [{ pk: 'acme#bob', ...bob }] },
        UnprocessedKeys: { recipients: { Keys: [{ pk: 'acme#carol' }] } },
      })
      .resolves({ Responses: { recipients: [{ pk: 'acme#carol', ...carol }] } });

    // Act
    const found = await store.getMany('acme', ['bob', 'carol', 'dave']);

    // Assess
    expect(found).toEqual([bob, carol]);
    expect(dbMock).toHaveReceivedNthCommandWith(BatchGetCommand, 1, {
      RequestItems: { recipients: { Keys: [{ pk: 'acme#bob' }, { pk: 'acme#carol' }, { pk: 'acme#dave' }], ConsistentRead: true } },
    });
    expect(dbMock).toHaveReceivedNthCommandWith(BatchGetCommand, 2, {
      RequestItems: { recipients: { Keys: [{ pk: 'acme#carol' }], ConsistentRead: true } },
    });
  });
});

describe('DynamoConnectionStore', () => {
  it('stores a connection under its user with an epoch-seconds expiry', async () => {
    // Prepare
    const store = new DynamoConnectionStore(documentClient(), 'connections');
    dbMock.on(PutCommand).resolves({});
    const connection = { connectionId: 'c1', tenantId: 'acme', userId: 'bob', connectedAt: '2030-01-01T12:00:00.000Z' };

    // Act
    await store.put(connection, new Date('2030-01-01T14:05:00.500Z'));

    // Assess
    expect(dbMock).toHaveReceivedCommandWith(PutCommand, {
      TableName: 'connections',
      Item: { ...connection, userKey: 'acme#bob', expiresAt: Date.parse('2030-01-01T14:05:00Z') / 1000 },
    });
  });

  it('finds every connection of a user through the byUser index, across pages', async () => {
    // Prepare
    const store = new DynamoConnectionStore(documentClient(), 'connections');
    const row = (id: string): Record<string, unknown> => ({ connectionId: id, tenantId: 'acme', userId: 'bob', connectedAt: 't', userKey: 'acme#bob', expiresAt: 1 });
    dbMock
      .on(QueryCommand)
      .resolvesOnce({ Items: [row('c1')], LastEvaluatedKey: { connectionId: 'c1' } })
      .resolves({ Items: [row('c2')] });

    // Act
    const connections = await store.listByUser('acme', 'bob');

    // Assess
    expect(connections.map((c) => c.connectionId)).toEqual(['c1', 'c2']);
    expect(connections[0]).toEqual({ connectionId: 'c1', tenantId: 'acme', userId: 'bob', connectedAt: 't' });
    expect(dbMock).toHaveReceivedNthCommandWith(QueryCommand, 1, {
      IndexName: 'byUser',
      KeyConditionExpression: 'userKey = :userKey',
      ExpressionAttributeValues: { ':userKey': 'acme#bob' },
    });
  });

  it('removes a connection by id', async () => {
    // Prepare
    const store = new DynamoConnectionStore(documentClient(), 'connections');
    dbMock.on(DeleteCommand).resolves({});

    // Act
    await store.remove('c1');

    // Assess
    expect(dbMock).toHaveReceivedCommandExactlyOnceWith(DeleteCommand, { TableName: 'connections', Key: { connectionId: 'c1' } });
  });
});
