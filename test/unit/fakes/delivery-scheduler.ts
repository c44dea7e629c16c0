/**
 * An in-memory DeliveryScheduler: knows which notifications have a schedule (a batch's, shared by
 * up to 100 due at one instant, or one of their own). Each call yields to the event loop first,
 * as a network call would, so concurrency bugs show.
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { Notification } from '../../../shared/domain/notification.ts';
import type { DeliveryScheduler } from '../../../shared/ports.ts';
import { ScriptedFailures } from './failures.ts';

type Scheduled = Pick<Notification, 'tenantId' | 'id' | 'scheduledAt'>;

/** Notifications per schedule, as the EventBridge adapter batches them. */
const batchSize = 100;

export class FakeDeliveryScheduler implements DeliveryScheduler {
  private readonly schedules = new Map<string, Scheduled>();
  /** Errors the next `unschedule` calls throw. */
  readonly unscheduleFailures = new ScriptedFailures();
  /** When set, the batch schedule with this 1-based number fails (and, as the contract says, those made before it are removed). */
  failScheduleCall?: { readonly number: number; readonly error: unknown };
  /** Batch schedules made (or attempted). */
  scheduleCalls = 0;
  unscheduleCalls = 0;
  rescheduleCalls = 0;
  /** Errors the next `reschedule` calls throw (the old schedule stays). */
  readonly rescheduleFailures = new ScriptedFailures();

  async scheduleMany(notifications: readonly Scheduled[], _now: Date): Promise<void> {
    const made: Scheduled[] = [];
    for (let start = 0; start < notifications.length; start += batchSize) {
      const number = ++this.scheduleCalls;
      await yieldToEventLoop();
      if (this.failScheduleCall?.number === number) {
        for (const n of made) this.schedules.delete(`${n.tenantId}#${n.id}`);
        throw this.failScheduleCall.error;
      }
      for (const n of notifications.slice(start, start + batchSize)) {
        this.schedules.set(`${n.tenantId}#${n.id}`, { tenantId: n.tenantId, id: n.id, scheduledAt: n.scheduledAt });
        made.push(n);
      }
    }
  }

  async unschedule(notification: Pick<Notification, 'tenantId' | 'id'>): Promise<void> {
    this.unscheduleCalls++;
    await yieldToEventLoop();
    this.unscheduleFailures.throwNext();
    this.schedules.delete(`${notification.tenantId}#${notification.id}`);
  }

  async reschedule(notification: Scheduled, _now: Date): Promise<void> {
    this.rescheduleCalls++;
    await yieldToEventLoop();
    this.rescheduleFailures.throwNext();
    this.schedules.set(`${notification.tenantId}#${notification.id}`, {
      tenantId: notification.tenantId,
      id: notification.id,
      scheduledAt: notification.scheduledAt,
    });
  }

  /** The schedule of a notification, if it has one. */
  scheduleOf(tenantId: string, id: string): Scheduled | undefined {
    return this.schedules.get(`${tenantId}#${id}`);
  }

  /** Every schedule that exists now. */
  all(): Scheduled[] {
    return [...this.schedules.values()];
  }

  has(tenantId: string, id: string): boolean {
    return this.schedules.has(`${tenantId}#${id}`);
  }
}
