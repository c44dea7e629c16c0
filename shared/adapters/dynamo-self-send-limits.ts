/**
 * The self-service send limits (ports.ts, `SelfSendLimits`) in the `rate-limits` table, one item
 * per scope and window as the providers' send budgets keep theirs (dynamo-send-budgets.ts):
 * `self#u:<tenant>#<user>#<window>` and `self#t:<tenant>#<window>`, whose `used` a take raises with
 * a conditional `ADD`, the user's item first, then the tenant's. The window is an hour, fixed
 * (epoch seconds / 3600); items expire an hour after their window.
 *
 * It reads first (two consistent GetItems) and only writes when the take fits: a refused take
 * usually writes nothing; when two racing takes meet, the conditions refuse the one that would
 * overflow, and a take the tenant's item refuses gives the user's back (`ADD -n`). Not one
 * transaction: every plain user of a tenant writes the tenant's item, and transactions that meet on
 * one item cancel each other (TransactionConflict) however long they back off, where single-item
 * writes are simply applied in turn ("Transaction conflict handling", DynamoDB Developer Guide). An
 * invocation that dies between the two writes leaves the user's count `n` high until its hour ends:
 * the limit errs towards refusing.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SelfSendConfig } from '../config.ts';
import type { SelfSender, SelfSendLimits } from '../ports.ts';
import { keyPart } from './dynamo-keys.ts';

/** The length of a window. */
export const selfSendWindowSeconds = 60 * 60;

export class DynamoSelfSendLimits implements SelfSendLimits {
  private readonly db: DynamoDBDocumentClient;
  private readonly tableName: () => string;
  private readonly config: SelfSendConfig;

  constructor(db: DynamoDBDocumentClient, tableName: () => string, config: SelfSendConfig) {
    this.db = db;
    this.tableName = tableName;
    this.config = config;
  }

  /** The window of `now`, its slot items, and whether `count` more fit them by a consistent read. */
  private async look(sender: SelfSender, count: number, now: Date): Promise<{ window: number; retryAfterSeconds: number; scopes: { pk: string; capacity: number }[]; fits: boolean }> {
    const window = Math.floor(now.getTime() / 1000 / selfSendWindowSeconds);
    const retryAfterSeconds = (window + 1) * selfSendWindowSeconds - Math.floor(now.getTime() / 1000);
    const scopes = [
      { pk: `self#u:${keyPart(sender.tenantId)}#${keyPart(sender.sub)}#${window}`, capacity: this.config.userPerHour },
      { pk: `self#t:${keyPart(sender.tenantId)}#${window}`, capacity: this.config.tenantPerHour },
    ];
    if (scopes.some((scope) => count > scope.capacity)) return { window, retryAfterSeconds, scopes, fits: false };
    const table = this.tableName();
    const read = await this.db.send(new BatchGetCommand({ RequestItems: { [table]: { Keys: scopes.map(({ pk }) => ({ pk })), ConsistentRead: true } } }));
    const used = new Map((read.Responses?.[table] ?? []).map((item) => [String(item.pk), Number(item.used ?? 0)]));
    return { window, retryAfterSeconds, scopes, fits: scopes.every((scope) => (used.get(scope.pk) ?? 0) + count <= scope.capacity) };
  }

  async check(sender: SelfSender, count: number, now: Date): Promise<{ readonly ok: true } | { readonly ok: false; readonly retryAfterSeconds: number }> {
    const { fits, retryAfterSeconds } = await this.look(sender, count, now);
    return fits ? { ok: true } : { ok: false, retryAfterSeconds };
  }

  async take(sender: SelfSender, count: number, now: Date): Promise<{ readonly ok: true } | { readonly ok: false; readonly retryAfterSeconds: number }> {
    const { window, retryAfterSeconds, scopes, fits } = await this.look(sender, count, now);
    if (!fits) return { ok: false, retryAfterSeconds };
    const table = this.tableName();
    const expiresAt = (window + 2) * selfSendWindowSeconds;
    const taken: string[] = [];
    let refused = false;
    try {
      for (const scope of scopes) {
        refused = !(await this.raise(table, scope, count, expiresAt));
        if (refused) break;
        taken.push(scope.pk);
      }
    } catch (error) {
      await this.giveBack(table, taken, count).catch(() => undefined);
      throw error;
    }
    if (!refused) return { ok: true };
    await this.giveBack(table, taken, count);
    return { ok: false, retryAfterSeconds };
  }

  /** Raises one scope's `used` by `count` when it stays within its capacity; false when it would not. */
  private async raise(table: string, scope: { pk: string; capacity: number }, count: number, expiresAt: number): Promise<boolean> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: table,
          Key: { pk: scope.pk },
          UpdateExpression: 'ADD used :n SET expiresAt = :expiresAt',
          ConditionExpression: 'attribute_not_exists(used) OR used <= :max',
          ExpressionAttributeValues: { ':n': count, ':max': scope.capacity - count, ':expiresAt': expiresAt },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /** Takes `count` back off the scopes already raised by a take that did not fit the next. */
  private async giveBack(table: string, pks: readonly string[], count: number): Promise<void> {
    for (const pk of pks) {
      await this.db.send(new UpdateCommand({ TableName: table, Key: { pk }, UpdateExpression: 'ADD used :n', ExpressionAttributeValues: { ':n': -count } }));
    }
  }
}
