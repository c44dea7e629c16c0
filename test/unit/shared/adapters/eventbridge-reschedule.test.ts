import { ConflictException, CreateScheduleCommand, DeleteScheduleCommand, ResourceNotFoundException, SchedulerClient } from '@aws-sdk/client-scheduler';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { testAccountDeliveryScheduler } from '../../support/delivery-scheduler.ts';

const schedulerMock = mockClient(SchedulerClient);
const sqsMock = mockClient(SQSClient);
const queueUrl = 'https://sqs.eu-west-1.amazonaws.com/111122223333/delivery';
const now = new Date('2030-01-01T12:00:00.000Z');
const id = 'ntf_01JABCDEFGHJKMNPQRSTVWXYZ0';

function conflict(): ConflictException {
  return new ConflictException({ message: 'Schedule already exists', Message: 'Schedule already exists', $metadata: { httpStatusCode: 409 } });
}

beforeEach(() => {
  schedulerMock.reset();
  sqsMock.reset();
});

describe('EventBridgeDeliveryScheduler.reschedule', () => {
  it('replaces the schedule with one at the new time', async () => {
    // Prepare
    schedulerMock.on(DeleteScheduleCommand).resolves({});
    schedulerMock.on(CreateScheduleCommand).resolves({ ScheduleArn: 'arn' });

    // Act
    await testAccountDeliveryScheduler().reschedule({ tenantId: 'acme', id, recipientId: 'bob', scheduledAt: '2030-01-02T08:00:00.000Z' }, now);

    // Assess
    expect(schedulerMock).toHaveReceivedCommandWith(DeleteScheduleCommand, { Name: id, GroupName: 'herald' });
    expect(schedulerMock).toHaveReceivedCommandWith(CreateScheduleCommand, { Name: id, ScheduleExpression: 'at(2030-01-02T07:59:00)' });
    expect(sqsMock).not.toHaveReceivedCommand(SendMessageCommand);
  });

  it('sends a notification made due now straight to the queue, its schedule gone', async () => {
    // Prepare
    schedulerMock.on(DeleteScheduleCommand).resolves({});
    sqsMock.on(SendMessageCommand).resolves({ MessageId: 'm-1' });

    // Act
    await testAccountDeliveryScheduler().reschedule({ tenantId: 'acme', id, recipientId: 'bob', scheduledAt: now.toISOString() }, now);

    // Assess
    expect(schedulerMock).toHaveReceivedCommandOnce(DeleteScheduleCommand);
    expect(schedulerMock).not.toHaveReceivedCommand(CreateScheduleCommand);
    expect(sqsMock).toHaveReceivedCommandWith(SendMessageCommand, {
      QueueUrl: queueUrl,
      MessageBody: JSON.stringify({ tenantId: 'acme', notifications: [{ id, recipientId: 'bob' }], notBefore: now.toISOString() }),
      DelaySeconds: 0,
    });
  });

  it('creates the schedule of a notification that had none (it went straight to the queue)', async () => {
    // Prepare
    schedulerMock.on(DeleteScheduleCommand).rejects(new ResourceNotFoundException({ message: 'gone', Message: 'gone', $metadata: {} }));
    schedulerMock.on(CreateScheduleCommand).resolves({ ScheduleArn: 'arn' });

    // Act
    await testAccountDeliveryScheduler().reschedule({ tenantId: 'acme', id, recipientId: 'bob', scheduledAt: '2030-01-02T08:00:00.000Z' }, now);

    // Assess
    expect(schedulerMock).toHaveReceivedCommandOnce(CreateScheduleCommand);
  });

  it('tries again when a racing reschedule re-created the schedule in between', async () => {
    // Prepare
    schedulerMock.on(DeleteScheduleCommand).resolves({});
    schedulerMock.on(CreateScheduleCommand).rejectsOnce(conflict()).resolves({ ScheduleArn: 'arn' });

    // Act
    await testAccountDeliveryScheduler().reschedule({ tenantId: 'acme', id, recipientId: 'bob', scheduledAt: '2030-01-02T08:00:00.000Z' }, now);

    // Assess
    expect(schedulerMock).toHaveReceivedCommandTimes(DeleteScheduleCommand, 2);
    expect(schedulerMock).toHaveReceivedCommandTimes(CreateScheduleCommand, 2);
  });

  it('gives up after three conflicts', async () => {
    // Prepare
    schedulerMock.on(DeleteScheduleCommand).resolves({});
    schedulerMock.on(CreateScheduleCommand).rejects(conflict());

    // Act + Assess
    await expect(testAccountDeliveryScheduler().reschedule({ tenantId: 'acme', id, recipientId: 'bob', scheduledAt: '2030-01-02T08:00:00.000Z' }, now)).rejects.toBeInstanceOf(
      ConflictException,
    );
    expect(schedulerMock).toHaveReceivedCommandTimes(CreateScheduleCommand, 3);
  });
});
