/**
 * The rules of the two sweeps, as plain time arithmetic. Stuck-retry: a pending notification is
 * stuck once it is `stuckAfterSeconds` past due with nothing delivering it, a sending one as soon
 * as its worker's lease has ended. Cleanup: a cancelled notification goes after its retention.
 */

const dayMs = 24 * 60 * 60 * 1000;

/** What makes a notification stuck at `now`. */
export interface StuckCriteria {
  /** Pending and due at or before this: the delivery that should have come did not. */
  readonly pendingDueBy: Date;
  /** Sending under a lease that ended before this: its worker died. */
  readonly leaseEndedBefore: Date;
}

/** The stuck criteria at `now`. */
export function stuckCriteria(now: Date, stuckAfterSeconds: number): StuckCriteria {
  return { pendingDueBy: new Date(now.getTime() - stuckAfterSeconds * 1000), leaseEndedBefore: now };
}

/** Cancelled notifications cancelled before this instant are deleted. */
export function cancelledCutoff(now: Date, retentionDays: number): Date {
  return new Date(now.getTime() - retentionDays * dayMs);
}
