/**
 * Putting messages back on a queue out of flight (SqsRequeue): a new message delayed by whole
 * seconds (rounded down, at most 900), or beyond 15 minutes a one-shot schedule (or, without
 * one, a hop of 900 s). On the local SQS and Scheduler: what the queue and the Scheduler hold
 * afterwards, and the delays and visibility timeouts as SQS received them (wire front).
 */
import { ServiceQuotaExceededException } from '@aws-sdk/client-scheduler';
import { ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { OneShotSchedule } from '../../../../shared/adapters/one-shot-schedule.ts';
import { MessagesNotSentError } from '../../../../shared/adapters/sqs-broadcast-queues.ts';
import { SqsRequeue } from '../../../../shared/adapters/sqs-requeue.ts';
import { startLocalScheduler, startLocalSqs } from '../../support/local-queues.ts';
import type { LocalQueue, LocalScheduler, LocalSqs } from '../../support/local-queues.ts';

const queueUrl = 'https://sqs.eu-west-1.amazonaws.com/111122223333/test-delivery';
const now = new Date('2030-01-01T12:00:00.000Z');
const t = now.getTime();

const schedulerConfig = {
  groupName: 'herald-test',
  roleArn: 'arn:aws:iam::111122223333:role/scheduler',
  targetArn: 'arn:aws:sqs:eu-west-1:111122223333:test-delivery',
  deadLetterArn: 'arn:aws:sqs:eu-west-1:111122223333:test-scheduler-dlq',
  leadSeconds: 60,
  firesPerSecond: 1000,
};
let sqs: LocalSqs;
let scheduler: LocalScheduler;
let queue: LocalQueue;

beforeAll(async () => {
  sqs = await startLocalSqs();
  scheduler = await startLocalScheduler({ sqsEndpoint: sqs.endpoint, now, groupNames: [schedulerConfig.groupName] });
  queue = await sqs.createQueue('test-delivery');
});

afterAll(async () => {
  await scheduler.stop();
  await sqs.stop();
});

beforeEach(async () => {
  await sqs.reset(queue.url);
  await scheduler.reset(schedulerConfig.groupName);
});

function aRequeue(withSchedule: boolean): SqsRequeue {
  const schedule = new OneShotSchedule(scheduler.client, sqs.client, schedulerConfig, queueUrl);
  return withSchedule ? new SqsRequeue(sqs.client, queueUrl, () => schedule) : new SqsRequeue(sqs.client, queueUrl);
}

/** The entries of each SendMessageBatch SQS received, in the order they arrived. */
function batches(): { Id: string; MessageBody: string; DelaySeconds?: number }[][] {
  return sqs.front.calls('SendMessageBatch').map((call) => call.input.Entries as { Id: string; MessageBody: string; DelaySeconds?: number }[]);
}

describe('SqsRequeue.send', () => {
  it('sends each message back delayed by the whole seconds until it is due, rounded down', async () => {
    // Prepare
    const requeue = aRequeue(true);

    // Act
    await requeue.send(
      [
        { body: 'a', at: t + 119_900 },
        { body: 'b', at: t + 1_000 },
        { body: 'c', at: t + 900_999 },
      ],
      now,
    );

    // Assess: at most a second early; the consumer waits out the rest
    expect(sqs.front.calls('SendMessageBatch').map((call) => call.input)).toEqual([
      {
        QueueUrl: queueUrl,
        Entries: [
          { Id: '0', MessageBody: 'a', DelaySeconds: 119 },
          { Id: '1', MessageBody: 'b', DelaySeconds: 1 },
          { Id: '2', MessageBody: 'c', DelaySeconds: 900 },
        ],
      },
    ]);
    expect(await sqs.counts(queue.url)).toEqual({ visible: 0, delayed: 3, inFlight: 0 });
    expect(scheduler.front.operations()).toEqual([]);
  });

  it('sends a message that is already due without a delay', async () => {
    // Act
    await aRequeue(true).send([{ body: 'late', at: t - 5_000 }], now);

    // Assess
    expect(batches()).toEqual([[{ Id: '0', MessageBody: 'late', DelaySeconds: 0 }]]);
    expect((await sqs.receiveAll(queue.url)).map((m) => m.Body)).toEqual(['late']);
  });

  it('sends a message due beyond 15 minutes through a one-shot schedule firing its lead early, and nothing to the queue', async () => {
    // Prepare
    const requeue = aRequeue(true);

    // Act
    await requeue.send([{ body: '{"tenantId":"acme","notificationId":"ntf_1"}', at: t + 3_600_000 }], now);

    // Assess
    expect(sqs.front.operations()).toEqual([]);
    const names = scheduler.names(schedulerConfig.groupName);
    expect(names).toEqual([expect.stringMatching(/^later-/)]);
    expect(await scheduler.get(names[0] ?? '', schedulerConfig.groupName)).toMatchObject({
      GroupName: 'herald-test',
      ScheduleExpression: 'at(2030-01-01T12:59:00)',
      Target: { Arn: schedulerConfig.targetArn, Input: '{"tenantId":"acme","notificationId":"ntf_1"}' },
    });
  });

  it('gives every scheduled message a schedule of its own', async () => {
    // Act
    await aRequeue(true).send(
      [
        { body: 'a', at: t + 3_600_000 },
        { body: 'b', at: t + 3_600_000 },
      ],
      now,
    );

    // Assess
    const inputs = await Promise.all(scheduler.names(schedulerConfig.groupName).map(async (name) => (await scheduler.get(name, schedulerConfig.groupName))?.Target?.Input));
    expect(inputs.sort()).toEqual(['a', 'b']);
  });

  it('hops 15 minutes at a time where it has no schedule', async () => {
    // Act
    await aRequeue(false).send([{ body: 'far', at: t + 3_600_000 }], now);

    // Assess
    expect(batches()).toEqual([[{ Id: '0', MessageBody: 'far', DelaySeconds: 900 }]]);
    expect(await sqs.counts(queue.url)).toEqual({ visible: 0, delayed: 1, inFlight: 0 });
    expect(scheduler.front.operations()).toEqual([]);
  });

  it('sends in batches of ten', async () => {
    // Act
    await aRequeue(true).send(
      Array.from({ length: 23 }, (_, i) => ({ body: `m${i}`, at: t + 10_000 })),
      now,
    );

    // Assess: the batches go in parallel, in any order
    expect(batches().map((entries) => entries.length).sort((a, b) => b - a)).toEqual([10, 10, 3]);
    expect(await sqs.counts(queue.url)).toEqual({ visible: 0, delayed: 23, inFlight: 0 });
  });

  it('throws, naming the queue, when SQS refuses some of the messages', async () => {
    // Prepare: a control character SQS does not take in a message body
    const refused = 'b\u0001';

    // Act
    const sending = aRequeue(true).send(
      [
        { body: 'a', at: t },
        { body: refused, at: t },
      ],
      now,
    );

    // Assess
    await expect(sending).rejects.toThrow(new MessagesNotSentError(queueUrl, ['InvalidMessageContents: Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF and #xE000 to #xFFFD.']));
    expect((await sqs.receiveAll(queue.url)).map((m) => m.Body)).toEqual(['a']);
  });

  it('throws when a schedule cannot be created', async () => {
    // Prepare: the account's 10 million schedules reached
    scheduler.front.failNext('CreateSchedule', { statusCode: 402, code: 'ServiceQuotaExceededException', message: 'Service quota exceeded' });

    // Act
    const sending = aRequeue(true).send([{ body: 'far', at: t + 3_600_000 }], now);

    // Assess
    await expect(sending).rejects.toBeInstanceOf(ServiceQuotaExceededException);
    expect(scheduler.names(schedulerConfig.groupName)).toEqual([]);
  });
});

describe('SqsRequeue.hide', () => {
  beforeEach(async () => {
    await sqs.reset(queue.url);
  });

  /** The receipt of a message just received from the queue. */
  async function aReceipt(): Promise<string> {
    await sqs.plain.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: 'due later' }));
    const { Messages = [] } = await sqs.plain.send(new ReceiveMessageCommand({ QueueUrl: queue.url, VisibilityTimeout: 30 }));
    return Messages[0]?.ReceiptHandle ?? '';
  }

  it.each([
    [12.2, 13],
    [0, 0],
    [-3, 0],
    // SQS counts its 12 hours from the receive: a hide leaves room for the 15 minutes the invocation may have run.
    [13 * 60 * 60, 12 * 60 * 60 - 15 * 60],
  ])('hides a received message for %s s as %i whole seconds, within what SQS allows', async (seconds, visibility) => {
    // Prepare
    const receipt = await aReceipt();

    // Act
    await aRequeue(true).hide(receipt, seconds);

    // Assess: SQS took it, and the message is hidden that long (0: back at once)
    expect(sqs.front.calls().map((call) => [call.operation, call.input])).toEqual([
      ['ChangeMessageVisibility', { QueueUrl: queueUrl, ReceiptHandle: receipt, VisibilityTimeout: visibility }],
    ]);
    expect(await sqs.counts(queue.url)).toEqual(visibility === 0 ? { visible: 1, delayed: 0, inFlight: 0 } : { visible: 0, delayed: 0, inFlight: 1 });
  });
});
