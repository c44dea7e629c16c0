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
    expect(inMemory.message).toContain('2150 MB of the main thread\'s 4288 MB heap limit (50 %, over 50 %)');
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

  it('warns, in a process whose heap really fills, before Node would end it', async () => {
    // A child with a 512 MB old generation (a 704 MB heap limit with the young generation's
    // reserve) keeps what it allocates until the watch speaks: the warning comes from V8's own
    // collections and heap statistics, nothing injected. Without it, the child dies at ~512 MB.
    const script = `
      import { watchHeap } from ${JSON.stringify(join(repository, 'local/heap-watch.ts'))};
      const kept = [];
      const watch = watchHeap({ tablesInMemory: true, log: (entry) => { console.log(JSON.stringify(entry)); watch.stop(); process.exit(0); } });
      const grow = () => { kept.push(Array.from({ length: 25_000 }, (_, i) => ({ i, text: 'x' + i }))); setImmediate(grow); };
      grow();
    `;
    const { stdout } = await run(process.execPath, ['--max-old-space-size=512', '--input-type=module', '--eval', script], { timeout: 60_000 });

    const warning = JSON.parse(stdout.trim().split('\n')[0] ?? '') as { level: string; usedMb: number; limitMb: number; message: string };
    expect(warning.level).toBe('WARN');
    expect(warning.usedMb / warning.limitMb).toBeGreaterThanOrEqual(0.5);
    expect(warning.usedMb / warning.limitMb).toBeLessThan(1);
    expect(warning.message).toContain('HERALD_DATA_DIR');
  }, 90_000);
});
