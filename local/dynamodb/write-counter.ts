/**
 * Counts the entries the local DynamoDB endpoint writes: items to its tables, and entries to their
 * secondary indexes. These are the writes DynamoDB charges write units for when they succeed: each
 * item written costs one per 1 KB (two in a transaction), and each index the write changes costs
 * its own, a put where the item's index key is new, a delete and a put where it changed, a delete
 * where it left ("Global secondary indexes: provisioned throughput considerations"). Every such
 * write here goes through dynalite's item and index stores (`updateIndexes`, then the item's put
 * or delete), whichever operation made it (PutItem, UpdateItem, DeleteItem, BatchWriteItem, each
 * action of TransactWriteItems, the TTL reaper's deletes), so counting at those stores counts them
 * all, in memory or on disk. A write is counted when it is handed to the store (which refuses one
 * only once closed); a transaction's writes rolled back after a failure count too.
 *
 * Not counted, though AWS charges for them: a write its condition refused (at least one unit), and
 * a transaction's `ConditionCheck`. Nor the size: an entry counts once whatever its size, where AWS
 * counts a unit per started KB (Herald's items are under 1 KB). So the counts are entries written,
 * the floor of the write units, not a bill.
 *
 * The benchmarks read the counts to tell what one delivery writes, and how many writes a second
 * the endpoint sustained against its own single-item ceiling.
 */
import type { DynaliteStore, SubDb } from './dynalite.ts';

/** Entries written since the endpoint started: items to tables, entries to secondary indexes (puts and deletes each). */
export interface StoreWrites {
  readonly tableItems: number;
  readonly indexEntries: number;
}

/** `store`, whose item and index stores count their writes, and the counts so far. */
export function countingStore(store: DynaliteStore): { readonly store: DynaliteStore; writes(): StoreWrites } {
  const counts = { tableItems: 0, indexEntries: 0 };
  const views = new WeakMap<SubDb, SubDb>();
  const counted = (db: SubDb, kind: keyof typeof counts): SubDb => {
    let view = views.get(db);
    if (!view) {
      // The prototype keeps whatever else dynalite hangs on a sub-store.
      view = Object.assign(Object.create(db) as SubDb, {
        put: (key, value, callback) => {
          counts[kind] += 1;
          db.put(key, value, callback);
        },
        del: (key, callback) => {
          counts[kind] += 1;
          db.del(key, callback);
        },
        batch: (operations, callback) => {
          counts[kind] += operations.length;
          db.batch(operations, callback);
        },
      } satisfies Pick<SubDb, 'put' | 'del' | 'batch'>);
      views.set(db, view);
    }
    return view;
  };
  const view: Pick<DynaliteStore, 'getItemDb' | 'getIndexDb'> = {
    getItemDb: (table) => counted(store.getItemDb(table), 'tableItems'),
    getIndexDb: (indexType, table, index) => counted(store.getIndexDb(indexType, table, index), 'indexEntries'),
  };
  return { store: Object.assign(Object.create(store) as DynaliteStore, view), writes: () => ({ ...counts }) };
}
