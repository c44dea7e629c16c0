/** Timers on a FakeClock: they fire when the clock is moved past them through `advance`, never on their own. */
import type { SetTimer } from '../../../shared/delivery/commit-as-ready.ts';
import type { FakeClock } from './clock.ts';

export class FakeTimers {
  private readonly clock: FakeClock;
  private readonly timers = new Set<{ readonly at: number; readonly callback: () => void }>();

  constructor(clock: FakeClock) {
    this.clock = clock;
  }

  /** Sets a timer that fires once the clock has been moved `delayMs` on. */
  readonly setTimer: SetTimer = (callback, delayMs) => {
    const timer = { at: this.clock.now().getTime() + delayMs, callback };
    this.timers.add(timer);
    return { cancel: () => void this.timers.delete(timer) };
  };

  /** Timers set and neither fired nor cancelled. */
  get pending(): number {
    return this.timers.size;
  }

  /** Moves the clock on by `ms` and fires, in order, the timers it passed. */
  advance(ms: number): void {
    this.clock.advanceSeconds(ms / 1000);
    const now = this.clock.now().getTime();
    for (const timer of [...this.timers].sort((a, b) => a.at - b.at)) {
      if (timer.at > now || !this.timers.has(timer)) continue;
      this.timers.delete(timer);
      timer.callback();
    }
  }
}
