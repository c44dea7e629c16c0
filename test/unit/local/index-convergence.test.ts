/**
 * A data directory made before an index changed: the local stack brings its tables' indexes to
 * the description as a deploy would (`indexChanges` in local/stack.ts, UpdateTable on the local
 * DynamoDB): a missing index is created and backfilled, one keyed or projecting otherwise is
 * deleted and made again (DynamoDB can change neither in place), and the items are kept.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient, PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tableByName } from '../../../lib/app-description.ts';
import type { TableDescription } from '../../../lib/app-description.ts';
import { startDynamoDbEndpoint } from '../../../local/dynamodb/endpoint.ts';
import { createTableInput, indexChanges, physicalName } from '../../../local/stack.ts';
import type { DescribedIndexes } from '../../../local/stack.ts';

const repositoryRoot = resolve(import.meta.dirname, '../../..');
const notifications = tableByName('notifications');
/** The notifications table as it was before its listing indexes changed projection, without its `cancelled` index. */
const before: TableDescription = {
  ...notifications,
  indexes: notifications.indexes.filter((index) => index.name !== 'cancelled').map(({ projection: _p, projectedAttributes: _a, ...index }) => index),
};

async function describedIndexes(endpoint: string, table: TableDescription): Promise<DescribedIndexes | undefined> {
  const client = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  try {
    await client.send(new CreateTableCommand(createTableInput(table)));
    return (await client.send(new DescribeTableCommand({ TableName: physicalName(table.name) }))).Table;
  } finally {
    client.destroy();
  }
}

describe('indexChanges', () => {
  it('creates each index missing, and deletes then creates each projecting otherwise', async () => {
    const dynamo = await startDynamoDbEndpoint();
    try {
      const kept = await describedIndexes(dynamo.endpoint, before);
      const why = 'it projected ALL, the description INCLUDE (createdBy, type)';
      expect(indexChanges(notifications, kept)).toEqual([
        { kind: 'delete', index: 'byRecipient', why },
        { kind: 'create', index: 'byRecipient', why },
        { kind: 'delete', index: 'byCreator', why },
        { kind: 'create', index: 'byCreator', why },
        { kind: 'delete', index: 'byTenant', why },
        { kind: 'create', index: 'byTenant', why },
        { kind: 'create', index: 'cancelled', why: 'it was missing' },
      ]);
    } finally {
      await dynamo.stop();
    }
  });

  it('deletes an index the description no longer has', () => {
    const kept = { GlobalSecondaryIndexes: [...notifications.indexes.map((index) => ({ IndexName: index.name, Projection: createTableInput(notifications).GlobalSecondaryIndexes?.find((i) => i.IndexName === index.name)?.Projection })), { IndexName: 'old', Projection: { ProjectionType: 'ALL' } }] };
    expect(indexChanges(notifications, kept)).toEqual([{ kind: 'delete', index: 'old', why: 'the description has no such index' }]);
  });

  it('deletes then creates an index whose keys differ from the description, whatever its projection', async () => {
    // Prepare: the inbox's byArrival as a data directory could keep it, sorted on another attribute
    const inbox = tableByName('inbox');
    const byArrival = inbox.indexes.find((index) => index.name === 'byArrival');
    if (!byArrival) throw new Error('the inbox table has no byArrival index');
    const formerly: TableDescription = { ...inbox, indexes: inbox.indexes.map((index) => (index === byArrival ? { ...index, sortKey: { name: 'deliveredAt', type: 'S' } } : index)) };
    const dynamo = await startDynamoDbEndpoint();
    try {
      // Act
      const changes = indexChanges(inbox, await describedIndexes(dynamo.endpoint, formerly));

      // Assess: DynamoDB cannot change an index's keys in place either
      const why = `its keys were pk, deliveredAt, the description's pk, ${byArrival.sortKey?.name ?? ''}`;
      expect(changes).toEqual([
        { kind: 'delete', index: 'byArrival', why },
        { kind: 'create', index: 'byArrival', why },
      ]);
    } finally {
      await dynamo.stop();
    }
  });

  it('finds nothing in a table made from the description', async () => {
    const dynamo = await startDynamoDbEndpoint();
    try {
      expect(indexChanges(notifications, await describedIndexes(dynamo.endpoint, notifications))).toEqual([]);
    } finally {
      await dynamo.stop();
    }
  });
});

describe('npm start on a data directory made before an index changed', () => {
  let dataDir: string;
  const cancelled = { pk: { S: 'acme#ntf_01' }, cancelledShard: { S: 'cancelled#3' }, cancelledAt: { S: '2026-11-30T10:00:00.000Z' }, status: { S: 'cancelled' } };

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'herald-index-drift-'));
    const dynamo = await startDynamoDbEndpoint({ path: join(dataDir, 'dynamodb') });
    const client = new DynamoDBClient({ endpoint: dynamo.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    try {
      await describedIndexes(dynamo.endpoint, before);
      // An item the missing index will hold once it is made.
      await client.send(new PutItemCommand({ TableName: physicalName('notifications'), Item: cancelled }));
    } finally {
      client.destroy();
      await dynamo.stop();
    }
  });

  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('brings the indexes to the description, backfilled from the items kept, and says so on stderr', async () => {
    const child = spawn(process.execPath, [join(repositoryRoot, 'local/main.ts')], {
      cwd: repositoryRoot,
      env: { ...process.env, HERALD_HTTP_PORT: '0', HERALD_WS_PORT: '0', HERALD_SES_PORT: '0', HERALD_TELEGRAM_PORT: '0', HERALD_DATA_DIR: dataDir, POWERTOOLS_LOG_LEVEL: 'WARN' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let stdout = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    try {
      await new Promise<void>((ready, fail) => {
        child.stdout.on('data', (chunk: Buffer) => {
          stdout += chunk.toString();
          if (stdout.includes('Herald local stack ready')) ready();
        });
        child.on('exit', (code) => fail(new Error(`The stack exited (${code}) before it was ready:\n${stdout}\n${stderr}`)));
      });
    } finally {
      child.kill('SIGTERM');
      await new Promise((done) => child.once('close', done));
    }
    const lines = stderr
      .split('\n')
      .filter((line) => line.includes('"source":"local-dynamodb"'))
      .map((line) => JSON.parse(line) as { level: string; message: string });
    expect(lines.map((line) => line.level)).toEqual(Array(7).fill('INFO'));
    expect(lines[6]?.message).toMatch(
      new RegExp(`^table ${physicalName('notifications')} in HERALD_DATA_DIR: index cancelled created and backfilled from the items, as a deploy would \\(it was missing\\), in \\d+ ms$`),
    );

    // The table is now as described, and the new index finds the item written before it existed.
    const dynamo = await startDynamoDbEndpoint({ path: join(dataDir, 'dynamodb') });
    const client = new DynamoDBClient({ endpoint: dynamo.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    try {
      const table = (await client.send(new DescribeTableCommand({ TableName: physicalName('notifications') }))).Table;
      expect(indexChanges(notifications, table)).toEqual([]);
      const found = await client.send(
        new QueryCommand({ TableName: physicalName('notifications'), IndexName: 'cancelled', KeyConditionExpression: 'cancelledShard = :s', ExpressionAttributeValues: { ':s': { S: 'cancelled#3' } } }),
      );
      expect(found.Items?.map((item) => item.pk?.S)).toEqual(['acme#ntf_01']);
    } finally {
      client.destroy();
      await dynamo.stop();
    }
  }, 60_000);
});
