/**
 * The schedule-creation-failure rule with the real adapters: the notification store on dynalite
 * and the EventBridge scheduler adapter on a mocked Scheduler that fails part-way. The request
 * answers 503 and leaves nothing that nothing would deliver: no item, no schedule, nothing for the
 * stuck-retry sweep to find.
 */
import { CreateScheduleCommand, DeleteScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoNotificationStore } from '../../../../shared/adapters/dynamo-notification-store.ts';
import { DynamoNotificationSweeps } from '../../../../shared/adapters/dynamo-notification-sweeps.ts';
import { ServiceUnavailableError } from '../../../../shared/errors.ts';
import { stuckCriteria } from '../../../../shared/domain/sweeps.ts';
import { logger } from '../../../../shared/observability/logger.ts';
import { scheduleNotifications } from '../../../../shared/use-cases/notifications.ts';
import { FakeClock, InMemoryRecipientStore, InMemorySelfSendLimits } from '../../fakes/index.ts';
import { admin, aRecipient, awsError, tenantId } from '../../fakes/fixtures.ts';
import { startDynalite } from '../../support/dynalite.ts';
import type { Dynalite } from '../../support/dynalite.ts';
import { testAccountDeliveryScheduler } from '../../support/delivery-scheduler.ts';

const schedulerMock = mockClient(SchedulerClient);
let dynamo: Dynalite;

beforeAll(async () => {
  logger.setLogLevel('SILENT');
  dynamo = await startDynalite();
});

afterAll(async () => {
  await dynamo?.stop();
  schedulerMock.restore();
});

describe('a create whose scheduling fails part-way, on the real store', () => {
  it('answers 503, deletes the schedules it made, and leaves no notification behind', async () => {
    // Prepare: 150 recipients make two batch schedules; the Scheduler takes the first, then fails
    const clock = new FakeClock('2030-01-01T12:00:00.000Z');
    const store = new DynamoNotificationStore(dynamo.db, dynamo.tableName('notifications'));
    const recipients = new InMemoryRecipientStore();
    const ids = Array.from({ length: 150 }, (_, i) => `user-${String(i).padStart(3, '0')}`);
    for (const id of ids) await recipients.put(aRecipient({ id }));
    schedulerMock.on(CreateScheduleCommand).resolvesOnce({ ScheduleArn: 'arn:aws:scheduler:::schedule/herald/x' }).rejects(awsError('ServiceUnavailableException', 503));
    schedulerMock.on(DeleteScheduleCommand).resolves({});
    const scheduler = testAccountDeliveryScheduler();

    // Act
    const request = scheduleNotifications({ notifications: store, recipients, scheduler, clock, selfSend: new InMemorySelfSendLimits() }, admin, {
      recipients: ids,
      title: 'Maintenance',
      message: 'Tonight at 22:00',
      scheduledAt: '2030-01-01T13:00:00.000Z',
      type: 'system',
      priority: 'normal',
    });

    // Assess
    await expect(request).rejects.toBeInstanceOf(ServiceUnavailableError);
    const created = schedulerMock.commandCalls(CreateScheduleCommand).map((c) => c.args[0].input.Name);
    const deleted = schedulerMock.commandCalls(DeleteScheduleCommand).map((c) => c.args[0].input.Name);
    expect(deleted).toContain(created[0]);
    const items = (await dynamo.db.send(new ScanCommand({ TableName: dynamo.tableName('notifications') }))).Items ?? [];
    expect(items.filter((item) => item.tenantId === tenantId)).toEqual([]);
    const sweeps = new DynamoNotificationSweeps(dynamo.db, dynamo.tableName('notifications'));
    const criteria = stuckCriteria(new Date('2030-01-02T00:00:00.000Z'), 300);
    for (let shard = 0; shard < sweeps.shardCount; shard++) {
      expect((await sweeps.pageStuck(shard, criteria, 100)).items).toEqual([]);
    }
  });
});
