/**
 * Putting messages back on a queue out of flight (SqsRequeue): a new message delayed by whole
 * seconds (rounded down, at most 900), or beyond 15 minutes a one-shot schedule (or, without
 * one, a hop of 900 s). SQS and EventBridge Scheduler are mocked: no local component answers
 * with the delays and schedule inputs to assert on.
 */
import { CreateScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { ChangeMessageVisibilityCommand, SendMessageBatchCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { OneShotSchedule } from '../../../../shared/adapters/one-shot-schedule.ts';
import { MessagesNotSentError } from '../../../../shared/adapters/sqs-broadcast-queues.ts';
import { SqsRequeue } from '../../../../shared/adapters/sqs-requeue.ts';

const sqsMock = mockClient(SQSClient);
const schedulerMock = mockClient(SchedulerClient);
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

function aRequeue(withSchedule: boolean): SqsRequeue {
  const sqs = new SQSClient({ region: 'eu-west-1' });
  const schedule = new OneShotSchedule(new SchedulerClient({ region: 'eu-west-1' }), sqs, schedulerConfig, queueUrl);
  return withSchedule ? new SqsRequeue(sqs, queueUrl, () => schedule) : new SqsRequeue(sqs, queueUrl);
}

beforeEach(() => {
  sqsMock.reset();
  schedulerMock.reset();
  sqsMock.on(SendMessageBatchCommand).callsFake((input: { Entries: { Id: string }[] }) => ({ Successful: input.Entries.map((e) => ({ Id: e.Id })), Failed: [] }));
  schedulerMock.on(CreateScheduleCommand).resolves({});
});

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
    expect(sqsMock).toHaveReceivedCommandTimes(SendMessageBatchCommand, 1);
    expect(sqsMock).toHaveReceivedCommandWith(SendMessageBatchCommand, {
      QueueUrl: queueUrl,
      Entries: [
        { Id: '0', MessageBody: 'a', DelaySeconds: 119 },
        { Id: '1', MessageBody: 'b', DelaySeconds: 1 },
        { Id: '2', MessageBody: 'c', DelaySeconds: 900 },
      ],
    });
    expect(schedulerMock).not.toHaveReceivedAnyCommand();
  });

  it('sends a message that is already due without a delay', async () => {
    // Act
    await aRequeue(true).send([{ body: 'late', at: t - 5_000 }], now);

    // Assess
    expect(sqsMock).toHaveReceivedCommandWith(SendMessageBatchCommand, { Entries: [{ Id: '0', MessageBody: 'late', DelaySeconds: 0 }] });
  });

  it('sends a message due beyond 15 minutes through a one-shot schedule firing its lead early, and nothing to the queue', async () => {
    // Prepare
    const requeue = aRequeue(true);

    // Act
    await requeue.send([{ body: '{"tenantId":"acme","notificationId":"ntf_1"}', at: t + 3_600_000 }], now);

    // Assess
    expect(sqsMock).not.toHaveReceivedCommand(SendMessageBatchCommand);
    expect(schedulerMock).toHaveReceivedCommandExactlyOnceWith(CreateScheduleCommand, {
      GroupName: 'herald-test',
      ScheduleExpression: 'at(2030-01-01T12:59:00)',
      Target: expect.objectContaining({ Arn: schedulerConfig.targetArn, Input: '{"tenantId":"acme","notificationId":"ntf_1"}' }),
    });
    const name = schedulerMock.commandCalls(CreateScheduleCommand)[0]?.args[0].input.Name;
    expect(name).toMatch(/^later-/);
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
    const names = schedulerMock.commandCalls(CreateScheduleCommand).map((c) => c.args[0].input.Name);
    expect(names).toHaveLength(2);
    expect(new Set(names).size).toBe(2);
  });

  it('hops 15 minutes at a time where it has no schedule', async () => {
    // Act
    await aRequeue(false).send([{ body: 'far', at: t + 3_600_000 }], now);

    // Assess
    expect(sqsMock).toHaveReceivedCommandWith(SendMessageBatchCommand, { Entries: [{ Id: '0', MessageBody: 'far', DelaySeconds: 900 }] });
    expect(schedulerMock).not.toHaveReceivedAnyCommand();
  });

  it('sends in batches of ten', async () => {
    // Act
    await aRequeue(true).send(
      Array.from({ length: 23 }, (_, i) => ({ body: `m${i}`, at: t + 10_000 })),
      now,
    );

    // Assess
    expect(sqsMock.commandCalls(SendMessageBatchCommand).map((c) => c.args[0].input.Entries?.length)).toEqual([10, 10, 3]);
  });

  it('throws, naming the queue, when SQS refuses some of the messages', async () => {
    // Prepare
    sqsMock.on(SendMessageBatchCommand).resolves({ Successful: [{ Id: '0', MessageId: 'x', MD5OfMessageBody: '' }], Failed: [{ Id: '1', SenderFault: false, Code: 'InternalError', Message: 'try again' }] });

    // Act
    const sending = aRequeue(true).send(
      [
        { body: 'a', at: t },
        { body: 'b', at: t },
      ],
      now,
    );

    // Assess
    await expect(sending).rejects.toBeInstanceOf(MessagesNotSentError);
  });

  it('throws when a schedule cannot be created', async () => {
    // Prepare
    schedulerMock.on(CreateScheduleCommand).rejects(Object.assign(new Error('throttled'), { name: 'ThrottlingException' }));

    // Act
    const sending = aRequeue(true).send([{ body: 'far', at: t + 3_600_000 }], now);

    // Assess
    await expect(sending).rejects.toMatchObject({ name: 'ThrottlingException' });
  });
});

describe('SqsRequeue.hide', () => {
  it.each([
    [12.2, 13],
    [0, 0],
    [-3, 0],
    // SQS counts its 12 hours from the receive: a hide leaves room for the 15 minutes the invocation may have run.
    [13 * 60 * 60, 12 * 60 * 60 - 15 * 60],
  ])('hides a received message for %s s as %i whole seconds, within what SQS allows', async (seconds, visibility) => {
    // Prepare
    sqsMock.on(ChangeMessageVisibilityCommand).resolves({});

    // Act
    await aRequeue(true).hide('receipt-1', seconds);

    // Assess
    expect(sqsMock).toHaveReceivedCommandExactlyOnceWith(ChangeMessageVisibilityCommand, { QueueUrl: queueUrl, ReceiptHandle: 'receipt-1', VisibilityTimeout: visibility });
    expect(sqsMock).not.toHaveReceivedCommand(SendMessageCommand);
  });
});
