/** The recurring scheduler in memory. */
import type { RecurringNotification } from '../../../shared/domain/recurring.ts';
import type { RecurringScheduler } from '../../../shared/ports.ts';
import { ScriptedFailures } from './failures.ts';

/** One schedule as it was last put. */
export interface PutRecurringSchedule {
  readonly recurring: RecurringNotification;
  readonly startDate: number | 'ended' | undefined;
}

/**
 * The recurring scheduler in memory, as EventBridgeRecurringScheduler behaves: one schedule per
 * definition, named after it, a put of a name that exists replacing it (its `ConflictException`
 * answered by an update), a remove of one that does not exist doing nothing.
 */
export class FakeRecurringScheduler implements RecurringScheduler {
  /** The schedules by definition id. */
  readonly schedules = new Map<string, PutRecurringSchedule>();
  /** Errors the next `put` calls throw, writing nothing. */
  readonly putFailures = new ScriptedFailures();
  /** Every put made, in order. */
  readonly puts: PutRecurringSchedule[] = [];
  /** Every occurrence fired (`fire`), in order: the definition's id and the instant, to the second as the adapter names it (`2030-01-01T12:00:00Z`). */
  readonly fired: { readonly id: string; readonly at: string }[] = [];
  /** Errors the next `exists` calls throw. */
  readonly existsFailures = new ScriptedFailures();

  async put(recurring: RecurringNotification, startDate: number | 'ended' | undefined): Promise<void> {
    this.putFailures.throwNext();
    this.puts.push({ recurring, startDate });
    this.schedules.set(recurring.id, { recurring, startDate });
  }

  async remove(recurring: Pick<RecurringNotification, 'tenantId' | 'id'>): Promise<void> {
    this.schedules.delete(recurring.id);
  }

  async exists(recurring: Pick<RecurringNotification, 'tenantId' | 'id'>): Promise<boolean> {
    this.existsFailures.throwNext();
    return this.schedules.has(recurring.id);
  }

  async fire(recurring: Pick<RecurringNotification, 'tenantId' | 'id'>, at: number): Promise<void> {
    this.fired.push({ id: recurring.id, at: new Date(at).toISOString().replace(/\.\d{3}Z$/, 'Z') });
  }
}
