import { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import { SendEmailCommand, SESClient } from '@aws-sdk/client-ses';
import { ChangeMessageVisibilityCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, GetCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { aLambdaContext, anSqsRecord } from '../fakes/lambda.ts';
import { aNotification } from '../fakes/fixtures.ts';

// Config and clients are read once per process: set the environment before the handler loads.
Object.assign(process.env, {
  AWS_REGION: 'eu-west-1',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
  HERALD_TABLE_NOTIFICATIONS: 'test-notifications',
  HERALD_TABLE_RECIPIENTS: 'test-recipients',
  HERALD_TABLE_INBOX: 'test-inbox',
  HERALD_TABLE_CONNECTIONS: 'test-connections',
  HERALD_QUEUE_DELIVERY_URL: 'https://sqs.eu-west-1.amazonaws.com/111122223333/test-delivery',
  HERALD_QUEUE_DELIVERY_ARN: 'arn:aws:sqs:eu-west-1:111122223333:test-delivery',
  HERALD_EMAIL_FROM: 'herald@example.com',
  HERALD_WS_CALLBACK_URL: 'https://ws.example.com/test',
});
const { handler } = await import('../../../functions/deliver/handler.ts');

const dbMock = mockClient(DynamoDBDocumentClient);
const sqsMock = mockClient(SQSClient);
const sesMock = mockClient(SESClient);
const gatewayMock = mockClient(ApiGatewayManagementApiClient);
const context = aLambdaContext('herald-test-deliver');

beforeEach(() => {
  dbMock.reset();
  sqsMock.reset();
  sesMock.reset();
  gatewayMock.reset();
});

function aBatch(...records: [messageId: string, body: string][]): SQSEvent {
  return { Records: records.map(([id, body]) => anSqsRecord(id, body)) };
}

function messageFor(id: string): string {
  return JSON.stringify({ tenantId: 'acme', notificationId: id });
}

describe('the deliver handler', () => {
  it.each([
    ['not JSON', 'deliver ntf_x please'],
    ['without a notification id', '{"tenantId":"acme"}'],
    ['with a foreign id', '{"tenantId":"acme","notificationId":"brd_1"}'],
  ])('drops a malformed message (%s) instead of cycling it to the DLQ', async (_, body) => {
    // Prepare
    const event = aBatch(['m1', body]);

    // Act
    const result = await handler(event, context);

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    expect(dbMock).not.toHaveReceivedAnyCommand();
  });

  it('hides a message that is not yet due until its time, and keeps it on the queue', async () => {
    // Prepare
    const n = aNotification({ scheduledAt: new Date(Date.now() + 120_000).toISOString() });
    dbMock.on(GetCommand).resolves({ Item: { ...n, pk: `acme#${n.id}` } });
    sqsMock.on(ChangeMessageVisibilityCommand).resolves({});
    const event = aBatch(['m1', messageFor(n.id)]);

    // Act
    const result = await handler(event, context);

    // Assess
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'm1' }] });
    expect(sqsMock).toHaveReceivedCommandExactlyOnceWith(ChangeMessageVisibilityCommand, {
      QueueUrl: process.env.HERALD_QUEUE_DELIVERY_URL,
      ReceiptHandle: 'receipt-m1',
      VisibilityTimeout: expect.toSatisfy((seconds: number) => seconds >= 119 && seconds <= 120),
    });
    expect(dbMock).not.toHaveReceivedCommand(UpdateCommand);
  });

  it('reports a message whose delivery threw and brings it back after the retry policy\'s backoff', async () => {
    // Prepare
    const n = aNotification();
    dbMock.on(GetCommand).rejects(new Error('DynamoDB is unreachable'));
    sqsMock.on(ChangeMessageVisibilityCommand).resolves({});
    const event = aBatch(['m1', messageFor(n.id)]);

    // Act
    const result = await handler(event, context);

    // Assess: the first retry of the default policy, 300 s ± 10 %.
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'm1' }] });
    expect(sqsMock).toHaveReceivedCommandExactlyOnceWith(ChangeMessageVisibilityCommand, {
      QueueUrl: process.env.HERALD_QUEUE_DELIVERY_URL,
      ReceiptHandle: 'receipt-m1',
      VisibilityTimeout: expect.toSatisfy((seconds: number) => seconds >= 270 && seconds <= 330),
    });
  });

  it('leaves a message that threw past the policy\'s retries to the visibility timeout and the DLQ', async () => {
    // Prepare: the fifth receive, past the default three retries.
    const n = aNotification();
    dbMock.on(GetCommand).rejects(new Error('DynamoDB is unreachable'));
    const record = anSqsRecord('m1', messageFor(n.id));
    const event: SQSEvent = { Records: [{ ...record, attributes: { ...record.attributes, ApproximateReceiveCount: '5' } }] };

    // Act
    const result = await handler(event, context);

    // Assess
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'm1' }] });
    expect(sqsMock).not.toHaveReceivedAnyCommand();
  });

  it('lets a message go when its notification no longer exists', async () => {
    // Prepare
    dbMock.on(GetCommand).resolves({});
    const event = aBatch(['m1', messageFor(aNotification().id)]);

    // Act
    const result = await handler(event, context);

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
  });

  it('reports only the messages of a batch that must come back', async () => {
    // Prepare
    const gone = aNotification();
    const early = aNotification({ scheduledAt: new Date(Date.now() + 600_000).toISOString() });
    const broken = aNotification();
    dbMock.on(GetCommand, { Key: { pk: `acme#${gone.id}` } }).resolves({});
    dbMock.on(GetCommand, { Key: { pk: `acme#${early.id}` } }).resolves({ Item: { ...early, pk: `acme#${early.id}` } });
    dbMock.on(GetCommand, { Key: { pk: `acme#${broken.id}` } }).rejects(new Error('throttled'));
    sqsMock.on(ChangeMessageVisibilityCommand).resolves({});
    const event = aBatch(['m-gone', messageFor(gone.id)], ['m-early', messageFor(early.id)], ['m-broken', messageFor(broken.id)], ['m-bad', '{}']);

    // Act
    const result = await handler(event, context);

    // Assess
    expect(result.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(['m-broken', 'm-early']);
    expect(sqsMock).toHaveReceivedCommandWith(ChangeMessageVisibilityCommand, { ReceiptHandle: 'receipt-m-early' });
    expect(sqsMock).toHaveReceivedCommandWith(ChangeMessageVisibilityCommand, { ReceiptHandle: 'receipt-m-broken' });
    expect(sqsMock).toHaveReceivedCommandTimes(ChangeMessageVisibilityCommand, 2);
  });

  it('delivers a due notification through the AWS adapters and lets the message be deleted', async () => {
    // Prepare
    const n = aNotification({ scheduledAt: new Date(Date.now() - 1000).toISOString(), channels: ['inbox', 'websocket', 'email'] });
    const stored = { ...n, pk: `acme#${n.id}` };
    dbMock.on(GetCommand, { TableName: 'test-notifications' }).resolves({ Item: stored });
    dbMock.on(GetCommand, { TableName: 'test-recipients' }).resolves({ Item: { pk: 'acme#bob', tenantId: 'acme', id: 'bob', email: 'bob@example.com', groups: [] } });
    dbMock.on(UpdateCommand).resolves({ Attributes: { ...stored, status: 'sending', attempts: 1 } });
    dbMock.on(TransactWriteCommand).resolves({});
    dbMock.on(GetCommand, { TableName: 'test-inbox' }).resolves({ Item: { unread: 1 } });
    dbMock.on(QueryCommand).resolves({ Items: [] });
    sesMock.on(SendEmailCommand).resolves({ MessageId: 'ses-1' });
    const event = aBatch(['m1', messageFor(n.id)]);

    // Act
    const result = await handler(event, context);

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    expect(dbMock).toHaveReceivedCommandWith(TransactWriteCommand, {
      TransactItems: expect.arrayContaining([
        { Put: expect.objectContaining({ TableName: 'test-inbox', ConditionExpression: 'attribute_not_exists(notificationId)' }) },
      ]),
    });
    expect(sesMock).toHaveReceivedCommandWith(SendEmailCommand, { Source: 'herald@example.com', Destination: { ToAddresses: ['bob@example.com'] } });
    expect(dbMock).toHaveReceivedLastCommandWith(UpdateCommand, { ExpressionAttributeValues: expect.objectContaining({ ':sent': 'sent' }) });
    expect(sqsMock).not.toHaveReceivedAnyCommand();
  });
});
