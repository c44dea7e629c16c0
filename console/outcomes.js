// What the notifications panel shows for a channel of a notification that has no outcome on it
// yet (test/unit/console/outcomes.test.ts): the channels of a cancelled notification were never
// attempted and never will be; quiet hours hold a pending one (until its `heldUntil`); a
// notification that ended without trying a channel says so; otherwise the channel waits for its
// time or its next attempt.

/**
 * The status shown for a channel without an outcome, from its notification's status and hold.
 * @param {{ status: string, heldUntil?: string | null }} notification
 * @returns {'cancelled' | 'not attempted' | 'held' | 'waiting'}
 */
export function unattemptedChannelStatus(notification) {
  if (notification.status === 'cancelled') return 'cancelled';
  if (notification.status === 'sent' || notification.status === 'failed') return 'not attempted';
  if (notification.heldUntil) return 'held';
  return 'waiting';
}
