/** setTimeout fires at once beyond 2^31-1 ms (~24.8 days); longer waits are chained. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * setTimeout for any horizon, so a schedule a year out (or a yearly rule) fires on time, and never
 * before `Date.now()` reads its instant: Node counts timers from the event loop's cached time, so
 * a timer can end a millisecond (on a busy loop, a turn) before the clock reaches it, and the
 * Scheduler fires an `at()` schedule at its time or after, never before
 * (shared/domain/sleep-until.ts says why that matters to a delivery). `delayMs` in ms.
 */
export function setLongTimeout(callback: () => void, delayMs: number): { cancel(): void } {
  const dueAt = Date.now() + delayMs;
  let handle: NodeJS.Timeout;
  const fire = (): void => {
    const remaining = dueAt - Date.now();
    if (remaining > 0) handle = setTimeout(fire, Math.min(remaining, MAX_TIMER_MS));
    else callback();
  };
  handle = setTimeout(fire, Math.min(Math.max(0, delayMs), MAX_TIMER_MS));
  return { cancel: () => clearTimeout(handle) };
}
