/**
 * `npm run bench -- dynamodb [--seconds 3] [--concurrency 32]`: the local stack's DynamoDB
 * endpoint, operation by operation, through the real SDK v3 client.
 *
 * Starts the local stack in this process and drives the endpoint the functions use (with the
 * fault and call-count hook in the path, no rule set) with `concurrency` calls in flight for
 * `seconds` per workload: BatchWriteItem (25 items a call, counted in items), PutItem, a
 * conditional UpdateItem, TransactWriteItems (a Put if absent plus an ADD to a counter: the shape
 * of an inbox add), GetItem and Query. The same workloads then run against plain dynalite over
 * HTTP (its own `dynalite()` server) in the same process, as the reference, and the ratio is
 * printed. dynalite has no transactions, so that row has no reference.
 * Figures only: nothing here passes or fails on speed.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  BatchWriteItemCommand,
  CreateTableCommand,
  DeleteTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { closeServer } from '../../local/http-gateway.ts';
import { LOCAL_REGION, startLocalStack } from '../../local/stack.ts';
import { megabytes, number, numberOption, peakRss } from './format.ts';

/** How to call the DynamoDB benchmark. */
export const dynamoDbUsage = 'npm run bench -- dynamodb [--seconds 3] [--concurrency 32]';

const credentials = { accessKeyId: 'bench', secretAccessKey: 'bench' };
const table = 'herald-bench';
const ceilingTable = 'herald-bench-ceiling';
/** Items read by GetItem and updated by UpdateItem, so that those calls find what they touch. */
const seededItems = 1_000;
/** Query partitions, and the items in each. */
const queryPartitions = 10;
const itemsPerQueryPartition = 10;
/** Counters the transactions add to: enough that they rarely wait on one another's locks. */
const transactionCounters = 100;

interface Workload {
  readonly name: string;
  /** What one call counts for: 25 items for a BatchWriteItem, 1 otherwise. */
  readonly perCall: number;
  readonly unit: string;
  readonly needsTransactions?: boolean;
  call(client: DynamoDBClient, n: number, tableName?: string): Promise<unknown>;
}

const s = (value: string): AttributeValue => ({ S: value });
const payload = { title: s('Benchmark notification'), body: s('One line of text, as a notification would carry.'), n: { N: '1' } };

const workloads: readonly Workload[] = [
  {
    name: 'BatchWriteItem',
    perCall: 25,
    unit: 'items/s',
    call: (client, n, tableName = table) =>
      client.send(
        new BatchWriteItemCommand({
          RequestItems: {
            [tableName]: Array.from({ length: 25 }, (_, i) => ({ PutRequest: { Item: { pk: s(`batch#${n}`), sk: s(String(i)), ...payload } } })),
          },
        }),
      ),
  },
  {
    name: 'PutItem',
    perCall: 1,
    unit: 'ops/s',
    call: (client, n) => client.send(new PutItemCommand({ TableName: table, Item: { pk: s(`put#${n}`), sk: s('item'), ...payload } })),
  },
  {
    name: 'UpdateItem (conditional)',
    perCall: 1,
    unit: 'ops/s',
    call: (client, n) =>
      client.send(
        new UpdateItemCommand({
          TableName: table,
          Key: { pk: s(`seed#${n % seededItems}`), sk: s('item') },
          UpdateExpression: 'SET title = :title ADD n :one',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':title': s(`update ${n}`), ':one': { N: '1' } },
        }),
      ),
  },
  {
    name: 'TransactWriteItems (2 actions)',
    perCall: 1,
    unit: 'ops/s',
    needsTransactions: true,
    call: (client, n) =>
      client.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            { Put: { TableName: table, Item: { pk: s(`inbox#${n}`), sk: s('item'), ...payload }, ConditionExpression: 'attribute_not_exists(pk)' } },
            {
              Update: {
                TableName: table,
                Key: { pk: s(`counter#${n % transactionCounters}`), sk: s('#unread') },
                UpdateExpression: 'ADD unread :one',
                ExpressionAttributeValues: { ':one': { N: '1' } },
              },
            },
          ],
        }),
      ),
  },
  {
    name: 'GetItem',
    perCall: 1,
    unit: 'ops/s',
    call: (client, n) => client.send(new GetItemCommand({ TableName: table, Key: { pk: s(`seed#${n % seededItems}`), sk: s('item') } })),
  },
  {
    name: `Query (${itemsPerQueryPartition} items)`,
    perCall: 1,
    unit: 'ops/s',
    call: (client, n) =>
      client.send(
        new QueryCommand({
          TableName: table,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': s(`query#${n % queryPartitions}`) },
        }),
      ),
  },
];

export interface Measured {
  readonly perSecond: number;
  readonly failures: number;
  readonly firstFailure?: string;
}

/** Runs `workload` with `concurrency` calls in flight until `seconds` have passed. */
async function measure(client: DynamoDBClient, workload: Workload, seconds: number, concurrency: number): Promise<Measured> {
  let next = 0;
  let completed = 0;
  let failures = 0;
  let firstFailure: string | undefined;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const worker = async (): Promise<void> => {
    while (performance.now() < deadline) {
      const n = next;
      next += 1;
      try {
        await workload.call(client, n);
        completed += 1;
      } catch (error) {
        failures += 1;
        firstFailure ??= error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsed = (performance.now() - started) / 1000;
  return { perSecond: (completed * workload.perCall) / elapsed, failures, ...(firstFailure ? { firstFailure } : {}) };
}

/**
 * The BatchWriteItem ceiling of a DynamoDB endpoint, in items per second: 25-item batches of small
 * items (no index) into a table of their own, `concurrency` calls in flight for `seconds`, from this
 * thread. The table is deleted afterwards, so its items (~60,000) do not count in the memory of
 * what is measured next. The broadcast benchmark measures it in the same run as the broadcast, as
 * its reference.
 */
export async function batchWriteCeiling(endpoint: string, options: { seconds: number; concurrency: number }): Promise<Measured> {
  const client = new DynamoDBClient({ endpoint, region: LOCAL_REGION, credentials });
  try {
    await createBenchTable(client, ceilingTable);
    const workload = workloads.find((w) => w.name === 'BatchWriteItem') as Workload;
    const measured = await measure(client, { ...workload, call: (c, n) => workload.call(c, n, ceilingTable) }, options.seconds, options.concurrency);
    await client.send(new DeleteTableCommand({ TableName: ceilingTable }));
    return measured;
  } finally {
    client.destroy();
  }
}

async function createBenchTable(client: DynamoDBClient, name: string): Promise<void> {
  await client.send(
    new CreateTableCommand({
      TableName: name,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
    }),
  );
}

/** Creates the bench table and the items that GetItem, UpdateItem and Query read. */
async function prepare(client: DynamoDBClient): Promise<void> {
  await createBenchTable(client, table);
  const items = [
    ...Array.from({ length: seededItems }, (_, i) => ({ pk: s(`seed#${i}`), sk: s('item'), ...payload })),
    ...Array.from({ length: queryPartitions * itemsPerQueryPartition }, (_, i) => ({
      pk: s(`query#${i % queryPartitions}`),
      sk: s(String(i)),
      ...payload,
    })),
  ];
  for (let i = 0; i < items.length; i += 25) {
    await client.send(new BatchWriteItemCommand({ RequestItems: { [table]: items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })) } }));
  }
}

function parseOptions(args: readonly string[]): { seconds: number; concurrency: number } {
  const { values } = parseArgs({
    args: [...args],
    options: { seconds: { type: 'string', default: '3' }, concurrency: { type: 'string', default: '32' } },
  });
  const seconds = numberOption('seconds', values.seconds, dynamoDbUsage);
  const concurrency = numberOption('concurrency', values.concurrency, dynamoDbUsage, { integer: true });
  return { seconds, concurrency };
}

/** Runs the DynamoDB benchmark with the command line's arguments; resolves with the exit code. */
export async function runDynamoDbBench(args: readonly string[]): Promise<number> {
  const options = parseOptions(args);
  const scratch = await mkdtemp(join(tmpdir(), 'herald-bench-'));
  console.log('Starting the local stack and a plain dynalite in this process...');
  const stack = await startLocalStack({
    httpPort: 0,
    wsPort: 0,
    sesPort: 0,
    signingKeyFile: join(scratch, 'jwt-signing-key.json'),
    environment: { POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'WARN' },
  });
  const reference = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => reference.listen(0, '127.0.0.1', () => resolve()));
  const local = new DynamoDBClient({ endpoint: stack.faultableEndpoints.dynamodb, region: LOCAL_REGION, credentials });
  const plain = new DynamoDBClient({
    endpoint: `http://127.0.0.1:${(reference.address() as AddressInfo).port}`,
    region: LOCAL_REGION,
    credentials,
  });
  let exitCode = 0;
  try {
    const setup = new DynamoDBClient({ endpoint: stack.endpoints.dynamodb, region: LOCAL_REGION, credentials });
    await prepare(setup).finally(() => setup.destroy());
    await prepare(plain);
    console.log(`Each workload runs ${number(options.seconds)} s with ${options.concurrency} calls in flight.`);
    console.log('');
    console.log(`${'operation'.padEnd(32)} ${'local stack'.padStart(12)} ${'dynalite'.padStart(12)} ${'ratio'.padStart(7)}  unit`);
    for (const workload of workloads) {
      const ours = await measure(local, workload, options.seconds, options.concurrency);
      const theirs = workload.needsTransactions ? undefined : await measure(plain, workload, options.seconds, options.concurrency);
      const ratio = theirs && theirs.perSecond > 0 ? `${number(ours.perSecond / theirs.perSecond, 2)}×` : 'n/a';
      console.log(
        `${workload.name.padEnd(32)} ${number(ours.perSecond).padStart(12)} ${(theirs ? number(theirs.perSecond) : 'n/a').padStart(12)} ${ratio.padStart(7)}  ${workload.unit}`,
      );
      for (const [who, result] of [['local stack', ours], ['dynalite', theirs]] as const) {
        if (result && result.failures > 0) {
          console.log(`  ${who}: ${number(result.failures)} failed calls, the first: ${result.firstFailure ?? '?'}`);
          exitCode = 1;
        }
      }
    }
    console.log('');
    console.log(`Peak RSS of the process: ${megabytes(peakRss())}`);
  } finally {
    local.destroy();
    plain.destroy();
    await closeServer(reference);
    await stack.stop();
    await rm(scratch, { recursive: true, force: true });
  }
  return exitCode;
}
