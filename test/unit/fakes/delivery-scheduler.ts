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

  /** Every schedule that exists now. */
  all(): Scheduled[] {
    return [...this.schedules.values()];
  }

  has(tenantId: string, id: string): boolean {
    return this.schedules.has(`${tenantId}#${id}`);
  }
}
