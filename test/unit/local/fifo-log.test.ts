import { describe, expect, it } from 'vitest';
import { FifoLog } from '../../../local/fifo-log.ts';

describe('FifoLog', () => {
  it('expires from the oldest while the test holds, answering the last dropped, and indexes what it keeps', () => {
    // Prepare
    const log = new FifoLog<number>();
    for (const n of [1, 2, 3, 4, 5]) log.push(n);

    // Act
    const last = log.dropWhile((n) => n < 3);
    const none = log.dropWhile((n) => n < 3);

    // Assess
    expect([last, none]).toEqual([2, undefined]);
    expect(log.length).toBe(3);
    expect([log.at(0), log.at(2), log.at(3), log.at(-1), log.at(-3), log.at(-4)]).toEqual([3, 5, undefined, 5, 3, undefined]);
    expect(log.slice()).toEqual([3, 4, 5]);
    expect(log.slice(1, 10)).toEqual([4, 5]);
  });

  it('keeps order and indexes through many expiries, past the point where it compacts its front', () => {
    // Prepare: a window of the last 1,500 of 20,000, expiring one per append as a full window does
    const log = new FifoLog<number>();

    // Act
    for (let n = 0; n < 20_000; n += 1) {
      log.push(n);
      log.dropWhile((kept) => kept <= n - 1_500);
    }

    // Assess
    expect(log.length).toBe(1_500);
    expect([log.at(0), log.at(-1), log.at(750)]).toEqual([18_500, 19_999, 19_250]);
    expect(log.slice(0, 3)).toEqual([18_500, 18_501, 18_502]);
  });

  it('removes one entry wherever it is, and answers false for one it does not keep', () => {
    // Prepare
    const log = new FifoLog<{ n: number }>();
    const entries = [{ n: 1 }, { n: 2 }, { n: 3 }];
    for (const entry of entries) log.push(entry);
    log.dropWhile((entry) => entry.n === 1);

    // Act
    const removed = log.remove(entries[1] as { n: number });
    const expired = log.remove(entries[0] as { n: number });

    // Assess
    expect([removed, expired]).toEqual([true, false]);
    expect(log.slice()).toEqual([{ n: 3 }]);
  });
});
