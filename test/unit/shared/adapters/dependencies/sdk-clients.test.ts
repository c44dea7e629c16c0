/**
 * The functions' AWS SDK clients go without the SDK's `loggerMiddleware` (shared/adapters/sdk-logger.ts):
 * with no logger it only walked every input and output for a line nobody writes. A client without
 * it still calls its service and answers as before.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import { afterAll, describe, expect, it } from 'vitest';
import { localFunctionEnv } from '../../../support/function-env.ts';

// An SQS endpoint that answers GetQueueUrl as SQS's JSON protocol does.
const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
    res.end(JSON.stringify({ QueueUrl: 'http://sqs.local/000000000000/herald-delivery' }));
  });
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
Object.assign(process.env, localFunctionEnv(endpoint), { AWS_ENDPOINT_URL_SQS: endpoint });
const { dynamoClient, documentClient } = await import('../../../../../shared/adapters/dependencies/dynamodb.ts');
const { sqsClient } = await import('../../../../../shared/adapters/dependencies/sqs.ts');
const { schedulerClient } = await import('../../../../../shared/adapters/dependencies/scheduler.ts');
const { sesClient } = await import('../../../../../shared/adapters/dependencies/mail.ts');

function middlewares(client: { middlewareStack: { identify(): string[] } }): string[] {
  return client.middlewareStack.identify();
}

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

describe("the functions' SDK clients", () => {
  it('carry no loggerMiddleware, and keep the rest of their stack', () => {
    for (const client of [dynamoClient(), documentClient(), sqsClient(), schedulerClient(), sesClient()]) {
      const names = middlewares(client);
      expect(names.some((name) => name.startsWith('loggerMiddleware'))).toBe(false);
      expect(names.some((name) => name.startsWith('retryMiddleware'))).toBe(true);
    }
  });

  it('still call their service and return its answer', async () => {
    const answer = await sqsClient().send(new GetQueueUrlCommand({ QueueName: 'herald-delivery' }));
    expect(answer.QueueUrl).toBe('http://sqs.local/000000000000/herald-delivery');
  });
});
