/**
 * A real local DynamoDB for adapter tests: the local stack's DynamoDB endpoint (dynalite's store
 * in-process, with transactions), with Herald's tables created from the app description
 * (physical name = logical name).
 */
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { onTestFinished } from 'vitest';
import { tables } from '../../../lib/app-description.ts';
import { startDynamoDbEndpoint } from '../../../local/dynamodb/endpoint.ts';
import type { StoreWrites } from '../../../local/dynamodb/write-counter.ts';
import { createTableInput } from '../../../local/stack.ts';

export interface LocalDynamo {
  readonly endpoint: string;
  readonly client: DynamoDBClient;
  readonly documentClient: DynamoDBDocumentClient;
  /** The items and index entries the endpoint has written (`local/dynamodb/write-counter.ts`). */
  writes(): StoreWrites;
  stop(): Promise<void>;
}

/**
 * Starts the DynamoDB endpoint; `withTables` creates Herald's tables too. Transactions that meet
 * cancel each other (`TransactionConflict`), as on AWS (local/dynamodb/transact-write-items.ts).
 */
export async function startLocalDynamo(options: { withTables?: boolean } = {}): Promise<LocalDynamo> {
  const dynamo = await startDynamoDbEndpoint();
  const client = new DynamoDBClient({
    endpoint: dynamo.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  const documentClient = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  if (options.withTables) {
    for (const table of tables) await client.send(new CreateTableCommand({ ...createTableInput(table), TableName: table.name }));
  }
  return {
    endpoint: dynamo.endpoint,
    client,
    documentClient,
    writes: () => dynamo.writes(),
    stop: async () => {
      client.destroy();
      await dynamo.stop();
    },
  };
}

/**
 * Creates `tableName`, keyed by a string `pk` (and a string sort key named `options.sortKey` when
 * given), on demand: the table of the endpoint's own tests.
 */
export async function createPkTable(client: DynamoDBClient, tableName: string, options: { sortKey?: string } = {}): Promise<void> {
  const keys = [
    { name: 'pk', type: 'HASH' as const },
    ...(options.sortKey === undefined ? [] : [{ name: options.sortKey, type: 'RANGE' as const }]),
  ];
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: keys.map(({ name }) => ({ AttributeName: name, AttributeType: 'S' })),
      KeySchema: keys.map(({ name, type }) => ({ AttributeName: name, KeyType: type })),
    }),
  );
}

/**
 * A document client of its own on the endpoint (a document client shares the middleware stack of
 * the client it wraps, so the endpoint's own is left alone) that runs `race` once, right after the
 * first `commandName` call (`QueryCommand`) has answered and before its caller sees the answer: a
 * rival's write landing between two reads. Call it inside a test; the client is destroyed when the
 * test finishes.
 */
export function racingClient(dynamo: LocalDynamo, commandName: string, race: () => Promise<void>): { readonly client: DynamoDBDocumentClient; raced(): boolean } {
  const client = ownDocumentClient(dynamo);
  let raced = false;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const output = await next(args);
      if (context.commandName === commandName && !raced) {
        raced = true;
        await race();
      }
      return output;
    },
    { step: 'initialize', name: 'raceAfterCommand' },
  );
  return { client, raced: () => raced };
}

/** A document client of its own on the endpoint, destroyed when the test finishes (call it inside one). */
function ownDocumentClient(dynamo: LocalDynamo): DynamoDBDocumentClient {
  const base = new DynamoDBClient({ endpoint: dynamo.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  onTestFinished(() => base.destroy());
  return DynamoDBDocumentClient.from(base);
}

/**
 * A document client of its own on the endpoint whose `call`-th `commandName` call (the low-level
 * name: `PutItemCommand`, `UpdateItemCommand`) fails with `ProvisionedThroughputExceededException`,
 * before it is sent, or after it was (`sent`: DynamoDB wrote, and the answer is an error). Outside
 * the SDK's retries, so the failure is the caller's. Call it inside a test.
 */
export function failingClient(dynamo: LocalDynamo, commandName: string, { call = 1, sent = false }: { call?: number; sent?: boolean } = {}): { readonly client: DynamoDBDocumentClient; calls(): number } {
  const client = ownDocumentClient(dynamo);
  let calls = 0;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName !== commandName || ++calls !== call) return next(args);
      if (sent) await next(args);
      throw Object.assign(new Error('Throughput exceeds the current capacity'), { name: 'ProvisionedThroughputExceededException' });
    },
    { step: 'initialize', name: 'failOneCall' },
  );
  return { client, calls: () => calls };
}
