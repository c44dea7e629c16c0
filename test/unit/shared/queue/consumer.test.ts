/**
 * The one SQS consumer (sqsConsumer): parse, one batch to the handler, what must come back goes
 * back as a new message, failures are hidden for the retry policy's backoff by receive count.
 */
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import type { RetryPolicy } from '../../../../shared/domain/retry-policy.ts';
import { logger } from '../../../../shared/observability/logger.ts';
import { sqsConsumer } from '../../../../shared/queue/consumer.ts';
import type { ConsumedMessage, MessageOutcome, Requeue, Requeued } from '../../../../shared/queue/consumer.ts';
import { ScriptedFailures } from '../../fakes/failures.ts';
import { aLambdaContext, anSqsRecord } from '../../fakes/lambda.ts';

beforeAll(() => {
  logger.setLogLevel('SILENT');
});

const schema = z.object({ id: z.string().min(1) });
type Message = z.infer<typeof schema>;
const policy: RetryPolicy = { baseSeconds: 10, factor: 2, maxRetries: 3, jitter: 0, capSeconds: 3600 };
const now = new Date('2030-01-01T12:00:00.000Z');

class FakeRequeue implements Requeue {
  readonly sent: { items: readonly Requeued[]; now: Date }[] = [];
  readonly hidden: { receiptHandle: string; seconds: number }[] = [];
  readonly sendFailures = new ScriptedFailures();
  readonly hideFailures = new ScriptedFailures();

  async send(items: readonly Requeued[], at: Date): Promise<void> {
    this.sendFailures.throwNext();
    this.sent.push({ items, now: at });
  }

  async hide(receiptHandle: string, seconds: number): Promise<void> {
    this.hideFailures.throwNext();
    this.hidden.push({ receiptHandle, seconds });
  }
}

function aRecord(messageId: string, body: string, receives = 1): SQSRecord {
  const record = anSqsRecord(messageId, body);
  return { ...record, attributes: { ...record.attributes, ApproximateReceiveCount: String(receives) } };
}

function anEvent(...records: SQSRecord[]): SQSEvent {
  return { Records: records };
}

/** A consumer whose handler answers each message with `decide`, recording the batches it was given. */
function aConsumer(decide: (message: Message) => MessageOutcome | Promise<MessageOutcome>): {
  consume: ReturnType<typeof sqsConsumer<Message>>;
  requeue: FakeRequeue;
  batches: (readonly ConsumedMessage<Message>[])[];
} {
  const requeue = new FakeRequeue();
  const batches: (readonly ConsumedMessage<Message>[])[] = [];
  const consume = sqsConsumer<Message>({
    name: 'test',
    schema,
    handle: async (messages) => {
      batches.push(messages);
      return Promise.all(messages.map(({ message }) => decide(message)));
    },
    requeue: () => requeue,
    retry: () => policy,
    now: () => now,
  });
  return { consume, requeue, batches };
}

const context = aLambdaContext('herald-test-consumer');
const done: MessageOutcome = { kind: 'done' };

describe('sqsConsumer', () => {
  it('drops a malformed message (not JSON, or not the schema) without giving it to the handler or reporting it', async () => {
    // Prepare
    const { consume, batches, requeue } = aConsumer(() => done);

    // Act
    const result = await consume(anEvent(aRecord('m1', 'not json'), aRecord('m2', '{"id":""}'), aRecord('m3', '{"id":"ok"}')), context);

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    expect(batches).toHaveLength(1);
    expect(batches[0]?.map((m) => m.message)).toEqual([{ id: 'ok' }]);
    expect(requeue.hidden).toEqual([]);
  });

  it('calls no handler for a batch of malformed messages only', async () => {
    // Prepare
    const { consume, batches } = aConsumer(() => done);

    // Act
    const result = await consume(anEvent(aRecord('m1', '[]')), context);

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    expect(batches).toEqual([]);
  });

  it('hands the whole batch to the handler at once, in order, and deletes what is done', async () => {
    // Prepare
    const { consume, batches, requeue } = aConsumer(() => done);

    // Act
    const result = await consume(anEvent(aRecord('m1', '{"id":"a"}'), aRecord('m2', '{"id":"b"}'), aRecord('m3', '{"id":"c"}')), context);

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    expect(batches.map((b) => b.map((m) => [m.record.messageId, m.message.id]))).toEqual([
      [
        ['m1', 'a'],
        ['m2', 'b'],
        ['m3', 'c'],
      ],
    ]);
    expect(requeue.sent).toEqual([]);
  });

  it('puts what must come back later on the queue as new messages, in one call, and deletes the originals', async () => {
    // Prepare
    const { consume, requeue } = aConsumer((m) => (m.id === 'done' ? done : { kind: 'done', requeue: [{ body: `{"id":"${m.id}-again"}`, at: now.getTime() + 60_000 }] }));

    // Act
    const result = await consume(anEvent(aRecord('m1', '{"id":"a"}'), aRecord('m2', '{"id":"done"}'), aRecord('m3', '{"id":"b"}')), context);

    // Assess: nothing held in flight (no hide), nothing reported
    expect(result).toEqual({ batchItemFailures: [] });
    expect(requeue.sent).toEqual([
      {
        items: [
          { body: '{"id":"a-again"}', at: now.getTime() + 60_000 },
          { body: '{"id":"b-again"}', at: now.getTime() + 60_000 },
        ],
        now,
      },
    ]);
    expect(requeue.hidden).toEqual([]);
  });

  it.each([
    [1, 10],
    [2, 20],
    [3, 40],
  ])('hides a failed message for the policy\'s backoff after receive %i (%i s) and reports it', async (receives, seconds) => {
    // Prepare
    const { consume, requeue } = aConsumer((m) => (m.id === 'bad' ? { kind: 'failed', error: new Error('boom') } : done));

    // Act
    const result = await consume(anEvent(aRecord('m1', '{"id":"bad"}', receives), aRecord('m2', '{"id":"good"}', receives)), context);

    // Assess
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'm1' }] });
    expect(requeue.hidden).toEqual([{ receiptHandle: 'receipt-m1', seconds }]);
  });

  it('reports a message that failed past the policy\'s retries without hiding it: the queue dead-letters it', async () => {
    // Prepare
    const { consume, requeue } = aConsumer(() => ({ kind: 'failed', error: new Error('boom') }));

    // Act
    const result = await consume(anEvent(aRecord('m1', '{"id":"a"}', 4)), context);

    // Assess
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'm1' }] });
    expect(requeue.hidden).toEqual([]);
  });

  it('fails every message of the batch when the handler throws', async () => {
    // Prepare
    const { consume, requeue } = aConsumer(() => {
      throw new Error('DynamoDB is unreachable');
    });

    // Act
    const result = await consume(anEvent(aRecord('m1', '{"id":"a"}'), aRecord('m2', '{"id":"b"}', 2), aRecord('m3', 'junk')), context);

    // Assess
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'm1' }, { itemIdentifier: 'm2' }] });
    expect(requeue.hidden).toEqual([
      { receiptHandle: 'receipt-m1', seconds: 10 },
      { receiptHandle: 'receipt-m2', seconds: 20 },
    ]);
  });

  it('keeps the originals, after the backoff, when what must come back cannot be put on the queue', async () => {
    // Prepare
    const { consume, requeue } = aConsumer((m) => (m.id === 'later' ? { kind: 'done', requeue: [{ body: '{"id":"x"}', at: now.getTime() + 5_000 }] } : done));
    requeue.sendFailures.add(new Error('SQS refused the batch'));

    // Act
    const result = await consume(anEvent(aRecord('m1', '{"id":"later"}'), aRecord('m2', '{"id":"now"}')), context);

    // Assess
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'm1' }] });
    expect(requeue.hidden).toEqual([{ receiptHandle: 'receipt-m1', seconds: 10 }]);
  });

  it('still reports a failed message when hiding it fails', async () => {
    // Prepare
    const { consume, requeue } = aConsumer(() => ({ kind: 'failed', error: new Error('boom') }));
    requeue.hideFailures.add(new Error('SQS is unreachable'));

    // Act
    const result = await consume(anEvent(aRecord('m1', '{"id":"a"}')), context);

    // Assess
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'm1' }] });
  });

  it('fails a message the handler gave no outcome for', async () => {
    // Prepare
    const requeue = new FakeRequeue();
    const consume = sqsConsumer<Message>({
      name: 'test',
      schema,
      handle: async () => [done],
      requeue: () => requeue,
      retry: () => policy,
      now: () => now,
    });

    // Act
    const result = await consume(anEvent(aRecord('m1', '{"id":"a"}'), aRecord('m2', '{"id":"b"}')), context);

    // Assess
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'm2' }] });
  });

  it('puts a failed message\'s requeue on the queue first, then hides and reports the message', async () => {
    // Prepare
    const item = { body: '{"id":"held"}', at: now.getTime() + 60_000 };
    const { consume, requeue } = aConsumer((m) => (m.id === 'bad' ? { kind: 'failed', error: new Error('boom'), requeue: [item] } : done));

    // Act
    const result = await consume(anEvent(aRecord('m1', '{"id":"bad"}'), aRecord('m2', '{"id":"good"}')), context);

    // Assess
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'm1' }] });
    expect(requeue.sent).toEqual([{ items: [item], now }]);
    expect(requeue.hidden).toEqual([{ receiptHandle: 'receipt-m1', seconds: 10 }]);
  });

  it('reports a failed message once, with its own error, when its requeue cannot be sent', async () => {
    // Prepare
    const lines: unknown[][] = [];
    const spy = vi.spyOn(logger, 'error').mockImplementation((...args: unknown[]) => void lines.push(args));
    const { consume, requeue } = aConsumer(() => ({ kind: 'failed', error: new Error('boom'), requeue: [{ body: '{"id":"held"}', at: now.getTime() + 60_000 }] }));
    requeue.sendFailures.add(new Error('SQS refused the batch'));

    // Act
    const result = await consume(anEvent(aRecord('m1', '{"id":"bad"}')), context).finally(() => spy.mockRestore());

    // Assess
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'm1' }] });
    expect(requeue.hidden).toEqual([{ receiptHandle: 'receipt-m1', seconds: 10 }]);
    expect(lines).toHaveLength(1);
    expect(JSON.stringify(lines[0])).toContain('boom');
  });
});
