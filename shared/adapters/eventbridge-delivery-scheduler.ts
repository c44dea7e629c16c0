/**
 * Puts notifications on their way to the delivery queue: one one-shot EventBridge Scheduler
 * schedule per notification, or, for one due within the scheduler's lead time, a message sent
 * straight to the queue with `DelaySeconds`.
 *
 * AWS fires one-time schedules within about a minute of their time, so schedules fire
 * `leadSeconds` early and the delivery consumer holds the message (visibility) until the exact
 * second: delivery lands on time instead of up to a minute late.
 */
import { ConflictException } from '@aws-sdk/client-scheduler';
import type { SchedulerClient } from '@aws-sdk/client-scheduler';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { SchedulerConfig } from '../config.ts';
import type { DeliveryMessage } from '../domain/schemas.ts';
import type { Notification } from '../domain/notification.ts';
import type { DeliveryScheduler } from '../ports.ts';
import { OneShotSchedule } from './one-shot-schedule.ts';

export { atExpression } from './one-shot-schedule.ts';

/** A reschedule racing another one may find a schedule re-created under the same name: try again. */
const rescheduleAttempts = 3;

export class EventBridgeDeliveryScheduler implements DeliveryScheduler {
  private readonly oneShot: OneShotSchedule;

  constructor(scheduler: SchedulerClient, sqs: SQSClient, config: SchedulerConfig, queueUrl: string) {
    this.oneShot = new OneShotSchedule(scheduler, sqs, config, queueUrl);
  }

  async schedule(notification: Pick<Notification, 'tenantId' | 'id' | 'scheduledAt'>, now: Date): Promise<void> {
    const message: DeliveryMessage = { tenantId: notification.tenantId, notificationId: notification.id };
    await this.oneShot.create(notification.id, new Date(notification.scheduledAt), JSON.stringify(message), now);
  }

  async reschedule(notification: Pick<Notification, 'tenantId' | 'id' | 'scheduledAt'>, now: Date): Promise<void> {
    // Delete and create rather than UpdateSchedule: the notification may have no schedule (it
    // went straight to the queue) or need none now (due within the lead time).
    for (let attempt = 1; ; attempt++) {
      await this.unschedule(notification);
      try {
        await this.schedule(notification, now);
        return;
      } catch (error) {
        if (!(error instanceof ConflictException) || attempt === rescheduleAttempts) throw error;
      }
    }
  }

  async unschedule(notification: Pick<Notification, 'tenantId' | 'id'>): Promise<void> {
    await this.oneShot.remove(notification.id);
  }
}
