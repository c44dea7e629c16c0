/**
 * TransactWriteItems with the handling every Herald transaction needs: the per-action reasons of
 * a cancellation, and retries when the only trouble was another transaction on the same item
 * (`TransactionConflict`, which DynamoDB reports when two transactions touch one item at once,
 * e.g. two deliveries to one recipient moving the same unread counter).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient, TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';

/** A transaction's actions, as lib-dynamodb takes them. */
export type TransactItems = NonNullable<TransactWriteCommandInput['TransactItems']>;

/** AWS's limit on the actions of one transaction. */
export const maxTransactItems = 100;
const conflictRetries = 6;

/** The outcome of a transaction: done, or cancelled with the reason code of each action. */
export type TransactResult = { readonly ok: true } | { readonly ok: false; readonly reasons: readonly string[] };

function reasonCodes(error: TransactionCanceledException): string[] {
  return (error.CancellationReasons ?? []).map((reason) => reason.Code ?? 'None');
}

/**
 * Runs the transaction; a cancellation caused by failed conditions comes back as `ok: false` with
 * each action's reason (`ConditionalCheckFailed`, `None`, ...). Conflicts with concurrent
 * transactions are retried with jittered backoff; any other error is thrown.
 */
export async function transactWrite(db: DynamoDBDocumentClient, items: TransactItems): Promise<TransactResult> {
  for (let attempt = 0; ; attempt++) {
    try {
      await db.send(new TransactWriteCommand({ TransactItems: items }));
      return { ok: true };
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw error;
      const reasons = reasonCodes(error);
      if (reasons.includes('ConditionalCheckFailed')) return { ok: false, reasons };
      if (!reasons.includes('TransactionConflict') || attempt === conflictRetries) throw error;
      await sleep(Math.random() * 25 * 2 ** attempt);
    }
  }
}

/** True when the action at `index` of a cancelled transaction failed its condition. */
export function failedCondition(result: TransactResult, index: number): boolean {
  return !result.ok && result.reasons[index] === 'ConditionalCheckFailed';
}
