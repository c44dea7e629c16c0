/** A clock for the local Scheduler that moves only when a test tells it to. */
import type { SchedulerClock } from '../../../local/scheduler-emulator.ts';

/** A clock that moves only when told, firing the timers it passes, in order. */
export function manualClock(startMs: number): SchedulerClock & { advance(ms: number): void } {
  let nowMs = startMs;
  const timers = new Set<{ at: number; callback: () => void }>();
  return {
    now: () => nowMs,
    setTimer(callback, delayMs) {
      const timer = { at: nowMs + Math.max(0, delayMs), callback };
      timers.add(timer);
      // What is due already runs on its own, as a real timer of 0 ms would.
      if (delayMs <= 0) setImmediate(() => timers.delete(timer) && callback());
      return { cancel: () => void timers.delete(timer) };
    },
    advance(ms) {
      nowMs += ms;
      for (const timer of [...timers].sort((a, b) => a.at - b.at)) {
        if (timer.at > nowMs || !timers.has(timer)) continue;
        timers.delete(timer);
        timer.callback();
      }
    },
  };
}
