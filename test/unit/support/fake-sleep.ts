/**
 * A sleep for code that takes one (the delivery engine's `EngineDeps.sleep`) that moves a fake
 * clock instead of waiting: concurrent sleepers wake in the order of their deadlines, the clock
 * set to each deadline in turn, each running on (to its next real I/O) before the next wakes. So
 * concurrent waits overlap as real ones do, rather than adding up, and cost no time.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { FakeClock } from '../fakes/clock.ts';

export function fakeSleep(clock: FakeClock, record?: number[]): (ms: number) => Promise<void> {
  const waiting: { until: number; wake: () => void }[] = [];
  let pumping = false;
  const pump = async (): Promise<void> => {
    if (pumping) return;
    pumping = true;
    // Every sleeper of this turn registers before the first one wakes.
    await nextTurn();
    while (waiting.length > 0) {
      waiting.sort((a, b) => a.until - b.until);
      const next = waiting.shift();
      if (!next) break;
      if (clock.now().getTime() < next.until) clock.set(new Date(next.until));
      next.wake();
      await nextTurn();
    }
    pumping = false;
  };
  return (ms) => {
    record?.push(ms);
    return new Promise<void>((resolve) => {
      waiting.push({ until: clock.now().getTime() + ms, wake: resolve });
      void pump();
    });
  };
}
