/**
 * EventBridge Scheduler fires about 1,000 targets a second per account ("Invocations throttle
 * limit", EventBridge Scheduler quotas); beyond, targets wait their turn. This models that quota
 * on the schedules Herald creates (their `at()` times, as the local Scheduler holds them, made by
 * the real adapter with its fire seconds counted in the local DynamoDB) and shows that a burst due at one instant arrives on time when the schedules take
 * fire seconds within the quota, and late when every one fires on the plain lead time.
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoFireSlots } from '../../../../shared/adapters/dynamo-fire-slots.ts';
import { EventBridgeDeliveryScheduler } from '../../../../shared/adapters/eventbridge-delivery-scheduler.ts';
import type { SchedulerConfig } from '../../../../shared/config.ts';
import type { FireSlots } from '../../../../shared/ports.ts';
import { startLocalDynamo } from '../../support/local-dynamo.ts';
import type { LocalDynamo } from '../../support/local-dynamo.ts';
import { startLocalScheduler, testRegion } from '../../support/local-queues.ts';
import type { LocalScheduler } from '../../support/local-queues.ts';

/** A small quota keeps the model quick; the arithmetic is the same at 1,000 a second. */
const firesPerSecond = 50;
const config: SchedulerConfig = {
  groupName: 'herald-test',
  roleArn: 'arn:aws:iam::111122223333:role/herald-scheduler',
  targetArn: 'arn:aws:sqs:eu-west-1:111122223333:herald-delivery',
  deadLetterArn: 'arn:aws:sqs:eu-west-1:111122223333:herald-scheduler-dlq',
  leadSeconds: 2,
  firesPerSecond,
};
const now = new Date('2030-01-01T12:00:00.000Z');
const due = '2030-01-01T12:10:00.000Z';
let dynamo: LocalDynamo;
let scheduler: LocalScheduler;
/** Nothing here is due within the lead time: no message goes to SQS, whose endpoint nothing answers. */
const noSqs = new SQSClient({ region: testRegion, endpoint: 'http://127.0.0.1:1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });

beforeAll(async () => {
  dynamo = await startLocalDynamo({ withTables: true });
  // The Scheduler's clock stays at `now`: nothing fires.
  scheduler = await startLocalScheduler({ sqsEndpoint: 'http://127.0.0.1:1', now, groupNames: [config.groupName] });
});

afterAll(async () => {
  noSqs.destroy();
  await scheduler?.stop();
  await dynamo?.stop();
});

beforeEach(async () => {
  await scheduler.reset(config.groupName);
});

/** Creates `count` notifications due at `due`, one create request each (the worst case: no batching). */
async function scheduleBurst(count: number, slots: FireSlots | undefined): Promise<Date[]> {
  const adapter = new EventBridgeDeliveryScheduler(scheduler.client, noSqs, config, 'https://sqs.eu-west-1.amazonaws.com/111122223333/herald-delivery', { now: () => now }, slots);
  for (let i = 0; i < count; i++) {
    await adapter.scheduleMany([{ tenantId: 'acme', id: `ntf_${String(i).padStart(26, '0')}`, recipientId: `r${i}`, scheduledAt: due }], now);
  }
  const schedules = scheduler.emulator.listSchedules().filter((schedule) => schedule.groupName === config.groupName);
  expect(schedules).toHaveLength(count);
  return schedules.map((schedule) => schedule.fireAt);
}

/** When each target reaches the queue under the quota: each second fires the earliest-due waiting targets, at most `perSecond`. */
function arrivals(fireTimes: readonly Date[], perSecond: number): number[] {
  const waiting = fireTimes.map((time) => time.getTime() / 1000).sort((a, b) => a - b);
  const arrived: number[] = [];
  for (let second = waiting[0] ?? 0; arrived.length < waiting.length; second++) {
    const ready = waiting.slice(arrived.length).filter((fire) => fire <= second).slice(0, perSecond);
    for (let i = 0; i < ready.length; i++) arrived.push(second);
  }
  return arrived;
}

describe('a burst of schedules due at one instant, under the Scheduler’s per-second quota', () => {
  const burst = 6 * firesPerSecond;
  const dueSecond = new Date(due).getTime() / 1000;

  it('arrives late when every schedule fires on the plain lead time', async () => {
    // Act
    const fireTimes = await scheduleBurst(burst, undefined);

    // Assess
    const late = arrivals(fireTimes, firesPerSecond).filter((second) => second > dueSecond);
    expect(late.length).toBeGreaterThan(0);
  });

  it('arrives on time, every one, when each takes a fire second with room', async () => {
    // Prepare
    const slots = new DynamoFireSlots(dynamo.documentClient, () => 'rate-limits', firesPerSecond);

    // Act
    const fireTimes = await scheduleBurst(burst, slots);

    // Assess
    const arrived = arrivals(fireTimes, firesPerSecond);
    expect(arrived.filter((second) => second > dueSecond)).toEqual([]);
    const perSecond = new Map<number, number>();
    for (const time of fireTimes) perSecond.set(time.getTime(), (perSecond.get(time.getTime()) ?? 0) + 1);
    expect(Math.max(...perSecond.values())).toBeLessThanOrEqual(firesPerSecond);
    // None fires before the request could have made it, nor earlier than it needs to.
    expect(Math.min(...fireTimes.map((time) => time.getTime()))).toBe(new Date(due).getTime() - (config.leadSeconds + burst / firesPerSecond - 1) * 1000);
  });
});
