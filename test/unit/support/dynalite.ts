/**
 * A real DynamoDB wire protocol for adapter tests: dynalite in memory on a free port, with the
 * tables of lib/app-description.ts (keys and indexes as the CDK and the local stack create them).
 */
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import dynalite from 'dynalite';
import { projectionOf, tables } from '../../../lib/app-description.ts';
import type { TableDescription, TableName } from '../../../lib/app-description.ts';

export interface Dynalite {
  readonly db: DynamoDBDocumentClient;
  /** Where it listens, for a client of its own (or a function's `AWS_ENDPOINT_URL_DYNAMODB`). */
  readonly endpoint: string;
  /** Physical table name of a described table in this instance. */
  tableName(name: TableName): string;
  stop(): Promise<void>;
}

function createTableInput(table: TableDescription, tableName: string): CreateTableCommandInput {
  const attributes = new Map<string, 'S' | 'N'>();
  for (const key of [table.partitionKey, table.sortKey, ...table.indexes.flatMap((i) => [i.partitionKey, i.sortKey])]) {
    if (key) attributes.set(key.name, key.type);
  }
  const keySchema = (pk: { name: string }, sk?: { name: string }): CreateTableCommandInput['KeySchema'] => [
    { AttributeName: pk.name, KeyType: 'HASH' },
    ...(sk ? [{ AttributeName: sk.name, KeyType: 'RANGE' as const }] : []),
  ];
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [...attributes].map(([AttributeName, AttributeType]) => ({ AttributeName, AttributeType })),
    KeySchema: keySchema(table.partitionKey, table.sortKey),
    ...(table.indexes.length > 0
      ? {
          GlobalSecondaryIndexes: table.indexes.map((index) => ({
            IndexName: index.name,
            KeySchema: keySchema(index.partitionKey, index.sortKey),
            Projection: projectionOf(index),
          })),
        }
      : {}),
  };
}

/** Starts dynalite in memory with every described table (named `test-<name>`). */
export async function startDynalite(): Promise<Dynalite> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  const tableName = (name: TableName): string => `test-${name}`;
  for (const table of tables) await client.send(new CreateTableCommand(createTableInput(table, tableName(table.name))));
  const db = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  return {
    db,
    endpoint,
    tableName,
    stop: async () => {
      client.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
