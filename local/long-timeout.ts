/** setTimeout fires at once beyond 2^31-1 ms (~24.8 days); longer waits are chained. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** setTimeout for any horizon, so a schedule a year out (or a yearly rule) fires on time. */
export function setLongTimeout(callback: () => void, delayMs: number): { cancel(): void } {
  const dueAt = Date.now() + delayMs;
  let handle: NodeJS.Timeout;
  const wait = (): void => {
    const remaining = dueAt - Date.now();
    handle = remaining > MAX_TIMER_MS ? setTimeout(wait, MAX_TIMER_MS) : setTimeout(callback, Math.max(0, remaining));
  };
  wait();
  return { cancel: () => clearTimeout(handle) };
}
