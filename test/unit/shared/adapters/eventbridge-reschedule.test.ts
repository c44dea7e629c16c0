/**
 * Rescheduling a notification (EventBridgeDeliveryScheduler.reschedule) on the local Scheduler and
 * SQS: what the Scheduler and the delivery queue hold afterwards, and the calls as they saw them.
 * A racing reschedule is a rival client re-creating the schedule just before our create arrives.
 */
import { ConflictException, CreateScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { atExpression } from '../../../../shared/adapters/eventbridge-delivery-scheduler.ts';
import { testAccountDeliveryScheduler, testAccountScheduling } from '../../support/delivery-scheduler.ts';
import { startLocalScheduler, startLocalSqs, testRegion } from '../../support/local-queues.ts';
import type { LocalQueue, LocalScheduler, LocalSqs } from '../../support/local-queues.ts';

const now = new Date('2030-01-01T12:00:00.000Z');
const id = 'ntf_01JABCDEFGHJKMNPQRSTVWXYZ0';
const { groupName } = testAccountScheduling;
let sqs: LocalSqs;
let scheduler: LocalScheduler;
let delivery: LocalQueue;
let rival: SchedulerClient;

beforeAll(async () => {
  sqs = await startLocalSqs();
  scheduler = await startLocalScheduler({ sqsEndpoint: sqs.endpoint, now, groupNames: [groupName] });
  delivery = await sqs.createQueue(testAccountScheduling.deliveryQueueName);
  rival = new SchedulerClient({ region: testRegion, endpoint: scheduler.emulator.endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
});

afterAll(async () => {
  rival.destroy();
  await scheduler.stop();
  await sqs.stop();
});

beforeEach(async () => {
  await scheduler.reset(groupName);
  await sqs.reset(delivery.url);
});

function adapter(): ReturnType<typeof testAccountDeliveryScheduler> {
  return testAccountDeliveryScheduler({ scheduler: scheduler.client, sqs: sqs.client });
}

/** The notification, scheduled at `scheduledAt` as a create schedules it, and the record of that forgotten. */
async function scheduledAt(scheduledAt: string): Promise<void> {
  await adapter().scheduleMany([{ tenantId: 'acme', id, recipientId: 'bob', scheduledAt }], now);
  scheduler.front.reset();
}

/** A rival reschedule's create of the same schedule, landing just before each of the next `times` creates. */
function rivalCreatesFirst(times: number): void {
  scheduler.front.intercept(
    'CreateSchedule',
    async () => {
      await rival.send(
        new CreateScheduleCommand({
          Name: id,
          GroupName: groupName,
          ScheduleExpression: 'at(2030-01-03T08:00:00)',
          FlexibleTimeWindow: { Mode: 'OFF' },
          Target: { Arn: delivery.arn, RoleArn: 'arn:aws:iam::111122223333:role/scheduler' },
        }),
      );
      return undefined;
    },
    times,
  );
}

describe('EventBridgeDeliveryScheduler.reschedule', () => {
  it('replaces the schedule with one at the new time', async () => {
    // Prepare
    await scheduledAt('2030-01-01T18:00:00.000Z');

    // Act
    await adapter().reschedule({ tenantId: 'acme', id, recipientId: 'bob', scheduledAt: '2030-01-02T08:00:00.000Z' }, now);

    // Assess
    expect(scheduler.front.operations()).toEqual(['DeleteSchedule', 'CreateSchedule']);
    expect(scheduler.names(groupName)).toEqual([id]);
    expect((await scheduler.get(id, groupName))?.ScheduleExpression).toBe('at(2030-01-02T07:59:00)');
    expect(sqs.front.operations()).toEqual([]);
  });

  it('sends a notification made due now straight to the queue, its schedule gone', async () => {
    // Prepare
    await scheduledAt('2030-01-01T18:00:00.000Z');

    // Act
    await adapter().reschedule({ tenantId: 'acme', id, recipientId: 'bob', scheduledAt: now.toISOString() }, now);

    // Assess: visible at once (no delay)
    expect(scheduler.front.operations()).toEqual(['DeleteSchedule']);
    expect(scheduler.names(groupName)).toEqual([]);
    const messages = await sqs.receiveAll(delivery.url);
    expect(messages.map((m) => m.Body)).toEqual([JSON.stringify({ tenantId: 'acme', notifications: [{ id, recipientId: 'bob' }], notBefore: now.toISOString() })]);
    expect(sqs.front.calls('SendMessage').map((call) => call.input)).toEqual([expect.objectContaining({ QueueUrl: testAccountScheduling.deliveryQueueUrl, DelaySeconds: 0 })]);
  });

  it('creates the schedule of a notification that had none (it went straight to the queue)', async () => {
    // Act
    await adapter().reschedule({ tenantId: 'acme', id, recipientId: 'bob', scheduledAt: '2030-01-02T08:00:00.000Z' }, now);

    // Assess: the Scheduler answered the delete ResourceNotFoundException
    expect(scheduler.front.operations()).toEqual(['DeleteSchedule', 'CreateSchedule']);
    expect((await scheduler.get(id, groupName))?.ScheduleExpression).toBe('at(2030-01-02T07:59:00)');
  });

  it('tries again when a racing reschedule re-created the schedule in between', async () => {
    // Prepare
    await scheduledAt('2030-01-01T18:00:00.000Z');
    rivalCreatesFirst(1);

    // Act
    await adapter().reschedule({ tenantId: 'acme', id, recipientId: 'bob', scheduledAt: '2030-01-02T08:00:00.000Z' }, now);

    // Assess: the rival's schedule replaced by ours
    expect(scheduler.front.operations()).toEqual(['DeleteSchedule', 'CreateSchedule', 'DeleteSchedule', 'CreateSchedule']);
    expect((await scheduler.get(id, groupName))?.ScheduleExpression).toBe(atExpression(new Date('2030-01-02T07:59:00.000Z')));
  });

  it('gives up after three conflicts', async () => {
    // Prepare
    rivalCreatesFirst(3);

    // Act
    const rescheduling = adapter().reschedule({ tenantId: 'acme', id, recipientId: 'bob', scheduledAt: '2030-01-02T08:00:00.000Z' }, now);

    // Assess
    await expect(rescheduling).rejects.toBeInstanceOf(ConflictException);
    expect(scheduler.front.calls('CreateSchedule')).toHaveLength(3);
    expect((await scheduler.get(id, groupName))?.ScheduleExpression).toBe('at(2030-01-03T08:00:00)');
  });
});
