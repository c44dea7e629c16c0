import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { ChangeMessageVisibilityCommand, SQSClient } from '@aws-sdk/client-sqs';
import { BatchGetCommand, DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { aLambdaContext, anSqsRecord } from '../fakes/lambda.ts';

// Config and clients are read once per process: set the environment before the handlers load.
Object.assign(process.env, {
  AWS_REGION: 'eu-west-1',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
  HERALD_TABLE_BROADCASTS: 'test-broadcasts',
  HERALD_TABLE_BROADCAST_RECIPIENTS: 'test-broadcast-recipients',
  HERALD_TABLE_RECIPIENTS: 'test-recipients',
  HERALD_TABLE_MEMBERSHIPS: 'test-memberships',
  HERALD_TABLE_INBOX: 'test-inbox',
  HERALD_TABLE_CONNECTIONS: 'test-connections',
  HERALD_QUEUE_FANOUT_URL: 'https://sqs.eu-west-1.amazonaws.com/111122223333/test-fanout',
  HERALD_QUEUE_FANOUT_ARN: 'arn:aws:sqs:eu-west-1:111122223333:test-fanout',
  HERALD_QUEUE_BROADCAST_DELIVERY_URL: 'https://sqs.eu-west-1.amazonaws.com/111122223333/test-broadcast-delivery',
  HERALD_QUEUE_BROADCAST_DELIVERY_ARN: 'arn:aws:sqs:eu-west-1:111122223333:test-broadcast-delivery',
  HERALD_EMAIL_FROM: 'herald@example.com',
  HERALD_WS_CALLBACK_URL: 'https://ws.example.com/test',
  HERALD_RETRY_BASE_SECONDS: '10',
  HERALD_RETRY_JITTER: '0',
});
const fanout = await import('../../../functions/fanout/handler.ts');
const deliver = await import('../../../functions/broadcast-deliver/handler.ts');

const dbMock = mockClient(DynamoDBDocumentClient);
const sqsMock = mockClient(SQSClient);
const context = aLambdaContext('herald-test-fanout');
const broadcastId = 'brd_01JABCDEFGHJKMNPQRSTVWXYZ0';

beforeEach(() => {
  dbMock.reset();
  sqsMock.reset();
  sqsMock.on(ChangeMessageVisibilityCommand).resolves({});
});

function aBatch(body: string, receives = 1): SQSEvent {
  const record = anSqsRecord('m1', body);
  return { Records: [{ ...record, attributes: { ...record.attributes, ApproximateReceiveCount: String(receives) } }] };
}

describe('the fanout handler', () => {
  it('drops a malformed message instead of cycling it to the DLQ', async () => {
    // Act
    const result = await fanout.handler(aBatch('{"kind":"explode"}'), context);

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    expect(dbMock).not.toHaveReceivedAnyCommand();
  });

  it('hides a start that came before its time until then, and keeps it on the queue', async () => {
    // Prepare
    const scheduledAt = new Date(Date.now() + 45_000).toISOString();
    dbMock.on(GetCommand).resolves({ Item: { pk: `acme#${broadcastId}`, tenantId: 'acme', id: broadcastId, status: 'scheduled', scheduledAt, audience: { kind: 'all' } } });

    // Act
    const result = await fanout.handler(aBatch(JSON.stringify({ kind: 'start', tenantId: 'acme', broadcastId })), context);

    // Assess
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'm1' }] });
    expect(sqsMock).toHaveReceivedCommandWith(ChangeMessageVisibilityCommand, {
      QueueUrl: process.env.HERALD_QUEUE_FANOUT_URL,
      VisibilityTimeout: expect.toSatisfy((s: number) => s >= 44 && s <= 45),
    });
  });

  it('backs a failed step off by the retry policy, from its receive count', async () => {
    // Prepare
    dbMock.on(GetCommand).rejects(Object.assign(new Error('throttled'), { name: 'ThrottlingException' }));

    // Act
    const result = await fanout.handler(aBatch(JSON.stringify({ kind: 'count', tenantId: 'acme', broadcastId }), 2), context);

    // Assess
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'm1' }] });
    expect(sqsMock).toHaveReceivedCommandWith(ChangeMessageVisibilityCommand, { VisibilityTimeout: 20 });
  });

  it('deletes a step that is done', async () => {
    // Prepare
    dbMock.on(GetCommand).resolves({});

    // Act
    const result = await fanout.handler(aBatch(JSON.stringify({ kind: 'count', tenantId: 'acme', broadcastId })), context);

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
  });
});

describe('the broadcast-deliver handler', () => {
  it('drops a malformed message', async () => {
    // Act
    const result = await deliver.handler(aBatch(JSON.stringify({ tenantId: 'acme', broadcastId, recipientIds: [] })), context);

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
  });

  it('keeps a message whose delivery failed, hidden for the backoff', async () => {
    // Prepare
    dbMock.on(UpdateCommand).rejects(Object.assign(new Error('down'), { name: 'InternalServerError', $metadata: { httpStatusCode: 500 } }));

    // Act
    const result = await deliver.handler(aBatch(JSON.stringify({ tenantId: 'acme', broadcastId, recipientIds: ['bob'] })), context);

    // Assess
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'm1' }] });
    expect(sqsMock).toHaveReceivedCommandWith(ChangeMessageVisibilityCommand, {
      QueueUrl: process.env.HERALD_QUEUE_BROADCAST_DELIVERY_URL,
      VisibilityTimeout: 10,
    });
  });

  it('deletes a message whose recipients are all final', async () => {
    // Prepare: every claim fails its condition, and the rows are final.
    dbMock.on(UpdateCommand).rejects(new ConditionalCheckFailedException({ message: 'no', $metadata: {} }));
    dbMock.on(BatchGetCommand).resolves({ Responses: { 'test-broadcast-recipients': [{ recipientId: 'bob', status: 'sent' }] } });

    // Act
    const result = await deliver.handler(aBatch(JSON.stringify({ tenantId: 'acme', broadcastId, recipientIds: ['bob'] })), context);

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
  });
});
