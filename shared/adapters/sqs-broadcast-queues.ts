/**
 * The two queues of broadcasts: the fan-out queue (its own steps, re-enqueued one after another)
 * and the broadcast delivery queue (several recipients per message). Both send ten messages per
 * SendMessageBatch, the SQS maximum, and retry the entries SQS failed on its own side.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { BroadcastDeliveryMessage, FanoutMessage, RecurringOccurrenceMessage } from '../domain/schemas.ts';
import type { BroadcastDeliveryQueue, FanoutQueue } from '../ports.ts';
import { sendBatches } from './sqs-send-batches.ts';

export { maxDelaySeconds } from './sqs-send-batches.ts';

/** Raised when SQS refused some messages of a batch for good. */
export class MessagesNotSentError extends Error {
  constructor(queueUrl: string, failures: readonly string[]) {
    super(`SQS did not accept ${failures.length} message(s) for ${queueUrl}: ${failures.slice(0, 3).join('; ')}`);
    this.name = 'MessagesNotSentError';
  }
}

async function sendAll(sqs: SQSClient, queueUrl: string, bodies: readonly string[], delaySeconds?: number): Promise<void> {
  const { failures } = await sendBatches(sqs, queueUrl, bodies, delaySeconds);
  if (failures.length > 0) throw new MessagesNotSentError(queueUrl, failures);
}


export class SqsFanoutQueue implements FanoutQueue {
  private readonly sqs: SQSClient;
  private readonly queueUrl: string;

  constructor(sqs: SQSClient, queueUrl: string) {
    this.sqs = sqs;
    this.queueUrl = queueUrl;
  }

  async send(messages: readonly (FanoutMessage | RecurringOccurrenceMessage)[], delaySeconds?: number): Promise<void> {
    await sendAll(this.sqs, this.queueUrl, messages.map((m) => JSON.stringify(m)), delaySeconds);
  }

}

export class SqsBroadcastDeliveryQueue implements BroadcastDeliveryQueue {
  private readonly sqs: SQSClient;
  private readonly queueUrl: string;

  constructor(sqs: SQSClient, queueUrl: string) {
    this.sqs = sqs;
    this.queueUrl = queueUrl;
  }

  async enqueue(messages: readonly BroadcastDeliveryMessage[]): Promise<void> {
    await sendAll(this.sqs, this.queueUrl, messages.map((m) => JSON.stringify(m)));
  }

}
