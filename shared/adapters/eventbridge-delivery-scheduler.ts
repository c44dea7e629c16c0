/**
 * Puts notifications on their way to the delivery queue: one one-shot EventBridge Scheduler
 * schedule per instant and batch of up to 100 notifications (a create for 100 recipients makes
 * one schedule, not 100: the Scheduler fires about 1,000 targets a second per account), or, for
 * those due within the scheduler's lead time, one message straight to the queue.
 *
 * A batch's schedule is named after its first notification (`b-<id>`); a notification scheduled
 * alone (a reschedule, send-now, a retry) has one named after itself, which a cancel removes.
 */
import { ConflictException } from '@aws-sdk/client-scheduler';
import type { SchedulerClient } from '@aws-sdk/client-scheduler';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { SchedulerConfig } from '../config.ts';
import type { DeliveryMessage } from '../domain/schemas.ts';
import { maxNotificationsPerMessage } from '../domain/notification.ts';
import type { Notification } from '../domain/notification.ts';
import type { Clock, DeliveryScheduler, FireSlots, SchedulableNotification } from '../ports.ts';
import { chunk } from '../use-cases/map-limited.ts';
import { OneShotSchedule } from './one-shot-schedule.ts';
import type { TimedMessage } from './one-shot-schedule.ts';

export { atExpression } from './one-shot-schedule.ts';

/** A reschedule racing another one may find a schedule re-created under the same name: try again. */
const rescheduleAttempts = 3;

/** The delivery message naming `batch` (one tenant, one instant). */
function messageOf(batch: readonly SchedulableNotification[]): TimedMessage {
  const [first] = batch;
  if (!first) throw new Error('An empty batch has no message');
  const message: DeliveryMessage = {
    tenantId: first.tenantId,
    notifications: batch.map((n) => ({ id: n.id, recipientId: n.recipientId })),
    notBefore: first.scheduledAt,
  };
  return { name: batch.length === 1 ? first.id : `b-${first.id}`, dueAt: new Date(first.scheduledAt), body: JSON.stringify(message) };
}

export class EventBridgeDeliveryScheduler implements DeliveryScheduler {
  private readonly oneShot: OneShotSchedule;

  /** With `slots`, a burst due at once is spread within the Scheduler's per-second quota (one-shot-schedule.ts). */
  constructor(scheduler: SchedulerClient, sqs: SQSClient, config: SchedulerConfig, queueUrl: string, clock?: Clock, slots?: FireSlots) {
    this.oneShot = new OneShotSchedule(scheduler, sqs, config, queueUrl, clock, slots);
  }

  async scheduleMany(notifications: readonly SchedulableNotification[], now: Date): Promise<void> {
    const byInstant = new Map<string, SchedulableNotification[]>();
    for (const n of notifications) {
      const key = `${n.tenantId}#${n.scheduledAt}`;
      byInstant.set(key, [...(byInstant.get(key) ?? []), n]);
    }
    const messages = [...byInstant.values()].flatMap((group) => chunk(group, maxNotificationsPerMessage).map(messageOf));
    // A retry of a create that died re-creates the schedules of the same notifications: those
    // its first attempt made already are there under the same names (the ids), and count as made.
    await this.oneShot.createMany(messages, now, { existing: 'made' });
  }

  async reschedule(notification: SchedulableNotification, now: Date): Promise<void> {
    // Delete and create rather than UpdateSchedule: the notification may have no schedule of its
    // own (it shared a batch's, or went straight to the queue) or need none now (due soon).
    for (let attempt = 1; ; attempt++) {
      await this.unschedule(notification);
      try {
        await this.oneShot.createMany([messageOf([notification])], now);
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
