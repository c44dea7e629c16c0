import {
  ApiGatewayManagementApiClient,
  GetConnectionCommand,
  GoneException,
  LimitExceededException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  GetItemCommand,
  InternalServerError,
  ListTablesCommand,
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
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ApiCallCounter } from '../../../local/api-call-counter.ts';
import { accessKeyIdOf, createCallHook } from '../../../local/aws-call-hook.ts';
import type { CallHook } from '../../../local/aws-call-hook.ts';
import { startDynamoDbEndpoint } from '../../../local/dynamodb/endpoint.ts';
import type { DynamoDbEndpoint } from '../../../local/dynamodb/endpoint.ts';
import { createFaultInjector, seededRandom } from '../../../local/fault-rules.ts';
import type { FaultInjector, FaultRule, FaultService } from '../../../local/fault-rules.ts';
import { startSchedulerEmulator } from '../../../local/scheduler-emulator.ts';
import type { SchedulerEmulator } from '../../../local/scheduler-emulator.ts';
import { startSesEmulator } from '../../../local/ses-emulator.ts';
import type { SesEmulator } from '../../../local/ses-emulator.ts';
import { startSqsEmulator } from '../../../local/sqs-emulator.ts';
import type { SqsEmulator } from '../../../local/sqs-emulator.ts';
import { startWebSocketGateway } from '../../../local/websocket-gateway.ts';
import type { RunningWebSocketGateway } from '../../../local/websocket-gateway.ts';
import { createPkTable } from '../support/local-dynamo.ts';

const region = 'us-east-1';
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
const tableName = 'call-hook-test';

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

describe('the fault and call-count hook of the emulators\' faultable endpoints', () => {
  let dynamo: DynamoDbEndpoint;
  let sqs: SqsEmulator;
  let ses: SesEmulator;
  let scheduler: SchedulerEmulator;
  let ws: RunningWebSocketGateway;
  /** The plain endpoints (fixtures) and the faultable ones (the functions'), by service. */
  const plain = {} as Record<FaultService, string>;
  const faultable = {} as Record<FaultService, string>;
  // Each test sets its own rules and counter; the emulators' hook consults the current ones.
  let injector: FaultInjector = createFaultInjector();
  let counter = new ApiCallCounter();
  const hook: CallHook = (service, call, headers) => createCallHook(injector, counter)(service, call, headers);
  const clients: { destroy(): void }[] = [];
  let queueUrl: string;

  function faultableFor(service: FaultService): string {
    return faultable[service];
  }

  function need(endpoint: string | undefined): string {
    if (endpoint === undefined) throw new Error('started without its faultable endpoint');
    return endpoint;
  }

  function track<C extends { destroy(): void }>(client: C): C {
    clients.push(client);
    return client;
  }

  beforeAll(async () => {
    dynamo = await startDynamoDbEndpoint({ faultable: { hook } });
    [plain.dynamodb, faultable.dynamodb] = [dynamo.endpoint, need(dynamo.faultableEndpoint)];
    sqs = await startSqsEmulator({ faultable: { hook } });
    [plain.sqs, faultable.sqs] = [sqs.endpoint, need(sqs.faultableEndpoint)];
    ses = await startSesEmulator({ port: 0, faultable: { hook } });
    [plain.ses, faultable.ses] = [ses.endpoint, need(ses.faultableEndpoint)];
    scheduler = await startSchedulerEmulator({ port: 0, region, sqsEndpoint: plain.sqs, faultable: { hook } });
    [plain.scheduler, faultable.scheduler] = [scheduler.endpoint, need(scheduler.faultableEndpoint)];
    ws = await startWebSocketGateway({ port: 0, routes: {}, faultable: { hook } });
    [plain.apigatewaymanagementapi, faultable.apigatewaymanagementapi] = [ws.callbackUrl, need(ws.faultableCallbackUrl)];

    // The fixtures are made on the plain endpoints, as the local stack's own clients do.
    const rawDynamo = new DynamoDBClient({ region, credentials, endpoint: plain.dynamodb });
    await createPkTable(rawDynamo, tableName);
    rawDynamo.destroy();
    const rawSqs = new SQSClient({ region, credentials, endpoint: plain.sqs });
    queueUrl = (await rawSqs.send(new CreateQueueCommand({ QueueName: 'call-hook-test' }))).QueueUrl ?? '';
    rawSqs.destroy();
  });

  afterAll(async () => {
    await ws.stop();
    await scheduler.stop();
    await ses.stop();
    await sqs.stop();
    await dynamo.stop();
  });

  afterEach(() => {
    for (const client of clients.splice(0)) client.destroy();
    counter = new ApiCallCounter();
  });

  describe('ses (query protocol v1, REST v2)', () => {
    it('fails SendEmail with the SES exception and status of the rule while SendRawEmail still goes through', async () => {
      // Prepare
      injector = createFaultInjector({ rules: [rule('ses', { statusCode: 503, code: 'ServiceUnavailable' }, { operation: 'SendEmail' })] });
      const client = track(new SESClient({ region, credentials, endpoint: faultableFor('ses'), maxAttempts: 1 }));

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
      const client = track(new SESClient({ region, credentials, endpoint: faultableFor('ses') }));

      // Act
      const failure = await failureOf(client.send(new SendEmailCommand(email)));

      // Assess: a Sender fault is not retried, so the SDK tried exactly once.
      expect(failure).toBeInstanceOf(MessageRejected);
      expect(failure.message).toBe('Email address is not verified.');
      expect(failure.$metadata).toMatchObject({ httpStatusCode: 400, attempts: 1 });
      expect(injector.injected()).toEqual({ ses: { SendEmail: 1 } });
    });

    it('names SES v2 calls by method and path, failing them with the error in x-amzn-ErrorType', async () => {
      // Prepare
      injector = createFaultInjector({ rules: [rule('ses', { statusCode: 400, code: 'MessageRejected', message: 'Rejected' }, { operation: 'SendEmail' })] });
      const endpoint = faultableFor('ses');
      const headers = { authorization: 'AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/ses/aws4_request', 'content-type': 'application/json' };
      const v2Email = { FromEmailAddress: 'notifications@herald.local', Destination: { ToAddresses: ['bob@example.com'] }, Content: { Simple: { Subject: { Data: 'Hi' }, Body: { Text: { Data: 'Hi Bob' } } } } };

      // Act
      const sent = await fetch(`${endpoint}/v2/email/outbound-emails`, { method: 'POST', headers, body: JSON.stringify(v2Email) });
      const templates = await fetch(`${endpoint}/v2/email/templates`, { headers });

      // Assess
      expect(sent.status).toBe(400);
      expect(sent.headers.get('x-amzn-errortype')).toBe('MessageRejected');
      expect(await sent.json()).toEqual({ message: 'Rejected' });
      expect(templates.status).toBe(200);
      expect(counter.snapshot()).toEqual({ ses: { SendEmail: 1, ListEmailTemplates: 1 } });
    });

    it('lets requests that are not API calls through, whatever the rules', async () => {
      // Prepare
      injector = createFaultInjector({ rules: [rule('ses', { statusCode: 500, code: 'InternalFailure' })] });
      const endpoint = faultableFor('ses');

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
      const client = track(new SESClient({ region, credentials, endpoint: faultableFor('ses'), maxAttempts: 1 }));

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
      const client = track(new SESClient({ region, credentials, endpoint: faultableFor('ses'), maxAttempts: 1 }));

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
      const client = track(new DynamoDBClient({ region, credentials, endpoint: faultableFor('dynamodb'), maxAttempts: 2 }));

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
      const client = track(new DynamoDBClient({ region, credentials, endpoint: faultableFor('dynamodb') }));

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
      const client = track(new DynamoDBClient({ region, credentials, endpoint: faultableFor('dynamodb') }));

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
      const client = track(new DynamoDBClient({ region, credentials, endpoint: faultableFor('dynamodb') }));

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
      const client = track(new SQSClient({ region, credentials, endpoint: faultableFor('sqs'), useQueueUrlAsEndpoint: false, maxAttempts: 1 }));

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
      const client = track(new SQSClient({ region, credentials, endpoint: faultableFor('sqs'), useQueueUrlAsEndpoint: false }));

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
      const endpoint = faultableFor('sqs');

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
      const client = track(new SchedulerClient({ region, credentials, endpoint: faultableFor('scheduler'), maxAttempts: 2 }));

      // Act
      const failure = await failureOf(client.send(new ListSchedulesCommand({})));
      const group = await client.send(new CreateScheduleGroupCommand({ Name: 'call-hook-test' }));

      // Assess
      expect(failure).toBeInstanceOf(ThrottlingException);
      expect(failure.message).toBe('Rate exceeded');
      expect(failure.$metadata).toMatchObject({ httpStatusCode: 429, attempts: 2 });
      expect(group.ScheduleGroupArn).toContain('schedule-group/call-hook-test');
      expect(injector.injected()).toEqual({ scheduler: { ListSchedules: 2 } });
    });
  });

  describe('apigatewaymanagementapi (@connections)', () => {
    it('fails PostToConnection with the API Gateway exception while GetConnection reaches the gateway', async () => {
      // Prepare
      injector = createFaultInjector({
        rules: [rule('apigatewaymanagementapi', { statusCode: 429, code: 'LimitExceededException' }, { operation: 'PostToConnection' })],
      });
      const client = track(new ApiGatewayManagementApiClient({ region, credentials, endpoint: faultableFor('apigatewaymanagementapi'), maxAttempts: 1 }));

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
  describe('counting', () => {
    it('counts every call to a faultable endpoint by service and operation, faulted or not', async () => {
      // Prepare
      injector = createFaultInjector({ rules: [rule('dynamodb', { statusCode: 400, code: 'ValidationException' }, { operation: 'PutItem' })] });
      const db = track(new DynamoDBClient({ region, credentials, endpoint: faultableFor('dynamodb') }));
      const queue = track(new SQSClient({ region, credentials, endpoint: faultableFor('sqs'), useQueueUrlAsEndpoint: false }));

      // Act
      await db.send(new PutItemCommand({ TableName: tableName, Item: { pk: { S: 'counted' } } })).catch(() => undefined);
      await db.send(new GetItemCommand({ TableName: tableName, Key: { pk: { S: 'counted' } } }));
      await db.send(new GetItemCommand({ TableName: tableName, Key: { pk: { S: 'counted' } } }));
      await queue.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'counted' }));

      // Assess
      expect(counter.snapshot()).toEqual({ dynamodb: { PutItem: 1, GetItem: 2 }, sqs: { SendMessage: 1 } });
      expect(injector.injected()).toEqual({ dynamodb: { PutItem: 1 } });
    });

    it('counts each call under the function whose access key signed it, at every faultable endpoint', async () => {
      // Prepare
      injector = createFaultInjector();
      counter = new ApiCallCounter((accessKeyId) => (accessKeyId === 'herald-local-deliver' ? 'deliver' : undefined));
      const signedAs = { accessKeyId: 'herald-local-deliver', secretAccessKey: 'local' };
      const db = track(new DynamoDBClient({ region, credentials: signedAs, endpoint: faultableFor('dynamodb') }));
      const queue = track(new SQSClient({ region, credentials: signedAs, endpoint: faultableFor('sqs'), useQueueUrlAsEndpoint: false }));
      const mail = track(new SESClient({ region, credentials: signedAs, endpoint: faultableFor('ses') }));
      const schedules = track(new SchedulerClient({ region, credentials: signedAs, endpoint: faultableFor('scheduler') }));
      const sockets = track(new ApiGatewayManagementApiClient({ region, credentials: signedAs, endpoint: faultableFor('apigatewaymanagementapi'), maxAttempts: 1 }));
      const stranger = track(new DynamoDBClient({ region, credentials, endpoint: faultableFor('dynamodb') }));

      // Act
      await db.send(new GetItemCommand({ TableName: tableName, Key: { pk: { S: 'by-function' } } }));
      await queue.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'by function' }));
      await mail.send(new SendEmailCommand({ Source: 'a@example.com', Destination: { ToAddresses: ['b@example.com'] }, Message: { Subject: { Data: 's' }, Body: { Text: { Data: 't' } } } }));
      await schedules.send(new ListSchedulesCommand({}));
      await failureOf(sockets.send(new GetConnectionCommand({ ConnectionId: 'nobody=' })));
      await stranger.send(new GetItemCommand({ TableName: tableName, Key: { pk: { S: 'by-function' } } }));
      await fetch(faultableFor('sqs'), { method: 'POST', headers: { 'x-amz-target': 'AmazonSQS.ListQueues', 'content-type': 'application/x-amz-json-1.0' }, body: '{}' });

      // Assess
      expect(counter.byFunction()).toEqual({
        deliver: { dynamodb: { GetItem: 1 }, sqs: { SendMessage: 1 }, ses: { SendEmail: 1 }, scheduler: { ListSchedules: 1 }, apigatewaymanagementapi: { GetConnection: 1 } },
        unknown: { dynamodb: { GetItem: 1 }, sqs: { ListQueues: 1 } },
      });
    });

    it.each([
      ['a Signature Version 4 header', 'AWS4-HMAC-SHA256 Credential=herald-local-api/20270112/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=abc', 'herald-local-api'],
      ['no Authorization header', undefined, undefined],
      ['another scheme', 'Bearer token', undefined],
      ['a header without a credential', 'AWS4-HMAC-SHA256 SignedHeaders=host, Signature=abc', undefined],
    ])('reads the signing access key id from %s', (_label, authorization, expected) => {
      // Act
      const accessKeyId = accessKeyIdOf(authorization === undefined ? {} : { authorization });

      // Assess
      expect(accessKeyId).toBe(expected);
    });

    it('neither counts nor faults the calls to the plain endpoints', async () => {
      // Prepare
      injector = createFaultInjector({ rules: [rule('dynamodb', { statusCode: 500, code: 'InternalServerError' }), rule('sqs', { statusCode: 500, code: 'InternalError' })] });
      const db = track(new DynamoDBClient({ region, credentials, endpoint: plain.dynamodb, maxAttempts: 1 }));
      const queue = track(new SQSClient({ region, credentials, endpoint: plain.sqs, useQueueUrlAsEndpoint: false, maxAttempts: 1 }));

      // Act
      const tables = await db.send(new ListTablesCommand({}));
      const queues = await queue.send(new ListQueuesCommand({}));

      // Assess
      expect(tables.TableNames).toContain(tableName);
      expect(queues.QueueUrls).toContain(queueUrl);
      expect(counter.snapshot()).toEqual({});
      expect(injector.injected()).toEqual({});
    });

    it('hands the calls no rule fails to the emulator in this process', async () => {
      // Prepare
      injector = createFaultInjector({ rules: [rule('sqs', { statusCode: 500, code: 'InternalError' }, { operation: 'DeleteQueue' })] });
      const queue = track(new SQSClient({ region, credentials, endpoint: faultableFor('sqs'), useQueueUrlAsEndpoint: false }));
      const body = `through the front ${Date.now()}`;

      // Act
      await queue.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
      const received = await queue.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));

      // Assess
      expect(received.Messages?.map((message) => message.Body)).toContain(body);
      expect(counter.snapshot()).toEqual({ sqs: { SendMessage: 1, ReceiveMessage: 1 } });
    });
  });
});
