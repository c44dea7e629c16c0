/**
 * An in-memory DeliveryScheduler: holds one schedule per notification. Each call yields to the
 * event loop first, as a network call would, so concurrency bugs show.
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { Notification } from '../../../shared/domain/notification.ts';
import type { DeliveryScheduler } from '../../../shared/ports.ts';
import { ScriptedFailures } from './failures.ts';

type Scheduled = Pick<Notification, 'tenantId' | 'id' | 'scheduledAt'>;

export class FakeDeliveryScheduler implements DeliveryScheduler {
  private readonly schedules = new Map<string, Scheduled>();
  /** Errors the next `unschedule` calls throw. */
  readonly unscheduleFailures = new ScriptedFailures();
  /** When set, the `schedule` call with this 1-based number fails. */
  failScheduleCall?: { readonly number: number; readonly error: unknown };
  scheduleCalls = 0;
  unscheduleCalls = 0;
  rescheduleCalls = 0;
  /** Errors the next `reschedule` calls throw (the old schedule stays). */
  readonly rescheduleFailures = new ScriptedFailures();

  async schedule(notification: Scheduled, _now: Date): Promise<void> {
    const number = ++this.scheduleCalls;
    await yieldToEventLoop();
    if (this.failScheduleCall?.number === number) throw this.failScheduleCall.error;
    this.schedules.set(`${notification.tenantId}#${notification.id}`, {
      tenantId: notification.tenantId,
      id: notification.id,
      scheduledAt: notification.scheduledAt,
    });
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
