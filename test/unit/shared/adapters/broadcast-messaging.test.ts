/**
 * A broadcast's schedule and its queues, on the local Scheduler and SQS: the schedules and
 * messages they hold afterwards, and the calls as they saw them (wire fronts). A refused message is
 * one larger than its queue takes; a failure on SQS's or the Scheduler's side is answered by the
 * front in the service's wire shape.
 */
import { CreateScheduleCommand, InternalServerException, SchedulerClient } from '@aws-sdk/client-scheduler';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EventBridgeBroadcastScheduler } from '../../../../shared/adapters/eventbridge-broadcast-scheduler.ts';
import { MessagesNotSentError, SqsBroadcastDeliveryQueue, SqsFanoutQueue } from '../../../../shared/adapters/sqs-broadcast-queues.ts';
import type { SchedulerConfig } from '../../../../shared/config.ts';
import type { FanoutMessage } from '../../../../shared/domain/schemas.ts';
import { startLocalScheduler, startLocalSqs, testRegion } from '../../support/local-queues.ts';
import type { LocalQueue, LocalScheduler, LocalSqs } from '../../support/local-queues.ts';
import { failEntries } from '../../support/wire-front.ts';

const fanoutUrl = 'https://sqs.eu-west-1.amazonaws.com/111122223333/herald-fanout';
const config: SchedulerConfig = {
  groupName: 'herald-test',
  roleArn: 'arn:aws:iam::111122223333:role/herald-scheduler',
  targetArn: 'arn:aws:sqs:eu-west-1:111122223333:herald-fanout',
  deadLetterArn: 'arn:aws:sqs:eu-west-1:111122223333:herald-fanout-dlq',
  leadSeconds: 60,
  firesPerSecond: 1000,
};
const now = new Date('2030-01-01T12:00:00.000Z');
const id = 'brd_01JABCDEFGHJKMNPQRSTVWXYZ0';
const ref = { tenantId: 'acme', broadcastId: id };
/** SQS's smallest MaximumMessageSize, the broadcast-delivery queue's here: a larger message is refused. */
const smallestMaximumMessageSize = 1024;
let sqs: LocalSqs;
let scheduler: LocalScheduler;
let fanout: LocalQueue;
let broadcastDelivery: LocalQueue;

beforeAll(async () => {
  sqs = await startLocalSqs();
  scheduler = await startLocalScheduler({ sqsEndpoint: sqs.endpoint, now, groupNames: [config.groupName] });
  fanout = await sqs.createQueue('herald-fanout');
  broadcastDelivery = await sqs.createQueue('herald-broadcast-delivery', { MaximumMessageSize: String(smallestMaximumMessageSize) });
});

afterAll(async () => {
  await scheduler.stop();
  await sqs.stop();
});

beforeEach(async () => {
  await scheduler.reset(config.groupName);
  await sqs.reset(fanout.url, broadcastDelivery.url);
});

function aScheduler(): EventBridgeBroadcastScheduler {
  return new EventBridgeBroadcastScheduler(scheduler.client, sqs.client, config, fanoutUrl);
}

describe('EventBridgeBroadcastScheduler', () => {
  it('creates one schedule per broadcast that puts its start on the fan-out queue, the lead time early', async () => {
    // Act
    await aScheduler().schedule({ tenantId: 'acme', id, scheduledAt: '2030-01-01T14:00:00.000Z' }, now);

    // Assess
    expect(scheduler.names(config.groupName)).toEqual([id]);
    expect(await scheduler.get(id, config.groupName)).toMatchObject({
      Name: id,
      GroupName: 'herald-test',
      ScheduleExpression: 'at(2030-01-01T13:59:00)',
      ActionAfterCompletion: 'DELETE',
      Target: {
        Arn: config.targetArn,
        RoleArn: config.roleArn,
        Input: JSON.stringify({ kind: 'start', tenantId: 'acme', broadcastId: id }),
        RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86_400 },
        DeadLetterConfig: { Arn: config.deadLetterArn },
      },
    });
    expect(sqs.front.operations()).toEqual([]);
  });

  it('sends a broadcast due within the lead time straight to the fan-out queue, arriving one to two seconds before it is due', async () => {
    // Act
    await aScheduler().schedule({ tenantId: 'acme', id, scheduledAt: '2030-01-01T12:00:30.200Z' }, now);

    // Assess
    // 30.2 s less the second of lead, rounded down: the fan-out's start waits out the last 1.2 s itself.
    expect(sqs.front.calls('SendMessage').map((call) => call.input)).toEqual([expect.objectContaining({ QueueUrl: fanoutUrl, DelaySeconds: 29 })]);
    expect(await sqs.counts(fanout.url)).toEqual({ visible: 0, delayed: 1, inFlight: 0 });
    expect(scheduler.front.operations()).toEqual([]);
  });

  it('replaces a schedule an earlier attempt left under the same name', async () => {
    // Prepare: an earlier attempt's schedule, for another time
    const earlier = new SchedulerClient({ region: testRegion, endpoint: scheduler.emulator.endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    await earlier.send(
      new CreateScheduleCommand({
        Name: id,
        GroupName: config.groupName,
        ScheduleExpression: 'at(2030-01-01T13:00:00)',
        FlexibleTimeWindow: { Mode: 'OFF' },
        Target: { Arn: config.targetArn, RoleArn: config.roleArn, Input: '{}' },
      }),
    );
    earlier.destroy();

    // Act
    await aScheduler().schedule({ tenantId: 'acme', id, scheduledAt: '2030-01-01T14:00:00.000Z' }, now);

    // Assess
    expect(scheduler.front.operations()).toEqual(['CreateSchedule', 'DeleteSchedule', 'CreateSchedule']);
    expect(await scheduler.get(id, config.groupName)).toMatchObject({ ScheduleExpression: 'at(2030-01-01T13:59:00)', Target: { Input: JSON.stringify({ kind: 'start', ...ref }) } });
  });

  it('takes a schedule already gone as removed, and throws on any other error', async () => {
    // Act: no schedule, then the Scheduler failing on its side
    const first = await aScheduler().unschedule({ tenantId: 'acme', id });
    scheduler.front.failNext('DeleteSchedule', { statusCode: 500, code: 'InternalServerException', message: 'boom' }, Number.POSITIVE_INFINITY);
    const second = await aScheduler().unschedule({ tenantId: 'acme', id }).catch((error: unknown) => error);

    // Assess
    expect(first).toBeUndefined();
    expect(second).toBeInstanceOf(InternalServerException);
  });
});

describe('the broadcast queues', () => {
  it('sends fan-out steps ten per batch, with the delay asked for (capped at 15 minutes)', async () => {
    // Prepare
    const steps: FanoutMessage[] = Array.from({ length: 12 }, (_, shard) => ({ kind: 'dispatch', ...ref, run: 0, shard }));

    // Act
    await new SqsFanoutQueue(sqs.client, fanoutUrl).send(steps, 3_600);

    // Assess
    const calls = sqs.front.calls('SendMessageBatch');
    expect(calls).toHaveLength(2);
    const entries = calls.flatMap((call) => call.input.Entries as { DelaySeconds?: number }[]);
    expect(entries).toHaveLength(12);
    expect(new Set(entries.map((e) => e.DelaySeconds))).toEqual(new Set([900]));
    expect(await sqs.counts(fanout.url)).toEqual({ visible: 0, delayed: 12, inFlight: 0 });
  });

  it('sends again what SQS failed on its side, and throws for what it refused', async () => {
    // Prepare: SQS fails the first entry on its side once; the second is larger than the queue takes
    sqs.front.intercept('SendMessageBatch', failEntries(['0'], { Code: 'InternalError', SenderFault: false, Message: 'try again' }));
    const queue = new SqsBroadcastDeliveryQueue(sqs.client, broadcastDelivery.url);

    // Act
    const error = await queue
      .enqueue([
        { ...ref, recipientIds: ['a'] },
        { ...ref, recipientIds: ['b'.repeat(smallestMaximumMessageSize)] },
      ])
      .catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(MessagesNotSentError);
    const calls = sqs.front.calls('SendMessageBatch').map((call) => (call.input.Entries as { Id: string }[]).map((e) => e.Id));
    expect(calls).toEqual([['0', '1'], ['0']]);
    expect((await sqs.receiveAll(broadcastDelivery.url)).map((m) => JSON.parse(m.Body ?? '{}') as unknown)).toEqual([{ ...ref, recipientIds: ['a'] }]);
  });
});
