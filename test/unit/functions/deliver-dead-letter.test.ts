/**
 * The deliver function when a notification fails after its last retry, on a local DynamoDB: the
 * notification is marked failed and the original message is copied to the delivery DLQ, with
 * why, then acknowledged. Retries are set to none, so the first transient failure is the last.
 * SQS and SES are mocked: what is asserted is what the function asks of them.
 */
import { SendEmailCommand, SESClient } from '@aws-sdk/client-ses';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoNotificationStore } from '../../../shared/adapters/dynamo-notification-store.ts';
import { DynamoRecipientStore } from '../../../shared/adapters/dynamo-recipient-store.ts';
import { newNotificationId } from '../../../shared/domain/ids.ts';
import { aLambdaContext, anSqsRecord } from '../fakes/lambda.ts';
import { aNotification, aRecipient, awsError } from '../fakes/fixtures.ts';
import { localFunctionEnv } from '../support/function-env.ts';
import { startLocalDynamo } from '../support/local-dynamo.ts';

// Config and clients are read once per process: set the environment before the handler loads.
const dynamo = await startLocalDynamo({ withTables: true });
Object.assign(process.env, localFunctionEnv(dynamo.endpoint, { HERALD_RETRY_MAX_RETRIES: '0' }));
const { handler } = await import('../../../functions/deliver/handler.ts');

const notifications = new DynamoNotificationStore(dynamo.documentClient, 'notifications');
const recipients = new DynamoRecipientStore(dynamo.documentClient, 'recipients', () => 'memberships');
const sqsMock = mockClient(SQSClient);
const sesMock = mockClient(SESClient);
const context = aLambdaContext('herald-test-deliver');

afterAll(async () => {
  await dynamo.stop();
});

beforeEach(async () => {
  sqsMock.reset();
  sesMock.reset();
  await recipients.put(aRecipient({ tenantId: 'acme', id: 'bob', email: 'bob@example.com' }));
});

/** A due email-only notification for bob, written to the table; SES answers every send with a 503. */
async function aFailingDelivery(): Promise<{ event: SQSEvent; body: string; id: string }> {
  const n = aNotification({ id: newNotificationId(new Date()), scheduledAt: new Date(Date.now() - 1000).toISOString(), channels: ['email'] });
  await notifications.createMany([n]);
  sesMock.on(SendEmailCommand).rejects(awsError('ServiceUnavailable', 503, 'Service is unavailable'));
  const body = JSON.stringify({ tenantId: 'acme', notificationId: n.id });
  return { event: { Records: [anSqsRecord('m1', body)] }, body, id: n.id };
}

const reason = 'Gave up after 1 attempts: email: ServiceUnavailable: Service is unavailable';

describe('the deliver handler after the last attempt', () => {
  it('marks the notification failed, copies the message to the DLQ with why, and lets it go', async () => {
    // Prepare
    const { event, body, id } = await aFailingDelivery();
    sqsMock.on(SendMessageCommand).resolves({ MessageId: 'dlq-1' });

    // Act
    const result = await handler(event, context);

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    expect(await notifications.get('acme', id)).toMatchObject({ status: 'failed', attempts: 1, lastError: reason });
    expect(sqsMock).toHaveReceivedCommandExactlyOnceWith(SendMessageCommand, {
      QueueUrl: process.env.HERALD_QUEUE_DELIVERY_DLQ_URL,
      MessageBody: body,
      MessageAttributes: {
        HeraldDeadLetterReason: { DataType: 'String', StringValue: reason },
        HeraldTenantId: { DataType: 'String', StringValue: 'acme' },
        HeraldNotificationId: { DataType: 'String', StringValue: id },
        HeraldAttempts: { DataType: 'Number', StringValue: '1' },
        HeraldSourceMessageId: { DataType: 'String', StringValue: 'm1' },
      },
    });
  });

  it('still lets the message go when the DLQ cannot be reached: the notification says why it failed', async () => {
    // Prepare
    const { event, id } = await aFailingDelivery();
    sqsMock.on(SendMessageCommand).rejects(awsError('ServiceUnavailable', 503));

    // Act
    const result = await handler(event, context);

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    expect(await notifications.get('acme', id)).toMatchObject({ status: 'failed', lastError: reason });
  });

  it('dead-letters nothing for a notification that failed for good (there was nothing to retry)', async () => {
    // Prepare
    const { event } = await aFailingDelivery();
    sesMock.on(SendEmailCommand).rejects(awsError('MessageRejected', 400, 'Address blacklisted'));

    // Act
    const result = await handler(event, context);

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    expect(sqsMock).not.toHaveReceivedCommand(SendMessageCommand);
  });
});
