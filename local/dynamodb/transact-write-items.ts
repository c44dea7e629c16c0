/**
 * TransactWriteItems on the local endpoint, natively on dynalite's store (dynalite has none).
 *
 * In AWS's order: dynalite's validations of the whole request and of every action
 * (ValidationException); each table must exist (ResourceNotFoundException); no two actions on
 * one item, at most 4 MB in all (ValidationException). Then, holding the locks of all its items
 * at once: the current items are read, every action is judged (its key and update against the
 * table, its condition with dynalite's `checkConditional`, its arithmetic against the number
 * limits), and only when every one passes are the writes applied, through dynalite's own
 * actions. Otherwise nothing is written and the answer is `TransactionCanceledException` with
 * one `CancellationReasons` entry per action (`None`, `ConditionalCheckFailed` with the item when
 * `ReturnValuesOnConditionCheckFailure` is `ALL_OLD`, `ValidationError`). An update that fails on
 * the item's data while being applied (a type mismatch, a path that does not exist) is undone
 * with the others from their old images; updates are applied first, so that this rarely has
 * anything to undo.
 *
 * Sources: the TransactWriteItems and CancellationReason API references, "Amazon DynamoDB
 * Transactions: How it works" (isolation, error handling).
 */
import { dynaliteActions, dynaliteDb, isDynaliteError } from './dynalite.ts';
import type { AttributeMap, Json, TableDescription } from './dynalite.ts';
import { runAction } from './guarded-actions.ts';
import { arithmeticError } from './limits.ts';
import { appendChanges, readTargets, streamedTargets } from './stream-capture.ts';
import { lockKeyOf, readItem } from './tables.ts';
import { describeAll, refuseSameItemTwice, transactionCanceled } from './transaction-support.ts';
import type { CancellationReason, TransactionContext } from './transaction-support.ts';
import { validateTransactWrite, writeActionOf } from './transaction-validations.ts';
import type { WriteActionKind } from './transaction-validations.ts';

/** AWS's limit on the aggregate size of a transaction's items, in bytes. */
export const MAX_TRANSACTION_BYTES = 4 * 1024 * 1024;

const AGGREGATE_SIZE_MESSAGE =
  'Collection size of items exceeded, which can also be caused by the aggregate size of the items in the transaction exceeding the 4MB limit';

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

/** Updates can fail on the item's data, so they go first; condition checks write nothing. */
const applyOrder: Readonly<Record<WriteActionKind, number>> = { Update: 0, Put: 1, Delete: 2, ConditionCheck: 3 };

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

function toWriteAction(entry: Json, described: ReadonlyMap<string, TableDescription>): WriteAction {
  const { kind, params } = writeActionOf(entry) as { kind: WriteActionKind; params: Json };
  const table = described.get(String(params.TableName)) as TableDescription;
  const target = (kind === 'Put' ? params.Item : params.Key) as AttributeMap;
  const invalid =
    kind === 'Put'
      ? dynaliteDb.validateItem(target, table)
      : (dynaliteDb.validateKey(target, table) ?? (kind === 'Update' ? dynaliteDb.validateUpdates(undefined, params._updates, table) : undefined));
  return { kind, params, table, target, invalid: invalid?.message, lockKey: invalid ? undefined : lockKeyOf(table, target) };
}

/** Whether `action` may go ahead on `item` (the current one), and if not, why. */
function judge(action: WriteAction, item: AttributeMap | undefined): CancellationReason {
  if (action.invalid) return { Code: 'ValidationError', Message: action.invalid };
  if (dynaliteDb.checkConditional(action.params, item)) {
    const returnItem = action.params.ReturnValuesOnConditionCheckFailure === 'ALL_OLD' && item;
    return { Code: 'ConditionalCheckFailed', Message: 'The conditional request failed', ...(returnItem ? { Item: item } : {}) };
  }
  const overflow = action.kind === 'Update' ? arithmeticError(action.params, item) : undefined;
  return overflow ? { Code: 'ValidationError', Message: overflow } : { Code: 'None' };
}

function apply(context: TransactionContext, action: WriteAction): Promise<Json> {
  const TableName = action.table.TableName;
  const { store, tables } = context;
  if (action.kind === 'Put') return runAction(store, dynaliteActions.PutItem.action, { TableName, Item: action.target }, tables);
  if (action.kind === 'Delete') return runAction(store, dynaliteActions.DeleteItem.action, { TableName, Key: action.target }, tables);
  // The condition was judged under the lock already; the parsed update expression is dynalite's own.
  return runAction(store, dynaliteActions.UpdateItem.action, { TableName, Key: action.target, _updates: action.params._updates }, tables);
}

/** Puts back the old images of the actions applied, last first; a failure is logged and the rest still undone. */
async function undo(context: TransactionContext, applied: readonly WriteAction[], before: ReadonlyMap<WriteAction, AttributeMap | undefined>): Promise<void> {
  for (const action of [...applied].reverse()) {
    const old = before.get(action);
    const TableName = action.table.TableName;
    try {
      if (old) await runAction(context.store, dynaliteActions.PutItem.action, { TableName, Item: old }, context.tables);
      else await runAction(context.store, dynaliteActions.DeleteItem.action, { TableName, Key: keyOf(action.table, action.target) }, context.tables);
    } catch (error) {
      context.log(`[dynamodb] could not undo a ${action.kind} on ${TableName} of a failed transaction: ${String(error)}`);
    }
  }
}

/** Applies every write; on a failure, undoes the ones applied and cancels (the item's data) or rethrows (anything else). */
async function applyAll(context: TransactionContext, actions: readonly WriteAction[], before: ReadonlyMap<WriteAction, AttributeMap | undefined>): Promise<void> {
  const applied: WriteAction[] = [];
  const writes = actions.filter((action) => action.kind !== 'ConditionCheck').sort((a, b) => applyOrder[a.kind] - applyOrder[b.kind]);
  for (const action of writes) {
    try {
      await apply(context, action);
      applied.push(action);
    } catch (error) {
      await undo(context, applied, before);
      if (!isDynaliteError(error) || error.statusCode >= 500) throw error;
      const message = String(error.body.message ?? error.message);
      throw transactionCanceled(actions.map((a) => (a === action ? { Code: 'ValidationError', Message: message } : { Code: 'None' })));
    }
  }
}

/** Appends a committed transaction's writes to their tables' streams, in the order of its actions (the locks still held). */
async function appendToStreams(context: TransactionContext, actions: readonly WriteAction[], before: readonly (AttributeMap | undefined)[]): Promise<void> {
  const writes = actions.flatMap((action, i) => (action.kind === 'ConditionCheck' ? [] : [{ target: { table: action.table, item: action.target }, before: before[i] }]));
  const streamed = new Set(streamedTargets(writes.map((write) => write.target)));
  const captured = writes.filter((write) => streamed.has(write.target));
  if (captured.length === 0) return;
  const targets = captured.map((write) => write.target);
  appendChanges(context, targets, captured.map((write) => write.before), await readTargets(context, targets));
}

/**
 * Cancels the transaction, every action's reason `TransactionConflict` or `None`, when another
 * TransactWriteItems in progress holds one of its items ("Transaction conflict handling in
 * DynamoDB": an item within a TransactWriteItems request that is part of another ongoing one).
 */
function refuseConflicts(context: TransactionContext, actions: readonly WriteAction[]): void {
  const conflicts = actions.map((action) => action.lockKey !== undefined && context.locks.heldByTransaction([action.lockKey]));
  if (!conflicts.some(Boolean)) return;
  throw transactionCanceled(conflicts.map((conflict) => (conflict ? { Code: 'TransactionConflict', Message: 'Transaction is ongoing for the item' } : { Code: 'None' })));
}

/** TransactWriteItems on a parsed request body; resolves `{}`, rejects with a DynaliteError (4xx) or any error (5xx). */
export async function transactWriteItems(context: TransactionContext, request: Json): Promise<Json> {
  const entries = validateTransactWrite(request, context.store).TransactItems as Json[];
  const described = await describeAll(
    context.tables,
    entries.map((entry) => String((writeActionOf(entry) as { params: Json }).params.TableName)),
  );
  const actions = entries.map((entry) => toWriteAction(entry, described));
  refuseSameItemTwice(actions.map((action) => action.lockKey));
  if (actions.reduce((sum, action) => sum + aggregateSizeOf(action), 0) > MAX_TRANSACTION_BYTES) {
    throw dynaliteDb.validationError(AGGREGATE_SIZE_MESSAGE);
  }

  refuseConflicts(context, actions);
  const release = await context.locks.acquire(
    actions.flatMap((action) => (action.lockKey ? [action.lockKey] : [])),
    { transaction: true },
  );
  try {
    const items = await Promise.all(actions.map((action) => (action.lockKey ? readItem(context.store, action.table, action.target) : undefined)));
    const reasons = actions.map((action, i) => judge(action, items[i]));
    if (reasons.some((reason) => reason.Code !== 'None')) throw transactionCanceled(reasons);
    await applyAll(context, actions, new Map(actions.map((action, i) => [action, items[i]])));
    await appendToStreams(context, actions, items);
    return {};
  } finally {
    release();
  }
}
