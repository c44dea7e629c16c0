import {
  CreateScheduleCommand,
  DeleteScheduleCommand,
  InternalServerException,
  ResourceNotFoundException,
  SchedulerClient,
} from '@aws-sdk/client-scheduler';
import { SendMessageBatchCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import type { SchedulerConfig } from '../../../../shared/config.ts';
import { atExpression, EventBridgeDeliveryScheduler } from '../../../../shared/adapters/eventbridge-delivery-scheduler.ts';

const schedulerMock = mockClient(SchedulerClient);
const sqsMock = mockClient(SQSClient);

const config: SchedulerConfig = {
  groupName: 'herald-test',
  roleArn: 'arn:aws:iam::111122223333:role/herald-scheduler',
  targetArn: 'arn:aws:sqs:eu-west-1:111122223333:herald-delivery',
  deadLetterArn: 'arn:aws:sqs:eu-west-1:111122223333:herald-scheduler-dlq',
  leadSeconds: 60,
  firesPerSecond: 1000,
};
const queueUrl = 'https://sqs.eu-west-1.amazonaws.com/111122223333/herald-delivery';
const now = new Date('2030-01-01T12:00:00.000Z');
const id = 'ntf_01JABCDEFGHJKMNPQRSTVWXYZ0';

function aScheduler(overrides: Partial<SchedulerConfig> = {}, clock = { now: (): Date => now }): EventBridgeDeliveryScheduler {
  return new EventBridgeDeliveryScheduler(
    new SchedulerClient({ region: 'eu-west-1' }),
    new SQSClient({ region: 'eu-west-1' }),
    { ...config, ...overrides },
    queueUrl,
    clock,
  );
}

/** `n` notifications of acme for recipients r0..r(n-1), due at `scheduledAt`. */
function aBatch(n: number, scheduledAt: string): { tenantId: string; id: string; recipientId: string; scheduledAt: string }[] {
  return Array.from({ length: n }, (_, i) => ({ tenantId: 'acme', id: `ntf_01JABCDEFGHJKMNPQRSTV${String(i).padStart(5, '0')}`, recipientId: `r${i}`, scheduledAt }));
}

beforeEach(() => {
  schedulerMock.reset();
  sqsMock.reset();
});

describe('EventBridgeDeliveryScheduler', () => {
  it('creates a one-shot schedule named after a lone notification, firing the lead time early in UTC', async () => {
    // Prepare
    const scheduler = aScheduler();
    schedulerMock.on(CreateScheduleCommand).resolves({ ScheduleArn: 'arn:aws:scheduler:::schedule/herald-test/x' });

    // Act
    await scheduler.scheduleMany([{ tenantId: 'acme', id, recipientId: 'bob', scheduledAt: '2030-01-01T13:30:00.750Z' }], now);

    // Assess
    expect(schedulerMock).toHaveReceivedCommandOnce(CreateScheduleCommand);
    expect(schedulerMock).toHaveReceivedCommandWith(CreateScheduleCommand, {
      Name: id,
      GroupName: 'herald-test',
      ScheduleExpression: 'at(2030-01-01T13:29:00)',
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: 'OFF' },
      ActionAfterCompletion: 'DELETE',
      State: 'ENABLED',
      Target: {
        Arn: config.targetArn,
        RoleArn: config.roleArn,
        Input: JSON.stringify({ tenantId: 'acme', notifications: [{ id, recipientId: 'bob' }], notBefore: '2030-01-01T13:30:00.750Z' }),
        RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86_400 },
        DeadLetterConfig: { Arn: config.deadLetterArn },
      },
    });
    expect(sqsMock).not.toHaveReceivedAnyCommand();
  });

  it('writes at() in UTC whatever offset the time was given with', () => {
    // Prepare
    const instant = new Date('2030-07-01T09:15:30+02:00');

    // Act
    const expression = atExpression(instant);

    // Assess
    expect(expression).toBe('at(2030-07-01T07:15:30)');
  });

  it('makes one schedule per batch of 100 due at one instant, named after its first notification', async () => {
    // Prepare
    const scheduler = aScheduler();
    schedulerMock.on(CreateScheduleCommand).resolves({ ScheduleArn: 'arn:aws:scheduler:::schedule/herald-test/x' });
    const batch = aBatch(250, '2030-01-01T13:30:00.000Z');

    // Act
    await scheduler.scheduleMany(batch, now);

    // Assess
    const calls = schedulerMock.commandCalls(CreateScheduleCommand).map((call) => call.args[0].input);
    expect(calls.map((input) => input.Name)).toEqual([`b-${batch[0]?.id}`, `b-${batch[100]?.id}`, `b-${batch[200]?.id}`]);
    const named = calls.map((input) => (JSON.parse(input.Target?.Input ?? '{}') as { notifications: { id: string }[] }).notifications.length);
    expect(named).toEqual([100, 100, 50]);
  });

  it('removes the schedules it made when a later one fails, then throws', async () => {
    // Prepare
    const scheduler = aScheduler();
    schedulerMock
      .on(CreateScheduleCommand)
      .resolvesOnce({ ScheduleArn: 'a' })
      .rejects(new InternalServerException({ message: 'Internal error', Message: 'Internal error', $metadata: { httpStatusCode: 500 } }));
    schedulerMock.on(DeleteScheduleCommand).resolves({});
    const batch = aBatch(150, '2030-01-01T13:30:00.000Z');

    // Act
    const result = scheduler.scheduleMany(batch, now);

    // Assess
    await expect(result).rejects.toBeInstanceOf(InternalServerException);
    expect(schedulerMock).toHaveReceivedCommandTimes(CreateScheduleCommand, 2);
    expect(schedulerMock).toHaveReceivedCommandExactlyOnceWith(DeleteScheduleCommand, { Name: `b-${batch[0]?.id}`, GroupName: 'herald-test' });
  });

  it('decides each schedule against the clock of that moment, sending one that would fire too soon to the queue', async () => {
    // Prepare: the clock jumps two minutes while the first schedule is being made.
    let clockNow = now;
    const scheduler = aScheduler({}, { now: () => clockNow });
    schedulerMock.on(CreateScheduleCommand).callsFake(() => {
      clockNow = new Date(now.getTime() + 120_000);
      return { ScheduleArn: 'a' };
    });
    sqsMock.on(SendMessageCommand).resolves({ MessageId: 'm1' });
    const first = aBatch(100, '2030-01-01T13:30:00.000Z');
    const second = aBatch(1, '2030-01-01T12:03:00.000Z').map((n) => ({ ...n, id: id }));

    // Act
    await scheduler.scheduleMany([...first, ...second], now);

    // Assess: at 12:02 a notification due at 12:03 fires its schedule at 12:02:00, too soon:
    // queued for 59 s, a second ahead for the consumer to hold.
    expect(schedulerMock).toHaveReceivedCommandTimes(CreateScheduleCommand, 1);
    expect(sqsMock).toHaveReceivedCommandExactlyOnceWith(SendMessageCommand, { DelaySeconds: 59 });
  });

  it('sends the batches due within the lead time in one SendMessageBatch', async () => {
    // Prepare
    const scheduler = aScheduler();
    sqsMock.on(SendMessageBatchCommand).callsFake((input: { Entries: { Id: string }[] }) => ({ Successful: input.Entries.map((e) => ({ Id: e.Id, MessageId: e.Id, MD5OfMessageBody: '' })) }));
    const batch = [...aBatch(100, '2030-01-01T12:00:30.000Z'), ...aBatch(100, '2030-01-01T12:00:40.000Z').map((n, i) => ({ ...n, id: `ntf_01JABCDEFGHJKMNPQRSTW${String(i).padStart(5, '0')}` }))];

    // Act
    await scheduler.scheduleMany(batch, now);

    // Assess
    expect(sqsMock).toHaveReceivedCommandTimes(SendMessageBatchCommand, 1);
    const entries = sqsMock.commandCalls(SendMessageBatchCommand)[0]?.args[0].input.Entries ?? [];
    expect(entries.map((e) => e.DelaySeconds)).toEqual([29, 39]);
    expect(schedulerMock).not.toHaveReceivedAnyCommand();
  });

  it('sends a notification due within the lead time straight to the queue, arriving one to two seconds early', async () => {
    // Prepare
    const scheduler = aScheduler();
    sqsMock.on(SendMessageCommand).resolves({ MessageId: 'm1' });

    // Act
    await scheduler.scheduleMany([{ tenantId: 'acme', id, recipientId: 'bob', scheduledAt: '2030-01-01T12:00:30.600Z' }], now);

    // Assess: 30.6 s less the second of lead, rounded down; the consumer waits out the last
    // 1.6 s itself, to the millisecond, and a consumer that has to start first has that long.
    expect(sqsMock).toHaveReceivedCommandExactlyOnceWith(SendMessageCommand, {
      QueueUrl: queueUrl,
      MessageBody: JSON.stringify({ tenantId: 'acme', notifications: [{ id, recipientId: 'bob' }], notBefore: '2030-01-01T12:00:30.600Z' }),
      DelaySeconds: 29,
    });
    expect(schedulerMock).not.toHaveReceivedAnyCommand();
  });

  it('sends a notification due now to the queue without delay', async () => {
    // Prepare
    const scheduler = aScheduler();
    sqsMock.on(SendMessageCommand).resolves({ MessageId: 'm1' });

    // Act
    await scheduler.scheduleMany([{ tenantId: 'acme', id, recipientId: 'bob', scheduledAt: now.toISOString() }], now);

    // Assess
    expect(sqsMock).toHaveReceivedCommandWith(SendMessageCommand, { DelaySeconds: 0 });
    expect(schedulerMock).not.toHaveReceivedAnyCommand();
  });

  it('caps the queue delay at 900 s', async () => {
    // Prepare
    const scheduler = aScheduler({ leadSeconds: 3600 });
    sqsMock.on(SendMessageCommand).resolves({ MessageId: 'm1' });

    // Act
    await scheduler.scheduleMany([{ tenantId: 'acme', id, recipientId: 'bob', scheduledAt: '2030-01-01T12:33:20.000Z' }], now);

    // Assess
    expect(sqsMock).toHaveReceivedCommandWith(SendMessageCommand, { DelaySeconds: 900 });
    expect(schedulerMock).not.toHaveReceivedAnyCommand();
  });

  it('deletes the schedule of a notification', async () => {
    // Prepare
    const scheduler = aScheduler();
    schedulerMock.on(DeleteScheduleCommand).resolves({});

    // Act
    await scheduler.unschedule({ tenantId: 'acme', id });

    // Assess
    expect(schedulerMock).toHaveReceivedCommandExactlyOnceWith(DeleteScheduleCommand, { Name: id, GroupName: 'herald-test' });
  });

  it('takes a schedule that is already gone as removed', async () => {
    // Prepare
    const scheduler = aScheduler();
    schedulerMock
      .on(DeleteScheduleCommand)
      .rejects(new ResourceNotFoundException({ message: 'Schedule not found', Message: 'Schedule not found', $metadata: { httpStatusCode: 404 } }));

    // Act
    const result = scheduler.unschedule({ tenantId: 'acme', id });

    // Assess
    await expect(result).resolves.toBeUndefined();
  });

  it('passes on any other failure to delete a schedule', async () => {
    // Prepare
    const scheduler = aScheduler();
    schedulerMock
      .on(DeleteScheduleCommand)
      .rejects(new InternalServerException({ message: 'Internal error', Message: 'Internal error', $metadata: { httpStatusCode: 500 } }));

    // Act
    const result = scheduler.unschedule({ tenantId: 'acme', id });

    // Assess
    await expect(result).rejects.toBeInstanceOf(InternalServerException);
  });
});
