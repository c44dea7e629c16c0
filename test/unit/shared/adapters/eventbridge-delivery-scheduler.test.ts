import {
  CreateScheduleCommand,
  DeleteScheduleCommand,
  InternalServerException,
  ResourceNotFoundException,
  SchedulerClient,
} from '@aws-sdk/client-scheduler';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
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
};
const queueUrl = 'https://sqs.eu-west-1.amazonaws.com/111122223333/herald-delivery';
const now = new Date('2030-01-01T12:00:00.000Z');
const id = 'ntf_01JABCDEFGHJKMNPQRSTVWXYZ0';

function aScheduler(overrides: Partial<SchedulerConfig> = {}): EventBridgeDeliveryScheduler {
  return new EventBridgeDeliveryScheduler(
    new SchedulerClient({ region: 'eu-west-1' }),
    new SQSClient({ region: 'eu-west-1' }),
    { ...config, ...overrides },
    queueUrl,
  );
}

beforeEach(() => {
  schedulerMock.reset();
  sqsMock.reset();
});

describe('EventBridgeDeliveryScheduler', () => {
  it('creates a one-shot schedule named after the notification, firing the lead time early in UTC', async () => {
    // Prepare
    const scheduler = aScheduler();
    schedulerMock.on(CreateScheduleCommand).resolves({ ScheduleArn: 'arn:aws:scheduler:::schedule/herald-test/x' });

    // Act
    await scheduler.schedule({ tenantId: 'acme', id, scheduledAt: '2030-01-01T13:30:00.750Z' }, now);

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
        Input: JSON.stringify({ tenantId: 'acme', notificationId: id }),
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

  it('sends a notification due within the lead time straight to the queue with the remaining delay', async () => {
    // Prepare
    const scheduler = aScheduler();
    sqsMock.on(SendMessageCommand).resolves({ MessageId: 'm1' });

    // Act
    await scheduler.schedule({ tenantId: 'acme', id, scheduledAt: '2030-01-01T12:00:30.000Z' }, now);

    // Assess
    expect(sqsMock).toHaveReceivedCommandExactlyOnceWith(SendMessageCommand, {
      QueueUrl: queueUrl,
      MessageBody: JSON.stringify({ tenantId: 'acme', notificationId: id }),
      DelaySeconds: 30,
    });
    expect(schedulerMock).not.toHaveReceivedAnyCommand();
  });

  it('sends a notification due now to the queue without delay', async () => {
    // Prepare
    const scheduler = aScheduler();
    sqsMock.on(SendMessageCommand).resolves({ MessageId: 'm1' });

    // Act
    await scheduler.schedule({ tenantId: 'acme', id, scheduledAt: now.toISOString() }, now);

    // Assess
    expect(sqsMock).toHaveReceivedCommandWith(SendMessageCommand, { DelaySeconds: 0 });
    expect(schedulerMock).not.toHaveReceivedAnyCommand();
  });

  it('caps the queue delay at 900 s', async () => {
    // Prepare
    const scheduler = aScheduler({ leadSeconds: 3600 });
    sqsMock.on(SendMessageCommand).resolves({ MessageId: 'm1' });

    // Act
    await scheduler.schedule({ tenantId: 'acme', id, scheduledAt: '2030-01-01T12:33:20.000Z' }, now);

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
