import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DeleteCommand, DynamoDBDocumentClient, PutCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDynamoDbEndpoint } from '../../../../local/dynamodb/endpoint.ts';
import type { DynamoDbEndpoint } from '../../../../local/dynamodb/endpoint.ts';
import type { StoreWrites } from '../../../../local/dynamodb/write-counter.ts';

const TableName = 'counted';

describe('the writes the local DynamoDB endpoint counts', () => {
  let dynamo: DynamoDbEndpoint;
  let client: DynamoDBClient;
  let db: DynamoDBDocumentClient;

  beforeAll(async () => {
    dynamo = await startDynamoDbEndpoint();
    client = new DynamoDBClient({ endpoint: dynamo.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
    db = DynamoDBDocumentClient.from(client);
    // One index on `status` (projecting all): a write that sets it writes the index too.
    await client.send(
      new CreateTableCommand({
        TableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'status', AttributeType: 'S' },
        ],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        GlobalSecondaryIndexes: [{ IndexName: 'byStatus', KeySchema: [{ AttributeName: 'status', KeyType: 'HASH' }], Projection: { ProjectionType: 'ALL' } }],
      }),
    );
  });

  afterAll(async () => {
    db.destroy();
    await dynamo.stop();
  });

  /** The writes `act` made: items to the table, entries to the index. */
  async function writesOf(act: () => Promise<unknown>): Promise<StoreWrites> {
    const before = dynamo.writes();
    await act().catch(() => undefined);
    const after = dynamo.writes();
    return { tableItems: after.tableItems - before.tableItems, indexEntries: after.indexEntries - before.indexEntries };
  }

  it('counts an item written and each index entry it puts or deletes, as DynamoDB charges write units for them', async () => {
    expect(await writesOf(() => db.send(new PutCommand({ TableName, Item: { pk: 'a', status: 'pending' } })))).toEqual({ tableItems: 1, indexEntries: 1 });
    // The index key changes: its old entry is deleted and a new one put.
    expect(await writesOf(() => db.send(new UpdateCommand({ TableName, Key: { pk: 'a' }, UpdateExpression: 'SET #s = :s', ExpressionAttributeNames: { '#s': 'status' }, ExpressionAttributeValues: { ':s': 'sent' } }))))
      .toEqual({ tableItems: 1, indexEntries: 2 });
    // Another attribute changes: the entry (which projects all) is written again.
    expect(await writesOf(() => db.send(new UpdateCommand({ TableName, Key: { pk: 'a' }, UpdateExpression: 'SET n = :n', ExpressionAttributeValues: { ':n': 1 } })))).toEqual({ tableItems: 1, indexEntries: 1 });
    // An item without the index key writes no entry; deleting an indexed item deletes its entry.
    expect(await writesOf(() => db.send(new PutCommand({ TableName, Item: { pk: 'b' } })))).toEqual({ tableItems: 1, indexEntries: 0 });
    expect(await writesOf(() => db.send(new DeleteCommand({ TableName, Key: { pk: 'a' } })))).toEqual({ tableItems: 1, indexEntries: 1 });
  });

  it('counts each item of a BatchWriteItem and each action of a TransactWriteItems, and no entry for a write refused', async () => {
    const batch = await writesOf(() =>
      db.send(new BatchWriteCommand({ RequestItems: { [TableName]: ['c', 'd', 'e'].map((pk) => ({ PutRequest: { Item: { pk, status: 'pending' } } })) } })),
    );
    const transaction = await writesOf(() =>
      db.send(
        new TransactWriteCommand({
          TransactItems: [{ Put: { TableName, Item: { pk: 'f', status: 'pending' } } }, { Delete: { TableName, Key: { pk: 'c' } } }],
        }),
      ),
    );
    const refused = await writesOf(() => db.send(new PutCommand({ TableName, Item: { pk: 'd', status: 'x' }, ConditionExpression: 'attribute_not_exists(pk)' })));
    const cancelled = await writesOf(() =>
      db.send(
        new TransactWriteCommand({
          TransactItems: [{ Put: { TableName, Item: { pk: 'g', status: 'pending' }, ConditionExpression: 'attribute_not_exists(pk)' } }, { ConditionCheck: { TableName, Key: { pk: 'missing' }, ConditionExpression: 'attribute_exists(pk)' } }],
        }),
      ),
    );

    expect(batch).toEqual({ tableItems: 3, indexEntries: 3 });
    expect(transaction).toEqual({ tableItems: 2, indexEntries: 2 });
    expect(refused).toEqual({ tableItems: 0, indexEntries: 0 });
    expect(cancelled).toEqual({ tableItems: 0, indexEntries: 0 });
  });

  describe('an index entry the write did not change', () => {
    const Projected = 'projected';

    beforeAll(async () => {
      // One index of each projection, all on `group`: a write that keeps `group` keeps every key.
      const key = (IndexName: string) => ({ IndexName, KeySchema: [{ AttributeName: 'group', KeyType: 'HASH' as const }, { AttributeName: 'pk', KeyType: 'RANGE' as const }] });
      await client.send(
        new CreateTableCommand({
          TableName: Projected,
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: [
            { AttributeName: 'pk', AttributeType: 'S' },
            { AttributeName: 'group', AttributeType: 'S' },
          ],
          KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
          GlobalSecondaryIndexes: [
            { ...key('keysOnly'), Projection: { ProjectionType: 'KEYS_ONLY' } },
            { ...key('withStatus'), Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: ['status'] } },
            { ...key('all'), Projection: { ProjectionType: 'ALL' } },
          ],
        }),
      );
      await db.send(new PutCommand({ TableName: Projected, Item: { pk: 'a', group: 'g', status: 'pending', note: 'x' } }));
    });

    const update = (expression: string, values: Record<string, unknown>) =>
      db.send(new UpdateCommand({ TableName: Projected, Key: { pk: 'a' }, UpdateExpression: expression, ...(expression.includes('#s') ? { ExpressionAttributeNames: { '#s': 'status' } } : {}), ExpressionAttributeValues: values }));

    it('is not written again, as DynamoDB writes only an index whose projected attributes or keys changed', async () => {
      // `note` is projected by `all` alone.
      expect(await writesOf(() => update('SET note = :n', { ':n': 'y' }))).toEqual({ tableItems: 1, indexEntries: 1 });
      // `status` by `withStatus` and `all`; `keysOnly` is left alone.
      expect(await writesOf(() => update('SET #s = :s', { ':s': 'sent' }))).toEqual({ tableItems: 1, indexEntries: 2 });
      // The same item put again changes no entry.
      expect(await writesOf(() => db.send(new PutCommand({ TableName: Projected, Item: { pk: 'a', group: 'g', status: 'sent', note: 'y' } })))).toEqual({ tableItems: 1, indexEntries: 0 });
      // A changed index key moves every entry: a delete and a put each.
      expect(await writesOf(() => db.send(new UpdateCommand({ TableName: Projected, Key: { pk: 'a' }, UpdateExpression: 'SET #g = :g', ExpressionAttributeNames: { '#g': 'group' }, ExpressionAttributeValues: { ':g': 'h' } })))).toEqual({ tableItems: 1, indexEntries: 6 });
    });

    it('still reads as the item is, in each projection', async () => {
      await update('SET note = :n, #s = :s', { ':n': 'z', ':s': 'failed' });
      const read = async (IndexName: string) =>
        (await db.send(new QueryCommand({ TableName: Projected, IndexName, KeyConditionExpression: '#g = :g', ExpressionAttributeNames: { '#g': 'group' }, ExpressionAttributeValues: { ':g': 'h' } }))).Items;
      expect(await read('keysOnly')).toEqual([{ pk: 'a', group: 'h' }]);
      expect(await read('withStatus')).toEqual([{ pk: 'a', group: 'h', status: 'failed' }]);
      expect(await read('all')).toEqual([{ pk: 'a', group: 'h', status: 'failed', note: 'z' }]);
    });
  });
});
