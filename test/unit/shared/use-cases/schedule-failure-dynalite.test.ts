/**
 * The schedule-creation-failure rule with the real adapters: the notification store on dynalite
 * and the EventBridge scheduler adapter on the local Scheduler, whose faultable endpoint fails
 * every CreateSchedule after the first (`InternalServerException`, the SDK's retries included).
 * The request answers 503 and leaves nothing that nothing would deliver: no item, no schedule,
 * nothing for the stuck-retry sweep to find.
 */
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { faultResponse } from '../../../../local/aws-call-hook.ts';
import type { CallHook } from '../../../../local/aws-call-hook.ts';
import { DynamoNotificationStore } from '../../../../shared/adapters/dynamo-notification-store.ts';
import { DynamoNotificationSweeps } from '../../../../shared/adapters/dynamo-notification-sweeps.ts';
import { ServiceUnavailableError } from '../../../../shared/errors.ts';
import { stuckCriteria } from '../../../../shared/domain/sweeps.ts';
import { logger } from '../../../../shared/observability/logger.ts';
import { scheduleNotifications } from '../../../../shared/use-cases/notifications.ts';
import { FakeClock, InMemoryRecipientStore, InMemorySelfSendLimits } from '../../fakes/index.ts';
import { admin, aRecipient, tenantId } from '../../fakes/fixtures.ts';
import { startDynalite } from '../../support/dynalite.ts';
import type { Dynalite } from '../../support/dynalite.ts';
import { testAccountDeliveryScheduler, testAccountScheduling } from '../../support/delivery-scheduler.ts';
import { startLocalScheduler } from '../../support/local-queues.ts';

/** The Scheduler's calls, and the schedules there were when the first DeleteSchedule came. */
const calls: string[] = [];
let beforeRollback: string[] | undefined;
const hook: CallHook = (service, call) => {
  calls.push(call.operation);
  if (call.operation === 'DeleteSchedule') beforeRollback ??= scheduler.emulator.listSchedules().map((schedule) => schedule.name);
  if (call.operation !== 'CreateSchedule' || calls.filter((operation) => operation === 'CreateSchedule').length === 1) return undefined;
  return faultResponse(service, call.protocol, { statusCode: 500, code: 'InternalServerException', message: 'Unexpected error encountered while processing the request.' });
};
const scheduler = await startLocalScheduler({ now: new Date('2030-01-01T12:00:00.000Z'), groupNames: [testAccountScheduling.groupName], hook });
let dynamo: Dynalite;

beforeAll(async () => {
  logger.setLogLevel('SILENT');
  dynamo = await startDynalite();
});

afterAll(async () => {
  await dynamo?.stop();
  await scheduler.stop();
});

describe('a create whose scheduling fails part-way, on the real store', () => {
  it('answers 503, deletes the schedules it made, and leaves no notification behind', async () => {
    // Prepare: 150 recipients make two batch schedules; the Scheduler takes the first, then fails
    const clock = new FakeClock('2030-01-01T12:00:00.000Z');
    const store = new DynamoNotificationStore(dynamo.db, dynamo.tableName('notifications'));
    const recipients = new InMemoryRecipientStore();
    const ids = Array.from({ length: 150 }, (_, i) => `user-${String(i).padStart(3, '0')}`);
    for (const id of ids) await recipients.put(aRecipient({ id }));
    const deliveryScheduler = testAccountDeliveryScheduler({ scheduler: scheduler.emulator.faultableEndpoint ?? '' });

    // Act
    const request = scheduleNotifications({ notifications: store, recipients, scheduler: deliveryScheduler, clock, selfSend: new InMemorySelfSendLimits() }, admin, {
      recipients: ids,
      title: 'Maintenance',
      message: 'Tonight at 22:00',
      scheduledAt: '2030-01-01T13:00:00.000Z',
      type: 'system',
      priority: 'normal',
    });

    // Assess
    await expect(request).rejects.toBeInstanceOf(ServiceUnavailableError);
    expect(calls).toContain('DeleteSchedule');
    expect(beforeRollback).toHaveLength(1);
    expect(scheduler.emulator.listSchedules()).toEqual([]);
    const items = (await dynamo.db.send(new ScanCommand({ TableName: dynamo.tableName('notifications') }))).Items ?? [];
    expect(items.filter((item) => item.tenantId === tenantId)).toEqual([]);
    const sweeps = new DynamoNotificationSweeps(dynamo.db, dynamo.tableName('notifications'));
    const criteria = stuckCriteria(new Date('2030-01-02T00:00:00.000Z'), 300);
    for (let shard = 0; shard < sweeps.shardCount; shard++) {
      expect((await sweeps.pageStuck(shard, criteria, 100)).items).toEqual([]);
    }
  });
});
