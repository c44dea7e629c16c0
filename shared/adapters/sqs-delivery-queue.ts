/** The delivery queue as its consumer sees it, with its dead-letter queue. */
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import type { MessageAttributeValue, SQSClient } from '@aws-sdk/client-sqs';
import type { DeadLetterDetails, DeliveryQueue } from '../ports.ts';

/** SQS caps a message's visibility timeout at 12 hours. */
export const maxVisibilitySeconds = 12 * 60 * 60;

/** The message attributes a dead-lettered delivery message carries (SQS allows 10). */
export const deadLetterAttributes = {
  reason: 'HeraldDeadLetterReason',
  tenantId: 'HeraldTenantId',
  notificationId: 'HeraldNotificationId',
  attempts: 'HeraldAttempts',
  sourceMessageId: 'HeraldSourceMessageId',
} as const;

/** Attribute values are bounded with the message (1 MiB); a reason needs far less. */
const maxReasonLength = 1_000;

function noDeadLetterQueue(): never {
  throw new Error('This delivery queue was given no dead-letter queue');
}

export class SqsDeliveryQueue implements DeliveryQueue {
  private readonly sqs: SQSClient;
  private readonly queueUrl: string;
  private readonly deadLetterQueueUrl: () => string;

  /** `deadLetterQueueUrl` is read on first dead-letter only: a consumer that never gives up needs none. */
  constructor(sqs: SQSClient, queueUrl: string, deadLetterQueueUrl: () => string = noDeadLetterQueue) {
    this.sqs = sqs;
    this.queueUrl = queueUrl;
    this.deadLetterQueueUrl = deadLetterQueueUrl;
  }

  async deadLetter(body: string, details: DeadLetterDetails): Promise<void> {
    const text = (value: string): MessageAttributeValue => ({ DataType: 'String', StringValue: value });
    await this.sqs.send(
      new SendMessageCommand({
        QueueUrl: this.deadLetterQueueUrl(),
        // What to redrive: a message naming the failed notification alone.
        MessageBody: body,
        MessageAttributes: {
          [deadLetterAttributes.reason]: text(details.reason.slice(0, maxReasonLength)),
          [deadLetterAttributes.tenantId]: text(details.tenantId),
          [deadLetterAttributes.notificationId]: text(details.notificationId),
          [deadLetterAttributes.attempts]: { DataType: 'Number', StringValue: String(details.attempts) },
          [deadLetterAttributes.sourceMessageId]: text(details.sourceMessageId),
        },
      }),
    );
  }
}
