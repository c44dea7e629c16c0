/** The delivery queue as its consumer sees it. */
import { ChangeMessageVisibilityCommand } from '@aws-sdk/client-sqs';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { DeliveryQueue } from '../ports.ts';

/** SQS caps a message's visibility timeout at 12 hours. */
export const maxVisibilitySeconds = 12 * 60 * 60;

export class SqsDeliveryQueue implements DeliveryQueue {
  private readonly sqs: SQSClient;
  private readonly queueUrl: string;

  constructor(sqs: SQSClient, queueUrl: string) {
    this.sqs = sqs;
    this.queueUrl = queueUrl;
  }

  async hide(receiptHandle: string, seconds: number): Promise<void> {
    await this.sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: this.queueUrl,
        ReceiptHandle: receiptHandle,
        VisibilityTimeout: Math.min(maxVisibilitySeconds, Math.max(0, Math.ceil(seconds))),
      }),
    );
  }
}
