/**
 * The local DynamoDB stream event-source mapping against the local endpoint's real stream:
 * Lambda's event, partial batch failures retried from the reported record, a throwing function's
 * batch bisected, retries given up to the on-failure destination with Lambda's invocation record.
 */
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { BatchWriteCommand, DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startDynamoDbEndpoint } from '../../../local/dynamodb/endpoint.ts';
import type { DynamoDbEndpoint } from '../../../local/dynamodb/endpoint.ts';
import { createStreamEventSourceMapping } from '../../../local/stream-event-source-mapping.ts';
import type { StreamEventSourceMapping, StreamEventSourceMappingOptions } from '../../../local/stream-event-source-mapping.ts';
import type { StreamFailureRecord } from '../../../local/stream-events.ts';
import { eventually } from '../../e2e/support/harness.ts';

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
const functionArn = 'arn:aws:lambda:us-east-1:000000000000:function:herald-local-metrics';
let endpoint: DynamoDbEndpoint;
let dynamo: DynamoDBClient;
let db: DynamoDBDocumentClient;
let streams: DynamoDBStreamsClient;
let tables = 0;
const running: StreamEventSourceMapping[] = [];

beforeAll(async () => {
  endpoint = await startDynamoDbEndpoint();
  const config = { endpoint: endpoint.endpoint, region: 'us-east-1', credentials };
  dynamo = new DynamoDBClient(config);
  db = DynamoDBDocumentClient.from(dynamo);
  streams = new DynamoDBStreamsClient(config);
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((mapping) => mapping.stop()));
});

afterAll(async () => {
  dynamo?.destroy();
  streams?.destroy();
  await endpoint?.stop();
});

async function aStreamedTable(): Promise<{ name: string; arn: string }> {
  const name = `mapped-${++tables}`;
  const { TableDescription } = await dynamo.send(
    new CreateTableCommand({
      TableName: name,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
    }),
  );
  return { name, arn: TableDescription?.LatestStreamArn ?? '' };
}

type Handler = (event: DynamoDBStreamEvent) => Promise<unknown>;

/** Starts a mapping of the stream to `handler`; the batches it received, and what went to the on-failure destination. */
function mapTo(arn: string, handler: Handler, overrides: Partial<StreamEventSourceMappingOptions> = {}): { batches: string[][]; failures: StreamFailureRecord[] } {
  const batches: string[][] = [];
  const failures: StreamFailureRecord[] = [];
  const mapping = createStreamEventSourceMapping({
    streams,
    streamArn: arn,
    functionArn,
    batchSize: 100,
    maxBatchingWindowSeconds: 0,
    startingPosition: 'TRIM_HORIZON',
    reportBatchItemFailures: true,
    bisectBatchOnFunctionError: false,
    maximumRetryAttempts: 2,
    retryPauseMs: 1,
    pollIntervalMs: 20,
    log: () => undefined,
    invoke: async (event) => {
      batches.push(event.Records.map(keyOf));
      return handler(event);
    },
    onFailure: async (record) => {
      failures.push(record);
    },
    subscribe: (wake) => endpoint.onStreamRecords((streamArn) => streamArn === arn && wake()),
    ...overrides,
  });
  mapping.start();
  running.push(mapping);
  return { batches, failures };
}

function keyOf(record: DynamoDBRecord): string {
  return record.dynamodb?.Keys?.pk?.S ?? '?';
}

async function putAll(name: string, keys: readonly string[]): Promise<void> {
  await db.send(new BatchWriteCommand({ RequestItems: { [name]: keys.map((pk) => ({ PutRequest: { Item: { pk, v: 1 } } })) } }));
}

describe('the stream event-source mapping', () => {
  it('hands the function Lambda\'s DynamoDB stream event', async () => {
    // Prepare
    const { name, arn } = await aStreamedTable();
    const events: DynamoDBStreamEvent[] = [];
    mapTo(arn, async (event) => {
      events.push(event);
    });

    // Act
    await db.send(new PutCommand({ TableName: name, Item: { pk: 'a', v: 1 } }));
    await eventually(async () => events.length, (n) => n === 1, 5_000);

    // Assess
    const [record] = events[0]?.Records ?? [];
    expect(Object.keys(record ?? {})).toEqual(['eventID', 'eventName', 'eventVersion', 'eventSource', 'awsRegion', 'dynamodb', 'eventSourceARN']);
    expect(record).toMatchObject({
      eventName: 'INSERT',
      eventVersion: '1.1',
      eventSource: 'aws:dynamodb',
      awsRegion: 'us-east-1',
      eventSourceARN: arn,
      dynamodb: { Keys: { pk: { S: 'a' } }, NewImage: { pk: { S: 'a' }, v: { N: '1' } }, StreamViewType: 'NEW_AND_OLD_IMAGES' },
    });
    expect(typeof record?.dynamodb?.ApproximateCreationDateTime).toBe('number');
    expect(record?.dynamodb?.SequenceNumber).toMatch(/^\d{21}$/);
  });

  it('gathers the records of a quiet stream for the whole batching window, which opens with the first record', async () => {
    // Prepare: a window of 4 s, and a stream quiet for 3.5 s first: a window opened by the first,
    // empty, read would close at 4 s, between the two writes (0.6 s apart, a sixth of the window)
    const { name, arn } = await aStreamedTable();
    const { batches } = mapTo(arn, async () => undefined, { maxBatchingWindowSeconds: 4 });
    await new Promise((resolve) => setTimeout(resolve, 3_500));

    // Act
    await db.send(new PutCommand({ TableName: name, Item: { pk: 'a', v: 1 } }));
    await new Promise((resolve) => setTimeout(resolve, 600));
    await db.send(new PutCommand({ TableName: name, Item: { pk: 'b', v: 1 } }));
    await eventually(async () => batches.length, (n) => n >= 1, 30_000);

    // Assess: one batch, so the window was still open when b came
    expect(batches).toEqual([['a', 'b']]);
  });

  it('hands the function the batch it was gathering when it is stopped mid-window, and stop waits for it', async () => {
    // Prepare: a window of 60 s, so the stop comes well within it (and a stop that waited it out
    // would outlast the test's 30 s)
    const { name, arn } = await aStreamedTable();
    const batches: string[][] = [];
    const mapping = createStreamEventSourceMapping({
      streams,
      streamArn: arn,
      functionArn,
      batchSize: 100,
      maxBatchingWindowSeconds: 60,
      startingPosition: 'TRIM_HORIZON',
      reportBatchItemFailures: true,
      bisectBatchOnFunctionError: false,
      maximumRetryAttempts: 2,
      pollIntervalMs: 20,
      log: () => undefined,
      invoke: async (event) => {
        batches.push(event.Records.map(keyOf));
      },
      subscribe: (wake) => endpoint.onStreamRecords((streamArn) => streamArn === arn && wake()),
    });
    mapping.start();
    running.push(mapping);
    await db.send(new PutCommand({ TableName: name, Item: { pk: 'a', v: 1 } }));
    // The poller is woken by the write and reads the record within milliseconds; it then gathers for 60 s.
    await new Promise((resolve) => setTimeout(resolve, 1_000));

    // Act
    await mapping.stop();

    // Assess
    expect(batches).toEqual([['a']]);
  });

  it('retries from the sequence number the function reports, and only from there', async () => {
    // Prepare
    const { name, arn } = await aStreamedTable();
    let calls = 0;
    const { batches } = mapTo(arn, async (event) => {
      calls++;
      const failed = event.Records.find((r) => keyOf(r) === 'c');
      return calls === 1 && failed ? { batchItemFailures: [{ itemIdentifier: failed.dynamodb?.SequenceNumber }] } : {};
    });

    // Act
    await putAll(name, ['a', 'b', 'c', 'd']);
    await eventually(async () => batches.length, (n) => n === 2, 5_000);

    // Assess
    expect(batches).toEqual([
      ['a', 'b', 'c', 'd'],
      ['c', 'd'],
    ]);
  });

  it('fails the whole batch on a response naming no record of it, and retries it all', async () => {
    // Prepare
    const { name, arn } = await aStreamedTable();
    let calls = 0;
    const { batches } = mapTo(arn, async () => (++calls === 1 ? { batchItemFailures: [{ itemIdentifier: '' }] } : undefined));

    // Act
    await putAll(name, ['a', 'b']);
    await eventually(async () => batches.length, (n) => n === 2, 5_000);

    // Assess
    expect(batches).toEqual([
      ['a', 'b'],
      ['a', 'b'],
    ]);
  });

  it('splits the batch of a throwing function in two until the record that throws is alone', async () => {
    // Prepare
    const { name, arn } = await aStreamedTable();
    const { batches, failures } = mapTo(
      arn,
      async (event) => {
        if (event.Records.some((r) => keyOf(r) === 'c')) throw new Error('poison');
      },
      { bisectBatchOnFunctionError: true, maximumRetryAttempts: 0 },
    );

    // Act
    await putAll(name, ['a', 'b', 'c', 'd']);
    await eventually(async () => failures.length, (n) => n === 1, 5_000);

    // Assess
    expect(batches).toEqual([['a', 'b', 'c', 'd'], ['a', 'b'], ['c', 'd'], ['c'], ['d']]);
    expect(failures[0]?.DDBStreamBatchInfo.batchSize).toBe(1);
    expect(failures[0]?.responseContext.functionError).toBe('Unhandled');
  });

  it('gives a batch up after its retries, sends Lambda\'s invocation record of it, and goes on with the stream', async () => {
    // Prepare
    const { name, arn } = await aStreamedTable();
    const { batches, failures } = mapTo(arn, async (event) => {
      const failed = event.Records.find((r) => keyOf(r) === 'b');
      return failed ? { batchItemFailures: [{ itemIdentifier: failed.dynamodb?.SequenceNumber }] } : undefined;
    });
    await putAll(name, ['a', 'b', 'c']);
    await eventually(async () => failures.length, (n) => n === 1, 5_000);

    // Act
    await db.send(new PutCommand({ TableName: name, Item: { pk: 'e' } }));
    await eventually(async () => batches.length, (n) => n === 4, 5_000);

    // Assess: the first invocation and two retries (MaximumRetryAttempts 2), then the stream goes on.
    expect(batches).toEqual([['a', 'b', 'c'], ['b', 'c'], ['b', 'c'], ['e']]);
    const [failure] = failures;
    expect(failure).toMatchObject({
      requestContext: { functionArn, condition: 'RetryAttemptsExhausted', approximateInvokeCount: 3 },
      responseContext: { statusCode: 200, executedVersion: '$LATEST' },
      version: '1.0',
      DDBStreamBatchInfo: { batchSize: 2, streamArn: arn },
    });
    expect(failure?.responseContext.functionError).toBeUndefined();
    expect(failure?.DDBStreamBatchInfo.shardId).toMatch(/^shardId-/);
    expect(BigInt(failure?.DDBStreamBatchInfo.startSequenceNumber ?? '0')).toBeLessThan(BigInt(failure?.DDBStreamBatchInfo.endSequenceNumber ?? '0'));
    expect(failure?.DDBStreamBatchInfo.approximateArrivalOfFirstRecord).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  it('starts at LATEST without the records written before it', async () => {
    // Prepare
    const { name, arn } = await aStreamedTable();
    await putAll(name, ['before']);
    // A client of its own, to see the mapping's first read: its position is taken by then.
    const watched = new DynamoDBStreamsClient({ endpoint: endpoint.endpoint, region: 'us-east-1', credentials });
    let reads = 0;
    watched.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'GetRecordsCommand') reads++;
        return next(args);
      },
      { step: 'initialize' },
    );
    const { batches } = mapTo(arn, async () => undefined, { startingPosition: 'LATEST', streams: watched });
    await eventually(async () => reads, (n) => n > 0, 5_000);

    // Act
    await putAll(name, ['after']);
    await eventually(async () => batches.length, (n) => n === 1, 5_000);

    // Assess
    expect(batches).toEqual([['after']]);
    watched.destroy();
  });

  it('refuses settings Lambda refuses', () => {
    // Act + Assess
    expect(() => mapTo('arn', async () => undefined, { batchSize: 0 })).toThrow(/batchSize/);
    expect(() => mapTo('arn', async () => undefined, { maxBatchingWindowSeconds: 301 })).toThrow(/maxBatchingWindowSeconds/);
    expect(() => mapTo('arn', async () => undefined, { maximumRetryAttempts: -2 })).toThrow(/maximumRetryAttempts/);
  });
});
