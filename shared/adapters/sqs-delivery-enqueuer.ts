/** Delivery messages onto the delivery queue, ten per SendMessageBatch (the SQS maximum). */
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { DeliveryMessage } from '../domain/schemas.ts';
import type { DeliveryEnqueuer } from '../ports.ts';
import { sendBatches } from './sqs-send-batches.ts';

export class SqsDeliveryEnqueuer implements DeliveryEnqueuer {
  private readonly sqs: SQSClient;
  private readonly queueUrl: string;

  constructor(sqs: SQSClient, queueUrl: string) {
    this.sqs = sqs;
    this.queueUrl = queueUrl;
  }

  async enqueue(messages: readonly DeliveryMessage[]): Promise<number> {
    const { accepted } = await sendBatches(this.sqs, this.queueUrl, messages.map((m) => JSON.stringify(m)));
    return accepted;
  }
}
