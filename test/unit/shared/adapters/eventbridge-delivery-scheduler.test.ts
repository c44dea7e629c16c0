/**
 * The EventBridge delivery scheduler on the local Scheduler and SQS: the schedules the Scheduler
 * holds and the messages the delivery queue holds afterwards, and the calls as the endpoints saw
 * them (wire fronts), where their inputs (a message's delay) are the point. AWS's own failures are
 * answered by the front in the Scheduler's wire shape.
 */
import { InternalServerException } from '@aws-sdk/client-scheduler';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { SchedulerConfig } from '../../../../shared/config.ts';
import { atExpression, EventBridgeDeliveryScheduler } from '../../../../shared/adapters/eventbridge-delivery-scheduler.ts';
import type { Clock } from '../../../../shared/ports.ts';
import { startLocalScheduler, startLocalSqs } from '../../support/local-queues.ts';
import type { LocalQueue, LocalScheduler, LocalSqs } from '../../support/local-queues.ts';

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
const internalError = { statusCode: 500, code: 'InternalServerException', message: 'Internal error' };
let sqs: LocalSqs;
let scheduler: LocalScheduler;
let delivery: LocalQueue;

beforeAll(async () => {
  sqs = await startLocalSqs();
  scheduler = await startLocalScheduler({ sqsEndpoint: sqs.endpoint, now, groupNames: [config.groupName] });
  delivery = await sqs.createQueue('herald-delivery');
});

afterAll(async () => {
  await scheduler.stop();
  await sqs.stop();
});

beforeEach(async () => {
  await scheduler.reset(config.groupName);
  await sqs.reset(delivery.url);
});

function aScheduler(overrides: Partial<SchedulerConfig> = {}, clock: Clock = { now: (): Date => now }): EventBridgeDeliveryScheduler {
  return new EventBridgeDeliveryScheduler(scheduler.client, sqs.client, { ...config, ...overrides }, queueUrl, clock);
}

/** `n` notifications of acme for recipients r0..r(n-1), due at `scheduledAt`. */
function aBatch(n: number, scheduledAt: string): { tenantId: string; id: string; recipientId: string; scheduledAt: string }[] {
  return Array.from({ length: n }, (_, i) => ({ tenantId: 'acme', id: `ntf_01JABCDEFGHJKMNPQRSTV${String(i).padStart(5, '0')}`, recipientId: `r${i}`, scheduledAt }));
}

/** The notifications a schedule's message names. */
async function notificationsOf(name: string): Promise<number> {
  const schedule = await scheduler.get(name, config.groupName);
  return (JSON.parse(schedule?.Target?.Input ?? '{}') as { notifications: unknown[] }).notifications.length;
}

/** The inputs of the SendMessage calls the queue received. */
function sentMessages(): Record<string, unknown>[] {
  return sqs.front.calls('SendMessage').map((call) => ({ ...call.input }));
}

describe('EventBridgeDeliveryScheduler', () => {
  it('creates a one-shot schedule named after a lone notification, firing the lead time early in UTC', async () => {
    // Prepare
    const adapter = aScheduler();

    // Act
    await adapter.scheduleMany([{ tenantId: 'acme', id, recipientId: 'bob', scheduledAt: '2030-01-01T13:30:00.750Z' }], now);

    // Assess
    expect(scheduler.front.operations()).toEqual(['CreateSchedule']);
    expect(scheduler.names(config.groupName)).toEqual([id]);
    expect(await scheduler.get(id, config.groupName)).toMatchObject({
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
    expect(sqs.front.operations()).toEqual([]);
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
    const adapter = aScheduler();
    const batch = aBatch(250, '2030-01-01T13:30:00.000Z');

    // Act
    await adapter.scheduleMany(batch, now);

    // Assess
    const names = [`b-${batch[0]?.id}`, `b-${batch[100]?.id}`, `b-${batch[200]?.id}`];
    expect(scheduler.names(config.groupName)).toEqual(names);
    expect(await Promise.all(names.map(notificationsOf))).toEqual([100, 100, 50]);
    expect(scheduler.front.calls('CreateSchedule')).toHaveLength(3);
  });

  it('removes the schedules it made when a later one fails, then throws', async () => {
    // Prepare: the Scheduler takes the first create to arrive, then fails every other (the SDK's retries too)
    const adapter = aScheduler();
    scheduler.front.intercept('CreateSchedule', () => undefined);
    scheduler.front.failNext('CreateSchedule', internalError, Number.POSITIVE_INFINITY);
    const batch = aBatch(150, '2030-01-01T13:30:00.000Z');

    // Act
    const result = adapter.scheduleMany(batch, now);

    // Assess
    await expect(result).rejects.toBeInstanceOf(InternalServerException);
    const creates = scheduler.front.calls('CreateSchedule').map((call) => call.path);
    expect(new Set(creates)).toEqual(new Set([`/schedules/b-${batch[0]?.id}`, `/schedules/b-${batch[100]?.id}`]));
    expect(scheduler.front.calls('DeleteSchedule').map((call) => [call.path, call.input.groupName])).toEqual([[creates[0], 'herald-test']]);
    expect(scheduler.names(config.groupName)).toEqual([]);
  });

  it('decides each schedule against the clock of that moment, sending one that would fire too soon to the queue', async () => {
    // Prepare: more schedules than the adapter makes at once, and the clock jumps two minutes when
    // the first reaches the Scheduler: the last is decided after that.
    let clockNow = now;
    const adapter = aScheduler({}, { now: () => clockNow });
    scheduler.front.intercept('CreateSchedule', () => {
      clockNow = new Date(now.getTime() + 120_000);
      scheduler.clock.advance(120_000);
      return undefined;
    });
    const later = Array.from({ length: 40 }, (_, i) => ({ tenantId: 'acme', id: `ntf_01JABCDEFGHJKMNPQRSTV${String(i).padStart(5, '0')}`, recipientId: 'bob', scheduledAt: new Date(Date.parse('2030-01-01T13:30:00.000Z') + i * 60_000).toISOString() }));
    const soon = { tenantId: 'acme', id, recipientId: 'bob', scheduledAt: '2030-01-01T12:03:00.000Z' };

    // Act
    await adapter.scheduleMany([...later, soon], now);

    // Assess: at 12:02 a notification due at 12:03 fires its schedule at 12:02:00, too soon:
    // queued for 59 s, a second ahead for the consumer to hold.
    expect(scheduler.front.calls('CreateSchedule')).toHaveLength(40);
    expect(scheduler.names(config.groupName)).not.toContain(id);
    expect(sentMessages()).toEqual([expect.objectContaining({ DelaySeconds: 59 })]);
    expect(await sqs.counts(delivery.url)).toEqual({ visible: 0, delayed: 1, inFlight: 0 });
  });

  it('sends the batches due within the lead time in one SendMessageBatch', async () => {
    // Prepare
    const adapter = aScheduler();
    const batch = [...aBatch(100, '2030-01-01T12:00:30.000Z'), ...aBatch(100, '2030-01-01T12:00:40.000Z').map((n, i) => ({ ...n, id: `ntf_01JABCDEFGHJKMNPQRSTW${String(i).padStart(5, '0')}` }))];

    // Act
    await adapter.scheduleMany(batch, now);

    // Assess
    expect(sqs.front.operations()).toEqual(['SendMessageBatch']);
    const entries = (sqs.front.calls('SendMessageBatch')[0]?.input.Entries ?? []) as { DelaySeconds?: number }[];
    expect(entries.map((e) => e.DelaySeconds)).toEqual([29, 39]);
    expect(await sqs.counts(delivery.url)).toEqual({ visible: 0, delayed: 2, inFlight: 0 });
    expect(scheduler.front.operations()).toEqual([]);
  });

  it('sends a notification due within the lead time straight to the queue, arriving one to two seconds early', async () => {
    // Prepare
    const adapter = aScheduler();

    // Act
    await adapter.scheduleMany([{ tenantId: 'acme', id, recipientId: 'bob', scheduledAt: '2030-01-01T12:00:30.600Z' }], now);

    // Assess: 30.6 s less the second of lead, rounded down; the consumer waits out the last
    // 1.6 s itself, to the millisecond, and a consumer that has to start first has that long.
    expect(sentMessages()).toEqual([
      {
        QueueUrl: queueUrl,
        MessageBody: JSON.stringify({ tenantId: 'acme', notifications: [{ id, recipientId: 'bob' }], notBefore: '2030-01-01T12:00:30.600Z' }),
        DelaySeconds: 29,
      },
    ]);
    expect(await sqs.counts(delivery.url)).toEqual({ visible: 0, delayed: 1, inFlight: 0 });
    expect(scheduler.front.operations()).toEqual([]);
  });

  it('sends a notification due now to the queue without delay', async () => {
    // Prepare
    const adapter = aScheduler();

    // Act
    await adapter.scheduleMany([{ tenantId: 'acme', id, recipientId: 'bob', scheduledAt: now.toISOString() }], now);

    // Assess: there to receive at once
    expect(sentMessages()).toEqual([expect.objectContaining({ DelaySeconds: 0 })]);
    expect((await sqs.receiveAll(delivery.url)).map((m) => JSON.parse(m.Body ?? '{}') as unknown)).toEqual([{ tenantId: 'acme', notifications: [{ id, recipientId: 'bob' }], notBefore: now.toISOString() }]);
    expect(scheduler.front.operations()).toEqual([]);
  });

  it('caps the queue delay at 900 s', async () => {
    // Prepare
    const adapter = aScheduler({ leadSeconds: 3600 });

    // Act
    await adapter.scheduleMany([{ tenantId: 'acme', id, recipientId: 'bob', scheduledAt: '2030-01-01T12:33:20.000Z' }], now);

    // Assess
    expect(sentMessages()).toEqual([expect.objectContaining({ DelaySeconds: 900 })]);
    expect(await sqs.counts(delivery.url)).toEqual({ visible: 0, delayed: 1, inFlight: 0 });
    expect(scheduler.front.operations()).toEqual([]);
  });

  it('deletes the schedule of a notification', async () => {
    // Prepare
    const adapter = aScheduler();
    await adapter.scheduleMany([{ tenantId: 'acme', id, recipientId: 'bob', scheduledAt: '2030-01-01T13:30:00.000Z' }], now);
    scheduler.front.reset();

    // Act
    await adapter.unschedule({ tenantId: 'acme', id });

    // Assess
    expect(scheduler.front.calls('DeleteSchedule').map((call) => [call.path, call.input.groupName])).toEqual([[`/schedules/${id}`, 'herald-test']]);
    expect(scheduler.names(config.groupName)).toEqual([]);
  });

  it('takes a schedule that is already gone as removed', async () => {
    // Prepare
    const adapter = aScheduler();

    // Act
    const result = adapter.unschedule({ tenantId: 'acme', id });

    // Assess: the Scheduler answered ResourceNotFoundException
    await expect(result).resolves.toBeUndefined();
    expect(scheduler.front.operations()).toEqual(['DeleteSchedule']);
  });

  it('passes on any other failure to delete a schedule', async () => {
    // Prepare
    const adapter = aScheduler();
    await adapter.scheduleMany([{ tenantId: 'acme', id, recipientId: 'bob', scheduledAt: '2030-01-01T13:30:00.000Z' }], now);
    scheduler.front.failNext('DeleteSchedule', internalError, Number.POSITIVE_INFINITY);

    // Act
    const result = adapter.unschedule({ tenantId: 'acme', id });

    // Assess
    await expect(result).rejects.toBeInstanceOf(InternalServerException);
    expect(scheduler.names(config.groupName)).toEqual([id]);
  });
});
