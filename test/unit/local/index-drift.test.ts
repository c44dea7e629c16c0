/**
 * A data directory made before an index changed: the local stack uses its tables as they are and
 * says how they differ from the description (`indexDrift` in local/stack.ts), since neither
 * DynamoDB nor the local one can change an index's projection in place.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tableByName } from '../../../lib/app-description.ts';
import type { TableDescription } from '../../../lib/app-description.ts';
import { startDynamoDbEndpoint } from '../../../local/dynamodb/endpoint.ts';
import { createTableInput, indexDrift, physicalName } from '../../../local/stack.ts';
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

describe('indexDrift', () => {
  it('names each index missing or projecting otherwise, from what DescribeTable shows', async () => {
    const dynamo = await startDynamoDbEndpoint();
    try {
      const kept = await describedIndexes(dynamo.endpoint, before);
      expect(indexDrift(notifications, kept)).toEqual([
        'index byRecipient projects ALL, the description INCLUDE (createdBy, type)',
        'index byCreator projects ALL, the description INCLUDE (createdBy, type)',
        'index byTenant projects ALL, the description INCLUDE (createdBy, type)',
        'index cancelled is missing: queries through it fail',
      ]);
    } finally {
      await dynamo.stop();
    }
  });

  it('finds nothing in a table made from the description', async () => {
    const dynamo = await startDynamoDbEndpoint();
    try {
      expect(indexDrift(notifications, await describedIndexes(dynamo.endpoint, notifications))).toEqual([]);
    } finally {
      await dynamo.stop();
    }
  });
});

describe('npm start on a data directory made before an index changed', () => {
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'herald-index-drift-'));
    const dynamo = await startDynamoDbEndpoint({ path: join(dataDir, 'dynamodb') });
    try {
      await describedIndexes(dynamo.endpoint, before);
    } finally {
      await dynamo.stop();
    }
  });

  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('starts, using the table as it is, and warns on stderr naming each difference and the way out', async () => {
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
    const warnings = stderr
      .split('\n')
      .filter((line) => line.includes('"source":"local-dynamodb"'))
      .map((line) => JSON.parse(line) as { level: string; message: string });
    expect(warnings.map((w) => w.level)).toEqual(['WARN', 'WARN', 'WARN', 'WARN']);
    expect(warnings[0]?.message).toBe(
      `table ${physicalName('notifications')} in HERALD_DATA_DIR: index byRecipient projects ALL, the description INCLUDE (createdBy, type). It is used as it is; to make it as described, stop the stack and remove the directory (its data with it)`,
    );
  }, 60_000);
});
