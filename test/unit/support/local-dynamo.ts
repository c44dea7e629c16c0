/**
 * A real local DynamoDB for adapter tests: dynalite behind the local stack's transactions front,
 * with Herald's tables created from the app description (physical name = logical name).
 */
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import dynalite from 'dynalite';
import type { AddressInfo } from 'node:net';
import { tables } from '../../../lib/app-description.ts';
import { startDynamoTransactions } from '../../../local/dynamo-transactions.ts';
import { closeServer } from '../../../local/http-gateway.ts';
import { createTableInput } from '../../../local/stack.ts';

export interface LocalDynamo {
  readonly endpoint: string;
  readonly client: DynamoDBClient;
  readonly documentClient: DynamoDBDocumentClient;
  stop(): Promise<void>;
}

/** Starts dynalite and the transactions front; `withTables` creates Herald's tables too. */
export async function startLocalDynamo(options: { withTables?: boolean } = {}): Promise<LocalDynamo> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const front = await startDynamoTransactions({ target: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
  const client = new DynamoDBClient({
    endpoint: front.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  const documentClient = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  if (options.withTables) {
    for (const table of tables) await client.send(new CreateTableCommand({ ...createTableInput(table), TableName: table.name }));
  }
  return {
    endpoint: front.endpoint,
    client,
    documentClient,
    stop: async () => {
      client.destroy();
      await front.stop();
      await closeServer(server);
    },
  };
}
