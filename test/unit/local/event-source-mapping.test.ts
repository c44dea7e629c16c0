import { createHash } from 'node:crypto';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { MessageAttributeValue } from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { startFauxqs } from 'fauxqs';
import type { FauxqsServer } from 'fauxqs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createEventSourceMapping } from '../../../local/event-source-mapping.ts';
import type { EventSourceMapping, EventSourceMappingOptions } from '../../../local/event-source-mapping.ts';
import { loadFunction } from '../../../local/lambda-runtime.ts';
import type { LocalFunction } from '../../../local/lambda-runtime.ts';
import { startSqsEmulator } from '../../../local/sqs-emulator.ts';

const region = 'us-east-1';

describe('SQS event-source mapping', () => {
  let fauxqs: FauxqsServer;
  let sqs: SQSClient;
  let mapping: EventSourceMapping | undefined;
  let queueCount = 0;
  /** A real function in its sandbox, whose handler never returns within its 0.2 s timeout. */
  let slow: LocalFunction;

  beforeAll(async () => {
    fauxqs = await startFauxqs({ port: 0, logger: false });
    sqs = new SQSClient({ region, endpoint: fauxqs.address, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    slow = await loadFunction(
      { name: 'slow', entry: 'test/unit/local/fixtures/probe-function.ts', handler: 'handler', memoryMb: 128, timeoutSeconds: 0.2, triggers: [], access: {} },
      { region },
    );
  });

  afterAll(async () => {
    sqs.destroy();
    await Promise.all([fauxqs.stop(), slow.stop()]);
  });

  afterEach(async () => {
    await mapping?.stop();
    mapping = undefined;
  });

  /** A fresh queue whose unsettled messages come back after one second. */
  function queue(): { queueUrl: string; queueArn: string; queueName: string } {
    queueCount += 1;
    return fauxqs.createQueue(`esm-test-${queueCount}`, { attributes: { VisibilityTimeout: '1' } });
  }

  async function send(queueUrl: string, body: string, attributes?: Record<string, MessageAttributeValue>): Promise<string> {
    const { MessageId } = await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body, MessageAttributes: attributes }));
    return MessageId ?? '';
  }

  function startMapping(
    target: { queueUrl: string; queueArn: string },
    invoke: EventSourceMappingOptions['invoke'],
    options: Partial<EventSourceMappingOptions> = {},
  ): EventSourceMapping {
    mapping = createEventSourceMapping({
      sqs,
      queueUrl: target.queueUrl,
      queueArn: target.queueArn,
      region,
      batchSize: 10,
      maxBatchingWindowSeconds: 0,
      invoke,
      concurrency: 1,
      log: () => undefined,
      ...options,
    });
    mapping.start();
    return mapping;
  }

  function messageCount(queueName: string): number {
    const inspected = fauxqs.inspectQueue(queueName);
    return (inspected?.messages.ready.length ?? 0) + (inspected?.messages.inflight.length ?? 0) + (inspected?.messages.delayed.length ?? 0);
  }

  it('invokes the handler with batches in the AWS SQS event shape and deletes them on success', async () => {
    // Prepare
    const target = queue();
    const bodies = ['{"n":1}', '{"n":2}', '{"n":3}'];
    await send(target.queueUrl, bodies[0] ?? '', {
      traceId: { DataType: 'String', StringValue: 'abc' },
      raw: { DataType: 'Binary', BinaryValue: new Uint8Array([1, 2, 3]) },
    });
    await send(target.queueUrl, bodies[1] ?? '');
    await send(target.queueUrl, bodies[2] ?? '');
    const events: SQSEvent[] = [];

    // Act
    startMapping(target, async (event) => {
      events.push(event);
      return { batchItemFailures: [] };
    }, { batchSize: 2 });
    await expect.poll(() => events.flatMap((event) => event.Records).length, { timeout: 5000 }).toBe(3);

    // Assess
    expect(events.every((event) => event.Records.length <= 2)).toBe(true);
    const records = events.flatMap((event) => event.Records);
    expect(records.map((record) => record.body).sort()).toEqual(bodies);
    const withAttributes = records.find((record) => record.body === bodies[0]) as SQSRecord;
    expect(withAttributes).toMatchObject({
      messageId: expect.any(String),
      receiptHandle: expect.any(String),
      md5OfBody: createHash('md5').update(bodies[0] ?? '').digest('hex'),
      md5OfMessageAttributes: expect.any(String),
      eventSource: 'aws:sqs',
      eventSourceARN: target.queueArn,
      awsRegion: region,
      attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: expect.stringMatching(/^\d+$/),
        SenderId: expect.any(String),
        ApproximateFirstReceiveTimestamp: expect.stringMatching(/^\d+$/),
      },
    });
    expect(withAttributes.messageAttributes).toEqual({
      traceId: { stringValue: 'abc', stringListValues: [], binaryListValues: [], dataType: 'String' },
      raw: { binaryValue: Buffer.from([1, 2, 3]).toString('base64'), stringListValues: [], binaryListValues: [], dataType: 'Binary' },
    });
    await expect.poll(() => messageCount(target.queueName), { timeout: 2000 }).toBe(0);
  });

  it('deletes only the successes of a partial batch failure; the failed message returns with ApproximateReceiveCount 2', async () => {
    // Prepare
    const target = queue();
    await send(target.queueUrl, 'fine');
    const failingId = await send(target.queueUrl, 'flaky');
    const seen: SQSRecord[] = [];

    // Act
    startMapping(target, async (event) => {
      seen.push(...event.Records);
      const firstFailure = event.Records.filter((record) => record.body === 'flaky' && record.attributes.ApproximateReceiveCount === '1');
      return { batchItemFailures: firstFailure.map((record) => ({ itemIdentifier: record.messageId })) };
    });
    await expect.poll(() => seen.filter((record) => record.messageId === failingId).length, { timeout: 5000 }).toBe(2);

    // Assess
    const flaky = seen.filter((record) => record.messageId === failingId);
    expect(flaky.map((record) => record.attributes.ApproximateReceiveCount)).toEqual(['1', '2']);
    expect(seen.filter((record) => record.body === 'fine')).toHaveLength(1);
    await expect.poll(() => messageCount(target.queueName), { timeout: 2000 }).toBe(0);
  });

  it.each([
    ['the handler throws', (): Promise<unknown> => Promise.reject(new Error('boom'))],
    ['a batchItemFailures item names no message of the batch', async (): Promise<unknown> => ({ batchItemFailures: [{ itemIdentifier: 'not-in-batch' }] })],
    ['a batchItemFailures item has no itemIdentifier', async (): Promise<unknown> => ({ batchItemFailures: [{ id: 'x' }] })],
    ['the function times out', (_event: SQSEvent): Promise<unknown> => slow.invoke({ action: 'hang' })],
  ])('deletes nothing when %s: the whole batch comes back', async (_, failFirst) => {
    // Prepare
    const target = queue();
    await send(target.queueUrl, 'one');
    await send(target.queueUrl, 'two');
    const receiveCounts: string[] = [];
    const logged: Record<string, unknown>[] = [];

    // Act
    startMapping(
      target,
      async (event) => {
        receiveCounts.push(...event.Records.map((record) => record.attributes.ApproximateReceiveCount));
        return event.Records[0]?.attributes.ApproximateReceiveCount === '1' ? failFirst(event) : { batchItemFailures: [] };
      },
      { log: (entry) => logged.push(entry) },
    );
    await expect.poll(() => receiveCounts.filter((count) => count === '2').length, { timeout: 5000 }).toBe(2);

    // Assess
    expect(receiveCounts.filter((count) => count === '1')).toHaveLength(2);
    expect(logged.length).toBeGreaterThan(0);
    await expect.poll(() => messageCount(target.queueName), { timeout: 2000 }).toBe(0);
  });

  it('ends its long polls promptly on stop()', async () => {
    // Prepare
    const target = queue();
    const running = startMapping(target, async () => ({ batchItemFailures: [] }), { waitTimeSeconds: 20, concurrency: 2 });
    await new Promise((resolve) => setTimeout(resolve, 200));

    // Act
    const started = Date.now();
    await running.stop();

    // Assess: far below the 20 s the polls were waiting for.
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('waits on stop() for the invocation under way and keeps its outcome', async () => {
    // Prepare
    const target = queue();
    await send(target.queueUrl, 'slow');
    let finished = false;
    let invoked = false;
    const running = startMapping(target, async () => {
      invoked = true;
      await new Promise((resolve) => setTimeout(resolve, 300));
      finished = true;
      return { batchItemFailures: [] };
    });
    await expect.poll(() => invoked, { timeout: 5000 }).toBe(true);

    // Act
    await running.stop();

    // Assess
    expect(finished).toBe(true);
    await expect.poll(() => messageCount(target.queueName), { timeout: 2000 }).toBe(0);
  });

  it('leaves a message that arrives while stop() ends a long poll receivable at once, on the local stack\'s SQS', async () => {
    // Prepare: the stack's emulator, and a visibility timeout far longer than the test.
    const emulator = await startSqsEmulator();
    const client = new SQSClient({ region, endpoint: emulator.endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    try {
      const { QueueUrl: queueUrl = '' } = await client.send(new CreateQueueCommand({ QueueName: 'esm-stopping', Attributes: { VisibilityTimeout: '180' } }));
      const invoked: SQSEvent[] = [];
      const running = createEventSourceMapping({
        sqs: client,
        queueUrl,
        queueArn: 'arn:aws:sqs:us-east-1:000000000000:esm-stopping',
        region,
        batchSize: 10,
        maxBatchingWindowSeconds: 0,
        concurrency: 2,
        waitTimeSeconds: 20,
        invoke: async (event) => {
          invoked.push(event);
        },
        log: () => undefined,
      });
      running.start();
      await new Promise((resolve) => setTimeout(resolve, 200));

      // Act: the message reaches the queue while the polls the mapping abandoned still wait on the server.
      await Promise.all([running.stop(), client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'requeued at shutdown' }))]);
      await new Promise((resolve) => setTimeout(resolve, 200));

      // Assess: visible, not hidden for 180 s by an answer no one read, and its receive not counted.
      const { Attributes } = await client.send(
        new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
      );
      expect(Attributes).toEqual({ ApproximateNumberOfMessages: '1', ApproximateNumberOfMessagesNotVisible: '0' });
      const { Messages } = await client.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 1, MessageSystemAttributeNames: ['ApproximateReceiveCount'] }));
      expect(Messages?.map((message) => [message.Body, message.Attributes?.ApproximateReceiveCount])).toEqual([['requeued at shutdown', '1']]);
      expect(invoked).toEqual([]);
    } finally {
      client.destroy();
      await emulator.stop();
    }
  });
});
