/**
 * The deployment's dead-letter queues on SQS: their depth from GetQueueAttributes, and a redrive
 * by receive, send and delete, ten at a time.
 *
 * Why not StartMessageMoveTask: it only moves a DLQ that SQS itself feeds (not the scheduler's),
 * runs on after the request answers (an HTTP call could not say what it moved), and the local
 * SQS has no move tasks. `npm run redrive` uses move tasks where they apply, for large backlogs.
 * A call moves until a receive comes back empty, never a message it sent itself (one that failed
 * again and came straight back waits for the next call); it stops before `deadline` and says
 * what is left, so the caller simply calls again.
 */
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
} from '@aws-sdk/client-sqs';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { DeadLetterQueueConfig } from '../config.ts';
import { NotFoundError, ConflictError } from '../errors.ts';
import type { DeadLetterQueueDepth, DeadLetterQueues, DeadLetterRedrive } from '../ports.ts';

/** SQS's largest receive and send batch ("ReceiveMessage", "SendMessageBatch", SQS API reference). */
const batchSize = 10;
/** Long enough to send and delete a batch; a message not deleted by then shows up again in its DLQ. */
const receiveVisibilitySeconds = 60;

/** Thrown when a batch reached the destination only in part: what was not sent stays in the DLQ. */
export class RedrivePartlyFailedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RedrivePartlyFailedError';
  }
}

export class SqsDeadLetterQueues implements DeadLetterQueues {
  private readonly sqs: SQSClient;
  private readonly queues: readonly DeadLetterQueueConfig[];
  private readonly now: () => number;

  constructor(sqs: SQSClient, queues: readonly DeadLetterQueueConfig[], now: () => number = Date.now) {
    this.sqs = sqs;
    this.queues = queues;
    this.now = now;
  }

  async depths(): Promise<DeadLetterQueueDepth[]> {
    return Promise.all(
      this.queues.map(async (queue) => {
        const counts = await this.counts(queue.url);
        return { name: queue.name, ...(queue.redriveTo ? { redriveTo: queue.redriveTo.name } : {}), ...counts };
      }),
    );
  }

  async redrive(name: string, deadline: number): Promise<DeadLetterRedrive> {
    const queue = this.queues.find((q) => q.name === name);
    if (!queue) throw new NotFoundError(`No dead-letter queue named ${name} (queues: ${this.queues.map((q) => q.name).join(', ')})`);
    const destination = queue.redriveTo;
    if (!destination) {
      throw new ConflictError(`${name} cannot be redriven: its messages describe stream records given up, not work to do again`);
    }
    const moved = await moveMessages(this.sqs, queue, destination, { deadline, now: this.now });
    const { messages: remaining } = await this.counts(queue.url);
    return { name, redriveTo: destination.name, moved, remaining };
  }

  private counts(url: string): Promise<{ messages: number; inFlight: number }> {
    return queueCounts(this.sqs, url);
  }
}

/** A queue's approximate counts: waiting (`ApproximateNumberOfMessages`) and received, not deleted. */
async function queueCounts(sqs: SQSClient, url: string): Promise<{ messages: number; inFlight: number }> {
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
  );
  return {
    messages: Number(Attributes?.ApproximateNumberOfMessages ?? 0),
    inFlight: Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0),
  };
}

/** How far {@link moveMessages} may go, and who hears its progress. */
export interface MoveOptions {
  /** Stop starting batches at this epoch ms. @default no limit */
  readonly deadline?: number;
  /** Called with the messages moved so far and what the source held at the start, approximately. */
  readonly onProgress?: (moved: number, total: number) => void;
  /** Epoch ms. @default Date.now */
  readonly now?: () => number;
}

/**
 * Moves messages from `source` to `destination` by receive, send, delete, ten at a time (their
 * attributes kept), until a receive comes back empty or brings back a message this call sent
 * (it failed again: it is made visible at once and left for the next call); resolves with how
 * many moved, at most twice what `source` counted at the start plus one batch. SQS's counts are
 * approximate: a stale one (0 while a message is visible) must not end a redrive that receives
 * still feed.
 * Only what reached the destination is deleted; throws RedrivePartlyFailedError when a batch
 * reached it only in part (the rest shows up again in `source` after its visibility timeout).
 * The one copy redrive: the operators' route and `npm run redrive` both use it.
 */
export async function moveMessages(
  sqs: SQSClient,
  source: { readonly name: string; readonly url: string },
  destination: { readonly name: string; readonly url: string },
  options: MoveOptions = {},
): Promise<number> {
  const now = options.now ?? Date.now;
  const deadline = options.deadline ?? Number.POSITIVE_INFINITY;
  const { messages: total, inFlight } = await queueCounts(sqs, source.url);
  // A bound, so a DLQ fed as fast as it drains does not hold a redrive without deadline for ever;
  // with a margin (one batch, and twice the counts) for counts that lag behind the queue.
  const limit = 2 * (total + inFlight) + batchSize;
  /** The ids the destination gave the messages sent: SQS keeps a message's id when it dead-letters it. */
  const sentIds = new Set<string>();
  let moved = 0;
  options.onProgress?.(moved, total);
  while (moved < limit && now() < deadline) {
    const { Messages: received = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: source.url,
        MaxNumberOfMessages: batchSize,
        // A short wait: a short poll may answer empty while messages wait on other SQS hosts.
        WaitTimeSeconds: 1,
        VisibilityTimeout: receiveVisibilitySeconds,
        MessageAttributeNames: ['All'],
      }),
    );
    const returned = received.filter((message) => message.MessageId !== undefined && sentIds.has(message.MessageId));
    if (returned.length > 0) await release(sqs, source.url, returned);
    const Messages = received.filter((message) => !returned.includes(message));
    if (Messages.length === 0) break;
    const sent = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: destination.url,
        Entries: Messages.map((message, index) => ({
          Id: String(index),
          MessageBody: message.Body ?? '',
          ...(message.MessageAttributes && Object.keys(message.MessageAttributes).length > 0 ? { MessageAttributes: message.MessageAttributes } : {}),
        })),
      }),
    );
    for (const { MessageId } of sent.Successful ?? []) if (MessageId) sentIds.add(MessageId);
    const delivered = new Set((sent.Successful ?? []).map((entry) => entry.Id));
    const toDelete = Messages.flatMap((message, index) =>
      delivered.has(String(index)) && message.ReceiptHandle ? [{ Id: String(index), ReceiptHandle: message.ReceiptHandle }] : [],
    );
    if (toDelete.length > 0) await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: source.url, Entries: toDelete }));
    moved += toDelete.length;
    options.onProgress?.(moved, total);
    if (toDelete.length < Messages.length) {
      throw new RedrivePartlyFailedError(`${Messages.length - toDelete.length} message(s) of ${source.name} could not be sent to ${destination.name}; they stay in ${source.name}`);
    }
    if (returned.length > 0) break;
  }
  return moved;
}

/** Makes received messages visible again at once, for the next redrive. */
async function release(sqs: SQSClient, url: string, messages: readonly { readonly ReceiptHandle?: string }[]): Promise<void> {
  await sqs.send(
    new ChangeMessageVisibilityBatchCommand({
      QueueUrl: url,
      Entries: messages.flatMap((message, index) => (message.ReceiptHandle ? [{ Id: String(index), ReceiptHandle: message.ReceiptHandle, VisibilityTimeout: 0 }] : [])),
    }),
  );
}
