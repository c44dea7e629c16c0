/**
 * UpdateTable creating and deleting a global secondary index on the local DynamoDB
 * (local/dynamodb/index-updates.ts): the index is backfilled from the items already there, kept
 * by writes, refused to reads until it is ACTIVE, and each rule of AWS's answers its error.
 */
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  LimitExceededException,
  PutItemCommand,
  QueryCommand,
  ResourceNotFoundException,
  UpdateTableCommand,
} from '@aws-sdk/client-dynamodb';
import type { GlobalSecondaryIndexUpdate, TableDescription } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openDynaliteStore } from '../../../../local/dynamodb/dynalite.ts';
import { startDynamoDbEndpoint } from '../../../../local/dynamodb/endpoint.ts';
import type { DynamoDbEndpoint } from '../../../../local/dynamodb/endpoint.ts';
import { createDynamoDbOperations } from '../../../../local/dynamodb/operations.ts';
import type { Json } from '../../../../local/dynamodb/dynalite.ts';

const byGroupIndex = { IndexName: 'byGroup', KeySchema: [{ AttributeName: 'group', KeyType: 'HASH' as const }, { AttributeName: 'pk', KeyType: 'RANGE' as const }], Projection: { ProjectionType: 'KEYS_ONLY' as const } };
const byGroup: GlobalSecondaryIndexUpdate = { Create: byGroupIndex };

let dynamo: DynamoDbEndpoint;
let client: DynamoDBClient;
let tableNumber = 0;
let table: string;

beforeAll(async () => {
  dynamo = await startDynamoDbEndpoint({ log: () => undefined });
  client = new DynamoDBClient({ endpoint: dynamo.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
});

afterAll(async () => {
  client.destroy();
  await dynamo.stop();
});

beforeEach(async () => {
  table = `items-${++tableNumber}`;
  await client.send(
    new CreateTableCommand({ TableName: table, BillingMode: 'PAY_PER_REQUEST', KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }], AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }] }),
  );
});

const put = (pk: string, attributes: Record<string, { S: string } | { N: string }> = {}) => client.send(new PutItemCommand({ TableName: table, Item: { pk: { S: pk }, ...attributes } }));
const describeTable = async (): Promise<TableDescription | undefined> => (await client.send(new DescribeTableCommand({ TableName: table }))).Table;
const createByGroup = () => client.send(new UpdateTableCommand({ TableName: table, AttributeDefinitions: [{ AttributeName: 'group', AttributeType: 'S' }], GlobalSecondaryIndexUpdates: [byGroup] }));
const queryGroup = async (group: string): Promise<string[]> =>
  ((await client.send(new QueryCommand({ TableName: table, IndexName: 'byGroup', KeyConditionExpression: '#g = :g', ExpressionAttributeNames: { '#g': 'group' }, ExpressionAttributeValues: { ':g': { S: group } } }))).Items ?? []).map(
    (item) => item.pk?.S ?? '',
  );

/** Waits until DescribeTable shows every index ACTIVE (the backfill runs after the answer, as on AWS). */
async function indexesActive(): Promise<TableDescription | undefined> {
  for (;;) {
    const described = await describeTable();
    if ((described?.GlobalSecondaryIndexes ?? []).every((index) => index.IndexStatus === 'ACTIVE')) return described;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('UpdateTable creating a global secondary index', () => {
  it('answers CREATING and backfilling, then backfills the items already there and turns ACTIVE', async () => {
    // Prepare: items in two groups, one without the attribute, one whose attribute is a number.
    await Promise.all([put('a', { group: { S: 'g1' } }), put('b', { group: { S: 'g1' } }), put('c', { group: { S: 'g2' } }), put('d'), put('e', { group: { N: '1' } })]);

    // Act
    const answer = await createByGroup();
    const described = await indexesActive();

    // Assess
    expect(answer.TableDescription?.GlobalSecondaryIndexes).toEqual([expect.objectContaining({ IndexName: 'byGroup', IndexStatus: 'CREATING', Backfilling: true })]);
    expect(described?.GlobalSecondaryIndexes).toEqual([
      expect.objectContaining({ IndexName: 'byGroup', IndexStatus: 'ACTIVE', Backfilling: false, Projection: { ProjectionType: 'KEYS_ONLY' }, IndexArn: `${described?.TableArn}/index/byGroup` }),
    ]);
    expect(described?.AttributeDefinitions).toEqual(expect.arrayContaining([{ AttributeName: 'group', AttributeType: 'S' }]));
    expect(await queryGroup('g1')).toEqual(['a', 'b']);
    expect(await queryGroup('g2')).toEqual(['c']);
  });

  it('keeps the new index current with the writes that follow', async () => {
    // Prepare
    await put('a', { group: { S: 'g1' } });
    await createByGroup();
    await indexesActive();

    // Act: one item moves to another group, one arrives.
    await put('a', { group: { S: 'g2' } });
    await put('b', { group: { S: 'g1' } });

    // Assess
    expect(await queryGroup('g1')).toEqual(['b']);
    expect(await queryGroup('g2')).toEqual(['a']);
  });

  /** An endpoint's operations over a table of 50 items, its index `byGroup` just created: the backfill has not read an item yet. */
  async function backfilling() {
    const operations = createDynamoDbOperations(await openDynaliteStore({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 }), () => undefined);
    await operations.run('CreateTable', { TableName: 'many', BillingMode: 'PAY_PER_REQUEST', KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }], AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }] });
    for (let i = 0; i < 50; i++) await operations.run('PutItem', { TableName: 'many', Item: { pk: { S: `p${i}` }, group: { S: 'g' } } });
    await operations.run('UpdateTable', { TableName: 'many', AttributeDefinitions: [{ AttributeName: 'group', AttributeType: 'S' }], GlobalSecondaryIndexUpdates: [byGroup] } as unknown as Json);
    const query = () => operations.run('Query', { TableName: 'many', IndexName: 'byGroup', KeyConditionExpression: '#g = :g', ExpressionAttributeNames: { '#g': 'group' }, ExpressionAttributeValues: { ':g': { S: 'g' } } });
    return { operations, query };
  }

  it('refuses reads of the index and another index change while the backfill runs', async () => {
    // Prepare
    const { operations, query } = await backfilling();

    // Act: in the same turn, before the backfill's first read of the items.
    const read = query();
    const another = operations.run('UpdateTable', { TableName: 'many', GlobalSecondaryIndexUpdates: [{ Create: { ...byGroupIndex, IndexName: 'byGroupToo' } }] });

    // Assess
    await Promise.all([
      expect(read).rejects.toMatchObject({ body: { __type: 'com.amazon.coral.validate#ValidationException', message: 'Cannot read from backfilling global secondary index: byGroup' } }),
      expect(another).rejects.toMatchObject({
        body: { __type: 'com.amazonaws.dynamodb.v20120810#LimitExceededException', message: 'Subscriber limit exceeded: Only 1 online index can be created or deleted simultaneously per table' },
      }),
    ]);
  });

  it('lets the index still backfilling be deleted: its backfill stops and the index goes', async () => {
    // Prepare
    const { operations, query } = await backfilling();

    // Act
    const answer = (await operations.run('UpdateTable', { TableName: 'many', GlobalSecondaryIndexUpdates: [{ Delete: { IndexName: 'byGroup' } }] })) as { TableDescription: TableDescription };
    let described = (await operations.run('DescribeTable', { TableName: 'many' })) as { Table: TableDescription };
    while (described.Table.GlobalSecondaryIndexes) described = (await operations.run('DescribeTable', { TableName: 'many' })) as { Table: TableDescription };

    // Assess
    expect(answer.TableDescription.GlobalSecondaryIndexes).toEqual([expect.objectContaining({ IndexName: 'byGroup', IndexStatus: 'DELETING' })]);
    await expect(query()).rejects.toMatchObject({ body: { message: 'The table does not have the specified index: byGroup' } });
  });

  it('refuses two index changes in one request', async () => {
    const two = client.send(
      new UpdateTableCommand({
        TableName: table,
        AttributeDefinitions: [{ AttributeName: 'group', AttributeType: 'S' }],
        GlobalSecondaryIndexUpdates: [byGroup, { Create: { ...byGroupIndex, IndexName: 'byGroupToo' } }],
      }),
    );
    await expect(two).rejects.toBeInstanceOf(LimitExceededException);
    expect((await describeTable())?.GlobalSecondaryIndexes).toBeUndefined();
  });

  it.each([
    [
      'a key attribute without a definition',
      { GlobalSecondaryIndexUpdates: [byGroup] },
      'One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [group, pk], AttributeDefinitions: [pk]',
    ],
    [
      'a definition that changes a type',
      { AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'N' }, { AttributeName: 'group', AttributeType: 'S' }], GlobalSecondaryIndexUpdates: [byGroup] },
      'One or more parameter values were invalid: Cannot change the type of attribute pk from S to N',
    ],
    [
      'throughput on an on-demand table',
      { AttributeDefinitions: [{ AttributeName: 'group', AttributeType: 'S' }], GlobalSecondaryIndexUpdates: [{ Create: { ...byGroupIndex, ProvisionedThroughput: { ReadCapacityUnits: 1, WriteCapacityUnits: 1 } } }] },
      'One or more parameter values were invalid: ProvisionedThroughput should not be specified for index: byGroup when BillingMode is PAY_PER_REQUEST',
    ],
    [
      'NonKeyAttributes on a KEYS_ONLY projection',
      { AttributeDefinitions: [{ AttributeName: 'group', AttributeType: 'S' }], GlobalSecondaryIndexUpdates: [{ Create: { ...byGroupIndex, Projection: { ProjectionType: 'KEYS_ONLY', NonKeyAttributes: ['x'] } } }] },
      'One or more parameter values were invalid: ProjectionType is KEYS_ONLY, but NonKeyAttributes is specified',
    ],
    [
      'an INCLUDE projection without NonKeyAttributes',
      { AttributeDefinitions: [{ AttributeName: 'group', AttributeType: 'S' }], GlobalSecondaryIndexUpdates: [{ Create: { ...byGroupIndex, Projection: { ProjectionType: 'INCLUDE' } } }] },
      'One or more parameter values were invalid: ProjectionType is INCLUDE, but NonKeyAttributes is not specified',
    ],
    [
      'a RANGE key first',
      { AttributeDefinitions: [{ AttributeName: 'group', AttributeType: 'S' }], GlobalSecondaryIndexUpdates: [{ Create: { ...byGroupIndex, KeySchema: [{ AttributeName: 'group', KeyType: 'RANGE' }] } }] },
      'Invalid KeySchema: The first KeySchemaElement is not a HASH key type',
    ],
  ])('refuses %s with a ValidationException, changing nothing', async (_case, request, message) => {
    const refused = client.send(new UpdateTableCommand({ TableName: table, ...(request as object) }));
    await expect(refused).rejects.toMatchObject({ name: 'ValidationException', message });
    const described = await describeTable();
    expect(described?.GlobalSecondaryIndexes).toBeUndefined();
    expect(described?.AttributeDefinitions).toEqual([{ AttributeName: 'pk', AttributeType: 'S' }]);
  });

  it('refuses an index that already exists', async () => {
    await createByGroup();
    await indexesActive();
    await expect(createByGroup()).rejects.toMatchObject({ name: 'ValidationException', message: 'Attempting to create an index which already exists' });
  });

  it('refuses a 21st index with a LimitExceededException', async () => {
    for (let i = 0; i < 20; i++) {
      await client.send(new UpdateTableCommand({ TableName: table, AttributeDefinitions: [{ AttributeName: 'group', AttributeType: 'S' }], GlobalSecondaryIndexUpdates: [{ Create: { ...byGroupIndex, IndexName: `index${i}` } }] }));
      await indexesActive();
    }
    await expect(createByGroup()).rejects.toBeInstanceOf(LimitExceededException);
  });
});

describe('UpdateTable deleting a global secondary index', () => {
  it('answers DELETING, then the index leaves the description and queries through it are refused', async () => {
    // Prepare
    await put('a', { group: { S: 'g1' } });
    await createByGroup();
    await indexesActive();

    // Act
    const answer = await client.send(new UpdateTableCommand({ TableName: table, GlobalSecondaryIndexUpdates: [{ Delete: { IndexName: 'byGroup' } }] }));
    let described = await describeTable();
    while (described?.GlobalSecondaryIndexes) described = await describeTable();

    // Assess
    expect(answer.TableDescription?.GlobalSecondaryIndexes).toEqual([expect.objectContaining({ IndexName: 'byGroup', IndexStatus: 'DELETING' })]);
    await expect(queryGroup('g1')).rejects.toMatchObject({ name: 'ValidationException', message: 'The table does not have the specified index: byGroup' });
    // Made again, it starts from the items, not from the entries of the one deleted.
    await put('a', { group: { S: 'g2' } });
    await createByGroup();
    await indexesActive();
    expect(await queryGroup('g1')).toEqual([]);
    expect(await queryGroup('g2')).toEqual(['a']);
  });

  it('answers ResourceNotFoundException for a table that does not exist', async () => {
    const refused = client.send(new UpdateTableCommand({ TableName: 'no-such-table', AttributeDefinitions: [{ AttributeName: 'group', AttributeType: 'S' }], GlobalSecondaryIndexUpdates: [byGroup] }));
    await expect(refused).rejects.toBeInstanceOf(ResourceNotFoundException);
  });

  it('answers ResourceNotFoundException for an index the table does not have', async () => {
    const refused = client.send(new UpdateTableCommand({ TableName: table, GlobalSecondaryIndexUpdates: [{ Delete: { IndexName: 'byNothing' } }] }));
    await expect(refused).rejects.toBeInstanceOf(ResourceNotFoundException);
  });
});
