/**
 * The deliver handler when a notification fails after its last retry: the notification is marked
 * failed and the original message is copied to the delivery DLQ, with why, then acknowledged.
 * Retries are set to none, so the first transient failure is the last.
 */
import { SendEmailCommand, SESClient } from '@aws-sdk/client-ses';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { aLambdaContext, anSqsRecord } from '../fakes/lambda.ts';
import { aNotification, awsError } from '../fakes/fixtures.ts';

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
  HERALD_QUEUE_DELIVERY_DLQ_URL: 'https://sqs.eu-west-1.amazonaws.com/111122223333/test-delivery-dlq',
  HERALD_EMAIL_FROM: 'herald@example.com',
  HERALD_WS_CALLBACK_URL: 'https://ws.example.com/test',
  HERALD_RETRY_MAX_RETRIES: '0',
});
const { handler } = await import('../../../functions/deliver/handler.ts');

const dbMock = mockClient(DynamoDBDocumentClient);
const sqsMock = mockClient(SQSClient);
const sesMock = mockClient(SESClient);
const context = aLambdaContext('herald-test-deliver');

/** A due email-only notification for bob; SES throttles every send. */
function aFailingDelivery(): { event: SQSEvent; body: string; id: string } {
  const n = aNotification({ scheduledAt: new Date(Date.now() - 1000).toISOString(), channels: ['email'] });
  const stored = { ...n, pk: `acme#${n.id}` };
  dbMock.on(GetCommand, { TableName: 'test-notifications' }).resolves({ Item: stored });
  dbMock.on(GetCommand, { TableName: 'test-recipients' }).resolves({ Item: { pk: 'acme#bob', tenantId: 'acme', id: 'bob', email: 'bob@example.com', groups: [] } });
  dbMock.on(UpdateCommand).resolves({ Attributes: { ...stored, status: 'sending', attempts: 1 } });
  sesMock.on(SendEmailCommand).rejects(awsError('Throttling', 400, 'Maximum sending rate exceeded'));
  const body = JSON.stringify({ tenantId: 'acme', notificationId: n.id });
  return { event: { Records: [anSqsRecord('m1', body)] }, body, id: n.id };
}

beforeEach(() => {
  dbMock.reset();
  sqsMock.reset();
  sesMock.reset();
});

describe('the deliver handler after the last attempt', () => {
  it('marks the notification failed, copies the message to the DLQ with why, and lets it go', async () => {
    // Prepare
    const { event, body, id } = aFailingDelivery();
    sqsMock.on(SendMessageCommand).resolves({ MessageId: 'dlq-1' });

    // Act
    const result = await handler(event, context);

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    expect(dbMock).toHaveReceivedLastCommandWith(UpdateCommand, {
      ExpressionAttributeValues: expect.objectContaining({ ':failed': 'failed', ':error': 'Gave up after 1 attempts: email: Throttling: Maximum sending rate exceeded' }),
    });
    expect(sqsMock).toHaveReceivedCommandExactlyOnceWith(SendMessageCommand, {
      QueueUrl: process.env.HERALD_QUEUE_DELIVERY_DLQ_URL,
      MessageBody: body,
      MessageAttributes: expect.objectContaining({
        HeraldDeadLetterReason: { DataType: 'String', StringValue: 'Gave up after 1 attempts: email: Throttling: Maximum sending rate exceeded' },
        HeraldNotificationId: { DataType: 'String', StringValue: id },
        HeraldAttempts: { DataType: 'Number', StringValue: '1' },
        HeraldSourceMessageId: { DataType: 'String', StringValue: 'm1' },
      }),
    });
  });

  it('still lets the message go when the DLQ cannot be reached: the notification says why it failed', async () => {
    // Prepare
    const { event } = aFailingDelivery();
    sqsMock.on(SendMessageCommand).rejects(awsError('ServiceUnavailable', 503));

    // Act
    const result = await handler(event, context);

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    expect(dbMock).toHaveReceivedLastCommandWith(UpdateCommand, { ExpressionAttributeValues: expect.objectContaining({ ':failed': 'failed' }) });
  });
});
