/**
 * The Lambda DynamoDB stream event-source mapping, as the Lambda service runs it: each shard is
 * read in order through the DynamoDB Streams API (GetShardIterator, GetRecords), its records are
 * handed to the function in batches, one batch at a time per shard, and the shard moves on only
 * past what succeeded.
 *
 * - Success: the function returned, reporting no failure.
 * - ReportBatchItemFailures: the lowest sequence number reported is the checkpoint; the records
 *   from it on are retried. An item without an `itemIdentifier`, an empty one or one not in the
 *   batch fails the whole batch.
 * - A throw, a timeout or an invalid response fails the whole batch: with
 *   BisectBatchOnFunctionError it is split in two and each half retried (which spends no retry).
 * - After MaximumRetryAttempts retries (-1: for ever) the batch is given up: its invocation record
 *   goes to the on-failure destination and the shard moves on.
 *
 * Locally the pollers are also woken as soon as a write appends records (besides polling four
 * times a second, as Lambda does), so a record reaches the function within milliseconds.
 */
import { DescribeStreamCommand, ExpiredIteratorException, GetRecordsCommand, GetShardIteratorCommand, TrimmedDataAccessException } from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBStreamsClient, _Record as StreamRecord } from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { batchVerdict, failureRecord, toStreamEvent } from './stream-events.ts';
import type { StreamFailureRecord } from './stream-events.ts';

export interface StreamEventSourceMappingOptions {
  /** A Streams client on the local DynamoDB endpoint. */
  readonly streams: DynamoDBStreamsClient;
  readonly streamArn: string;
  /** The function's ARN, for the invocation record of a batch given up. */
  readonly functionArn: string;
  /** Records per invocation, 1 to 10,000. */
  readonly batchSize: number;
  /** How long records are gathered before an invocation, 0 to 300 seconds. */
  readonly maxBatchingWindowSeconds: number;
  readonly startingPosition: 'TRIM_HORIZON' | 'LATEST';
  readonly reportBatchItemFailures: boolean;
  readonly bisectBatchOnFunctionError: boolean;
  /** -1 (for ever) or 0 to 10,000. */
  readonly maximumRetryAttempts: number;
  readonly invoke: (event: DynamoDBStreamEvent) => Promise<unknown>;
  /** Where the invocation record of a batch given up goes; without it the records are dropped. */
  readonly onFailure?: (record: StreamFailureRecord) => Promise<void>;
  /** Subscribes `wake` to the appends of the stream; returns the unsubscribe. */
  readonly subscribe?: (wake: () => void) => () => void;
  /** Pause between reads that found nothing. @default 250 (Lambda polls a shard four times a second) */
  readonly pollIntervalMs?: number;
  /** Pause before a failed batch is retried. @default 500 */
  readonly retryPauseMs?: number;
  /** Receives one structured entry per failure. @default one JSON line on stderr */
  readonly log?: (entry: Record<string, unknown>) => void;
}

export interface StreamEventSourceMapping {
  /** Starts reading the stream's shards; calling it while running does nothing. */
  start(): void;
  /** Stops reading and resolves when the invocation under way has finished. */
  stop(): Promise<void>;
}

/** GetRecords answers at most this many records. */
const GET_RECORDS_LIMIT = 1000;
/** Pause after a failed Streams call, so that a missing stream does not spin the CPU. */
const ERROR_PAUSE_MS = 1000;

/** What one invocation of a batch came to. */
type Attempt = { readonly kind: 'done' } | { readonly kind: 'partial'; readonly index: number } | { readonly kind: 'error' };

interface PendingBatch {
  readonly records: readonly StreamRecord[];
  /** Failed invocations of these records so far (a bisection spends none). */
  readonly retries: number;
}

/** Creates a stopped mapping from one stream to one function; call `start()` to begin reading. */
export function createStreamEventSourceMapping(options: StreamEventSourceMappingOptions): StreamEventSourceMapping {
  const { streams, streamArn, batchSize, maxBatchingWindowSeconds } = options;
  const pollIntervalMs = options.pollIntervalMs ?? 250;
  const retryPauseMs = options.retryPauseMs ?? 500;
  const log =
    options.log ??
    ((entry: Record<string, unknown>) => process.stderr.write(`${JSON.stringify({ level: 'ERROR', source: 'stream-event-source-mapping', ...entry })}\n`));
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000) throw new RangeError(`batchSize must be an integer from 1 to 10000, not ${batchSize}`);
  if (maxBatchingWindowSeconds < 0 || maxBatchingWindowSeconds > 300) throw new RangeError(`maxBatchingWindowSeconds must be from 0 to 300, not ${maxBatchingWindowSeconds}`);
  const retries = options.maximumRetryAttempts;
  if (!Number.isInteger(retries) || retries < -1 || retries > 10_000) throw new RangeError(`maximumRetryAttempts must be -1 or from 0 to 10000, not ${retries}`);

  let controller: AbortController | undefined;
  let running: Promise<void> = Promise.resolve();
  let wakers = new Set<() => void>();
  /** Records were appended while no poller was waiting (it was reading): the next wait is skipped. */
  let missedWake = false;

  function wakeAll(): void {
    if (wakers.size === 0) missedWake = true;
    for (const wake of [...wakers]) wake();
  }

  /** Waits `ms`, or less when a write wakes the pollers or the mapping stops. */
  function idle(ms: number, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.resolve();
    if (missedWake) {
      missedWake = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        wakers.delete(done);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      wakers.add(done);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  async function iteratorAt(shardId: string, after: string | undefined): Promise<string> {
    const position = after === undefined ? { ShardIteratorType: options.startingPosition } : { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER' as const, SequenceNumber: after };
    try {
      const { ShardIterator } = await streams.send(new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: shardId, ...position }));
      return ShardIterator ?? '';
    } catch (error) {
      // The checkpoint left the stream (24 h): go on from the oldest record still there.
      if (!(error instanceof TrimmedDataAccessException)) throw error;
      log({ message: 'records were trimmed before they were read', streamArn, shardId, after });
      const { ShardIterator } = await streams.send(new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON' }));
      return ShardIterator ?? '';
    }
  }

  /**
   * One batch: a first read, then more until the batch is full or its window closes. The window
   * opens with the first record read: an empty read answers at once (the caller polls again), so a
   * record written into a quiet stream is gathered for the whole window, as Lambda does.
   */
  async function readBatch(iterator: string, signal: AbortSignal): Promise<{ records: StreamRecord[]; next: string }> {
    const records: StreamRecord[] = [];
    let next = iterator;
    let windowEnd: number | undefined;
    do {
      const page = await streams.send(new GetRecordsCommand({ ShardIterator: next, Limit: Math.min(GET_RECORDS_LIMIT, batchSize - records.length) }));
      records.push(...(page.Records ?? []));
      next = page.NextShardIterator ?? next;
      if (records.length === 0) break;
      windowEnd ??= Date.now() + maxBatchingWindowSeconds * 1000;
      if (records.length >= batchSize || Date.now() >= windowEnd) break;
      await idle(Math.min(pollIntervalMs, windowEnd - Date.now()), signal);
    } while (!signal.aborted);
    return { records, next };
  }

  async function attempt(records: readonly StreamRecord[]): Promise<Attempt> {
    let response: unknown;
    try {
      response = await options.invoke(toStreamEvent(records, streamArn));
    } catch (error) {
      log({ message: 'invocation failed: the batch is retried', streamArn, size: records.length, error: describe(error) });
      return { kind: 'error' };
    }
    if (!options.reportBatchItemFailures) return { kind: 'done' };
    const verdict = batchVerdict(
      response,
      records.map((record) => record.dynamodb?.SequenceNumber ?? ''),
    );
    if (verdict.kind === 'all') return { kind: 'done' };
    if (verdict.kind === 'from') return { kind: 'partial', index: verdict.index };
    log({ message: `invalid batchItemFailures response, the whole batch failed: ${verdict.reason}`, streamArn });
    return { kind: 'error' };
  }

  async function giveUp(shardId: string, batch: PendingBatch, functionError: boolean): Promise<void> {
    log({ message: 'retries exhausted: the records are given up', streamArn, shardId, size: batch.records.length });
    if (!options.onFailure) return;
    const record = failureRecord({ records: batch.records, shardId, streamArn, functionArn: options.functionArn, invokeCount: batch.retries + 1, functionError, now: new Date() });
    await options.onFailure(record).catch((error: unknown) => log({ message: 'the on-failure destination refused the record', streamArn, error: describe(error) }));
  }

  /**
   * Invokes the function with `records` until every one succeeded or was given up. The first
   * invocation is made even after `stop()`: a stop within the batching window must not drop what
   * the window gathered (stop waits for it); only the retries end with the stop.
   */
  async function processBatch(shardId: string, records: readonly StreamRecord[], signal: AbortSignal): Promise<void> {
    const pending: PendingBatch[] = [{ records, retries: 0 }];
    let first = true;
    while (pending.length > 0 && (first || !signal.aborted)) {
      first = false;
      const batch = pending.shift() as PendingBatch;
      const result = await attempt(batch.records);
      if (result.kind === 'done') continue;
      if (result.kind === 'error' && options.bisectBatchOnFunctionError && batch.records.length > 1) {
        const half = Math.ceil(batch.records.length / 2);
        pending.unshift({ records: batch.records.slice(0, half), retries: batch.retries }, { records: batch.records.slice(half), retries: batch.retries });
        continue;
      }
      const failed: PendingBatch = { records: result.kind === 'partial' ? batch.records.slice(result.index) : batch.records, retries: batch.retries };
      if (retries >= 0 && failed.retries >= retries) {
        await giveUp(shardId, failed, result.kind === 'error');
        continue;
      }
      await idle(retryPauseMs, signal);
      pending.unshift({ records: failed.records, retries: failed.retries + 1 });
    }
  }

  async function pollShard(shardId: string, signal: AbortSignal): Promise<void> {
    let checkpoint: string | undefined;
    let iterator: string | undefined;
    while (!signal.aborted) {
      try {
        iterator ??= await iteratorAt(shardId, checkpoint);
        const { records, next } = await readBatch(iterator, signal);
        if (records.length === 0) {
          iterator = next;
          await idle(pollIntervalMs, signal);
          continue;
        }
        // A batch already read is handled even when stop() came meanwhile: stop waits for it.
        await processBatch(shardId, records, signal);
        checkpoint = records[records.length - 1]?.dynamodb?.SequenceNumber ?? checkpoint;
        iterator = next;
      } catch (error) {
        if (signal.aborted) break;
        // An iterator lives 15 minutes: take a new one from the checkpoint.
        iterator = undefined;
        if (!(error instanceof ExpiredIteratorException)) {
          log({ message: 'reading the stream failed', streamArn, shardId, error: describe(error) });
          await idle(ERROR_PAUSE_MS, signal);
        }
      }
    }
  }

  async function run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        const { StreamDescription } = await streams.send(new DescribeStreamCommand({ StreamArn: streamArn }));
        const shards = (StreamDescription?.Shards ?? []).flatMap((shard) => (shard.ShardId ? [shard.ShardId] : []));
        await Promise.all(shards.map((shardId) => pollShard(shardId, signal)));
        return;
      } catch (error) {
        if (signal.aborted) return;
        log({ message: 'DescribeStream failed', streamArn, error: describe(error) });
        await idle(ERROR_PAUSE_MS, signal);
      }
    }
  }

  return {
    start() {
      if (controller) return;
      controller = new AbortController();
      wakers = new Set();
      const unsubscribe = options.subscribe?.(wakeAll);
      const { signal } = controller;
      running = run(signal)
        .catch((error: unknown) => log({ message: 'mapping crashed', streamArn, error: describe(error) }))
        .finally(() => unsubscribe?.());
    },
    async stop() {
      if (!controller) return;
      controller.abort();
      await running;
      controller = undefined;
    },
  };
}

function describe(error: unknown): { name: string; message: string } {
  return error instanceof Error ? { name: error.name, message: error.message } : { name: 'Error', message: String(error) };
}
