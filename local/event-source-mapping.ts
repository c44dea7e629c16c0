/**
 * The Lambda SQS event-source mapping, as the Lambda service runs it: long-poll, batch, invoke,
 * delete what succeeded. With ReportBatchItemFailures (always on in Herald) only the messages the
 * handler names in `batchItemFailures` stay on the queue; a throw, a timeout or an invalid
 * response fails the whole batch, whose messages return after their visibility timeout.
 */
import { DeleteMessageBatchCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { Message, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSMessageAttributes, SQSRecord, SQSRecordAttributes } from 'aws-lambda';

export interface EventSourceMappingOptions {
  /** A client with an explicit `endpoint` (see the note on queue URLs in the local stack). */
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly queueArn: string;
  readonly region: string;
  /** Records per invocation, 1 to 10,000; above 10 needs a batching window, as on AWS. */
  readonly batchSize: number;
  readonly maxBatchingWindowSeconds: number;
  readonly invoke: (event: SQSEvent) => Promise<unknown>;
  /**
   * Pollers running side by side: Lambda starts reading a standard queue with five concurrent
   * batches ("Using Lambda with Amazon SQS", scaling behavior). @default 5
   */
  readonly concurrency?: number;
  /** Long-poll wait of each ReceiveMessage, 1 to 20. @default 20 */
  readonly waitTimeSeconds?: number;
  /** Receives one structured entry per failure. @default one JSON line on stderr */
  readonly log?: (entry: Record<string, unknown>) => void;
}

export interface EventSourceMapping {
  /** Starts the pollers; calling it while running does nothing. */
  start(): void;
  /** Ends the long polls at once and resolves when the invocations under way have finished. */
  stop(): Promise<void>;
}

/** SQS hands out at most 10 messages per ReceiveMessage. */
const RECEIVE_LIMIT = 10;
/** Pause after a failed ReceiveMessage, so a missing queue does not spin the CPU. */
const RECEIVE_ERROR_PAUSE_MS = 1000;

/** Creates a stopped mapping from one queue to one function; call `start()` to begin polling. */
export function createEventSourceMapping(options: EventSourceMappingOptions): EventSourceMapping {
  const { sqs, queueUrl, queueArn, batchSize, maxBatchingWindowSeconds } = options;
  const concurrency = options.concurrency ?? 5;
  const waitTimeSeconds = options.waitTimeSeconds ?? 20;
  const log =
    options.log ??
    ((entry: Record<string, unknown>) =>
      process.stderr.write(`${JSON.stringify({ level: 'ERROR', source: 'event-source-mapping', ...entry })}\n`));

  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000) {
    throw new RangeError(`batchSize must be an integer from 1 to 10000, not ${batchSize}`);
  }
  if (batchSize > RECEIVE_LIMIT && maxBatchingWindowSeconds < 1) {
    throw new RangeError('A batchSize above 10 needs a maxBatchingWindowSeconds of at least 1, as on AWS');
  }

  let controller: AbortController | undefined;
  let pollers: Promise<void>[] = [];

  async function receive(maxMessages: number, waitSeconds: number, signal: AbortSignal): Promise<Message[]> {
    const output = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: Math.min(RECEIVE_LIMIT, maxMessages),
        WaitTimeSeconds: Math.max(0, Math.min(20, waitSeconds)),
        AttributeNames: ['All'],
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
      { abortSignal: signal },
    );
    return output.Messages ?? [];
  }

  /** One batch: the first long poll, then more receives until the batch is full or the window closes. */
  async function receiveBatch(signal: AbortSignal): Promise<Message[]> {
    const batch = await receive(batchSize, waitTimeSeconds, signal);
    if (batch.length === 0 || maxBatchingWindowSeconds <= 0) return batch;
    const windowEnd = Date.now() + maxBatchingWindowSeconds * 1000;
    while (batch.length < batchSize && Date.now() < windowEnd && !signal.aborted) {
      try {
        batch.push(...(await receive(batchSize - batch.length, Math.ceil((windowEnd - Date.now()) / 1000), signal)));
      } catch (error) {
        // The messages already held still deserve their invocation; the next receive reports a lasting fault.
        if (!signal.aborted) log({ message: 'ReceiveMessage failed while filling a batch', queueArn, error: describe(error) });
        break;
      }
    }
    return batch;
  }

  async function processBatch(messages: readonly Message[]): Promise<void> {
    const records = messages.map((message) => toRecord(message, queueArn, options.region));
    let response: unknown;
    try {
      response = await options.invoke({ Records: records });
    } catch (error) {
      log({ message: 'invocation failed: the whole batch returns after its visibility timeout', queueArn, messageIds: ids(records), error: describe(error) });
      return;
    }
    const failed = failedMessageIds(response, new Set(ids(records)));
    if (typeof failed === 'string') {
      log({ message: `invalid batchItemFailures response, the whole batch failed: ${failed}`, queueArn, messageIds: ids(records) });
      return;
    }
    await deleteMessages(records.filter((record) => !failed.has(record.messageId)));
  }

  async function deleteMessages(records: readonly SQSRecord[]): Promise<void> {
    for (let start = 0; start < records.length; start += RECEIVE_LIMIT) {
      const chunk = records.slice(start, start + RECEIVE_LIMIT);
      try {
        const output = await sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: queueUrl,
            Entries: chunk.map((record, index) => ({ Id: String(index), ReceiptHandle: record.receiptHandle })),
          }),
        );
        if (output.Failed?.length) log({ message: 'DeleteMessageBatch left messages on the queue', queueArn, failed: output.Failed });
      } catch (error) {
        log({ message: 'DeleteMessageBatch failed: the messages will be delivered again', queueArn, error: describe(error) });
      }
    }
  }

  async function poll(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      let messages: Message[];
      try {
        messages = await receiveBatch(signal);
      } catch (error) {
        if (signal.aborted) break;
        log({ message: 'ReceiveMessage failed', queueArn, error: describe(error) });
        await pause(RECEIVE_ERROR_PAUSE_MS, signal);
        continue;
      }
      // A batch already received is invoked even when stop() came meanwhile: stop waits for it.
      if (messages.length > 0) await processBatch(messages);
    }
  }

  return {
    start() {
      if (controller) return;
      controller = new AbortController();
      const { signal } = controller;
      pollers = Array.from({ length: concurrency }, () =>
        poll(signal).catch((error: unknown) => log({ message: 'poller crashed', queueArn, error: describe(error) })),
      );
    },
    async stop() {
      if (!controller) return;
      controller.abort();
      await Promise.all(pollers);
      controller = undefined;
      pollers = [];
    },
  };
}

/** The record Lambda builds from one received message. */
function toRecord(message: Message, queueArn: string, region: string): SQSRecord {
  const attributes = { ...message.Attributes } as SQSRecordAttributes;
  const messageAttributes: SQSMessageAttributes = {};
  for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
    // Lambda always writes both list members, empty: they are reserved by SQS and never filled.
    messageAttributes[name] = {
      ...(value.StringValue === undefined ? {} : { stringValue: value.StringValue }),
      ...(value.BinaryValue === undefined ? {} : { binaryValue: Buffer.from(value.BinaryValue).toString('base64') }),
      stringListValues: value.StringListValues ?? [],
      binaryListValues: (value.BinaryListValues ?? []).map((item) => Buffer.from(item).toString('base64')),
      dataType: value.DataType ?? 'String',
    };
  }
  return {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes,
    messageAttributes,
    md5OfBody: message.MD5OfBody ?? '',
    ...(message.MD5OfMessageAttributes === undefined ? {} : { md5OfMessageAttributes: message.MD5OfMessageAttributes }),
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: region,
  };
}

/**
 * The message ids a handler reported as failed, or why its response is invalid. As on AWS, no
 * response, an empty one or a null/empty list means all succeeded; a missing, empty or unknown
 * `itemIdentifier` fails the whole batch.
 */
function failedMessageIds(response: unknown, batchIds: ReadonlySet<string>): Set<string> | string {
  if (response === null || response === undefined) return new Set();
  if (typeof response !== 'object' || Array.isArray(response)) return `expected an object, got ${JSON.stringify(response)}`;
  const failures = (response as { batchItemFailures?: unknown }).batchItemFailures;
  if (failures === null || failures === undefined) return new Set();
  if (!Array.isArray(failures)) return 'batchItemFailures is not a list';
  const failed = new Set<string>();
  for (const failure of failures as unknown[]) {
    const id = typeof failure === 'object' && failure !== null ? (failure as { itemIdentifier?: unknown }).itemIdentifier : undefined;
    if (typeof id !== 'string' || id === '') return `item without an itemIdentifier: ${JSON.stringify(failure)}`;
    if (!batchIds.has(id)) return `itemIdentifier ${id} is not a message of this batch`;
    failed.add(id);
  }
  return failed;
}

function ids(records: readonly SQSRecord[]): string[] {
  return records.map((record) => record.messageId);
}

function describe(error: unknown): { name: string; message: string } {
  return error instanceof Error ? { name: error.name, message: error.message } : { name: 'Error', message: String(error) };
}

/** Waits `ms`, or less if `signal` aborts first. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
