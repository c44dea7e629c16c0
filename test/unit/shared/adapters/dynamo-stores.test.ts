import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { DynamoConnectionStore } from '../../../../shared/adapters/dynamo-connection-store.ts';

const dbMock = mockClient(DynamoDBDocumentClient);
const documentClient = (): DynamoDBDocumentClient => DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1' }));

beforeEach(() => {
  dbMock.reset();
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
