/**
 * The adapters of delivery reliability with a mocked SDK: the dead-letter copy and its
 * attributes, the sweeps' batch sends, and the SES retry strategy that never repeats a send that
 * may have taken effect.
 */
import { SendMessageBatchCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { RetryErrorInfo, RetryErrorType } from '@smithy/types';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { AnsweredErrorsRetryStrategy } from '../../../../shared/adapters/answered-errors-retry-strategy.ts';
import { SqsDeliveryEnqueuer } from '../../../../shared/adapters/sqs-delivery-enqueuer.ts';
import { SqsDeliveryQueue, deadLetterAttributes } from '../../../../shared/adapters/sqs-delivery-queue.ts';
import { awsError } from '../../fakes/fixtures.ts';

const sqsMock = mockClient(SQSClient);
const queueUrl = 'https://sqs.eu-west-1.amazonaws.com/111122223333/herald-delivery';
const dlqUrl = 'https://sqs.eu-west-1.amazonaws.com/111122223333/herald-delivery-dlq';
const sqs = (): SQSClient => new SQSClient({ region: 'eu-west-1' });

beforeEach(() => {
  sqsMock.reset();
});

describe('SqsDeliveryQueue.deadLetter', () => {
  it('sends the original body to the DLQ with why, as message attributes', async () => {
    // Prepare
    const queue = new SqsDeliveryQueue(sqs(), queueUrl, () => dlqUrl);
    sqsMock.on(SendMessageCommand).resolves({ MessageId: 'dlq-1' });
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
    expect(sqsMock).toHaveReceivedCommandExactlyOnceWith(SendMessageCommand, {
      QueueUrl: dlqUrl,
      MessageBody: body,
      MessageAttributes: {
        [deadLetterAttributes.reason]: { DataType: 'String', StringValue: expect.stringMatching(/^Gave up after 4 attempts: x+$/) },
        [deadLetterAttributes.tenantId]: { DataType: 'String', StringValue: 'acme' },
        [deadLetterAttributes.notificationId]: { DataType: 'String', StringValue: 'ntf_01JABCDEFGHJKMNPQRSTVWXYZ0' },
        [deadLetterAttributes.attempts]: { DataType: 'Number', StringValue: '4' },
        [deadLetterAttributes.sourceMessageId]: { DataType: 'String', StringValue: 'm-1' },
      },
    });
    const reason = sqsMock.commandCalls(SendMessageCommand)[0]?.args[0].input.MessageAttributes?.[deadLetterAttributes.reason]?.StringValue;
    expect(reason).toHaveLength(1000);
  });

  it('refuses to dead-letter when it was given no dead-letter queue', async () => {
    // Prepare
    const queue = new SqsDeliveryQueue(sqs(), queueUrl);

    // Act + Assess
    await expect(
      queue.deadLetter('{}', { tenantId: 'acme', notificationId: 'n', reason: 'r', attempts: 1, sourceMessageId: 'm' }),
    ).rejects.toThrow(/no dead-letter queue/);
    expect(sqsMock).not.toHaveReceivedAnyCommand();
  });
});

describe('SqsDeliveryEnqueuer', () => {
  const message = (i: number): { tenantId: string; notificationId: string } => ({ tenantId: 'acme', notificationId: `ntf_${i}` });

  it('sends ten messages per batch call', async () => {
    // Prepare
    const enqueuer = new SqsDeliveryEnqueuer(sqs(), queueUrl);
    sqsMock.on(SendMessageBatchCommand).callsFake((input: { Entries: { Id: string }[] }) => ({
      Successful: input.Entries.map((e) => ({ Id: e.Id, MessageId: `m-${e.Id}`, MD5OfMessageBody: '' })),
      Failed: [],
    }));

    // Act
    const accepted = await enqueuer.enqueue(Array.from({ length: 23 }, (_, i) => message(i)));

    // Assess
    expect(accepted).toBe(23);
    const calls = sqsMock.commandCalls(SendMessageBatchCommand);
    expect(calls.map((c) => c.args[0].input.Entries?.length)).toEqual([10, 10, 3]);
    expect(calls[0]?.args[0].input.QueueUrl).toBe(queueUrl);
    expect(calls[0]?.args[0].input.Entries?.[0]).toEqual({ Id: '0', MessageBody: JSON.stringify(message(0)) });
  });

  it('sends again once what SQS failed on its side, but not what it refused as the sender\'s fault', async () => {
    // Prepare
    const enqueuer = new SqsDeliveryEnqueuer(sqs(), queueUrl);
    sqsMock
      .on(SendMessageBatchCommand)
      .resolvesOnce({
        Successful: [{ Id: '0', MessageId: 'a', MD5OfMessageBody: '' }],
        Failed: [
          { Id: '1', SenderFault: false, Code: 'InternalError' },
          { Id: '2', SenderFault: true, Code: 'InvalidMessageContents' },
        ],
      })
      .resolvesOnce({ Successful: [{ Id: '1', MessageId: 'b', MD5OfMessageBody: '' }], Failed: [] });

    // Act
    const accepted = await enqueuer.enqueue([message(0), message(1), message(2)]);

    // Assess
    expect(accepted).toBe(2);
    expect(sqsMock.commandCalls(SendMessageBatchCommand)[1]?.args[0].input.Entries?.map((e) => e.Id)).toEqual(['1']);
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
