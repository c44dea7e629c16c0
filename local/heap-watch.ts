/**
 * A warning before the local stack's data fills its main thread's heap.
 *
 * The emulators keep their data (tables, unless on disk; queues; schedules; streams) in the main
 * thread's V8 heap, whose old generation has a fixed limit (4 GB by default on a 64-bit machine
 * with enough memory, `--max-old-space-size` to change it). Nothing is lost gradually:
 * when the live data nears that limit, V8 collects ever more often and then ends the process
 * ("Reached heap limit"), taking every emulator and function with it. Measured, the in-memory
 * tables hold ~3.8 KB per broadcast recipient (directory entry, membership, row, inbox item and
 * unread counter, with their index entries), so ~1 million recipients' data reaches 4 GB.
 *
 * The watch reads the heap when Node reports a full (mark-compact) collection to its `gc`
 * observer, a turn or two after it ended: then what is in use is about the live data rather than
 * garbage. It logs a warning the first time that crosses each of `thresholds`. It forces no
 * collection; between full ones it costs a callback per young collection.
 *
 * What it compares is the old generation, where data that lives stays, with the old
 * generation's limit (`--max-old-space-size`), the one whose reaching ends the process. V8 tells
 * neither directly: `heap_size_limit` adds the young generation's reserve, three times its
 * largest semi-space (64 MB in Node 24 unless `--max-semi-space-size` says otherwise: 4,096 MB
 * of old generation show as 4,288 MB). Against that sum a 256 MB old generation could never pass
 * 57 %, so the reserve is taken off (`youngReserveBytes`), and the young generation's use off the
 * heap in use. A semi-space set larger than 64 MB makes the warnings come late by the difference
 * (three times it); one set smaller, early.
 */
import { constants, PerformanceObserver } from 'node:perf_hooks';
import type { PerformanceEntry } from 'node:perf_hooks';
import { getHeapSpaceStatistics, getHeapStatistics } from 'node:v8';

/** The old generation's use and its limit, in bytes. */
export interface HeapReading {
  readonly usedBytes: number;
  readonly limitBytes: number;
}

/** Options of {@link watchHeap}. */
export interface HeapWatchOptions {
  /** Shares of the old generation's limit (0-1, ascending) at which to warn, each once. @default [0.5, 0.75] */
  readonly thresholds?: readonly number[];
  /** Whether the tables are in memory (then the warning proposes `HERALD_DATA_DIR`). */
  readonly tablesInMemory: boolean;
  /** @default one JSON line on stderr */
  readonly log?: (entry: Record<string, unknown>) => void;
  /** @default {@link readOldGeneration} */
  readonly read?: () => HeapReading;
}

/** The young generation's reserve within `heap_size_limit` in Node 24: three 64 MB semi-spaces. */
export const defaultYoungReserveBytes = 3 * 64 * 1024 * 1024;

/**
 * The old generation's use (the heap in use less the young generation's spaces) and its limit
 * (`heap_size_limit` less `youngReserveBytes`, and at least half of it), from V8's statistics.
 */
export function readOldGeneration(youngReserveBytes: number = defaultYoungReserveBytes): HeapReading {
  const statistics = getHeapStatistics();
  const young = getHeapSpaceStatistics()
    .filter((space) => space.space_name === 'new_space' || space.space_name === 'new_large_object_space')
    .reduce((sum, space) => sum + space.space_used_size, 0);
  return {
    usedBytes: Math.max(0, statistics.used_heap_size - young),
    limitBytes: Math.max(statistics.heap_size_limit - youngReserveBytes, statistics.heap_size_limit / 2),
  };
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
      `The local stack's data holds ${used} MB of the ${limit} MB the main thread's heap may keep (${percent} %, over ${Math.round(threshold * 100)} %) after a full garbage collection. ` +
      `Node ends the whole stack when the heap reaches its limit; to go on storing, ${remedies.join(', or ')}.`,
    usedMb: used,
    limitMb: limit,
  };
}

/** Starts watching the main thread's old generation after each full collection (see the module comment). */
export function watchHeap(options: HeapWatchOptions): HeapWatch {
  const thresholds = [...(options.thresholds ?? [0.5, 0.75])].sort((a, b) => a - b);
  const log = options.log ?? ((entry) => console.error(JSON.stringify({ component: 'heap-watch', ...entry })));
  const read = options.read ?? ((): HeapReading => readOldGeneration());
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
