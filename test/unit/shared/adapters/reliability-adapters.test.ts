/**
 * The adapters of delivery reliability: the dead-letter copy and its attributes, and the sweeps'
 * batch sends, through the real SQS client against the local SQS (fauxqs), behind a front that
 * records each call as the wire carries it and fails an entry on SQS's side where a test needs it
 * (test/unit/support/wire-front.ts); and the SES retry strategy that never repeats a send that
 * may have taken effect.
 */
import { CreateQueueCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Message } from '@aws-sdk/client-sqs';
import type { RetryErrorInfo, RetryErrorType } from '@smithy/types';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { startSqsEmulator } from '../../../../local/sqs-emulator.ts';
import { AnsweredErrorsRetryStrategy } from '../../../../shared/adapters/answered-errors-retry-strategy.ts';
import { SqsDeliveryEnqueuer } from '../../../../shared/adapters/sqs-delivery-enqueuer.ts';
import { SqsDeliveryQueue, deadLetterAttributes } from '../../../../shared/adapters/sqs-delivery-queue.ts';
import { awsError } from '../../fakes/fixtures.ts';
import { failEntries, startWireFront } from '../../support/wire-front.ts';

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
const emulator = await startSqsEmulator();
const wire = await startWireFront('sqs', emulator.endpoint);
/** The client of the code under test, on the front; `direct` is the test's own. */
const sqs = new SQSClient({ region: 'eu-west-1', endpoint: wire.endpoint, credentials });
const direct = new SQSClient({ region: 'eu-west-1', endpoint: emulator.endpoint, credentials });
let queues = 0;

afterEach(() => {
  wire.reset();
});

afterAll(async () => {
  sqs.destroy();
  direct.destroy();
  await wire.stop();
  await emulator.stop();
});

/** A new queue's URL. */
async function aQueue(name: string): Promise<string> {
  const { QueueUrl } = await direct.send(new CreateQueueCommand({ QueueName: `${name}-${++queues}` }));
  if (!QueueUrl) throw new Error('no queue URL');
  return QueueUrl;
}

/** Every message the queue holds, with its attributes. */
async function drain(queueUrl: string): Promise<Message[]> {
  const messages: Message[] = [];
  for (;;) {
    const { Messages = [] } = await direct.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, MessageAttributeNames: ['All'], VisibilityTimeout: 60 }));
    if (Messages.length === 0) return messages;
    messages.push(...Messages);
  }
}

/** The entries of each SendMessageBatch the front saw. */
function batchEntries(): { Id: string; MessageBody: string }[][] {
  return wire.calls('SendMessageBatch').map((call) => call.input.Entries as { Id: string; MessageBody: string }[]);
}

describe('SqsDeliveryQueue.deadLetter', () => {
  it('sends the original body to the DLQ with why, as message attributes', async () => {
    // Prepare
    const [queueUrl, dlqUrl] = [await aQueue('herald-delivery'), await aQueue('herald-delivery-dlq')];
    const queue = new SqsDeliveryQueue(sqs, queueUrl, () => dlqUrl);
    const body = '{"tenantId":"acme","notificationId":"ntf_01JABCDEFGHJKMNPQRSTVWXYZ0"}';

    // Act
    await queue.deadLetter(body, {
      tenantId: 'acme',
      notificationId: 'ntf_01JABCDEFGHJKMNPQRSTVWXYZ0',
      reason: `Gave up after 4 attempts: ${'x'.repeat(2000)}`,
      attempts: 4,
      sourceMessageId: 'm-1',
    });

    // Assess
    const [copy, ...others] = await drain(dlqUrl);
    expect(others).toEqual([]);
    expect(copy?.Body).toBe(body);
    expect(copy?.MessageAttributes).toEqual({
      [deadLetterAttributes.reason]: { DataType: 'String', StringValue: expect.stringMatching(/^Gave up after 4 attempts: x+$/) },
      [deadLetterAttributes.tenantId]: { DataType: 'String', StringValue: 'acme' },
      [deadLetterAttributes.notificationId]: { DataType: 'String', StringValue: 'ntf_01JABCDEFGHJKMNPQRSTVWXYZ0' },
      [deadLetterAttributes.attempts]: { DataType: 'Number', StringValue: '4' },
      [deadLetterAttributes.sourceMessageId]: { DataType: 'String', StringValue: 'm-1' },
    });
    expect(copy?.MessageAttributes?.[deadLetterAttributes.reason]?.StringValue).toHaveLength(1000);
    expect(await drain(queueUrl)).toEqual([]);
    expect(wire.calls().map((call) => call.operation)).toEqual(['SendMessage']);
  });

  it('refuses to dead-letter when it was given no dead-letter queue', async () => {
    // Prepare
    const queue = new SqsDeliveryQueue(sqs, await aQueue('herald-delivery'));

    // Act + Assess
    await expect(
      queue.deadLetter('{}', { tenantId: 'acme', notificationId: 'n', reason: 'r', attempts: 1, sourceMessageId: 'm' }),
    ).rejects.toThrow(/no dead-letter queue/);
    expect(wire.calls()).toEqual([]);
  });
});

describe('SqsDeliveryEnqueuer', () => {
  const message = (i: number | string): { tenantId: string; notificationId: string } => ({ tenantId: 'acme', notificationId: `ntf_${i}` });

  it('sends ten messages per batch call', async () => {
    // Prepare
    const queueUrl = await aQueue('herald-delivery');
    const enqueuer = new SqsDeliveryEnqueuer(sqs, queueUrl);
    const messages = Array.from({ length: 23 }, (_, i) => message(i));

    // Act
    const accepted = await enqueuer.enqueue(messages);

    // Assess
    expect(accepted).toBe(23);
    expect(batchEntries().map((entries) => entries.length)).toEqual([10, 10, 3]);
    expect(wire.calls('SendMessageBatch').every((call) => call.input.QueueUrl === queueUrl)).toBe(true);
    expect(batchEntries()[0]?.[0]).toEqual({ Id: '0', MessageBody: JSON.stringify(message(0)) });
    expect((await drain(queueUrl)).map((m) => m.Body).sort()).toEqual(messages.map((m) => JSON.stringify(m)).sort());
  });

  it('sends again once what SQS failed on its side, but not what it refused as the sender\'s fault', async () => {
    // Prepare: SQS fails entry 1 on its side once (InternalError), and refuses entry 2, whose body
    // holds a character SQS does not take (U+FFFF), as the sender's fault
    const queueUrl = await aQueue('herald-delivery');
    const enqueuer = new SqsDeliveryEnqueuer(sqs, queueUrl);
    wire.intercept('SendMessageBatch', failEntries(['1'], { Code: 'InternalError', SenderFault: false, Message: 'We encountered an internal error. Please try again.' }));

    // Act
    const accepted = await enqueuer.enqueue([message(0), message(1), message('\uFFFF')]);

    // Assess
    expect(accepted).toBe(2);
    expect(batchEntries().map((entries) => entries.map((entry) => entry.Id))).toEqual([['0', '1', '2'], ['1']]);
    expect((await drain(queueUrl)).map((m) => m.Body).sort()).toEqual([JSON.stringify(message(0)), JSON.stringify(message(1))]);
  });
});

describe('AnsweredErrorsRetryStrategy', () => {
  const info = (errorType: RetryErrorType, error: unknown): RetryErrorInfo => ({ errorType, error: error as RetryErrorInfo['error'] });
  const strategy = (): AnsweredErrorsRetryStrategy => new AnsweredErrorsRetryStrategy({ random: () => 0.5 });

  it('retries a throttling answer and a 503 with growing delays', async () => {
    // Prepare
    const retries = strategy();
    const first = await retries.acquireInitialRetryToken();

    // Act
    const second = await retries.refreshRetryTokenForRetry(first, info('THROTTLING', awsError('Throttling', 400)));
    const third = await retries.refreshRetryTokenForRetry(second, info('TRANSIENT', awsError('ServiceUnavailable', 503)));

    // Assess
    expect([second.getRetryCount(), second.getRetryDelay()]).toEqual([1, 100]);
    expect([third.getRetryCount(), third.getRetryDelay()]).toEqual([2, 200]);
  });

  it('never retries a send that was not answered: it may have gone out', async () => {
    // Prepare
    const retries = strategy();
    const first = await retries.acquireInitialRetryToken();

    // Act + Assess
    await expect(retries.refreshRetryTokenForRetry(first, info('TRANSIENT', awsError('TimeoutError')))).rejects.toThrow(/Unanswered/);
  });

  it('does not retry a client error, nor past its attempts', async () => {
    // Prepare
    const retries = new AnsweredErrorsRetryStrategy({ maxAttempts: 2, random: () => 0 });
    const first = await retries.acquireInitialRetryToken();
    const second = await retries.refreshRetryTokenForRetry(first, info('THROTTLING', awsError('Throttling', 400)));

    // Act + Assess
    await expect(retries.refreshRetryTokenForRetry(first, info('CLIENT_ERROR', awsError('MessageRejected', 400)))).rejects.toThrow(/Not retryable/);
    await expect(retries.refreshRetryTokenForRetry(second, info('THROTTLING', awsError('Throttling', 400)))).rejects.toThrow(/Out of attempts/);
  });

  it('waits at least as long as the service asked', async () => {
    // Prepare
    const retries = strategy();
    const first = await retries.acquireInitialRetryToken();

    // Act
    const next = await retries.refreshRetryTokenForRetry(first, {
      ...info('THROTTLING', awsError('Throttling', 429)),
      retryAfterHint: new Date(Date.now() + 3_000),
    });

    // Assess
    expect(next.getRetryDelay()).toBeGreaterThan(2_000);
  });
});
