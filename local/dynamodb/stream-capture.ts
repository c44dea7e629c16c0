/**
 * What feeds the tables' streams: around every write to a table with an enabled stream, the
 * items it touches are read before and after (their locks are held, so nothing else lands in
 * between) and each change becomes a record (`streams.ts`). Reading the outcome rather than
 * predicting it means a write that changed nothing, or failed its condition, adds nothing.
 */
import type { AttributeMap, DynaliteStore } from './dynalite.ts';
import { keysOf } from './stream-records.ts';
import type { ItemChange, ServiceIdentity } from './stream-records.ts';
import { enabledStream } from './streams.ts';
import type { StreamedTableDescription, StreamLog } from './streams.ts';
import { lockKeyOf, readItem } from './tables.ts';

/** An item a write touches: its table and its key (or the whole item, for a put). */
export interface CaptureTarget {
  readonly table: StreamedTableDescription;
  readonly item: AttributeMap;
}

export interface CaptureContext {
  readonly store: DynaliteStore;
  readonly streams: StreamLog;
}

/** The targets on a table with an enabled stream, whose key is valid (others the write itself refuses). */
export function streamedTargets(targets: readonly CaptureTarget[]): CaptureTarget[] {
  return targets.filter((target) => enabledStream(target.table) && lockKeyOf(target.table, target.item) !== undefined);
}

/** The items of `targets` as they are now. */
export function readTargets(context: CaptureContext, targets: readonly CaptureTarget[]): Promise<(AttributeMap | undefined)[]> {
  return Promise.all(targets.map((target) => readItem(context.store, target.table, keysOf(target.table, target.item))));
}

/** Appends to each target's stream the change from `before` to `after` (one entry per target, in order). */
export function appendChanges(
  context: CaptureContext,
  targets: readonly CaptureTarget[],
  before: readonly (AttributeMap | undefined)[],
  after: readonly (AttributeMap | undefined)[],
  identity?: ServiceIdentity,
): void {
  targets.forEach((target, i) => {
    const change: ItemChange = { before: before[i], after: after[i] };
    context.streams.append(target.table, [change], identity);
  });
}

/**
 * Runs `write` (the targets' locks held by the caller) and appends what it changed to the
 * streams; resolves or rejects as `write` does.
 */
export async function withStreamCapture<T>(
  context: CaptureContext,
  targets: readonly CaptureTarget[],
  write: () => Promise<T>,
  identity?: ServiceIdentity,
): Promise<T> {
  const streamed = streamedTargets(targets);
  if (streamed.length === 0) return write();
  const before = await readTargets(context, streamed);
  try {
    return await write();
  } finally {
    // Even a failed write may have changed some items (a batch cut short): what is there now says.
    const after = await readTargets(context, streamed).catch(() => undefined);
    if (after) appendChanges(context, streamed, before, after, identity);
  }
}
