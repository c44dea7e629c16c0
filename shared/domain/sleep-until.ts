/**
 * Waiting for an instant rather than for a duration.
 *
 * Node's timers count from the event loop's cached time (libuv's `uv_now`, read once per turn of
 * the loop), not from `Date.now()`: a timer set `at - Date.now()` ms ahead can fire a millisecond
 * before `at` on an idle loop (the two clocks round apart), and on a busy loop by as long as the
 * turn that set it had run. Whatever an instant guards (a claim conditioned on `dueAt <= now`, a
 * send reserved for the second that starts at `at`) must not run before it, so the sleep is taken
 * again for what is left.
 */

/** Most sleeps it takes to reach an instant (a sleep that returns at once, as a test's may, does not loop forever). */
const maxSleeps = 10;

/**
 * Sleeps until `now()` (epoch ms) reads `at` (epoch ms), again for what is left when a sleep
 * returned early; returns at once when `at` has passed. After `maxSleeps` sleeps it returns
 * whatever the clock says, so a caller whose condition still fails treats it as any refusal.
 */
export async function sleepUntil(now: () => number, at: number, sleep: (ms: number) => Promise<void>): Promise<void> {
  for (let i = 0, wait = at - now(); wait > 0 && i < maxSleeps; i++, wait = at - now()) await sleep(wait);
}
