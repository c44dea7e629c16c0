/**
 * The local endpoint's DynamoDB Streams, through the real SDKs: what each write appends (or not),
 * the images each view type carries, Time to Live's deletes, and the Streams API's iterators and
 * errors. The endpoint's clock is the test's, so iterators expire and records leave on demand.
 */
import {
  ConditionalCheckFailedException,
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  TransactionCanceledException,
  UpdateTableCommand,
} from '@aws-sdk/client-dynamodb';
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  ExpiredIteratorException,
  GetRecordsCommand,
  GetShardIteratorCommand,
  ListStreamsCommand,
  ResourceNotFoundException,
  TrimmedDataAccessException,
} from '@aws-sdk/client-dynamodb-streams';
import type { _Record as StreamRecord, ShardIteratorType, StreamViewType } from '@aws-sdk/client-dynamodb-streams';
import { BatchWriteCommand, DeleteCommand, DynamoDBDocumentClient, PutCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDynamoDbEndpoint } from '../../../../local/dynamodb/endpoint.ts';
import type { DynamoDbEndpoint } from '../../../../local/dynamodb/endpoint.ts';
import { firstAtOrAfter } from '../../../../local/dynamodb/streams.ts';
import { createTtlReaper } from '../../../../local/ttl-reaper.ts';
import type { TableDescription } from '../../../../lib/app-description.ts';

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
let clock = Date.parse('2030-01-01T12:00:00.000Z');
let endpoint: DynamoDbEndpoint;
let dynamo: DynamoDBClient;
let db: DynamoDBDocumentClient;
let streams: DynamoDBStreamsClient;
let tables = 0;

beforeAll(async () => {
  endpoint = await startDynamoDbEndpoint({ now: () => clock });
  const config = { endpoint: endpoint.endpoint, region: 'us-east-1', credentials };
  dynamo = new DynamoDBClient(config);
  db = DynamoDBDocumentClient.from(dynamo);
  streams = new DynamoDBStreamsClient(config);
});

afterAll(async () => {
  dynamo?.destroy();
  streams?.destroy();
  await endpoint?.stop();
});

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

function tableInput(name: string, stream?: CreateTableCommandInput['StreamSpecification']): CreateTableCommandInput {
  return {
    TableName: name,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
    KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
    ...(stream ? { StreamSpecification: stream } : {}),
  };
}

/** A fresh table with a stream of `viewType`; its name and stream ARN. */
async function aStreamedTable(viewType: StreamViewType = 'NEW_AND_OLD_IMAGES'): Promise<{ name: string; arn: string }> {
  const name = `streamed-${++tables}`;
  const { TableDescription: table } = await dynamo.send(new CreateTableCommand(tableInput(name, { StreamEnabled: true, StreamViewType: viewType })));
  return { name, arn: table?.LatestStreamArn ?? '' };
}

async function shardOf(arn: string): Promise<string> {
  const { StreamDescription } = await streams.send(new DescribeStreamCommand({ StreamArn: arn }));
  return StreamDescription?.Shards?.[0]?.ShardId ?? '';
}

async function iterator(arn: string, type: ShardIteratorType = 'TRIM_HORIZON', sequenceNumber?: string): Promise<string> {
  const { ShardIterator } = await streams.send(
    new GetShardIteratorCommand({ StreamArn: arn, ShardId: await shardOf(arn), ShardIteratorType: type, ...(sequenceNumber ? { SequenceNumber: sequenceNumber } : {}) }),
  );
  return ShardIterator ?? '';
}

/** Every record the stream holds, oldest first. */
async function recordsOf(arn: string, from?: string): Promise<StreamRecord[]> {
  const { Records = [] } = await streams.send(new GetRecordsCommand({ ShardIterator: from ?? (await iterator(arn)) }));
  return Records;
}

describe('a table with a stream', () => {
  it('streams a write sent the moment CreateTable answers: the endpoint answers once the table is ACTIVE', async () => {
    // Prepare: dynalite writes ACTIVE a timer after answering; a put racing it once lost its record
    const made: { name: string; arn: string }[] = [];

    // Act
    for (let i = 0; i < 20; i++) {
      const table = await aStreamedTable();
      await db.send(new PutCommand({ TableName: table.name, Item: { pk: 'first' } }));
      made.push(table);
    }
    const described = await dynamo.send(new DescribeTableCommand({ TableName: made[0]?.name }));

    // Assess
    expect(described.Table?.TableStatus).toBe('ACTIVE');
    for (const { arn } of made) expect((await recordsOf(arn)).map((r) => r.dynamodb?.Keys?.pk?.S)).toEqual(['first']);
  });

  it('shows its stream in DescribeTable and ListStreams, and a table without one shows none', async () => {
    // Prepare
    const { name, arn } = await aStreamedTable();
    await dynamo.send(new CreateTableCommand(tableInput(`plain-${++tables}`)));

    // Act
    const { Table } = await dynamo.send(new DescribeTableCommand({ TableName: name }));
    const listed = await streams.send(new ListStreamsCommand({}));
    const described = await streams.send(new DescribeStreamCommand({ StreamArn: arn }));

    // Assess
    expect(arn).toMatch(new RegExp(`^arn:aws:dynamodb:us-east-1:\\d{12}:table/${name}/stream/\\d{4}-\\d\\d-\\d\\dT[\\d:.]+$`));
    expect(Table).toMatchObject({ StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' }, LatestStreamArn: arn });
    expect(listed.Streams?.map((s) => s.TableName)).toContain(name);
    expect(listed.Streams?.every((s) => s.TableName?.startsWith('streamed-'))).toBe(true);
    expect(described.StreamDescription).toMatchObject({ StreamArn: arn, StreamStatus: 'ENABLED', StreamViewType: 'NEW_AND_OLD_IMAGES', TableName: name });
    expect(described.StreamDescription?.Shards).toHaveLength(1);
    expect(described.StreamDescription?.Shards?.[0]?.ShardId).toMatch(/^shardId-\d{20}-[0-9a-f]{8}$/);
  });

  it('appends INSERT, MODIFY and REMOVE records with keys, both images and increasing sequence numbers', async () => {
    // Prepare
    const { name, arn } = await aStreamedTable();

    // Act
    await db.send(new PutCommand({ TableName: name, Item: { pk: 'a', status: 'pending' } }));
    await db.send(new UpdateCommand({ TableName: name, Key: { pk: 'a' }, UpdateExpression: 'SET #s = :s', ExpressionAttributeNames: { '#s': 'status' }, ExpressionAttributeValues: { ':s': 'sent' } }));
    await db.send(new DeleteCommand({ TableName: name, Key: { pk: 'a' } }));
    const records = await recordsOf(arn);

    // Assess
    expect(records.map((r) => [r.eventName, r.dynamodb?.OldImage?.status?.S, r.dynamodb?.NewImage?.status?.S])).toEqual([
      ['INSERT', undefined, 'pending'],
      ['MODIFY', 'pending', 'sent'],
      ['REMOVE', 'sent', undefined],
    ]);
    for (const record of records) {
      expect(record).toMatchObject({ eventSource: 'aws:dynamodb', eventVersion: '1.1', awsRegion: 'us-east-1', dynamodb: { Keys: { pk: { S: 'a' } }, StreamViewType: 'NEW_AND_OLD_IMAGES' } });
      expect(record.eventID).toMatch(/^[0-9a-f]{32}$/);
      expect(record.dynamodb?.SizeBytes).toBeGreaterThan(0);
      expect(record.dynamodb?.ApproximateCreationDateTime).toEqual(new Date(Math.floor(clock / 1000) * 1000));
      expect(record.userIdentity).toBeUndefined();
    }
    const sequence = records.map((r) => BigInt(r.dynamodb?.SequenceNumber ?? '0'));
    expect(sequence[0]).toBeLessThan(sequence[1] ?? 0n);
    expect(sequence[1]).toBeLessThan(sequence[2] ?? 0n);
  });

  it('appends nothing for a write that changes nothing: the same put, an update to the same value, a missing delete, a failed condition', async () => {
    // Prepare
    const { name, arn } = await aStreamedTable();
    await db.send(new PutCommand({ TableName: name, Item: { pk: 'a', n: 1, tags: new Set(['x', 'y']) } }));

    // Act
    await db.send(new PutCommand({ TableName: name, Item: { pk: 'a', n: 1, tags: new Set(['y', 'x']) } }));
    await db.send(new UpdateCommand({ TableName: name, Key: { pk: 'a' }, UpdateExpression: 'SET n = :n', ExpressionAttributeValues: { ':n': 1 } }));
    await db.send(new DeleteCommand({ TableName: name, Key: { pk: 'missing' } }));
    const refused = await rejectionOf(db.send(new PutCommand({ TableName: name, Item: { pk: 'a', n: 2 }, ConditionExpression: 'attribute_not_exists(pk)' })));

    // Assess
    expect(refused).toBeInstanceOf(ConditionalCheckFailedException);
    expect((await recordsOf(arn)).map((r) => r.eventName)).toEqual(['INSERT']);
  });

  it('appends a record per item of a BatchWriteItem and of a committed transaction, none for a cancelled one', async () => {
    // Prepare
    const { name, arn } = await aStreamedTable();

    // Act
    await db.send(new BatchWriteCommand({ RequestItems: { [name]: [{ PutRequest: { Item: { pk: 'a' } } }, { PutRequest: { Item: { pk: 'b' } } }] } }));
    await db.send(new TransactWriteCommand({ TransactItems: [{ Put: { TableName: name, Item: { pk: 'c' } } }, { Delete: { TableName: name, Key: { pk: 'a' } } }] }));
    const cancelled = await rejectionOf(
      db.send(
        new TransactWriteCommand({
          TransactItems: [{ Put: { TableName: name, Item: { pk: 'd' } } }, { ConditionCheck: { TableName: name, Key: { pk: 'b' }, ConditionExpression: 'attribute_not_exists(pk)' } }],
        }),
      ),
    );

    // Assess
    expect(cancelled).toBeInstanceOf(TransactionCanceledException);
    expect((await recordsOf(arn)).map((r) => `${r.eventName} ${r.dynamodb?.Keys?.pk?.S}`)).toEqual(['INSERT a', 'INSERT b', 'INSERT c', 'REMOVE a']);
  });

  it.each([
    ['KEYS_ONLY', false, false],
    ['NEW_IMAGE', false, true],
    ['OLD_IMAGE', true, false],
  ] as const)('carries in a %s record the old image: %s, the new image: %s', async (viewType, hasOld, hasNew) => {
    // Prepare
    const { name, arn } = await aStreamedTable(viewType);
    await db.send(new PutCommand({ TableName: name, Item: { pk: 'a', v: 1 } }));

    // Act
    await db.send(new PutCommand({ TableName: name, Item: { pk: 'a', v: 2 } }));
    const [, modified] = await recordsOf(arn);

    // Assess
    expect(modified).toMatchObject({ eventName: 'MODIFY', dynamodb: { Keys: { pk: { S: 'a' } }, StreamViewType: viewType } });
    expect(modified?.dynamodb?.OldImage !== undefined).toBe(hasOld);
    expect(modified?.dynamodb?.NewImage !== undefined).toBe(hasNew);
  });

  it('marks the deletes of Time to Live as the service\'s, as AWS does', async () => {
    // Prepare
    const { name, arn } = await aStreamedTable();
    await db.send(new PutCommand({ TableName: name, Item: { pk: 'old', expiresAt: 1 } }));
    await db.send(new PutCommand({ TableName: name, Item: { pk: 'gone' } }));
    await db.send(new DeleteCommand({ TableName: name, Key: { pk: 'gone' } }));
    const description: TableDescription = { name: 'notifications', partitionKey: { name: 'pk', type: 'S' }, indexes: [], ttlAttribute: 'expiresAt', envVar: 'X' };
    const reaper = createTtlReaper({ endpoint: endpoint.endpoint, region: 'us-east-1', credentials, tables: [{ description, physicalName: name }] });

    // Act
    const reaped = await reaper.reapNow(new Date(clock));
    await reaper.stop();
    const removes = (await recordsOf(arn)).filter((r) => r.eventName === 'REMOVE');

    // Assess
    expect(reaped).toEqual({ notifications: 1 });
    expect(removes.map((r) => [r.dynamodb?.Keys?.pk?.S, r.userIdentity])).toEqual([
      ['gone', undefined],
      ['old', { PrincipalId: 'dynamodb.amazonaws.com', Type: 'Service' }],
    ]);
  });
});

describe('the Streams API', () => {
  it('reads from LATEST only what comes after, and from a sequence number at or after it', async () => {
    // Prepare
    const { name, arn } = await aStreamedTable();
    await db.send(new PutCommand({ TableName: name, Item: { pk: 'before' } }));
    const latest = await iterator(arn, 'LATEST');
    await db.send(new PutCommand({ TableName: name, Item: { pk: 'after' } }));
    const [first, second] = await recordsOf(arn);
    const sequence = first?.dynamodb?.SequenceNumber ?? '';

    // Act
    const fromLatest = await recordsOf(arn, latest);
    const atFirst = await recordsOf(arn, await iterator(arn, 'AT_SEQUENCE_NUMBER', sequence));
    const afterFirst = await recordsOf(arn, await iterator(arn, 'AFTER_SEQUENCE_NUMBER', sequence));

    // Assess
    const keys = (records: StreamRecord[]): (string | undefined)[] => records.map((r) => r.dynamodb?.Keys?.pk?.S);
    expect(keys(fromLatest)).toEqual(['after']);
    expect(keys(atFirst)).toEqual(['before', 'after']);
    expect(keys(afterFirst)).toEqual(['after']);
    expect(second?.dynamodb?.Keys?.pk?.S).toBe('after');
  });

  it('pages with Limit and hands on an iterator that goes on where the page ended', async () => {
    // Prepare
    const { name, arn } = await aStreamedTable();
    for (const pk of ['a', 'b', 'c']) await db.send(new PutCommand({ TableName: name, Item: { pk } }));

    // Act
    const page = await streams.send(new GetRecordsCommand({ ShardIterator: await iterator(arn), Limit: 2 }));
    const rest = await streams.send(new GetRecordsCommand({ ShardIterator: page.NextShardIterator }));
    const none = await streams.send(new GetRecordsCommand({ ShardIterator: rest.NextShardIterator }));

    // Assess
    expect(page.Records?.map((r) => r.dynamodb?.Keys?.pk?.S)).toEqual(['a', 'b']);
    expect(rest.Records?.map((r) => r.dynamodb?.Keys?.pk?.S)).toEqual(['c']);
    expect(none.Records).toEqual([]);
    expect(none.NextShardIterator).toBeTruthy();
  });

  it('ends a page at about 1 MB of records, as GetRecords does, and the next page goes on from there', async () => {
    // Prepare: four items of ~300 KB, each record's SizeBytes about that.
    const { name, arn } = await aStreamedTable('NEW_IMAGE');
    const big = 'x'.repeat(300 * 1024);
    for (const pk of ['a', 'b', 'c', 'd']) await db.send(new PutCommand({ TableName: name, Item: { pk, big } }));

    // Act
    const page = await streams.send(new GetRecordsCommand({ ShardIterator: await iterator(arn) }));
    const rest = await streams.send(new GetRecordsCommand({ ShardIterator: page.NextShardIterator }));

    // Assess
    expect(page.Records?.map((r) => r.dynamodb?.Keys?.pk?.S)).toEqual(['a', 'b', 'c']);
    expect(page.Records?.every((r) => (r.dynamodb?.SizeBytes ?? 0) > 300 * 1024 && r.dynamodb?.NewImage?.big?.S === big)).toBe(true);
    expect(rest.Records?.map((r) => r.dynamodb?.Keys?.pk?.S)).toEqual(['d']);
  });

  it('answers ResourceNotFoundException for a stream or a shard it does not hold', async () => {
    // Prepare
    const { arn } = await aStreamedTable();

    // Act
    const unknownStream = await rejectionOf(streams.send(new DescribeStreamCommand({ StreamArn: `${arn}0` })));
    const unknownShard = await rejectionOf(streams.send(new GetShardIteratorCommand({ StreamArn: arn, ShardId: 'shardId-00000000000000000000-00000000', ShardIteratorType: 'LATEST' })));

    // Assess
    expect(unknownStream).toBeInstanceOf(ResourceNotFoundException);
    expect(unknownShard).toBeInstanceOf(ResourceNotFoundException);
  });

  it('answers ValidationException to an iterator it never gave and to a sequence number that is none', async () => {
    // Prepare
    const { arn } = await aStreamedTable();

    // Act
    const forged = await rejectionOf(streams.send(new GetRecordsCommand({ ShardIterator: 'not-an-iterator' })));
    const badSequence = await rejectionOf(
      streams.send(new GetShardIteratorCommand({ StreamArn: arn, ShardId: await shardOf(arn), ShardIteratorType: 'AT_SEQUENCE_NUMBER', SequenceNumber: '12' })),
    );

    // Assess
    expect(forged).toMatchObject({ name: 'ValidationException', message: 'Invalid ShardIterator' });
    expect(badSequence).toMatchObject({ name: 'ValidationException' });
  });

  it('expires an iterator 15 minutes after it was handed out', async () => {
    // Prepare
    const { arn } = await aStreamedTable();
    const old = await iterator(arn);
    clock += 15 * 60 * 1000 + 1;

    // Act
    const expired = await rejectionOf(streams.send(new GetRecordsCommand({ ShardIterator: old })));

    // Assess
    expect(expired).toBeInstanceOf(ExpiredIteratorException);
  });

  it('drops records after 24 hours: reading where they were is TrimmedDataAccessException, TRIM_HORIZON starts after them', async () => {
    // Prepare
    const { name, arn } = await aStreamedTable();
    await db.send(new PutCommand({ TableName: name, Item: { pk: 'old' } }));
    const [old] = await recordsOf(arn);
    clock += 24 * 60 * 60 * 1000;
    await db.send(new PutCommand({ TableName: name, Item: { pk: 'new' } }));

    // Act
    const trimmed = await rejectionOf(
      streams.send(new GetShardIteratorCommand({ StreamArn: arn, ShardId: await shardOf(arn), ShardIteratorType: 'AT_SEQUENCE_NUMBER', SequenceNumber: old?.dynamodb?.SequenceNumber })),
    );
    const kept = await recordsOf(arn);

    // Assess
    expect(trimmed).toBeInstanceOf(TrimmedDataAccessException);
    expect(kept.map((r) => r.dynamodb?.Keys?.pk?.S)).toEqual(['new']);
  });
});

describe('StreamSpecification', () => {
  it('enables a stream on an existing table with UpdateTable, refuses to enable it twice, and disables it', async () => {
    // Prepare
    const name = `plain-${++tables}`;
    await dynamo.send(new CreateTableCommand(tableInput(name)));

    // Act
    const enabled = await dynamo.send(new UpdateTableCommand({ TableName: name, StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_IMAGE' } }));
    const arn = enabled.TableDescription?.LatestStreamArn ?? '';
    await db.send(new PutCommand({ TableName: name, Item: { pk: 'a' } }));
    const records = await recordsOf(arn);
    const twice = await rejectionOf(dynamo.send(new UpdateTableCommand({ TableName: name, StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_IMAGE' } })));
    await dynamo.send(new UpdateTableCommand({ TableName: name, StreamSpecification: { StreamEnabled: false } }));
    const afterDisable = await rejectionOf(streams.send(new DescribeStreamCommand({ StreamArn: arn })));

    // Assess
    expect(enabled.TableDescription).toMatchObject({ StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_IMAGE' } });
    expect(records.map((r) => r.eventName)).toEqual(['INSERT']);
    expect(twice).toMatchObject({ name: 'ValidationException' });
    expect(afterDisable).toBeInstanceOf(ResourceNotFoundException);
  });

  it('refuses an enabled stream without a view type, as AWS does', async () => {
    // Act
    const refused = await rejectionOf(dynamo.send(new CreateTableCommand(tableInput(`bad-${++tables}`, { StreamEnabled: true }))));

    // Assess
    expect(refused).toMatchObject({ name: 'ValidationException', message: expect.stringContaining('StreamViewType is required') });
  });
});

describe('firstAtOrAfter (where a read of the shard starts)', () => {
  it('finds the first record at or after a sequence number, as a scan from the start would', () => {
    // Prepare: sequence numbers with gaps (trimmed and interleaved shards), and the edges.
    const records = [3n, 5n, 6n, 10n, 11n, 40n].map((sequence) => ({ sequence }));
    const probes = [0n, 3n, 4n, 5n, 6n, 7n, 10n, 11n, 12n, 39n, 40n, 41n, 10n ** 30n];

    // Act
    const found = probes.map((from) => firstAtOrAfter(records, from));

    // Assert
    const scanned = probes.map((from) => {
      const index = records.findIndex((record) => record.sequence >= from);
      return index < 0 ? records.length : index;
    });
    expect(found).toEqual(scanned);
    expect(firstAtOrAfter([], 1n)).toBe(0);
  });
});
