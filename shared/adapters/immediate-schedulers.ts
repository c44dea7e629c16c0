/**
 * The schedulers of what is due now: an occurrence of a recurring notification creates its
 * notifications or its broadcast for the instant it runs, so they go straight onto their queue and
 * no schedule is ever made. The fan-out function, which runs occurrences, therefore needs no right
 * on EventBridge Scheduler (least privilege; test/infra/herald-service-stack.test.ts).
 */
import { chunk } from '../use-cases/map-limited.ts';
import type { Broadcast } from '../domain/broadcast.ts';
import type { DeliveryMessage } from '../domain/schemas.ts';
import { maxNotificationsPerMessage } from '../domain/notification.ts';
import type { BroadcastScheduler, DeliveryEnqueuer, DeliveryScheduler, FanoutQueue, SchedulableNotification } from '../ports.ts';

/** The SQS delay limit: nothing due later than this can go straight onto a queue. */
const maxImmediateMs = 15 * 60 * 1000;

/** Notifications due now (within 15 minutes), onto the delivery queue, 100 per message with their time. */
export class ImmediateDeliveryScheduler implements DeliveryScheduler {
  private readonly queue: DeliveryEnqueuer;

  constructor(queue: DeliveryEnqueuer) {
    this.queue = queue;
  }

  async scheduleMany(notifications: readonly SchedulableNotification[], now: Date): Promise<void> {
    if (notifications.some((n) => Date.parse(n.scheduledAt) > now.getTime() + maxImmediateMs)) {
      throw new Error('ImmediateDeliveryScheduler takes only notifications due within 15 minutes');
    }
    const byTenant = Map.groupBy(notifications, (n) => `${n.tenantId}\n${n.scheduledAt}`);
    const messages: DeliveryMessage[] = [...byTenant.values()].flatMap((group) =>
      chunk(group, maxNotificationsPerMessage).map((part) => ({
        tenantId: part[0]?.tenantId ?? '',
        notifications: part.map((n) => ({ id: n.id, recipientId: n.recipientId })),
        notBefore: part[0]?.scheduledAt ?? now.toISOString(),
      })),
    );
    const accepted = await this.queue.enqueue(messages);
    if (accepted < messages.length) throw new Error(`Only ${accepted} of ${messages.length} delivery messages were accepted`);
  }

  async unschedule(): Promise<void> {
    // Nothing was scheduled: the message is on the queue, and a cancelled notification is never delivered.
  }

  async reschedule(notification: SchedulableNotification, now: Date): Promise<void> {
    await this.scheduleMany([notification], now);
  }
}

/** A broadcast due now: its `start` straight onto the fan-out queue. */
export class ImmediateBroadcastScheduler implements BroadcastScheduler {
  private readonly fanout: FanoutQueue;

  constructor(fanout: FanoutQueue) {
    this.fanout = fanout;
  }

  async schedule(broadcast: Pick<Broadcast, 'tenantId' | 'id'> & { readonly scheduledAt: string }): Promise<void> {
    await this.fanout.send([{ kind: 'start', tenantId: broadcast.tenantId, broadcastId: broadcast.id }]);
  }

  async unschedule(): Promise<void> {
    // Nothing was scheduled.
  }
}
