/**
 * DynamoDB's transactions, run natively on dynalite's store (dynalite has none):
 * TransactWriteItems and TransactGetItems.
 *
 * A write transaction, in AWS's order: dynalite's validations of the whole request and of every
 * action (ValidationException); each table must exist (ResourceNotFoundException); no two
 * actions on one item, at most 4 MB in all (ValidationException). Then, holding the locks of all
 * its items at once: the current items are read, every action is judged (its key and update
 * against the table, its condition with dynalite's `checkConditional`, its arithmetic against the
 * number limits), and only when every one passes are the writes applied, through dynalite's own
 * actions. Otherwise nothing is written and the answer is `TransactionCanceledException` with
 * one `CancellationReasons` entry per action (`None`, `ConditionalCheckFailed` with the item when
 * `ReturnValuesOnConditionCheckFailure` is `ALL_OLD`, `ValidationError`), in AWS's wire format.
 * An update that fails on the item's data while being applied (a type mismatch, a path that does
 * not exist) is undone with the others from their old images; updates are applied first so that
 * this rarely has anything to undo.
 *
 * Sources: the TransactWriteItems, TransactGetItems and CancellationReason API references and
 * "Amazon DynamoDB Transactions: How it works" (isolation, error handling).
 */
import type { KeyLocks } from './key-locks.ts';
import { arithmeticError } from './limits.ts';
import { dynaliteActions, dynaliteDb, isDynaliteError } from './dynalite.ts';
import type { AttributeMap, DynaliteError, DynaliteStore, Json, TableDescription } from './dynalite.ts';
import { runAction } from './guarded-actions.ts';
import { lockKeyOf, readItem } from './tables.ts';
import type { TableSchemas } from './tables.ts';
import { validateTransactGet, validateTransactWrite, writeActionOf } from './transaction-validations.ts';
import type { WriteActionKind } from './transaction-validations.ts';

/** AWS's limit on the aggregate size of a transaction's items, in bytes. */
export const MAX_TRANSACTION_BYTES = 4 * 1024 * 1024;

const AGGREGATE_SIZE_MESSAGE =
  'Collection size of items exceeded, which can also be caused by the aggregate size of the items in the transaction exceeding the 4MB limit';
const SAME_ITEM_MESSAGE = 'Transaction request cannot include multiple operations on one item';

export interface CancellationReason {
  readonly Code: 'None' | 'ConditionalCheckFailed' | 'ValidationError';
  readonly Message?: string;
  readonly Item?: AttributeMap;
}

export interface TransactionEngine {
  /** TransactWriteItems on a parsed request body; resolves with the response body, rejects with a DynaliteError (4xx) or any error (5xx). */
  transactWriteItems(request: Json): Promise<Json>;
  /** TransactGetItems on a parsed request body; resolves `{ Responses }`, rejects as `transactWriteItems`. */
  transactGetItems(request: Json): Promise<Json>;
}

export interface TransactionEngineOptions {
  readonly store: DynaliteStore;
  readonly locks: KeyLocks;
  readonly tables: TableSchemas;
  /** Where a failed undo is reported. */
  readonly log: (line: string) => void;
}

/** One write of a transaction, judged against its table. */
interface WriteAction {
  readonly kind: WriteActionKind;
  readonly params: Json;
  readonly table: TableDescription;
  /** The item (Put) or key (the others) that names the item touched. */
  readonly target: AttributeMap;
  /** Undefined when the key does not match the table (then `invalid` says why). */
  readonly lockKey: string | undefined;
  readonly invalid: string | undefined;
}

/** `TransactionCanceledException` as AWS sends it. */
export function transactionCanceled(reasons: readonly CancellationReason[]): DynaliteError {
  const message = `Transaction cancelled, please refer cancellation reasons for specific reasons [${reasons.map((reason) => reason.Code).join(', ')}]`;
  return Object.assign(new Error(message), {
    statusCode: 400,
    body: { __type: 'com.amazonaws.dynamodb.v20120810#TransactionCanceledException', Message: message, CancellationReasons: reasons },
  });
}

/** The key attributes of `item`. */
function keyOf(table: TableDescription, item: AttributeMap): AttributeMap {
  return Object.fromEntries(table.KeySchema.flatMap(({ AttributeName }) => (item[AttributeName] ? [[AttributeName, item[AttributeName]]] : [])));
}

/** What an action counts towards the 4 MB: a Put its item, an Update its key and values, the others their key. */
function aggregateSizeOf(action: WriteAction): number {
  if (action.kind === 'Put') return dynaliteDb.itemSize(action.target);
  const values = action.kind === 'Update' ? ((action.params.ExpressionAttributeValues as AttributeMap | undefined) ?? {}) : {};
  return dynaliteDb.itemSize(action.target) + dynaliteDb.itemSize(values);
}

function refuseSameItemTwice(lockKeys: readonly (string | undefined)[]): void {
  const seen = new Set<string>();
  for (const key of lockKeys) {
    if (key === undefined) continue;
    if (seen.has(key)) throw dynaliteDb.validationError(SAME_ITEM_MESSAGE);
    seen.add(key);
  }
}

/** Updates can fail on the item's data, so they go first; condition checks write nothing. */
const applyOrder: Readonly<Record<WriteActionKind, number>> = { Update: 0, Put: 1, Delete: 2, ConditionCheck: 3 };

/** Creates the transaction engine over dynalite's store and the endpoint's item locks. */
export function createTransactionEngine(options: TransactionEngineOptions): TransactionEngine {
  const { store, locks, tables } = options;

  async function describeAll(names: Iterable<string>): Promise<Map<string, TableDescription>> {
    const unique = [...new Set(names)];
    return new Map(await Promise.all(unique.map(async (name) => [name, await tables.describe(name)] as const)));
  }

  function judge(action: WriteAction, item: AttributeMap | undefined): CancellationReason {
    if (action.invalid) return { Code: 'ValidationError', Message: action.invalid };
    if (dynaliteDb.checkConditional(action.params, item)) {
      const returnItem = action.params.ReturnValuesOnConditionCheckFailure === 'ALL_OLD' && item;
      return { Code: 'ConditionalCheckFailed', Message: 'The conditional request failed', ...(returnItem ? { Item: item } : {}) };
    }
    const overflow = action.kind === 'Update' ? arithmeticError(action.params, item) : undefined;
    return overflow ? { Code: 'ValidationError', Message: overflow } : { Code: 'None' };
  }

  function apply(action: WriteAction): Promise<Json> {
    const TableName = action.table.TableName;
    if (action.kind === 'Put') return runAction(store, dynaliteActions.PutItem.action, { TableName, Item: action.target }, tables);
    if (action.kind === 'Delete') return runAction(store, dynaliteActions.DeleteItem.action, { TableName, Key: action.target }, tables);
    // The condition was judged under the lock already; the parsed update expression is dynalite's own.
    return runAction(store, dynaliteActions.UpdateItem.action, { TableName, Key: action.target, _updates: action.params._updates }, tables);
  }

  async function undo(applied: readonly WriteAction[], before: ReadonlyMap<WriteAction, AttributeMap | undefined>): Promise<void> {
    for (const action of [...applied].reverse()) {
      const old = before.get(action);
      const TableName = action.table.TableName;
      try {
        if (old) await runAction(store, dynaliteActions.PutItem.action, { TableName, Item: old }, tables);
        else await runAction(store, dynaliteActions.DeleteItem.action, { TableName, Key: keyOf(action.table, action.target) }, tables);
      } catch (error) {
        options.log(`[dynamodb] could not undo a ${action.kind} on ${TableName} of a failed transaction: ${String(error)}`);
      }
    }
  }

  async function applyAll(actions: readonly WriteAction[], before: ReadonlyMap<WriteAction, AttributeMap | undefined>): Promise<void> {
    const applied: WriteAction[] = [];
    for (const action of [...actions].filter((a) => a.kind !== 'ConditionCheck').sort((a, b) => applyOrder[a.kind] - applyOrder[b.kind])) {
      try {
        await apply(action);
        applied.push(action);
      } catch (error) {
        await undo(applied, before);
        if (!isDynaliteError(error) || error.statusCode >= 500) throw error;
        const message = String(error.body.message ?? error.message);
        throw transactionCanceled(actions.map((a) => (a === action ? { Code: 'ValidationError', Message: message } : { Code: 'None' })));
      }
    }
  }

  async function transactWriteItems(request: Json): Promise<Json> {
    const entries = validateTransactWrite(request, store).TransactItems as Json[];
    const parsed = entries.map((entry) => writeActionOf(entry) as { kind: WriteActionKind; params: Json });
    const described = await describeAll(parsed.map(({ params }) => String(params.TableName)));
    const actions = parsed.map(({ kind, params }): WriteAction => {
      const table = described.get(String(params.TableName)) as TableDescription;
      const target = (kind === 'Put' ? params.Item : params.Key) as AttributeMap;
      const invalid =
        kind === 'Put'
          ? dynaliteDb.validateItem(target, table)
          : (dynaliteDb.validateKey(target, table) ?? (kind === 'Update' ? dynaliteDb.validateUpdates(undefined, params._updates, table) : undefined));
      return { kind, params, table, target, invalid: invalid?.message, lockKey: invalid ? undefined : lockKeyOf(table, target) };
    });
    refuseSameItemTwice(actions.map((action) => action.lockKey));
    if (actions.reduce((sum, action) => sum + aggregateSizeOf(action), 0) > MAX_TRANSACTION_BYTES) {
      throw dynaliteDb.validationError(AGGREGATE_SIZE_MESSAGE);
    }

    const release = await locks.acquire(actions.flatMap((action) => (action.lockKey ? [action.lockKey] : [])));
    try {
      const items = await Promise.all(actions.map((action) => (action.lockKey ? readItem(store, action.table, action.target) : undefined)));
      const reasons = actions.map((action, i) => judge(action, items[i]));
      if (reasons.some((reason) => reason.Code !== 'None')) throw transactionCanceled(reasons);
      await applyAll(actions, new Map(actions.map((action, i) => [action, items[i]])));
      return {};
    } finally {
      release();
    }
  }

  async function transactGetItems(request: Json): Promise<Json> {
    const gets = (validateTransactGet(request, store).TransactItems as Json[]).map((entry) => entry.Get as Json);
    const described = await describeAll(gets.map((get) => String(get.TableName)));
    const reads = gets.map((get) => {
      const table = described.get(String(get.TableName)) as TableDescription;
      const key = get.Key as AttributeMap;
      const projection = get._projection as { paths: unknown[]; nestedPaths?: unknown } | undefined;
      const invalid = dynaliteDb.validateKey(key, table) ?? dynaliteDb.validateKeyPaths(projection?.nestedPaths, table);
      return { table, key, projection, invalid: invalid?.message, lockKey: invalid ? undefined : lockKeyOf(table, key) };
    });
    if (reads.some((read) => read.invalid)) {
      throw transactionCanceled(reads.map((read): CancellationReason => (read.invalid ? { Code: 'ValidationError', Message: read.invalid } : { Code: 'None' })));
    }
    refuseSameItemTwice(reads.map((read) => read.lockKey));

    const release = await locks.acquire(reads.flatMap((read) => (read.lockKey ? [read.lockKey] : [])));
    try {
      const items = await Promise.all(reads.map((read) => readItem(store, read.table, read.key)));
      return {
        Responses: items.map((item, i) => {
          const projection = reads[i]?.projection;
          if (!item) return {};
          return { Item: projection ? dynaliteDb.mapPaths(projection.paths, item) : item };
        }),
      };
    } finally {
      release();
    }
  }

  return { transactWriteItems, transactGetItems };
}
