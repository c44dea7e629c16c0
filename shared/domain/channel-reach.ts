/**
 * Whether a channel's outcome may have reached the recipient: what decides a delivered unit's
 * status (`settle`, shared/domain/delivery.ts) and what a retry keeps (the notification and
 * broadcast recipient stores' requeue). A leaf module, so the stores need not load the delivery
 * domain (and its time-zone code) to ask.
 */
import type { ChannelDelivery } from './notification.ts';

/**
 * True for `sent`, or a send that may have gone out (`unconfirmed`, or `sending` left by a stopped
 * attempt); false for `skipped` (nothing to deliver to), `failed`, and a channel with no outcome.
 */
export function mayHaveReached(delivery: ChannelDelivery | undefined): boolean {
  return delivery !== undefined && delivery.status !== 'failed' && delivery.status !== 'skipped';
}
