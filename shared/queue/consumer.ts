/**
 * The one SQS consumer of Herald's queue-triggered functions (`ReportBatchItemFailures`):
 * - each record's body is parsed with the message schema; a malformed one is logged and dropped
 *   (no message can ever come of it, and keeping it would only cycle it to the DLQ);
 * - the whole batch goes to the handler at once, so it can read and write for all of it together;
 * - what must come back later goes back on the queue as a new message (delayed up to 15 minutes,
 *   scheduled beyond), never held in flight: SQS allows about 120,000 in-flight messages per
 *   queue, and a held message spends a receive of its `maxReceiveCount`;
 * - a message whose handling failed is hidden for the retry policy's backoff, counted by its
 *   receives, and reported in `batchItemFailures`; the others are deleted.
 */
import type { Context, SQSBatchItemFailure, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import * as z from '../zod-mini.ts';
import { describeError } from '../domain/delivery-errors.ts';
import { retryDelaySeconds } from '../domain/retry-policy.ts';
import type { RetryPolicy } from '../domain/retry-policy.ts';
import { logger } from '../observability/logger.ts';

/** A record with its parsed message. */
export interface ConsumedMessage<M> {
  readonly record: SQSRecord;
  readonly message: M;
}

/** A message body to put back on the queue, to be seen again at `at` (epoch ms). */
export interface Requeued {
  readonly body: string;
  readonly at: number;
}

/** What became of one message: handled (perhaps with messages to see again later), or failed. */
export type MessageOutcome =
  | { readonly kind: 'done'; readonly requeue?: readonly Requeued[] }
  /**
   * The message comes back after the retry policy's backoff (then the dead-letter queue); what
   * `requeue` names goes back on the queue on its own first (work that must not wait for it).
   */
  | { readonly kind: 'failed'; readonly error: unknown; readonly requeue?: readonly Requeued[] };

/** The queue a consumer puts messages back on. */
export interface Requeue {
  /** Sends each body to come back at its `at`; throws unless every one was accepted. */
  send(items: readonly Requeued[], now: Date): Promise<void>;
  /** Hides a received message for `seconds` more (the backoff after a failure). */
  hide(receiptHandle: string, seconds: number): Promise<void>;
}

export interface ConsumerOptions<M> {
  /** Names the queue in log lines. */
  readonly name: string;
  readonly schema: z.core.$ZodType<M>;
  /** Handles the parsed messages of a batch: one outcome per message, in the same order. */
  readonly handle: (messages: readonly ConsumedMessage<M>[], context: Context) => Promise<readonly MessageOutcome[]>;
  readonly requeue: () => Requeue;
  readonly retry: () => RetryPolicy;
  /** Keys that name a message in log lines (its tenant, its notification). @default none */
  readonly describe?: (message: M) => Record<string, unknown>;
  /** @default the system clock */
  readonly now?: () => Date;
}

function parse<M>(schema: z.core.$ZodType<M>, body: string): M | undefined {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return undefined;
  }
  const result = z.safeParse(schema, value);
  return result.success ? result.data : undefined;
}

/** Builds the batch handler of a queue-triggered function: `(SQSEvent, Context) → SQSBatchResponse`. */
export function sqsConsumer<M>(options: ConsumerOptions<M>): (event: SQSEvent, context: Context) => Promise<SQSBatchResponse> {
  const now = options.now ?? ((): Date => new Date());
  return async (event, context) => {
    const parsed: ConsumedMessage<M>[] = [];
    for (const record of event.Records) {
      const message = parse(options.schema, record.body);
      if (message === undefined) logger.error(`Dropping a malformed ${options.name} message`, { messageId: record.messageId, body: record.body });
      else parsed.push({ record, message });
    }
    let outcomes: readonly MessageOutcome[];
    try {
      outcomes = parsed.length > 0 ? await options.handle(parsed, context) : [];
    } catch (error) {
      outcomes = parsed.map(() => ({ kind: 'failed', error }));
    }
    const failed = new Map<SQSRecord, { error: unknown; keys: Record<string, unknown> }>();
    const requeued: { record: SQSRecord; keys: Record<string, unknown>; items: readonly Requeued[] }[] = [];
    parsed.forEach(({ record, message }, index) => {
      const keys = options.describe?.(message) ?? {};
      const outcome = outcomes[index] ?? { kind: 'failed', error: new Error('The handler gave no outcome for this message') };
      if (outcome.kind === 'failed') failed.set(record, { error: outcome.error, keys });
      if (outcome.requeue && outcome.requeue.length > 0) requeued.push({ record, keys, items: outcome.requeue });
    });
    if (requeued.length > 0) {
      try {
        await options.requeue().send(
          requeued.flatMap((r) => r.items),
          now(),
        );
      } catch (error) {
        // Not back on the queue: keep the originals, which come back after the backoff (one that
        // failed already keeps its own error, which is what its log line must say).
        for (const { record, keys } of requeued) if (!failed.has(record)) failed.set(record, { error, keys });
      }
    }
    const batchItemFailures: SQSBatchItemFailure[] = [];
    for (const [record, { error, keys }] of failed) {
      const receives = Number(record.attributes.ApproximateReceiveCount ?? '1');
      const retryInSeconds = retryDelaySeconds(options.retry(), receives);
      logger.error(`A ${options.name} message failed; it comes back after a backoff`, {
        ...keys,
        messageId: record.messageId,
        receives,
        retryInSeconds,
        error: describeError(error),
      });
      // Past the policy's retries, the visibility timeout brings it back until the queue dead-letters it.
      if (retryInSeconds !== undefined) await options.requeue().hide(record.receiptHandle, retryInSeconds).catch(() => undefined);
      batchItemFailures.push({ itemIdentifier: record.messageId });
    }
    return { batchItemFailures };
  };
}
