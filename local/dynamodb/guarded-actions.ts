/**
 * Runs dynalite's actions in-process so that an exception anywhere in them fails that one
 * request, never the process.
 *
 * dynalite's actions are callback code: after the first LevelDB access, everything they do runs
 * in callbacks scheduled by the store (`setImmediate`, stream events), where a `try` around the
 * call cannot reach. dynalite's own server lets such an exception crash the process. Here each
 * call gets a view of the store whose every callback, lock and stream listener is wrapped: an
 * exception thrown in one rejects that call's promise, and the item locks dynalite took for it
 * inside are released, so the key stays usable.
 */
import type { Action, Callback, DynaliteStore, Json, LockFunction, SubDb, TableDescription } from './dynalite.ts';

/** Table descriptions kept by the endpoint, handed to item actions instead of a store read. */
export interface KeptTables {
  settled(name: string): TableDescription | undefined;
  remember(table: TableDescription): void;
}

type Listener = (...args: unknown[]) => void;

interface Guard {
  /** `fn`, with an exception it throws turned into the call's failure. */
  wrap<A extends unknown[]>(fn: (...args: A) => void): (...args: A) => void;
  /** The call failed: reject (once) and release the item locks still held. */
  fail(error: unknown): void;
  /** Item locks taken and not yet released, each with a function releasing it. */
  readonly held: Set<() => void>;
}

const listenerMethods = ['on', 'addListener', 'once', 'prependListener', 'prependOnceListener'] as const;

/** Makes every listener added to `stream` run under the guard. */
function guardStream(stream: NodeJS.ReadableStream, guard: Guard): NodeJS.ReadableStream {
  const target = stream as unknown as Record<(typeof listenerMethods)[number], (event: string | symbol, listener: Listener) => unknown>;
  for (const method of listenerMethods) {
    const original = target[method].bind(stream);
    target[method] = (event, listener) => {
      // `listener` lets removeListener(listener) find the wrapped one, as EventEmitter's own `once` does.
      const wrapped = Object.assign(guard.wrap(listener), { listener });
      original(event, wrapped);
      return stream;
    };
  }
  return stream;
}

function guardLock(lock: LockFunction, guard: Guard): LockFunction {
  return (key, exec) =>
    lock(
      key,
      guard.wrap((release) => {
        let released = false;
        const free = (): void => {
          if (released) return;
          released = true;
          guard.held.delete(free);
          release(() => undefined)();
        };
        guard.held.add(free);
        exec((done) => {
          const finish = release(done);
          return (...args) => {
            released = true;
            guard.held.delete(free);
            finish(...args);
          };
        });
      }),
    );
}

function guardSubDb(db: SubDb, guard: Guard): SubDb {
  const view: Partial<SubDb> = {
    get: (key, callback) => db.get(key, guard.wrap(callback)),
    put: (key, value, callback) => db.put(key, value, guard.wrap(callback)),
    del: (key, callback) => db.del(key, guard.wrap(callback)),
    batch: (operations, callback) => db.batch(operations, guard.wrap(callback)),
    createKeyStream: (options) => guardStream(db.createKeyStream(options), guard),
    createValueStream: (options) => guardStream(db.createValueStream(options), guard),
    createReadStream: (options) => guardStream(db.createReadStream(options), guard),
    lock: guardLock(db.lock, guard),
  };
  // The prototype keeps whatever else dynalite hangs on a sub-store (the account id of the table store).
  return Object.assign(Object.create(db) as SubDb, view);
}

function guardStore(store: DynaliteStore, guard: Guard, tables: KeptTables | undefined): DynaliteStore {
  const getTable = (name: string, checkStatus: boolean | Callback<TableDescription>, callback?: Callback<TableDescription>): void => {
    const done = typeof checkStatus === 'function' ? checkStatus : callback;
    const kept = tables?.settled(name);
    if (kept && done) {
      queueMicrotask(() => guard.wrap(done)(null, kept));
      return;
    }
    const remembering: Callback<TableDescription> | undefined =
      done &&
      ((error, table) => {
        if (!error && table) tables?.remember(table);
        done(error, table);
      });
    if (typeof checkStatus === 'function') store.getTable(name, guard.wrap(remembering ?? checkStatus));
    else store.getTable(name, checkStatus, remembering && guard.wrap(remembering));
  };
  const view: Partial<DynaliteStore> = {
    tableDb: guardSubDb(store.tableDb, guard),
    getItemDb: (table) => guardSubDb(store.getItemDb(table), guard),
    getIndexDb: (indexType, table, index) => guardSubDb(store.getIndexDb(indexType, table, index), guard),
    getTagDb: (table) => guardSubDb(store.getTagDb(table), guard),
    deleteItemDb: (table, callback) => store.deleteItemDb(table, guard.wrap(callback)),
    deleteIndexDb: (indexType, table, index, callback) => store.deleteIndexDb(indexType, table, index, guard.wrap(callback)),
    deleteTagDb: (table, callback) => store.deleteTagDb(table, guard.wrap(callback)),
    getTable,
  };
  return Object.assign(Object.create(store) as DynaliteStore, view);
}

/**
 * Runs `work` on a guarded view of the store; resolves with what it calls back with, rejects
 * with the error it calls back with or with any exception thrown in its callbacks. With
 * `tables`, table lookups are answered from (and kept in) it: for item operations only, as
 * table operations change the descriptions they read.
 */
export function runGuarded<T>(store: DynaliteStore, work: (store: DynaliteStore, done: Callback<T>) => void, tables?: KeptTables): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const guard: Guard = {
      held: new Set(),
      wrap: (fn) => (...args) => {
        try {
          fn(...args);
        } catch (error) {
          guard.fail(error);
        }
      },
      fail(error) {
        for (const free of [...guard.held]) free();
        if (settled) return;
        settled = true;
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    };
    const done: Callback<T> = (error, result) => {
      if (settled) return;
      settled = true;
      if (error) reject(error);
      else resolve(result as T);
    };
    guard.wrap(() => work(guardStore(store, guard, tables), done))();
  });
}

/** Runs one dynalite action (`actions/putItem` and the like) on `data`; resolves with its output. */
export function runAction(store: DynaliteStore, action: Action, data: Json, tables?: KeptTables): Promise<Json> {
  return runGuarded<Json>(store, (guarded, done) => action(guarded, data, done), tables);
}
