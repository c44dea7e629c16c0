/**
 * The dead-letter queues on the local SQS: their depths, and a redrive by receive, send and
 * delete, judged by what the queues hold afterwards and the calls as SQS saw them (wire front).
 * A refused entry is a message too large for its destination; a stale count is the front answering
 * GetQueueAttributes as SQS's approximate counts may.
 */
import { ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RedrivePartlyFailedError, SqsDeadLetterQueues } from '../../../../shared/adapters/sqs-dead-letter-queues.ts';
import type { DeadLetterQueueConfig } from '../../../../shared/config.ts';
import { ConflictError, NotFoundError } from '../../../../shared/errors.ts';
import { startLocalSqs } from '../../support/local-queues.ts';
import type { LocalQueue, LocalSqs } from '../../support/local-queues.ts';

/** SQS's smallest MaximumMessageSize: a larger message is refused by the destination, entry by entry. */
const smallestMaximumMessageSize = 1024;
let sqs: LocalSqs;
let dlq: LocalQueue;
let delivery: LocalQueue;
let metricsDlq: LocalQueue;
let queues: DeadLetterQueueConfig[];

beforeAll(async () => {
  sqs = await startLocalSqs();
  dlq = await sqs.createQueue('delivery-dlq');
  delivery = await sqs.createQueue('delivery', {
    MaximumMessageSize: String(smallestMaximumMessageSize),
    RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount: 1 }),
  });
  metricsDlq = await sqs.createQueue('metrics-dlq');
  queues = [
    { name: 'delivery-dlq', url: dlq.url, redriveTo: { name: 'delivery', url: delivery.url } },
    { name: 'metrics-dlq', url: metricsDlq.url },
  ];
});

afterAll(async () => {
  await sqs.stop();
});

function adapter(now = (): number => 0): SqsDeadLetterQueues {
  return new SqsDeadLetterQueues(sqs.client, queues, now);
}

/** Puts `bodies` on the DLQ, in order, as dead letters of `delivery`. */
async function deadLetters(...messages: (string | { body: string; reason: string })[]): Promise<void> {
  for (const message of messages) {
    const { body, reason } = typeof message === 'string' ? { body: message, reason: undefined } : message;
    await sqs.plain.send(
      new SendMessageCommand({
        QueueUrl: dlq.url,
        MessageBody: body,
        ...(reason === undefined ? {} : { MessageAttributes: { HeraldDeadLetterReason: { DataType: 'String', StringValue: reason } } }),
      }),
    );
  }
}

/** A consumer of `delivery` that fails the message it finds until SQS dead-letters it again (maxReceiveCount 1). */
async function failUntilDeadLettered(): Promise<void> {
  for (let receive = 0; receive < 3; receive++) {
    await sqs.plain.send(new ReceiveMessageCommand({ QueueUrl: delivery.url, VisibilityTimeout: 0 }));
  }
}

describe('the dead-letter queues on SQS', () => {
  beforeEach(async () => {
    await sqs.reset(dlq.url, delivery.url, metricsDlq.url);
  });

  it('reads the depth of every queue, waiting and in flight', async () => {
    // Prepare
    await deadLetters('a', 'b', 'c', 'd');
    await sqs.plain.send(new ReceiveMessageCommand({ QueueUrl: dlq.url, MaxNumberOfMessages: 1, VisibilityTimeout: 60 }));

    // Act
    const depths = await adapter().depths();

    // Assess
    expect(depths).toEqual([
      { name: 'delivery-dlq', redriveTo: 'delivery', messages: 3, inFlight: 1 },
      { name: 'metrics-dlq', messages: 0, inFlight: 0 },
    ]);
  });

  it('deletes only what reached the destination, and says so when a batch got there in part', async () => {
    // Prepare: b is larger than the destination takes
    const large = 'b'.repeat(smallestMaximumMessageSize + 1);
    await deadLetters({ body: 'a', reason: 'x' }, large);

    // Act
    const redriving = adapter().redrive('delivery-dlq', Number.POSITIVE_INFINITY);

    // Assess
    await expect(redriving).rejects.toThrow(RedrivePartlyFailedError);
    expect(sqs.front.calls('SendMessageBatch').map((call) => call.input)).toEqual([
      {
        QueueUrl: delivery.url,
        Entries: [
          { Id: '0', MessageBody: 'a', MessageAttributes: { HeraldDeadLetterReason: { DataType: 'String', StringValue: 'x' } } },
          { Id: '1', MessageBody: large },
        ],
      },
    ]);
    expect(sqs.front.calls('DeleteMessageBatch').map((call) => [call.input.QueueUrl, (call.input.Entries as { Id: string }[]).map((e) => e.Id)])).toEqual([[dlq.url, ['0']]]);
    const arrived = await sqs.receiveAll(delivery.url);
    expect(arrived.map((m) => [m.Body, m.MessageAttributes?.HeraldDeadLetterReason?.StringValue])).toEqual([['a', 'x']]);
    expect(await sqs.counts(dlq.url)).toEqual({ visible: 0, delayed: 0, inFlight: 1 });
  });

  it('keeps moving while receives bring messages, though the approximate count says the queue is empty', async () => {
    // Prepare: a stale count, as SQS may answer just after a visibility timeout ran out.
    await deadLetters('a', 'b');
    sqs.front.answerNext('GetQueueAttributes', { Attributes: { ApproximateNumberOfMessages: '0', ApproximateNumberOfMessagesNotVisible: '1' } });

    // Act
    const result = await adapter().redrive('delivery-dlq', Number.POSITIVE_INFINITY);

    // Assess
    expect(result.moved).toBe(2);
    expect(sqs.front.calls('DeleteMessageBatch').map((call) => [call.input.QueueUrl, (call.input.Entries as { Id: string }[]).map((e) => e.Id)])).toEqual([[dlq.url, ['0', '1']]]);
    expect((await sqs.receiveAll(delivery.url)).map((m) => m.Body)).toEqual(['a', 'b']);
    expect(await sqs.counts(dlq.url)).toEqual({ visible: 0, delayed: 0, inFlight: 0 });
  });

  it('does not move twice in one call a message that failed again and came straight back, and leaves it visible', async () => {
    // Prepare: SQS keeps a message's id when it dead-letters it; the consumer fails it again as soon as it is back.
    await deadLetters('a');
    sqs.front.intercept('DeleteMessageBatch', async () => {
      await failUntilDeadLettered();
      return undefined;
    });

    // Act
    const result = await adapter().redrive('delivery-dlq', Number.POSITIVE_INFINITY);

    // Assess
    expect(result.moved).toBe(1);
    expect(sqs.front.calls('SendMessageBatch')).toHaveLength(1);
    expect(sqs.front.calls('ChangeMessageVisibilityBatch').map((call) => call.input)).toEqual([
      { QueueUrl: dlq.url, Entries: [{ Id: '0', ReceiptHandle: expect.any(String), VisibilityTimeout: 0 }] },
    ]);
    expect(await sqs.counts(dlq.url)).toEqual({ visible: 1, delayed: 0, inFlight: 0 });
  });

  it('starts no batch past its deadline, and answers what is left', async () => {
    // Prepare
    await deadLetters(...Array.from({ length: 25 }, (_, i) => `m${i}`));

    // Act
    const result = await adapter(() => 1_000).redrive('delivery-dlq', 1_000);

    // Assess
    expect(result).toEqual({ name: 'delivery-dlq', redriveTo: 'delivery', moved: 0, remaining: 25 });
    expect(sqs.front.operations()).not.toContain('ReceiveMessage');
  });

  it('refuses a queue whose messages cannot be moved back, and one it does not know', async () => {
    await expect(adapter().redrive('metrics-dlq', Number.POSITIVE_INFINITY)).rejects.toThrow(ConflictError);
    await expect(adapter().redrive('fanout', Number.POSITIVE_INFINITY)).rejects.toThrow(NotFoundError);
    expect(sqs.front.operations()).toEqual([]);
  });
});
