/**
 * A warning before the local stack's data fills its main thread's heap.
 *
 * The emulators keep their data (tables, unless on disk; queues; schedules; streams) in the main
 * thread's V8 heap, which has a fixed limit (`heap_size_limit`: ~4 GB by default on a 64-bit
 * machine with enough memory, `--max-old-space-size` to change it). Nothing is lost gradually:
 * when the live data nears that limit, V8 collects ever more often and then ends the process
 * ("Reached heap limit"), taking every emulator and function with it. Measured, the in-memory
 * tables hold ~3.8 KB per broadcast recipient (directory entry, membership, row, inbox item and
 * unread counter, with their index entries), so ~1 million recipients' data reaches 4 GB.
 *
 * The watch reads the heap after each full (mark-compact) collection, which is when the heap in
 * use is the live data rather than garbage, and logs a warning the first time that crosses each
 * of `thresholds` (shares of the limit). It forces no collection and costs nothing between them.
 * The limit is V8's `heap_size_limit`, which adds the young generation's reserve (192 MB here)
 * to the old generation's: at the default 4 GB the shares are within 5 % of the old generation's.
 */
import { constants, PerformanceObserver } from 'node:perf_hooks';
import type { PerformanceEntry } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';

/** The heap in use and its limit, in bytes. */
export interface HeapReading {
  readonly usedBytes: number;
  readonly limitBytes: number;
}

/** Options of {@link watchHeap}. */
export interface HeapWatchOptions {
  /** Shares of the heap limit (0-1, ascending) at which to warn, each once. @default [0.5, 0.75] */
  readonly thresholds?: readonly number[];
  /** Whether the tables are in memory (then the warning proposes `HERALD_DATA_DIR`). */
  readonly tablesInMemory: boolean;
  /** @default one JSON line on stderr */
  readonly log?: (entry: Record<string, unknown>) => void;
  /** @default `v8.getHeapStatistics()`'s `used_heap_size` and `heap_size_limit` */
  readonly read?: () => HeapReading;
}

/** A running {@link watchHeap}; `stop()` disconnects it. */
export interface HeapWatch {
  stop(): void;
}

const megabyte = 1024 * 1024;

/** A `gc` performance entry: its `detail.kind` tells a full collection from a young one. */
type GcEntry = PerformanceEntry & { readonly detail?: { readonly kind?: number } };

/**
 * The warning for `reading` once it crossed `threshold` (a share of the limit), naming what to
 * do: keep the tables on disk (when they are in memory) or give Node a larger heap.
 */
export function heapWarning(reading: HeapReading, threshold: number, tablesInMemory: boolean): Record<string, unknown> {
  const used = Math.round(reading.usedBytes / megabyte);
  const limit = Math.round(reading.limitBytes / megabyte);
  const percent = Math.round((reading.usedBytes / reading.limitBytes) * 100);
  const remedies = [
    ...(tablesInMemory ? ['keep the tables on disk (HERALD_DATA_DIR=<directory>)'] : []),
    `give Node a larger heap (NODE_OPTIONS=--max-old-space-size=${Math.max(limit * 2, 8192)})`,
  ];
  return {
    level: 'WARN',
    message:
      `The local stack's data holds ${used} MB of the main thread's ${limit} MB heap limit (${percent} %, over ${Math.round(threshold * 100)} %) after a full garbage collection. ` +
      `Node ends the whole stack when the heap reaches its limit; to go on storing, ${remedies.join(', or ')}.`,
    usedMb: used,
    limitMb: limit,
  };
}

/** Starts watching the main thread's heap after each full collection (see the module comment). */
export function watchHeap(options: HeapWatchOptions): HeapWatch {
  const thresholds = [...(options.thresholds ?? [0.5, 0.75])].sort((a, b) => a - b);
  const log = options.log ?? ((entry) => console.error(JSON.stringify({ component: 'heap-watch', ...entry })));
  const read =
    options.read ??
    ((): HeapReading => {
      const statistics = getHeapStatistics();
      return { usedBytes: statistics.used_heap_size, limitBytes: statistics.heap_size_limit };
    });
  let next = 0;
  const observer = new PerformanceObserver((list) => {
    const major = list.getEntries().some((entry) => (entry as GcEntry).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR);
    if (!major || next >= thresholds.length) return;
    const reading = read();
    const share = reading.usedBytes / reading.limitBytes;
    let crossed: number | undefined;
    while (next < thresholds.length && share >= (thresholds[next] as number)) crossed = thresholds[next++];
    if (crossed !== undefined) log(heapWarning(reading, crossed, options.tablesInMemory));
  });
  observer.observe({ entryTypes: ['gc'] });
  return { stop: () => observer.disconnect() };
}
