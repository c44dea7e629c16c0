import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DynamoDBClient, TransactionConflictException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { NodeHttpHandler } from '@smithy/node-http-handler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { functions } from '../../../../lib/app-description.ts';
import { dynamoClient } from '../../../../shared/adapters/dependencies/dynamodb.ts';
import { sesClient } from '../../../../shared/adapters/dependencies/mail.ts';
import { schedulerClient } from '../../../../shared/adapters/dependencies/scheduler.ts';
import { sqsClient } from '../../../../shared/adapters/dependencies/sqs.ts';
import { sdkClientOptions, sdkTimeouts } from '../../../../shared/adapters/sdk-clients.ts';
import { startLocalDynamo } from '../../support/local-dynamo.ts';
import type { LocalDynamo } from '../../support/local-dynamo.ts';

const table = 'rate-limits';
let dynamo: LocalDynamo;

beforeAll(async () => {
  dynamo = await startLocalDynamo({ withTables: true });
});

afterAll(async () => {
  await dynamo?.stop();
});

/** A document client on the local DynamoDB with `options` (Herald's, or the SDK's defaults). */
function documentClientWith(options: ConstructorParameters<typeof DynamoDBClient>[0]): DynamoDBDocumentClient {
  const client = new DynamoDBClient({ ...options, endpoint: dynamo.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  return DynamoDBDocumentClient.from(client);
}

/**
 * One transaction on a counter item and 60 others, long enough that twenty plain increments of
 * that item sent alongside meet it while it holds the item.
 */
async function incrementsBesideATransaction(client: DynamoDBDocumentClient, pk: string): Promise<PromiseSettledResult<unknown>[]> {
  const transaction = dynamo.documentClient.send(
    new TransactWriteCommand({
      TransactItems: [
        { Update: { TableName: table, Key: { pk }, UpdateExpression: 'ADD t :one', ExpressionAttributeValues: { ':one': 1 } } },
        ...Array.from({ length: 60 }, (_, i) => ({ Put: { TableName: table, Item: { pk: `${pk}-other-${i}` } } })),
      ],
    }),
  );
  const increments = Promise.allSettled(
    Array.from({ length: 20 }, () =>
      client.send(new UpdateCommand({ TableName: table, Key: { pk }, UpdateExpression: 'ADD n :one', ExpressionAttributeValues: { ':one': 1 } })),
    ),
  );
  await transaction;
  return increments;
}

describe('the SDK clients of the functions', () => {
  it('lose plain writes that meet a transaction with the SDK defaults: TransactionConflictException is not retried', async () => {
    // Act
    const increments = await incrementsBesideATransaction(documentClientWith({}), 'defaults');

    // Assess
    const refused = increments.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.every((r) => r.reason instanceof TransactionConflictException)).toBe(true);
  });

  it('retry a plain write that meets a transaction until it lands, with Herald’s options', async () => {
    // Act
    const increments = await incrementsBesideATransaction(documentClientWith(sdkClientOptions()), 'herald');

    // Assess
    expect(increments.filter((r) => r.status === 'rejected')).toEqual([]);
    const counter = await dynamo.documentClient.send(new GetCommand({ TableName: table, Key: { pk: 'herald' }, ConsistentRead: true }));
    expect(counter.Item).toMatchObject({ n: 20, t: 1 });
  });

  it('all time out a connection and an attempt, and every client of the dependency modules uses those timeouts', async () => {
    // Prepare: a handler resolves its configuration on its first request.
    const clients = { dynamodb: dynamoClient(), sqs: sqsClient(), scheduler: schedulerClient(), ses: sesClient() };
    const server = createServer((_request, response) => response.end('{}'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;

    // Act
    const configs = await Promise.all(
      Object.entries(clients).map(async ([name, client]) => {
        const handler = client.config.requestHandler as NodeHttpHandler;
        await handler.handle({ protocol: 'http:', hostname: '127.0.0.1', port, method: 'GET', path: '/', headers: {}, query: {} } as Parameters<NodeHttpHandler['handle']>[0]);
        return [name, handler.httpHandlerConfigs()] as const;
      }),
    );
    await new Promise<void>((resolve) => server.close(() => resolve()));

    // Assess
    for (const [name, config] of configs) {
      expect(config, name).toMatchObject({ connectionTimeout: sdkTimeouts.connectionTimeoutMs, requestTimeout: sdkTimeouts.requestTimeoutMs, throwOnRequestTimeout: true });
    }
  });

  it('give up an attempt before any function’s own timeout, with time left to retry it', () => {
    // Prepare
    const attemptMs = sdkTimeouts.connectionTimeoutMs + sdkTimeouts.requestTimeoutMs;

    // Act
    const tooShort = functions.filter((fn) => fn.timeoutSeconds * 1000 <= attemptMs + 1_000).map((fn) => fn.name);

    // Assess
    expect(tooShort).toEqual([]);
  });
});
