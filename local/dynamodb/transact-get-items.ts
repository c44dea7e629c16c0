/**
 * TransactGetItems on the local endpoint: every Get validated with dynalite's GetItem
 * validation; a key that does not match its table cancels the transaction with a
 * `ValidationError` reason; then, holding every item's lock at once, so that no write
 * transaction is seen half applied, the items are read and projected.
 *
 * Source: the TransactGetItems API reference.
 */
import { dynaliteDb } from './dynalite.ts';
import type { AttributeMap, Json, TableDescription } from './dynalite.ts';
import { lockKeyOf, readItem } from './tables.ts';
import { describeAll, refuseSameItemTwice, transactionCanceled } from './transaction-support.ts';
import type { CancellationReason, TransactionContext } from './transaction-support.ts';
import { validateTransactGet } from './transaction-validations.ts';

/** TransactGetItems on a parsed request body; resolves `{ Responses }`, rejects with a DynaliteError (4xx) or any error (5xx). */
export async function transactGetItems(context: TransactionContext, request: Json): Promise<Json> {
  const gets = (validateTransactGet(request, context.store).TransactItems as Json[]).map((entry) => entry.Get as Json);
  const described = await describeAll(context.tables, gets.map((get) => String(get.TableName)));
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

  const release = await context.locks.acquire(reads.flatMap((read) => (read.lockKey ? [read.lockKey] : [])));
  try {
    const items = await Promise.all(reads.map((read) => readItem(context.store, read.table, read.key)));
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
