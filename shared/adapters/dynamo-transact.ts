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
/** Times a transaction cancelled only by `TransactionConflict` is tried again before the cancellation is thrown. */
export const transactConflictRetries = 6;

/**
 * Why one action of a cancelled transaction was refused: its `CancellationReason` code
 * (`ConditionalCheckFailed`, `None`, ...), and the item as it was when the action asked for it
 * (`ReturnValuesOnConditionCheckFailure: 'ALL_OLD'`).
 */
export interface CancellationReason {
  readonly code: string;
  readonly item?: Record<string, unknown>;
}

/** The outcome of a transaction: done, or cancelled with one reason per action, in order. */
export type TransactResult = { readonly ok: true } | { readonly ok: false; readonly reasons: readonly CancellationReason[] };

function reasonsOf(error: TransactionCanceledException): CancellationReason[] {
  return (error.CancellationReasons ?? []).map((reason) => ({
    code: reason.Code ?? 'None',
    ...(reason.Item ? { item: reason.Item as Record<string, unknown> } : {}),
  }));
}

/**
 * Runs the transaction; a cancellation caused by failed conditions comes back as `ok: false` with
 * each action's reason. Conflicts with concurrent transactions (`TransactionConflict`) are retried
 * with jittered backoff; any other error is thrown ("TransactWriteItems", DynamoDB API Reference).
 */
export async function transactWrite(db: DynamoDBDocumentClient, items: TransactItems): Promise<TransactResult> {
  for (let attempt = 0; ; attempt++) {
    try {
      await db.send(new TransactWriteCommand({ TransactItems: items }));
      return { ok: true };
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw error;
      const reasons = reasonsOf(error);
      if (reasons.some((reason) => reason.code === 'ConditionalCheckFailed')) return { ok: false, reasons };
      if (!reasons.some((reason) => reason.code === 'TransactionConflict') || attempt === transactConflictRetries) throw error;
      await sleep(Math.random() * 25 * 2 ** attempt);
    }
  }
}

/** True when the action at `index` of a cancelled transaction failed its condition. */
export function failedCondition(result: TransactResult, index: number): boolean {
  return !result.ok && result.reasons[index]?.code === 'ConditionalCheckFailed';
}
