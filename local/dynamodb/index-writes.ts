/**
 * Index writes as DynamoDB makes them: an index entry is written only when the table write changed
 * it. dynalite's `updateIndexes` puts every entry of every index the new item is in, whatever
 * changed; DynamoDB writes (and charges a write unit for) an entry only when the write puts the
 * item into the index, moves it (a changed index key: a delete and a put), takes it out, or changes
 * one of the attributes the index projects. An update that changes only attributes an index does
 * not project leaves that index alone ("Global secondary indexes: provisioned throughput
 * considerations, write capacity units", Amazon DynamoDB Developer Guide). So a `KEYS_ONLY` index
 * costs nothing on an update that keeps its keys, which is what makes it cheaper than `ALL`.
 *
 * Installed over dynalite's `updateIndexes` (its actions call it through the module's exports), so
 * every write operation, each action of a transaction and the TTL reaper's deletes follow it, and
 * the write counter (`write-counter.ts`) counts what AWS would. An entry is left out only when the
 * one stored is equal to it (read back to make sure), so what a read finds is unchanged, even
 * after a write that failed part-way.
 */
import type { AttributeMap, AttributeValue, Callback, DynaliteStore, SubDb } from './dynalite.ts';

/** A secondary index as dynalite keeps it in the table's description. */
interface IndexDescription {
  readonly IndexName: string;
  readonly KeySchema: readonly { readonly AttributeName: string }[];
  readonly Projection: { readonly ProjectionType?: string; readonly NonKeyAttributes?: readonly string[] };
}

/** The parts of a table's description the index writes read. */
interface IndexedTable {
  readonly TableName: string;
  readonly KeySchema: readonly { readonly AttributeName: string }[];
  readonly LocalSecondaryIndexes?: readonly IndexDescription[];
  readonly GlobalSecondaryIndexes?: readonly IndexDescription[];
}

/** One put or delete of an index entry, as dynalite's `getIndexActions` plans it. */
interface IndexAction {
  readonly index: string;
  readonly key: string;
  readonly item?: AttributeMap;
}

/** One write to an index store, started when called. */
type IndexWrite = (done: Callback) => void;

/** The dynalite functions this module reads and the one it replaces. */
export interface IndexWriting {
  getIndexActions(
    indexes: readonly IndexDescription[],
    existingItem: AttributeMap | null | undefined,
    item: AttributeMap | null | undefined,
    table: IndexedTable,
  ): { puts: IndexAction[]; deletes: IndexAction[] };
  updateIndexes(store: DynaliteStore, table: IndexedTable, existingItem: AttributeMap | null | undefined, item: AttributeMap | null | undefined, callback: Callback): void;
}

/** Whether two attribute values (DynamoDB JSON: `{ S: 'x' }`, `{ M: {...} }`, `{ L: [...] }`) are the same. */
export function sameAttributeValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const aKeys = Object.keys(a);
  if (aKeys.length !== Object.keys(b).length) return false;
  for (const key of aKeys) {
    if (!Object.hasOwn(b, key)) return false;
    if (!sameAttributeValue((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key])) return false;
  }
  return true;
}

/**
 * Whether the index entry of `before` and `after` is the same: both are in the index under the
 * same key (the caller knows the key did not change), and every attribute the index projects is
 * equal. `ALL` projects every attribute; `KEYS_ONLY` the table's and the index's keys, which are
 * equal when the key is; `INCLUDE` those and its `NonKeyAttributes`.
 */
function sameEntry(index: IndexDescription, table: IndexedTable, before: AttributeMap, after: AttributeMap): boolean {
  const projected: readonly string[] =
    index.Projection.ProjectionType === 'ALL'
      ? [...new Set([...Object.keys(before), ...Object.keys(after)])]
      : [...table.KeySchema, ...index.KeySchema].map((key) => key.AttributeName).concat(index.Projection.NonKeyAttributes ?? []);
  return projected.every((name) => sameAttributeValue(before[name] as AttributeValue | undefined, after[name] as AttributeValue | undefined));
}

/**
 * Replaces `db.updateIndexes` with one that leaves out the puts of entries the write did not
 * change: the item stays in the index under the same key, what the index projects is equal, and
 * the entry stored is equal to the one it would put. Deletes go first, then puts, as in dynalite.
 */
export function installIndexWriteRule(db: IndexWriting): void {
  db.updateIndexes = (store, table, existingItem, item, callback) => {
    if (!existingItem && !item) {
      callback();
      return;
    }
    const deletes: IndexWrite[] = [];
    const puts: IndexWrite[] = [];
    for (const indexType of ['Local', 'Global'] as const) {
      const indexes = table[`${indexType}SecondaryIndexes`] ?? [];
      const actions = db.getIndexActions(indexes, existingItem, item, table);
      const moved = new Set(actions.deletes.map((action) => action.index));
      const indexDb = (name: string): SubDb => store.getIndexDb(indexType, table.TableName, name);
      for (const action of actions.deletes) deletes.push((done) => indexDb(action.index).del(action.key, done));
      for (const action of actions.puts) {
        const index = indexes.find((candidate) => candidate.IndexName === action.index);
        // Unchanged: the old item was in the index under the same key (nothing deleted it) and
        // what the index projects is the same.
        const unchanged =
          index !== undefined &&
          existingItem &&
          item &&
          !moved.has(action.index) &&
          index.KeySchema.every((key) => existingItem[key.AttributeName] != null) &&
          sameEntry(index, table, existingItem, item);
        const put: IndexWrite = (done) => indexDb(action.index).put(action.key, action.item, done);
        if (!unchanged) {
          puts.push(put);
          continue;
        }
        // Left out only when the stored entry already is what would be written: a write that
        // failed part-way (one index written, the next refused, the table not) can have left the
        // entry out of step with the item, and this write then puts it right.
        puts.push((done) =>
          indexDb(action.index).get(action.key, (error, stored) => {
            if (!error && sameAttributeValue(stored, action.item)) done();
            else put(done);
          }),
        );
      }
    }
    runAll(deletes, (error) => {
      if (error) callback(error);
      else runAll(puts, callback);
    });
  };
}

/** Starts every write at once and calls back once all are done, or with the first error. */
function runAll(writes: readonly IndexWrite[], callback: Callback): void {
  let left = writes.length;
  if (left === 0) {
    callback();
    return;
  }
  let failed = false;
  for (const write of writes) {
    write((error) => {
      if (failed) return;
      if (error) {
        failed = true;
        callback(error);
      } else if (--left === 0) callback();
    });
  }
}
