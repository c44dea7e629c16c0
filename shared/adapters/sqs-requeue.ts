/**
 * Putting messages back on a queue to be seen again later, out of flight: a new message delayed
 * up to 15 minutes (the SQS `DelaySeconds` limit), or, further ahead, a one-shot schedule that
 * sends it then. The consumer then deletes the message it received.
 */
import { randomUUID } from 'node:crypto';
import { ChangeMessageVisibilityCommand } from '@aws-sdk/client-sqs';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { Requeue, Requeued } from '../queue/consumer.ts';
import type { OneShotSchedule } from './one-shot-schedule.ts';
import { maxVisibilitySeconds } from './sqs-delivery-queue.ts';
import { maxDelaySeconds, sendEntries } from './sqs-send-batches.ts';
import { MessagesNotSentError } from './sqs-broadcast-queues.ts';

/**
 * SQS counts the 12-hour visibility ceiling from the receive ("ChangeMessageVisibility", SQS API
 * reference): a hide asked for after the invocation ran a while must leave room for that while,
 * at most the 15 minutes a Lambda function runs.
 */
const longestHideSeconds = maxVisibilitySeconds - 15 * 60;

export class SqsRequeue implements Requeue {
  private readonly sqs: SQSClient;
  private readonly queueUrl: string;
  private readonly schedule: (() => OneShotSchedule) | undefined;

  /** Without `schedule`, a wait beyond 15 minutes takes several delayed hops. */
  constructor(sqs: SQSClient, queueUrl: string, schedule?: () => OneShotSchedule) {
    this.sqs = sqs;
    this.queueUrl = queueUrl;
    this.schedule = schedule;
  }

  async send(items: readonly Requeued[], now: Date): Promise<void> {
    const delayed: { body: string; delaySeconds: number }[] = [];
    const scheduled: Requeued[] = [];
    for (const item of items) {
      // Whole seconds, rounded down: the message comes back at most a second early and its
      // consumer waits out the rest, to the millisecond.
      const seconds = Math.max(0, Math.floor((item.at - now.getTime()) / 1000));
      if (seconds > maxDelaySeconds && this.schedule) scheduled.push(item);
      else delayed.push({ body: item.body, delaySeconds: Math.min(maxDelaySeconds, seconds) });
    }
    if (delayed.length > 0) {
      const { failures } = await sendEntries(this.sqs, this.queueUrl, delayed);
      if (failures.length > 0) throw new MessagesNotSentError(this.queueUrl, failures);
    }
    for (const item of scheduled) {
      await this.schedule?.().create(`later-${randomUUID()}`, new Date(item.at), item.body, now);
    }
  }

  async hide(receiptHandle: string, seconds: number): Promise<void> {
    await this.sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: this.queueUrl,
        ReceiptHandle: receiptHandle,
        VisibilityTimeout: Math.min(longestHideSeconds, Math.max(0, Math.ceil(seconds))),
      }),
    );
  }
}
