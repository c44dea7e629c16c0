/**
 * The parts of dynalite the local DynamoDB endpoint runs in-process: its store
 * (`dynalite/db`), its request validations (`dynalite/validations`) and its actions
 * (`dynalite/actions/*`), typed here once.
 *
 * These are dynalite's internals, not its public API (which is only an HTTP server), so
 * package.json pins dynalite to the exact version below and this module checks it at load: a
 * dynalite upgrade must re-read `dynalite/index.js` (whose `httpHandler` the wire front mirrors)
 * and the actions before it changes the pin. See docs/architecture.md, "The local stack".
 */
import { createRequire } from 'node:module';
import { assertPinnedVersion } from '../pinned-version.ts';
import { installIndexWriteRule } from './index-writes.ts';
import type { IndexWriting } from './index-writes.ts';
import { cacheExpressionParses, conditionValueReadingSyntax } from './expression-cache.ts';
import type { Parser } from './expression-cache.ts';
import { DataDirectoryInUseError } from '../start-errors.ts';
import { installMemoryStore } from './memory-store.ts';
import { installUtf8StringOrder } from './string-order.ts';
import type { StringComparing } from './string-order.ts';
import type { RootDatabase } from './memory-store.ts';

/** The dynalite version this module was written against (package.json pins it exactly). */
export const DYNALITE_VERSION = '4.0.0';

const require = createRequire(import.meta.url);

/** One DynamoDB attribute value as the wire carries it: `{ S: 'x' }`, `{ M: { ... } }`. */
export type AttributeValue = Record<string, unknown>;
/** An item or a key: attribute name → value. */
export type AttributeMap = Record<string, AttributeValue>;
/** A parsed request or response body. */
export type Json = Record<string, unknown>;

/** An error dynalite answers with: the HTTP status and the awsJson body. */
export interface DynaliteError extends Error {
  statusCode: number;
  body: Json;
}

export type Callback<T = unknown> = (error?: Error | null, result?: T) => void;

export interface KeySchemaElement {
  readonly AttributeName: string;
  readonly KeyType: 'HASH' | 'RANGE';
}

/** A table as dynalite stores its description. */
export interface TableDescription {
  readonly TableName: string;
  readonly TableStatus: string;
  readonly KeySchema: readonly KeySchemaElement[];
  readonly AttributeDefinitions: readonly { readonly AttributeName: string; readonly AttributeType: string }[];
}

/** dynalite's per-key lock (the `lock` package): `exec` gets a releaser that wraps the final callback. */
export type LockFunction = (key: string, exec: (release: <A extends unknown[]>(done: (...args: A) => void) => (...args: A) => void) => void) => void;

/** A prefixed view of the LevelDB store (a table's items, an index, the table descriptions). */
export interface SubDb {
  get(key: string, callback: Callback): void;
  put(key: string, value: unknown, callback: Callback): void;
  del(key: string, callback: Callback): void;
  batch(operations: readonly Json[], callback: Callback): void;
  createKeyStream(options?: Json): NodeJS.ReadableStream;
  createValueStream(options?: Json): NodeJS.ReadableStream;
  createReadStream(options?: Json): NodeJS.ReadableStream;
  close(callback?: Callback): void;
  lock: LockFunction;
}

/** What `require('dynalite/db').create(options)` returns. */
export interface DynaliteStore {
  readonly options: Json & { readonly maxItemSize: number };
  readonly db: { close(callback: Callback): void };
  readonly tableDb: SubDb;
  getItemDb(table: string): SubDb;
  deleteItemDb(table: string, callback: Callback): void;
  getIndexDb(indexType: string, table: string, index: string): SubDb;
  deleteIndexDb(indexType: string, table: string, index: string, callback: Callback): void;
  getTagDb(table: string): SubDb;
  deleteTagDb(table: string, callback: Callback): void;
  getTable(name: string, checkStatus: boolean | Callback<TableDescription>, callback?: Callback<TableDescription>): void;
}

export interface DynaliteStoreOptions {
  /** LevelDB directory; in memory when absent. */
  readonly path?: string;
  readonly createTableMs?: number;
  readonly deleteTableMs?: number;
  readonly updateTableMs?: number;
}

/** A request's type tree in dynalite's notation (`{ TableName: { type: 'String', notNull: true } }`). */
export type TypeTree = Record<string, unknown>;

/** One operation's validation: its type tree and its custom checks (a message when invalid). */
export interface ActionValidation {
  readonly types: TypeTree;
  readonly custom?: (data: Json, store: DynaliteStore) => string | undefined;
}

export type Action = (store: DynaliteStore, data: Json, callback: Callback<Json>) => void;

interface DynaliteDb {
  create(options: DynaliteStoreOptions): DynaliteStore;
  checkConditional(data: Json, item: AttributeMap | undefined): DynaliteError | null | undefined;
  createKey(item: AttributeMap, table: TableDescription): string;
  validateKey(key: AttributeMap, table: TableDescription): DynaliteError | undefined;
  validateItem(item: AttributeMap, table: TableDescription): DynaliteError | undefined;
  validateUpdates(attributeUpdates: unknown, expressionUpdates: unknown, table: TableDescription): DynaliteError | undefined;
  validateKeyPaths(nestedPaths: unknown, table: TableDescription): DynaliteError | undefined;
  itemSize(item: AttributeMap): number;
  mapPath(path: readonly (string | number)[], item: AttributeMap): AttributeValue | undefined;
  mapPaths(paths: readonly unknown[], item: AttributeMap): AttributeMap;
  validationError(message: string): DynaliteError;
}

interface DynaliteValidations {
  checkTypes(data: Json, types: TypeTree): Json;
  checkValidations(data: Json, types: TypeTree, custom: ActionValidation['custom'], store: DynaliteStore): void;
}

assertPinnedVersion({
  name: 'dynalite',
  installed: (require('dynalite/package.json') as { version: string }).version,
  pinned: DYNALITE_VERSION,
  module: 'local/dynamodb',
});

export const dynaliteDb = require('dynalite/db') as DynaliteDb;
// An index entry is written only when the write changed it, as DynamoDB does (`index-writes.ts`).
installIndexWriteRule(require('dynalite/db') as IndexWriting);
// Strings are compared by their UTF-8 bytes, as DynamoDB does (`string-order.ts`).
installUtf8StringOrder(require('dynalite/db') as StringComparing);
/** How often dynalite's condition parser was answered from the cache (`expression-cache.ts`), installed here. */
export const conditionParses = cacheExpressionParses(require('dynalite/db/conditionParser') as Parser, conditionValueReadingSyntax);
/** How often dynalite's update-expression parser was answered from its cache, installed here. */
export const updateParses = cacheExpressionParses(require('dynalite/db/updateParser') as Parser);
export const dynaliteValidations = require('dynalite/validations') as DynaliteValidations;

/** The operations dynalite implements, as its `index.js` lists them. */
export const dynaliteOperations = [
  'BatchGetItem',
  'BatchWriteItem',
  'CreateTable',
  'DeleteItem',
  'DeleteTable',
  'DescribeTable',
  'DescribeTimeToLive',
  'GetItem',
  'ListTables',
  'PutItem',
  'Query',
  'Scan',
  'TagResource',
  'UntagResource',
  'ListTagsOfResource',
  'UpdateItem',
  'UpdateTable',
] as const;
export type DynaliteOperation = (typeof dynaliteOperations)[number];

const lowerFirst = (name: string): string => `${name.charAt(0).toLowerCase()}${name.slice(1)}`;

/** Each operation's action and validation, loaded once. */
export const dynaliteActions: Readonly<Record<DynaliteOperation, { readonly action: Action; readonly validation: ActionValidation }>> =
  Object.fromEntries(
    dynaliteOperations.map((operation) => [
      operation,
      {
        action: require(`dynalite/actions/${lowerFirst(operation)}`) as Action,
        validation: require(`dynalite/validations/${lowerFirst(operation)}`) as ActionValidation,
      },
    ]),
  ) as Record<DynaliteOperation, { readonly action: Action; readonly validation: ActionValidation }>;

/** True for the errors dynalite answers to the client (they carry the status and the wire body). */
export function isDynaliteError(error: unknown): error is DynaliteError {
  return error instanceof Error && typeof (error as Partial<DynaliteError>).statusCode === 'number' && typeof (error as Partial<DynaliteError>).body === 'object';
}

/**
 * Creates dynalite's store: LevelDB under `options.path`, or in memory, where its root database
 * reads and writes a {@link MemoryStore} (local/dynamodb/memory-store.ts) instead of `memory-level`.
 */
export function createDynaliteStore(options: DynaliteStoreOptions): DynaliteStore {
  const store = dynaliteDb.create({ ...options });
  if (options.path === undefined) installMemoryStore(store.db as unknown as RootDatabase);
  return store;
}

/**
 * Creates dynalite's store and waits until its database is open. LevelDB opens in the background,
 * and a directory another process holds would otherwise surface as `Database is not open` on the
 * first request: rejects with a DataDirectoryInUseError naming the directory instead.
 */
export async function openDynaliteStore(options: DynaliteStoreOptions): Promise<DynaliteStore> {
  const store = createDynaliteStore(options);
  const db = store.db as unknown as { open(): Promise<void> };
  try {
    await db.open();
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause;
    if (options.path !== undefined && cause?.code === 'LEVEL_LOCKED') throw new DataDirectoryInUseError(options.path, { cause: error });
    throw error;
  }
  return store;
}
