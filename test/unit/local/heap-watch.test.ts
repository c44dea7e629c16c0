import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { heapWarning, watchHeap } from '../../../local/heap-watch.ts';
import type { HeapReading } from '../../../local/heap-watch.ts';

const run = promisify(execFile);
const repository = join(import.meta.dirname, '../../..');
const megabyte = 1024 * 1024;

/** A full (mark-compact) collection of this thread's heap, which the watch observes as V8's own. */
function fullGc(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

/** Lets the gc performance entries reach their observer (they are delivered on a later turn). */
const observed = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 50));

describe('heapWarning', () => {
  it('names the heap used, its limit and share, and proposes the data directory only for tables in memory', () => {
    const reading = { usedBytes: 2_150 * megabyte, limitBytes: 4_288 * megabyte };

    const inMemory = heapWarning(reading, 0.5, true);
    const onDisk = heapWarning(reading, 0.5, false);

    expect(inMemory).toMatchObject({ level: 'WARN', usedMb: 2_150, limitMb: 4_288 });
    expect(inMemory.message).toContain('2150 MB of the 4288 MB the main thread\'s heap may keep (50 %, over 50 %)');
    expect(inMemory.message).toContain('HERALD_DATA_DIR=<directory>');
    expect(inMemory.message).toContain('NODE_OPTIONS=--max-old-space-size=8576');
    expect(onDisk.message).not.toContain('HERALD_DATA_DIR');
    expect(onDisk.message).toContain('--max-old-space-size=8576');
  });
});

describe('watchHeap', () => {
  it('warns once per threshold crossed after a full collection, the highest crossed when several are at once', async () => {
    // Prepare
    const logged: Record<string, unknown>[] = [];
    let reading: HeapReading = { usedBytes: 40, limitBytes: 100 };
    const watch = watchHeap({ tablesInMemory: true, log: (entry) => logged.push(entry), read: () => reading });

    try {
      // Act and assert: below the first threshold, nothing.
      fullGc();
      await observed();
      expect(logged).toEqual([]);

      // Over 50 %: one warning, not repeated while it stays there.
      reading = { usedBytes: 60, limitBytes: 100 };
      fullGc();
      await observed();
      fullGc();
      await observed();
      expect(logged.map((entry) => entry.message)).toEqual([expect.stringContaining('(60 %, over 50 %)')]);

      // Past 75 % too: the second, and then none.
      reading = { usedBytes: 90, limitBytes: 100 };
      fullGc();
      await observed();
      fullGc();
      await observed();
      expect(logged.map((entry) => entry.message)).toEqual([expect.stringContaining('over 50 %'), expect.stringContaining('(90 %, over 75 %)')]);
    } finally {
      watch.stop();
    }
  });

  it('warns once, for the highest threshold, when one collection crosses two', async () => {
    const logged: Record<string, unknown>[] = [];
    const watch = watchHeap({ tablesInMemory: false, log: (entry) => logged.push(entry), read: () => ({ usedBytes: 80, limitBytes: 100 }) });
    try {
      fullGc();
      await observed();
      expect(logged.map((entry) => entry.message)).toEqual([expect.stringContaining('(80 %, over 75 %)')]);
    } finally {
      watch.stop();
    }
  });

  it('stops reading once stopped', async () => {
    let reads = 0;
    const watch = watchHeap({ tablesInMemory: true, log: () => undefined, read: () => ({ usedBytes: ++reads, limitBytes: 100 }) });
    fullGc();
    await observed();
    const before = reads;
    watch.stop();
    fullGc();
    await observed();
    expect(before).toBeGreaterThan(0);
    expect(reads).toBe(before);
  });

  it('warns at 50 % and at 75 %, in a process whose heap really fills, before Node would end it', async () => {
    // A child with a 256 MB old generation keeps what it allocates and goes on after the first
    // warning; it leaves at the second. Without both it dies of "Reached heap limit". The warnings
    // come from V8's own collections and statistics, nothing injected.
    const script = `
      import { watchHeap } from ${JSON.stringify(join(repository, 'local/heap-watch.ts'))};
      const kept = [];
      const watch = watchHeap({ tablesInMemory: true, log: (entry) => {
        console.log(JSON.stringify(entry));
        if (entry.message.includes('over 75 %')) { watch.stop(); process.exit(0); }
      } });
      const grow = () => { kept.push(Array.from({ length: 25_000 }, (_, i) => ({ i, text: 'x' + i }))); setImmediate(grow); };
      grow();
    `;
    const { stdout } = await run(process.execPath, ['--max-old-space-size=256', '--input-type=module', '--eval', script], { timeout: 60_000 });

    const warnings = stdout.trim().split('\n').map((line) => JSON.parse(line) as { level: string; usedMb: number; limitMb: number; message: string });
    expect(warnings.map((w) => /over (\d+) %/.exec(w.message)?.[1])).toEqual(['50', '75']);
    expect(warnings.every((w) => w.level === 'WARN' && w.limitMb === 256 && w.message.includes('HERALD_DATA_DIR'))).toBe(true);
    expect(warnings.map((w) => w.usedMb / w.limitMb)).toEqual([expect.toSatisfy((share: number) => share >= 0.5 && share < 1), expect.toSatisfy((share: number) => share >= 0.75 && share < 1)]);
  }, 90_000);

  it('reads the old generation against the limit --max-old-space-size sets, without the young generation', async () => {
    const script = `
      import { readOldGeneration } from ${JSON.stringify(join(repository, 'local/heap-watch.ts'))};
      const { usedBytes, limitBytes } = readOldGeneration();
      console.log(JSON.stringify({ usedMb: usedBytes / 2 ** 20, limitMb: limitBytes / 2 ** 20 }));
    `;
    const readings = await Promise.all(
      [300, 2048].map(async (mb) => JSON.parse((await run(process.execPath, [`--max-old-space-size=${mb}`, '--input-type=module', '--eval', script], { timeout: 60_000 })).stdout) as { usedMb: number; limitMb: number }),
    );

    expect(readings.map((r) => r.limitMb)).toEqual([300, 2048]);
    expect(readings.every((r) => r.usedMb > 0 && r.usedMb < 50)).toBe(true);
  }, 90_000);
});
