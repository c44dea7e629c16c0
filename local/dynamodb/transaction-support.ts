/**
 * What DynamoDB's two transaction operations share on the local endpoint: their context (the
 * store, the item locks, the tables), `TransactionCanceledException` in AWS's wire format, and
 * the request-wide checks (each table exists, no item named twice).
 *
 * Sources: the TransactWriteItems, TransactGetItems and CancellationReason API references and
 * "Amazon DynamoDB Transactions: How it works".
 */
import { dynaliteDb } from './dynalite.ts';
import type { AttributeMap, DynaliteError, DynaliteStore, TableDescription } from './dynalite.ts';
import type { KeyLocks } from './key-locks.ts';
import type { StreamLog } from './streams.ts';
import type { TableSchemas } from './tables.ts';

/** What a transaction runs with. */
export interface TransactionContext {
  readonly store: DynaliteStore;
  readonly locks: KeyLocks;
  readonly tables: TableSchemas;
  /** Where a failed undo is reported. */
  readonly log: (line: string) => void;
  /** The tables' streams, which a committed transaction appends its writes to. */
  readonly streams: StreamLog;
}

/** One entry of `CancellationReasons`, as AWS sends it. */
export interface CancellationReason {
  readonly Code: 'None' | 'ConditionalCheckFailed' | 'ValidationError' | 'TransactionConflict';
  readonly Message?: string;
  readonly Item?: AttributeMap;
}

const SAME_ITEM_MESSAGE = 'Transaction request cannot include multiple operations on one item';

/** `TransactionCanceledException` with one reason per action, as AWS sends it (400, awsJson). */
export function transactionCanceled(reasons: readonly CancellationReason[]): DynaliteError {
  const message = `Transaction cancelled, please refer cancellation reasons for specific reasons [${reasons.map((reason) => reason.Code).join(', ')}]`;
  return Object.assign(new Error(message), {
    statusCode: 400,
    body: { __type: 'com.amazonaws.dynamodb.v20120810#TransactionCanceledException', Message: message, CancellationReasons: reasons },
  });
}

/** The description of every table named; rejects with ResourceNotFoundException for one that does not exist. */
export async function describeAll(tables: TableSchemas, names: Iterable<string>): Promise<Map<string, TableDescription>> {
  const unique = [...new Set(names)];
  return new Map(await Promise.all(unique.map(async (name) => [name, await tables.describe(name)] as const)));
}

/** Throws AWS's ValidationException when two actions name one item (`undefined`: a key already found invalid). */
export function refuseSameItemTwice(lockKeys: readonly (string | undefined)[]): void {
  const seen = new Set<string>();
  for (const key of lockKeys) {
    if (key === undefined) continue;
    if (seen.has(key)) throw dynaliteDb.validationError(SAME_ITEM_MESSAGE);
    seen.add(key);
  }
}
