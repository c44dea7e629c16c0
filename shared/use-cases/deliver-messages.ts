/**
 * Delivering what a batch of queue messages names, notifications or broadcast recipients alike,
 * through the one delivery engine; then saying, per message, what must come back and when.
 *
 * - A message whose `notBefore` is further ahead than the engine's hold came early (a schedule
 *   fires ahead on purpose): it goes back on the queue as it is, without a read.
 * - A notification due later than the message that names it was rescheduled: its new schedule
 *   (or message) delivers it, so this message is done with it.
 * - Units to see again later go back in one message per instant, naming only them.
 */
import type { UnitOutcome, UnitRef } from '../domain/delivery.ts';
import { unitKey } from '../domain/delivery.ts';
import { deliverUnits } from '../delivery/engine.ts';
import type { EngineDeps, EngineInvocation } from '../delivery/engine.ts';

/** The units one queue message names, and when they are due when the message says. */
export interface MessageWork {
  readonly refs: readonly UnitRef[];
  /** Epoch ms. */
  readonly notBefore?: number;
}

/** What must become of one message once its units were looked at. */
export interface MessageResult {
  /** Units to see again, one group per instant (epoch ms). */
  readonly later: readonly { readonly at: number; readonly refs: readonly UnitRef[] }[];
  /** Units that failed after their last retry: their messages belong on the dead-letter queue. */
  readonly deadLetters: readonly { readonly ref: UnitRef; readonly reason: string; readonly attempts: number }[];
  /**
   * Set when a write of one of its units threw (its cancel or hold, after the SDK's own retries):
   * the message fails and comes back under the queue's retry policy for that unit, as after any
   * fault of the store. Its dead letters are sent and its `later` units put back on their own
   * first, so that they keep their time (the failed message, back, finds them moved on).
   */
  readonly error?: unknown;
}

/** A unit due more than this after the time of the message naming it was moved on by a reschedule. */
const rescheduleToleranceMs = 1_000;

/** Delivers the units of every message together; one result per message, in order. */
export async function deliverMessages(deps: EngineDeps, messages: readonly MessageWork[], invocation: EngineInvocation): Promise<MessageResult[]> {
  const now = deps.clock.now().getTime();
  const early = (m: MessageWork): boolean => m.notBefore !== undefined && m.notBefore - now > deps.settings.holdMs;
  const refs = messages.filter((m) => !early(m)).flatMap((m) => m.refs);
  const outcomes = refs.length > 0 ? await deliverUnits(deps, refs, invocation) : new Map<string, UnitOutcome>();
  return messages.map((message): MessageResult => {
    if (early(message)) return { later: [{ at: message.notBefore ?? now, refs: message.refs }], deadLetters: [] };
    const later = new Map<number, UnitRef[]>();
    const deadLetters: MessageResult['deadLetters'][number][] = [];
    let error: { readonly error: unknown } | undefined;
    for (const ref of message.refs) {
      const outcome = outcomes.get(unitKey(ref));
      if (!outcome) continue;
      if (outcome.kind === 'error') {
        error ??= { error: outcome.error };
        continue;
      }
      if (outcome.kind === 'done') {
        if (outcome.deadLetter) deadLetters.push({ ref, ...outcome.deadLetter });
        continue;
      }
      const superseded = outcome.cause === 'notYetDue' && message.notBefore !== undefined && outcome.at > message.notBefore + rescheduleToleranceMs;
      if (superseded) continue;
      const group = later.get(outcome.at) ?? [];
      group.push(ref);
      later.set(outcome.at, group);
    }
    const groups = [...later].map(([at, group]) => ({ at, refs: group }));
    return error ? { later: groups, deadLetters, error: error.error } : { later: groups, deadLetters };
  });
}
