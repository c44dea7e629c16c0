/**
 * The hourly limits of what a caller may send themselves (their own verification codes, the
 * notifications a user who is not a sender addresses): one home for the take-or-refuse step the
 * create and the code sends share, apart from the rest of the caller's own record (me.ts), which
 * the functions that only create notifications (`fanout`) do not load.
 */
import type { Caller } from '../domain/caller.ts';
import { TooManyRequestsError } from '../errors.ts';
import type { SelfSendLimits } from '../ports.ts';

/** Takes `count` self-service sends for the caller, or refuses (429, with `retryAfterSeconds`) naming `field`. */
export async function takeSelfSends(deps: { readonly selfSend: SelfSendLimits }, caller: Caller, count: number, now: Date, field: string): Promise<void> {
  const taken = await deps.selfSend.take(caller, count, now);
  if (!taken.ok) {
    throw new TooManyRequestsError(`You have sent as much as your hourly limit allows; try again in ${taken.retryAfterSeconds} s`, {
      retryAfterSeconds: taken.retryAfterSeconds,
      details: [{ field, message: 'is over the hourly limit of what you may send yourself' }],
    });
  }
}
