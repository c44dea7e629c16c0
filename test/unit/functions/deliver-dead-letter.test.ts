/**
 * The deliver function when a notification fails after its last retry, on the local DynamoDB,
 * SQS and SES (their faultable endpoints, as the function calls them): the notification is marked
 * failed and the original message is copied to the delivery DLQ, with why, then acknowledged.
 * Retries are set to none, so the first transient failure is the last. SES's failures are
 * answered on the wire, in its own error format.
 */
import type { SQSEvent } from 'aws-lambda';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoNotificationStore } from '../../../shared/adapters/dynamo-notification-store.ts';
import { DynamoRecipientStore } from '../../../shared/adapters/dynamo-recipient-store.ts';
import { newNotificationId } from '../../../shared/domain/ids.ts';
import { aLambdaContext } from '../fakes/lambda.ts';
import { aNotification, aRecipient } from '../fakes/fixtures.ts';
import { startLocalAws, withoutSesSendBudget } from '../support/local-aws.ts';

// Config and clients are read once per process: set the environment before the handler loads.
const aws = await startLocalAws({ sqs: true, ses: true, extra: { HERALD_RETRY_MAX_RETRIES: '0' } });
Object.assign(process.env, aws.env);
const { handler } = await import('../../../functions/deliver/handler.ts');
await withoutSesSendBudget(aws, (await import('../../../shared/adapters/dependencies/send-budgets.ts')).loadSendBudgets);

const notifications = new DynamoNotificationStore(aws.dynamo.documentClient, 'notifications');
const recipients = new DynamoRecipientStore(aws.dynamo.documentClient, 'recipients', () => 'memberships');
const context = aLambdaContext('herald-test-deliver');
const unavailable = { statusCode: 503, code: 'ServiceUnavailable', message: 'Service is unavailable' };

afterAll(async () => {
  await aws.stop();
});

beforeEach(async () => {
  await aws.purgeQueues();
  aws.calls.reset();
  await recipients.put(aRecipient({ tenantId: 'acme', id: 'bob', email: 'bob@example.com' }));
});

/** A due email-only notification for bob, written to the table, and its message as received from the delivery queue; SES answers every send with a 503. */
async function aFailingDelivery(): Promise<{ event: SQSEvent; body: string; id: string; messageId: string }> {
  const n = aNotification({ id: newNotificationId(new Date()), scheduledAt: new Date(Date.now() - 1000).toISOString(), channels: ['email'] });
  await notifications.createMany([n]);
  aws.calls.fail('ses', 'SendEmail', unavailable);
  const body = JSON.stringify({ tenantId: 'acme', notificationId: n.id });
  const record = await aws.received('delivery', body);
  return { event: { Records: [record] }, body, id: n.id, messageId: record.messageId };
}

const reason = 'Gave up after 1 attempts: email: ServiceUnavailable: Service is unavailable';

describe('the deliver handler after the last attempt', () => {
  it('marks the notification failed, copies the message to the DLQ with why, and lets it go', async () => {
    // Prepare
    const { event, body, id, messageId } = await aFailingDelivery();

    // Act
    const result = await handler(event, context);

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    expect(await notifications.get('acme', id)).toMatchObject({ status: 'failed', attempts: 1, lastError: reason });
    const deadLetters = await aws.receive('delivery-dlq');
    expect(deadLetters.map((m) => ({ body: m.Body, attributes: m.MessageAttributes }))).toEqual([
      {
        body,
        attributes: {
          HeraldDeadLetterReason: { DataType: 'String', StringValue: reason },
          HeraldTenantId: { DataType: 'String', StringValue: 'acme' },
          HeraldNotificationId: { DataType: 'String', StringValue: id },
          HeraldAttempts: { DataType: 'Number', StringValue: '1' },
          HeraldSourceMessageId: { DataType: 'String', StringValue: messageId },
        },
      },
    ]);
    expect(aws.calls.calls('sqs').filter((operation) => operation === 'SendMessage')).toHaveLength(1);
  });

  it('still lets the message go when the DLQ cannot be reached: the notification says why it failed', async () => {
    // Prepare
    const { event, id } = await aFailingDelivery();
    aws.calls.fail('sqs', 'SendMessage', unavailable);

    // Act
    const result = await handler(event, context);

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    expect(await notifications.get('acme', id)).toMatchObject({ status: 'failed', lastError: reason });
    expect(aws.calls.calls('sqs')).toContain('SendMessage');
    expect(await aws.receive('delivery-dlq')).toEqual([]);
  });

  it('dead-letters nothing for a notification that failed for good (there was nothing to retry)', async () => {
    // Prepare
    const { event, id } = await aFailingDelivery();
    aws.calls.fail('ses', 'SendEmail', { statusCode: 400, code: 'MessageRejected', message: 'Address blacklisted' });

    // Act
    const result = await handler(event, context);

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    expect(await notifications.get('acme', id)).toMatchObject({ status: 'failed' });
    expect(aws.calls.calls('sqs')).not.toContain('SendMessage');
    expect(await aws.receive('delivery-dlq')).toEqual([]);
  });
});
