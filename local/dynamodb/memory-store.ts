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
 * - keys sort in the order `memory-level` sorted their UTF-8 bytes, lone surrogates read as U+FFFD
 *   as its UTF-8 encoding made them (see {@link compareKeys});
 * - a null or undefined key or value is refused, as `abstract-level` refuses it (`InvalidEntryError`);
 * - a batch applies all its operations or none, and a stream reads the entries as they were when
 *   it was created (writes made while it is read do not show);
 * - callbacks are called asynchronously (`setImmediate`, as dynalite's wrappers call them), and a
 *   call without a callback returns a promise;
 * - a missing key reads as `undefined`; once the database is closed every call fails with
 *   `Database is closed`, a stream opened then synchronously. A stream opened before finishes from
 *   its snapshot (memory-level failed its next read): nothing is released in memory, and dynalite
 *   leaves an error on its key streams unhandled, which would end the process.
 * The store on disk (`HERALD_DATA_DIR`, LevelDB) is not replaced.
 */
import { Readable } from 'node:stream';
import createTree from 'functional-red-black-tree';
import { compareUtf8 } from './string-order.ts';

type Tree<K, V> = createTree.Tree<K, V>;

/** A UTF-16 code unit from which code-unit order and code-point order may part. */
const highUnit = /[\ud800-\uffff]/;
let lastKey: string | undefined;
let lastKeyIsPlain = true;

/**
 * Orders two keys by code point, which is the order of their UTF-8 bytes (`memory-level` compared
 * the Buffers it stored, and DynamoDB sorts string keys so). dynalite's keys are ASCII (table and
 * index names, key values in hex or its sortable number form) but for tag keys, so the usual case
 * is one native comparison: where either string has no unit from U+D800 up, code-unit order is
 * code-point order. Otherwise a surrogate (half of a code point above U+FFFF) sorts after
 * U+E000-U+FFFF, as its code point does. The tree compares one search key with many stored ones,
 * so the test of `a` is kept for the calls that follow. Negative when `a` comes first.
 */
export function compareKeys(a: string, b: string): number {
  if (a !== lastKey) {
    lastKey = a;
    lastKeyIsPlain = !highUnit.test(a);
  }
  if (lastKeyIsPlain || !highUnit.test(b)) return a < b ? -1 : a > b ? 1 : 0;
  return compareUtf8(a, b);
}

/** A key range as `abstract-level` reads it: bounds, direction, and at most `limit` entries (none when absent or negative). */
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

/** A null or undefined key or value, which `abstract-level` refuses (`LEVEL_INVALID_KEY`, `LEVEL_INVALID_VALUE`). */
export class InvalidEntryError extends Error {
  readonly code: 'LEVEL_INVALID_KEY' | 'LEVEL_INVALID_VALUE';
  constructor(what: 'Key' | 'Value') {
    super(`${what} cannot be null or undefined`);
    this.name = 'InvalidEntryError';
    this.code = what === 'Key' ? 'LEVEL_INVALID_KEY' : 'LEVEL_INVALID_VALUE';
  }
}

/** `key` as stored: a string, its lone surrogates U+FFFD as UTF-8 made them. @throws InvalidEntryError */
function keyOf(key: unknown): string {
  if (key === null || key === undefined) throw new InvalidEntryError('Key');
  const text = typeof key === 'string' ? key : String(key);
  return text.isWellFormed() ? text : text.toWellFormed();
}

/**
 * `value` as stored: its JSON. A value JSON has no text for (a function, a symbol, a `toJSON`
 * answering undefined) is refused as a missing one is: stored, it would read as missing while its
 * key is listed. @throws InvalidEntryError, or JSON.stringify's TypeError
 */
function jsonOf(value: unknown): string {
  if (value === null || value === undefined) throw new InvalidEntryError('Value');
  const json = JSON.stringify(value) as string | undefined;
  if (json === undefined) throw new InvalidEntryError('Value');
  return json;
}

/** The entries stored: key → the value's JSON. */
export class MemoryStore {
  private tree: Tree<string, string> = createTree<string, string>(compareKeys);
  private closed = false;
  /**
   * The JSON last stored for each value object. dynalite writes one item object to its table and
   * to every index that projects all attributes (`updateIndexes`, then the table's `put`), so
   * those entries can hold one string instead of a copy each: ~40 % of the stored text under the
   * broadcast bench, where the inbox has two such indexes and the broadcast rows one. The value
   * is still serialized at every write and compared, so a value changed between writes is stored
   * as it is then.
   */
  private readonly lastJson = new WeakMap<object, string>();

  /** The value stored at `key`, parsed from its JSON; undefined when there is none. @throws DatabaseClosedError */
  get(key: unknown): unknown {
    this.assertOpen();
    const json = this.tree.get(keyOf(key));
    return json === undefined ? undefined : JSON.parse(json);
  }

  /** Stores `value` (as JSON) at `key`, replacing what was there. @throws DatabaseClosedError, InvalidEntryError, or JSON.stringify's TypeError */
  put(key: unknown, value: unknown): void {
    this.assertOpen();
    this.tree = withPut(this.tree, keyOf(key), this.jsonOf(value));
  }

  /** Removes `key` (nothing when absent). @throws DatabaseClosedError, InvalidEntryError */
  del(key: unknown): void {
    this.assertOpen();
    this.tree = this.tree.remove(keyOf(key));
  }

  /** Applies every operation, in order, or none when one is refused. @throws DatabaseClosedError, InvalidEntryError, or JSON.stringify's TypeError */
  batch(operations: readonly BatchOperation[]): void {
    this.assertOpen();
    let tree = this.tree;
    for (const operation of operations) {
      const key = keyOf(operation.key);
      tree = operation.type === 'del' ? tree.remove(key) : withPut(tree, key, this.jsonOf(operation.value));
    }
    this.tree = tree;
  }

  /**
   * The values in `options`' range, in key order (reversed with `reverse`), as they are now: later
   * writes do not change what this yields. Each is parsed from its JSON as it is reached.
   * @throws DatabaseClosedError
   */
  values(options: RangeOptions = {}): Generator<unknown> {
    this.assertOpen();
    return mapped(rangeOf(this.tree, options), ([, json]) => JSON.parse(json) as unknown);
  }

  /** The keys in `options`' range, as {@link values} reads them, values left unread. @throws DatabaseClosedError */
  keys(options: RangeOptions = {}): Generator<string> {
    this.assertOpen();
    return mapped(rangeOf(this.tree, options), ([key]) => key);
  }

  /** Refuses every later call (`Database is closed`). */
  close(): void {
    this.closed = true;
  }

  /** `value`'s JSON, the very string stored for it before when the text is the same. @throws InvalidEntryError, or JSON.stringify's TypeError */
  private jsonOf(value: unknown): string {
    const json = jsonOf(value);
    if (typeof value !== 'object' || value === null) return json;
    const earlier = this.lastJson.get(value);
    if (earlier === json) return earlier;
    this.lastJson.set(value, json);
    return json;
  }

  private assertOpen(): void {
    if (this.closed) throw new DatabaseClosedError();
  }
}

/** What `items` yields, each through `pick`. */
function* mapped<T, U>(items: Iterable<T>, pick: (item: T) => U): Generator<U> {
  for (const item of items) yield pick(item);
}

/** The entries of `tree` in `options`' range, in order, values as their JSON. */
function* rangeOf(tree: Tree<string, string>, options: RangeOptions): Generator<[string, string]> {
  const { gt, gte, lt, lte, reverse = false } = options;
  // abstract-level reads a missing, null or negative limit as none.
  const limit = typeof options.limit === 'number' && options.limit >= 0 ? options.limit : Infinity;
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
  while (iterator.valid && yielded < limit) {
    const key = iterator.key as string;
    if (!inRange(key)) return;
    yield [key, iterator.value as string];
    yielded++;
    if (reverse) iterator.prev();
    else iterator.next();
  }
}

/** `tree` with `json` at `key`: the tree keeps duplicate keys, so an existing one is updated in place of a second. */
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

/** A stream of what `items` yields, read on demand (objectMode); an error while reading destroys it. */
function streamOf(items: Iterator<unknown>): Readable {
  return new Readable({
    objectMode: true,
    read() {
      try {
        for (;;) {
          const next = items.next();
          if (next.done) {
            this.push(null);
            return;
          }
          if (!this.push(next.value)) return;
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
  // The range is taken now, as memory-level's iterators take their snapshot when they are created;
  // on a closed store this throws, as abstract-level's keys() and values() do.
  db.createKeyStream = (options) => streamOf(store.keys(options));
  db.createValueStream = (options) => streamOf(store.values(options));
  // dynalite's lifecycle closes the database through the `_original` its close carries.
  db.close = Object.assign((callback?: Callback<void>) => {
    store.close();
    return close.call(db, callback);
  }, { _original: close._original });
  return store;
}
