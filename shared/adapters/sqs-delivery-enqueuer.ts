/** Delivery messages onto the delivery queue, ten per SendMessageBatch (the SQS maximum). */
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { DeliveryMessage } from '../domain/schemas.ts';
import type { DeliveryEnqueuer } from '../ports.ts';

/** SQS takes at most 10 entries per batch call. */
export const maxBatchEntries = 10;

export class SqsDeliveryEnqueuer implements DeliveryEnqueuer {
  private readonly sqs: SQSClient;
  private readonly queueUrl: string;

  constructor(sqs: SQSClient, queueUrl: string) {
    this.sqs = sqs;
    this.queueUrl = queueUrl;
  }

  async enqueue(messages: readonly DeliveryMessage[]): Promise<number> {
    let accepted = 0;
    for (let start = 0; start < messages.length; start += maxBatchEntries) {
      const chunk = messages.slice(start, start + maxBatchEntries);
      accepted += await this.sendChunk(chunk);
    }
    return accepted;
  }

  /** One batch call, and one more for the entries SQS failed on its side (`SenderFault: false`). */
  private async sendChunk(chunk: readonly DeliveryMessage[]): Promise<number> {
    let entries = chunk.map((message, index) => ({ Id: String(index), MessageBody: JSON.stringify(message) }));
    let accepted = 0;
    for (let round = 0; round < 2 && entries.length > 0; round++) {
      const result = await this.sqs.send(new SendMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: entries }));
      accepted += result.Successful?.length ?? 0;
      const retryable = new Set((result.Failed ?? []).filter((f) => !f.SenderFault).map((f) => f.Id));
      entries = entries.filter((entry) => retryable.has(entry.Id));
    }
    return accepted;
  }
}
