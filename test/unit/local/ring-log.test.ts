import { describe, expect, it } from 'vitest';
import { RingLog } from '../../../local/ring-log.ts';

interface Entry {
  readonly seq: number;
}

/** A log of `capacity` whose `seqOf` counts the entries it is asked about. */
function countedLog(capacity: number): { log: RingLog<Entry>; reads: () => number } {
  let reads = 0;
  const log = new RingLog<Entry>(capacity, (entry) => ((reads += 1), entry.seq));
  return { log, reads: () => reads };
}

const seqs = (entries: Iterable<Entry>): number[] => [...entries].map((entry) => entry.seq);

describe('RingLog', () => {
  it('keeps the newest capacity entries across several wrap-arounds, newest first', () => {
    // Prepare
    const { log } = countedLog(4);

    // Act: 11 appends wrap the ring twice
    const dropped = Array.from({ length: 11 }, (_, seq) => log.append({ seq })?.seq);

    // Assess
    expect(seqs(log.newestFirst())).toEqual([10, 9, 8, 7]);
    expect(log.size).toBe(4);
    expect(log.droppedThrough).toBe(6);
    expect(dropped).toEqual([undefined, undefined, undefined, undefined, 0, 1, 2, 3, 4, 5, 6]);
  });

  it('walks from below a sequence number that falls anywhere in the wrapped ring, with gaps between numbers', () => {
    // Prepare: numbers shared with other logs, so not consecutive; the ring's start is mid-array
    const { log } = countedLog(5);
    for (const seq of [1, 4, 9, 10, 15, 21, 22, 30]) log.append({ seq });

    // Act
    const below = [0, 10, 11, 22, 23, 31, 1_000].map((before) => seqs(log.newestFirst(before)));

    // Assess: it keeps 10, 15, 21, 22, 30
    expect(below).toEqual([[], [], [10], [21, 15, 10], [22, 21, 15, 10], [30, 22, 21, 15, 10], [30, 22, 21, 15, 10]]);
  });

  it('reads a page of 10 from a full ring of 100,000 by asking about 10 entries and its binary search', () => {
    // Prepare
    const { log, reads } = countedLog(100_000);
    for (let seq = 0; seq < 250_000; seq += 1) log.append({ seq });
    const before = reads();

    // Act: take 10 from the middle
    const page: number[] = [];
    for (const entry of log.newestFirst(200_000)) {
      page.push(entry.seq);
      if (page.length === 10) break;
    }

    // Assess: log2(100,000) < 17 probes, and the walk reads no sequence number
    expect(page).toEqual(Array.from({ length: 10 }, (_, i) => 199_999 - i));
    expect(reads() - before).toBeLessThanOrEqual(17);
  });

  it('forgets everything on clear, counting it dropped, and goes on numbering after it', () => {
    // Prepare
    const { log } = countedLog(3);
    for (const seq of [0, 1, 2, 3]) log.append({ seq });

    // Act
    log.clear();
    const afterClear = { size: log.size, droppedThrough: log.droppedThrough, entries: seqs(log.newestFirst()) };
    log.append({ seq: 4 });

    // Assess
    expect(afterClear).toEqual({ size: 0, droppedThrough: 3, entries: [] });
    expect(seqs(log.newestFirst())).toEqual([4]);
  });

  it('refuses a sequence number that does not grow, and a capacity below one entry', () => {
    // Prepare
    const { log } = countedLog(2);
    log.append({ seq: 5 });

    // Act / Assess
    expect(() => log.append({ seq: 5 })).toThrow(new RangeError('sequence numbers must grow: 5 after 5'));
    expect(() => new RingLog<Entry>(0, (entry) => entry.seq)).toThrow(RangeError);
    expect(() => new RingLog<Entry>(1.5, (entry) => entry.seq)).toThrow(RangeError);
  });
});
