import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  ApiGatewayManagementApiClient,
  GetConnectionCommand,
  GoneException,
  LimitExceededException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import {
  ConditionalCheckFailedException,
  CreateTableCommand,
  DynamoDBClient,
  GetItemCommand,
  InternalServerError,
  ProvisionedThroughputExceededException,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { CreateScheduleGroupCommand, ListSchedulesCommand, SchedulerClient, ThrottlingException } from '@aws-sdk/client-scheduler';
import { MessageRejected, SendEmailCommand, SendRawEmailCommand, SESClient, SESServiceException } from '@aws-sdk/client-ses';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ListQueuesCommand,
  QueueDoesNotExist,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import dynalite from 'dynalite';
import { startFauxqs } from 'fauxqs';
import type { FauxqsServer } from 'fauxqs';
import sesModule from 'aws-ses-v2-local';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFaultProxy } from '../../../local/fault-proxy.ts';
import type { FaultProxy } from '../../../local/fault-proxy.ts';
import { createFaultInjector, seededRandom } from '../../../local/fault-rules.ts';
import type { FaultInjector, FaultRule, FaultService } from '../../../local/fault-rules.ts';
import { closeServer } from '../../../local/http-gateway.ts';
import { startSchedulerEmulator } from '../../../local/scheduler-emulator.ts';
import type { SchedulerEmulator } from '../../../local/scheduler-emulator.ts';
import { startWebSocketGateway } from '../../../local/websocket-gateway.ts';
import type { RunningWebSocketGateway } from '../../../local/websocket-gateway.ts';

type StartSes = typeof sesModule.default;
const startSes: StartSes = typeof sesModule === 'function' ? (sesModule as unknown as StartSes) : sesModule.default;

const region = 'us-east-1';
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
const tableName = 'fault-proxy-test';

const email = {
  Source: 'notifications@herald.local',
  Destination: { ToAddresses: ['alice@example.com'] },
  Message: { Subject: { Data: 'Hello' }, Body: { Text: { Data: 'Hi Alice' } } },
};
const rawEmail = { RawMessage: { Data: new TextEncoder().encode('From: a@herald.local\r\nTo: b@example.com\r\nSubject: Hi\r\n\r\nHi') } };

/** Runs a call and returns what it threw (or fails the test when it did not throw). */
async function failureOf(call: Promise<unknown>): Promise<Error & { $metadata: { httpStatusCode?: number; attempts?: number }; $retryable?: unknown }> {
  try {
    await call;
  } catch (error) {
    return error as Error & { $metadata: { httpStatusCode?: number; attempts?: number } };
  }
  throw new Error('The call succeeded but was expected to fail');
}

function rule(service: FaultService, error: FaultRule['error'], extra: Partial<FaultRule> = {}): FaultRule {
  return { service, probability: 1, error, ...extra };
}

describe('fault proxy', () => {
  let dynamo: Server;
  let fauxqs: FauxqsServer;
  let ses: Server;
  let scheduler: SchedulerEmulator;
  let ws: RunningWebSocketGateway;
  const targets = {} as Record<FaultService, string>;
  let injector: FaultInjector;
  const proxies: FaultProxy[] = [];
  const clients: { destroy(): void }[] = [];
  let queueUrl: string;

  async function proxyFor(service: FaultService, faults: FaultInjector = injector): Promise<string> {
    const proxy = await startFaultProxy({ service, target: targets[service], injector: faults });
    proxies.push(proxy);
    return proxy.endpoint;
  }

  function track<C extends { destroy(): void }>(client: C): C {
    clients.push(client);
    return client;
  }

  beforeAll(async () => {
    dynamo = dynalite({ createTableMs: 0 });
    await new Promise<void>((resolve) => dynamo.listen(0, '127.0.0.1', () => resolve()));
    targets.dynamodb = `http://127.0.0.1:${(dynamo.address() as AddressInfo).port}`;
    fauxqs = await startFauxqs({ port: 0, logger: false });
    targets.sqs = `http://127.0.0.1:${fauxqs.port}`;
    ses = await startSes({ host: '127.0.0.1', port: 0 });
    targets.ses = `http://127.0.0.1:${(ses.address() as AddressInfo).port}`;
    scheduler = await startSchedulerEmulator({ port: 0, region, sqsEndpoint: targets.sqs });
    targets.scheduler = scheduler.endpoint;
    ws = await startWebSocketGateway({ port: 0, routes: {} });
    targets.apigatewaymanagementapi = ws.callbackUrl;

    // The fixtures are made on the emulators themselves, as the local stack's own clients do.
    const rawDynamo = new DynamoDBClient({ region, credentials, endpoint: targets.dynamodb });
    await rawDynamo.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      }),
    );
    rawDynamo.destroy();
    const rawSqs = new SQSClient({ region, credentials, endpoint: targets.sqs });
    queueUrl = (await rawSqs.send(new CreateQueueCommand({ QueueName: 'fault-proxy-test' }))).QueueUrl ?? '';
    rawSqs.destroy();
  });

  afterAll(async () => {
    await ws.stop();
    await scheduler.stop();
    await closeServer(ses);
    await fauxqs.stop();
    await closeServer(dynamo);
  });

  afterEach(async () => {
    for (const client of clients.splice(0)) client.destroy();
    await Promise.all(proxies.splice(0).map((proxy) => proxy.stop()));
  });

  describe('ses (query protocol)', () => {
    it('fails SendEmail with the SES exception and status of the rule while SendRawEmail still goes through', async () => {
      // Prepare
      injector = createFaultInjector({ rules: [rule('ses', { statusCode: 503, code: 'ServiceUnavailable' }, { operation: 'SendEmail' })] });
      const client = track(new SESClient({ region, credentials, endpoint: await proxyFor('ses'), maxAttempts: 1 }));

      // Act
      const failure = await failureOf(client.send(new SendEmailCommand(email)));
      const raw = await client.send(new SendRawEmailCommand(rawEmail));

      // Assess
      expect(failure).toBeInstanceOf(SESServiceException);
      expect(failure.name).toBe('ServiceUnavailable');
      expect(failure.$metadata.httpStatusCode).toBe(503);
      expect(failure.message).toContain('ServiceUnavailable');
      expect(raw.MessageId).toBeTruthy();
      expect(injector.injected()).toEqual({ ses: { SendEmail: 1 } });
    });

    it('raises the modelled exception class with the message of the rule', async () => {
      // Prepare
      const error = { statusCode: 400, code: 'MessageRejected', message: 'Email address is not verified.' };
      injector = createFaultInjector({ rules: [rule('ses', error, { operation: 'SendEmail' })] });
      const client = track(new SESClient({ region, credentials, endpoint: await proxyFor('ses') }));

      // Act
      const failure = await failureOf(client.send(new SendEmailCommand(email)));

      // Assess: a Sender fault is not retried, so the SDK tried exactly once.
      expect(failure).toBeInstanceOf(MessageRejected);
      expect(failure.message).toBe('Email address is not verified.');
      expect(failure.$metadata).toMatchObject({ httpStatusCode: 400, attempts: 1 });
      expect(injector.injected()).toEqual({ ses: { SendEmail: 1 } });
    });

    it('lets requests that are not API calls through, whatever the rules', async () => {
      // Prepare
      injector = createFaultInjector({ rules: [rule('ses', { statusCode: 500, code: 'InternalFailure' })] });
      const endpoint = await proxyFor('ses');

      // Act
      const viewer = await fetch(`${endpoint}/store`);

      // Assess
      expect(viewer.status).toBe(200);
      expect(await viewer.json()).toHaveProperty('emails');
      expect(injector.injected()).toEqual({});
    });
  });

  describe('probability', () => {
    it('never fails a call when the probability is 0', async () => {
      // Prepare
      injector = createFaultInjector({ rules: [rule('ses', { statusCode: 503, code: 'ServiceUnavailable' }, { probability: 0 })] });
      const client = track(new SESClient({ region, credentials, endpoint: await proxyFor('ses'), maxAttempts: 1 }));

      // Act
      const results = await Promise.allSettled(Array.from({ length: 20 }, () => client.send(new SendEmailCommand(email))));

      // Assess
      expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
      expect(injector.injected()).toEqual({});
    });

    it('fails the share of calls that the seeded random source predicts', async () => {
      // Prepare
      const seed = 20_240_601;
      const calls = 40;
      const prediction = seededRandom(seed);
      const expected = Array.from({ length: calls }, () => prediction() < 0.5).filter(Boolean).length;
      injector = createFaultInjector({ seed, rules: [rule('ses', { statusCode: 503, code: 'ServiceUnavailable' }, { probability: 0.5 })] });
      const client = track(new SESClient({ region, credentials, endpoint: await proxyFor('ses'), maxAttempts: 1 }));

      // Act: one call after another, so each draws in turn.
      let failed = 0;
      for (let i = 0; i < calls; i += 1) {
        await client.send(new SendEmailCommand(email)).catch(() => (failed += 1));
      }

      // Assess
      expect(expected).toBeGreaterThan(calls * 0.3);
      expect(expected).toBeLessThan(calls * 0.7);
      expect(failed).toBe(expected);
      expect(injector.injected()).toEqual({ ses: { SendEmail: expected } });
    });
  });

  describe('dynamodb (JSON protocol)', () => {
    it('fails PutItem with the DynamoDB exception class, which the SDK retries up to its max attempts', async () => {
      // Prepare
      const error = { statusCode: 400, code: 'ProvisionedThroughputExceededException' };
      injector = createFaultInjector({ rules: [rule('dynamodb', error, { operation: 'PutItem' })] });
      const client = track(new DynamoDBClient({ region, credentials, endpoint: await proxyFor('dynamodb'), maxAttempts: 2 }));

      // Act
      const failure = await failureOf(client.send(new PutItemCommand({ TableName: tableName, Item: { pk: { S: 'a' } } })));
      const read = await client.send(new GetItemCommand({ TableName: tableName, Key: { pk: { S: 'a' } } }));

      // Assess: throttling is retryable, so every attempt met the fault.
      expect(failure).toBeInstanceOf(ProvisionedThroughputExceededException);
      expect(failure.$metadata).toMatchObject({ httpStatusCode: 400, attempts: 2 });
      expect(injector.injected()).toEqual({ dynamodb: { PutItem: 2 } });
      expect(read.Item).toBeUndefined();
    });

    it('lets the SDK retry a 5xx fault up to its default max attempts', async () => {
      // Prepare
      injector = createFaultInjector({ rules: [rule('dynamodb', { statusCode: 500, code: 'InternalServerError' }, { operation: 'PutItem' })] });
      const client = track(new DynamoDBClient({ region, credentials, endpoint: await proxyFor('dynamodb') }));

      // Act
      const failure = await failureOf(client.send(new PutItemCommand({ TableName: tableName, Item: { pk: { S: 'd' } } })));

      // Assess: every attempt of the SDK's retry policy (its default count varies by version) met the fault.
      const attempts = failure.$metadata.attempts ?? 0;
      expect(failure).toBeInstanceOf(InternalServerError);
      expect(failure.$metadata.httpStatusCode).toBe(500);
      expect(attempts).toBeGreaterThanOrEqual(3);
      expect(injector.injected()).toEqual({ dynamodb: { PutItem: attempts } });
    });

    it('does not retry a fault the SDK classifies as permanent', async () => {
      // Prepare
      const error = { statusCode: 400, code: 'ConditionalCheckFailedException', message: 'The conditional request failed' };
      injector = createFaultInjector({ rules: [rule('dynamodb', error, { operation: 'PutItem' })] });
      const client = track(new DynamoDBClient({ region, credentials, endpoint: await proxyFor('dynamodb') }));

      // Act
      const failure = await failureOf(client.send(new PutItemCommand({ TableName: tableName, Item: { pk: { S: 'b' } } })));

      // Assess
      expect(failure).toBeInstanceOf(ConditionalCheckFailedException);
      expect(failure.message).toBe('The conditional request failed');
      expect(failure.$metadata).toMatchObject({ httpStatusCode: 400, attempts: 1 });
      expect(injector.injected()).toEqual({ dynamodb: { PutItem: 1 } });
    });

    it('forwards calls to the emulator when no rule fires', async () => {
      // Prepare
      injector = createFaultInjector({ rules: [rule('dynamodb', { statusCode: 500, code: 'InternalServerError' }, { operation: 'DeleteItem' })] });
      const client = track(new DynamoDBClient({ region, credentials, endpoint: await proxyFor('dynamodb') }));

      // Act
      await client.send(new PutItemCommand({ TableName: tableName, Item: { pk: { S: 'c' }, note: { S: 'kept' } } }));
      const read = await client.send(new GetItemCommand({ TableName: tableName, Key: { pk: { S: 'c' } } }));

      // Assess
      expect(read.Item).toEqual({ pk: { S: 'c' }, note: { S: 'kept' } });
      expect(injector.injected()).toEqual({});
    });
  });

  describe('sqs (JSON and query protocols)', () => {
    it('fails every operation of the service when the rule names none', async () => {
      // Prepare
      injector = createFaultInjector({ rules: [rule('sqs', { statusCode: 500, code: 'InternalError' })] });
      const client = track(new SQSClient({ region, credentials, endpoint: await proxyFor('sqs'), useQueueUrlAsEndpoint: false, maxAttempts: 1 }));

      // Act
      const failures = await Promise.all([
        failureOf(client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'hello' }))),
        failureOf(client.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['All'] }))),
        failureOf(client.send(new ListQueuesCommand({}))),
      ]);

      // Assess
      expect(failures.map((f) => [f.name, f.$metadata.httpStatusCode])).toEqual([
        ['InternalError', 500],
        ['InternalError', 500],
        ['InternalError', 500],
      ]);
      expect(injector.injected()).toEqual({ sqs: { SendMessage: 1, GetQueueAttributes: 1, ListQueues: 1 } });
    });

    it('answers a modelled error with its JSON name and its legacy query code, as SQS does', async () => {
      // Prepare
      injector = createFaultInjector({ rules: [rule('sqs', { statusCode: 400, code: 'QueueDoesNotExist' }, { operation: 'SendMessage' })] });
      const client = track(new SQSClient({ region, credentials, endpoint: await proxyFor('sqs'), useQueueUrlAsEndpoint: false }));

      // Act
      const failure = await failureOf(client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'hello' })));

      // Assess
      expect(failure).toBeInstanceOf(QueueDoesNotExist);
      expect((failure as unknown as { Code?: string }).Code).toBe('AWS.SimpleQueueService.NonExistentQueue');
      expect(failure.$metadata).toMatchObject({ httpStatusCode: 400, attempts: 1 });
    });

    it('answers a query-protocol call with the XML error body', async () => {
      // Prepare
      injector = createFaultInjector({ rules: [rule('sqs', { statusCode: 403, code: 'RequestThrottled', message: 'Slow down' }, { operation: 'SendMessage' })] });
      const endpoint = await proxyFor('sqs');

      // Act
      const response = await fetch(endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ Action: 'SendMessage', QueueUrl: queueUrl, MessageBody: 'hello' }).toString(),
      });

      // Assess
      expect(response.status).toBe(403);
      expect(response.headers.get('content-type')).toBe('text/xml');
      expect(await response.text()).toMatch(
        /^<ErrorResponse xmlns="http:\/\/queue\.amazonaws\.com\/doc\/2012-11-05\/"><Error><Type>Sender<\/Type><Code>RequestThrottled<\/Code><Message>Slow down<\/Message><\/Error><RequestId>[0-9a-f-]{36}<\/RequestId><\/ErrorResponse>$/,
      );
    });
  });

  describe('scheduler (restJson)', () => {
    it('fails the operation named by method and path with the Scheduler exception', async () => {
      // Prepare
      injector = createFaultInjector({
        rules: [rule('scheduler', { statusCode: 429, code: 'ThrottlingException', message: 'Rate exceeded' }, { operation: 'ListSchedules' })],
      });
      const client = track(new SchedulerClient({ region, credentials, endpoint: await proxyFor('scheduler'), maxAttempts: 2 }));

      // Act
      const failure = await failureOf(client.send(new ListSchedulesCommand({})));
      const group = await client.send(new CreateScheduleGroupCommand({ Name: 'fault-proxy-test' }));

      // Assess
      expect(failure).toBeInstanceOf(ThrottlingException);
      expect(failure.message).toBe('Rate exceeded');
      expect(failure.$metadata).toMatchObject({ httpStatusCode: 429, attempts: 2 });
      expect(group.ScheduleGroupArn).toContain('schedule-group/fault-proxy-test');
      expect(injector.injected()).toEqual({ scheduler: { ListSchedules: 2 } });
    });
  });

  describe('apigatewaymanagementapi (@connections)', () => {
    it('fails PostToConnection with the API Gateway exception while GetConnection reaches the gateway', async () => {
      // Prepare
      injector = createFaultInjector({
        rules: [rule('apigatewaymanagementapi', { statusCode: 429, code: 'LimitExceededException' }, { operation: 'PostToConnection' })],
      });
      const client = track(new ApiGatewayManagementApiClient({ region, credentials, endpoint: await proxyFor('apigatewaymanagementapi'), maxAttempts: 1 }));

      // Act
      const posted = await failureOf(client.send(new PostToConnectionCommand({ ConnectionId: 'nobody=', Data: new TextEncoder().encode('{}') })));
      const described = await failureOf(client.send(new GetConnectionCommand({ ConnectionId: 'nobody=' })));

      // Assess: the unknown connection is the gateway's own 410.
      expect(posted).toBeInstanceOf(LimitExceededException);
      expect(posted.$metadata.httpStatusCode).toBe(429);
      expect(described).toBeInstanceOf(GoneException);
      expect(injector.injected()).toEqual({ apigatewaymanagementapi: { PostToConnection: 1 } });
    });
  });
});
