/**
 * The in-memory store under dynalite's tables: a sorted map of string keys to JSON strings, in
 * place of the `memory-level` database dynalite creates.
 *
 * dynalite 4.0 reaches its store through one root database (`store.db`), whose `get`, `put`,
 * `del`, `batch`, `createKeyStream` and `createValueStream` every table, index and description
 * goes through (its sub-databases only prefix the keys). On `memory-level` each of those calls
 * ran through `abstract-level`'s encodings and deferred-open checks, a Buffer per key and value
 * (which also pinned Node's 64 KB pool slabs), a promise chain and dynalite's operation tracking:
 * ~20 % of the emulators' thread under the broadcast bench, and a key Buffer, a value Buffer and
 * their ArrayBuffers per entry. Here a call is one lookup in a persistent red-black tree (the
 * structure `memory-level` itself uses) and each entry is two strings.
 *
 * Kept as `memory-level` behaves, so dynalite cannot tell:
 * - values are stored as JSON (dynalite opens its root database with `valueEncoding: 'json'`), so
 *   every read returns a fresh object that the caller may change;
 * - keys sort in the order `memory-level` sorted their bytes (see {@link compareKeys});
 * - a batch applies all its operations or none, and a stream reads the entries as they were when
 *   it was created (writes made while it is read do not show);
 * - callbacks are called asynchronously (`setImmediate`, as dynalite's wrappers call them), and a
 *   call without a callback returns a promise;
 * - a missing key reads as `undefined`; once the database is closed every call fails with
 *   `Database is closed`.
 * The store on disk (`HERALD_DATA_DIR`, LevelDB) is not replaced.
 */
import { Readable } from 'node:stream';
import createTree from 'functional-red-black-tree';

type Tree<K, V> = createTree.Tree<K, V>;

/**
 * Orders two keys. dynalite's keys are ASCII: table and index names (DynamoDB allows only
 * `[a-zA-Z0-9_.-]`) and key values in hex (S, B) or in its sortable number form (N), so
 * code-unit order is the byte order `memory-level` compared them in, which for string keys is the
 * order of their UTF-8 bytes, as DynamoDB sorts them. (Tag keys, the one free text, differ only in
 * the order ListTagsOfResource lists them, which AWS does not define.)
 */
function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A key range as `abstract-level` reads it: bounds, direction, and at most `limit` entries (-1: no limit). */
export interface RangeOptions {
  readonly gt?: unknown;
  readonly gte?: unknown;
  readonly lt?: unknown;
  readonly lte?: unknown;
  readonly reverse?: boolean;
  readonly limit?: number;
}

/** One write of a batch, as `abstract-level` takes them. */
export interface BatchOperation {
  readonly type: 'put' | 'del';
  readonly key: unknown;
  readonly value?: unknown;
}

type Callback<T> = (error: Error | null, result?: T) => void;

/** The root database methods {@link installMemoryStore} replaces, as dynalite calls them. */
export interface RootDatabase {
  put(key: unknown, value: unknown, callback?: Callback<void>): Promise<void> | undefined;
  get(key: unknown, callback?: Callback<unknown>): Promise<unknown> | undefined;
  del(key: unknown, callback?: Callback<void>): Promise<void> | undefined;
  batch(operations: readonly BatchOperation[], callback?: Callback<void>): Promise<void> | undefined;
  createKeyStream(options?: RangeOptions): Readable;
  createValueStream(options?: RangeOptions): Readable;
  close: ((callback?: Callback<void>) => Promise<void> | undefined) & { readonly _original?: () => Promise<void> };
}

/** The thrown error of a call made after the database was closed (dynalite's message). */
export class DatabaseClosedError extends Error {
  constructor() {
    super('Database is closed');
    this.name = 'DatabaseClosedError';
  }
}

const keyOf = (key: unknown): string => (typeof key === 'string' ? key : String(key));

/** The entries stored: key → the value's JSON. */
export class MemoryStore {
  private tree: Tree<string, string> = createTree<string, string>(compareKeys);
  private closed = false;

  /** How many entries are stored. */
  get size(): number {
    return this.tree.length;
  }

  /** The value stored at `key`, parsed from its JSON; undefined when there is none. @throws DatabaseClosedError */
  get(key: unknown): unknown {
    this.assertOpen();
    const json = this.tree.get(keyOf(key));
    return json === undefined ? undefined : JSON.parse(json);
  }

  /** Stores `value` (as JSON) at `key`, replacing what was there. @throws DatabaseClosedError, or JSON.stringify's TypeError */
  put(key: unknown, value: unknown): void {
    this.assertOpen();
    this.tree = withPut(this.tree, keyOf(key), JSON.stringify(value));
  }

  /** Removes `key` (nothing when absent). @throws DatabaseClosedError */
  del(key: unknown): void {
    this.assertOpen();
    this.tree = this.tree.remove(keyOf(key));
  }

  /** Applies every operation, in order, or none when one cannot be encoded. @throws DatabaseClosedError, or JSON.stringify's TypeError */
  batch(operations: readonly BatchOperation[]): void {
    this.assertOpen();
    let tree = this.tree;
    for (const operation of operations) {
      const key = keyOf(operation.key);
      tree = operation.type === 'del' ? tree.remove(key) : withPut(tree, key, JSON.stringify(operation.value));
    }
    this.tree = tree;
  }

  /**
   * The entries in `options`' range, in key order (reversed with `reverse`), as they are now:
   * later writes do not change what this yields. Values are parsed from their JSON.
   * @throws DatabaseClosedError
   */
  entries(options: RangeOptions = {}): Generator<[string, unknown]> {
    this.assertOpen();
    return rangeOf(this.tree, options);
  }

  /** Refuses every later call (`Database is closed`). */
  close(): void {
    this.closed = true;
  }

  private assertOpen(): void {
    if (this.closed) throw new DatabaseClosedError();
  }
}

/** The entries of `tree` in `options`' range, in order, values parsed. */
function* rangeOf(tree: Tree<string, string>, options: RangeOptions): Generator<[string, unknown]> {
  const { gt, gte, lt, lte, reverse = false, limit = -1 } = options;
  const low = gte !== undefined ? { key: keyOf(gte), open: false } : gt !== undefined ? { key: keyOf(gt), open: true } : undefined;
  const high = lte !== undefined ? { key: keyOf(lte), open: false } : lt !== undefined ? { key: keyOf(lt), open: true } : undefined;
  const iterator = reverse
    ? high === undefined ? tree.end : high.open ? tree.lt(high.key) : tree.le(high.key)
    : low === undefined ? tree.begin : low.open ? tree.gt(low.key) : tree.ge(low.key);
  const inRange = (key: string): boolean => {
    const bound = reverse ? low : high;
    if (bound === undefined) return true;
    const order = compareKeys(key, bound.key);
    return reverse ? (bound.open ? order > 0 : order >= 0) : bound.open ? order < 0 : order <= 0;
  };
  let yielded = 0;
  while (iterator.valid && (limit < 0 || yielded < limit)) {
    const key = iterator.key as string;
    if (!inRange(key)) return;
    yield [key, JSON.parse(iterator.value as string)];
    yielded++;
    if (reverse) iterator.prev();
    else iterator.next();
  }
}

function withPut(tree: Tree<string, string>, key: string, json: string): Tree<string, string> {
  const found = tree.find(key);
  return found.valid ? found.update(json) : tree.insert(key, json);
}

/** Runs `operation` and answers as dynalite's wrappers do: `callback` on a later turn, or a promise without one. */
function answer<T>(operation: () => T, callback: Callback<T> | undefined): Promise<T> | undefined {
  let result: T;
  try {
    result = operation();
  } catch (error) {
    if (typeof callback !== 'function') return Promise.reject(error as Error);
    setImmediate(callback, error as Error);
    return undefined;
  }
  if (typeof callback !== 'function') return Promise.resolve(result);
  setImmediate(callback, null, result);
  return undefined;
}

/** A stream of what `entries` yields, mapped by `pick`, read on demand (objectMode). */
function streamOf(entries: () => Iterator<[string, unknown]>, pick: (entry: [string, unknown]) => unknown): Readable {
  let iterator: Iterator<[string, unknown]>;
  try {
    // Taken now, as memory-level's iterators take their snapshot when they are created.
    iterator = entries();
  } catch (error) {
    const failed = new Readable({ objectMode: true, read() {} });
    process.nextTick(() => failed.destroy(error as Error));
    return failed;
  }
  return new Readable({
    objectMode: true,
    read() {
      try {
        for (;;) {
          const next = iterator.next();
          if (next.done) {
            this.push(null);
            return;
          }
          if (!this.push(pick(next.value))) return;
        }
      } catch (error) {
        this.destroy(error as Error);
      }
    },
  });
}

/**
 * Replaces the reads and writes of dynalite's in-memory root database (`store.db`) with a
 * {@link MemoryStore}, before anything was written to it; returns the store. `close` still closes
 * the database it replaced (dynalite's lifecycle waits on it), and refuses every call after.
 */
export function installMemoryStore(db: RootDatabase): MemoryStore {
  const store = new MemoryStore();
  const close = db.close;
  db.put = (key, value, callback) => answer(() => store.put(key, value), callback);
  db.get = (key, callback) => answer(() => store.get(key), callback);
  db.del = (key, callback) => answer(() => store.del(key), callback);
  db.batch = (operations, callback) => answer(() => store.batch(operations), callback);
  db.createKeyStream = (options) => streamOf(() => store.entries(options), ([key]) => key);
  db.createValueStream = (options) => streamOf(() => store.entries(options), ([, value]) => value);
  // dynalite's lifecycle closes the database through the `_original` its close carries.
  db.close = Object.assign((callback?: Callback<void>) => {
    store.close();
    return close.call(db, callback);
  }, { _original: close._original });
  return store;
}
