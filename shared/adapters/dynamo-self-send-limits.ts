/**
 * The self-service send limits (ports.ts, `SelfSendLimits`) in the `rate-limits` table, one item
 * per scope and window as the providers' send budgets keep theirs (dynamo-send-budgets.ts):
 * `self#u:<tenant>#<user>#<window>` and `self#t:<tenant>#<window>`, whose `used` a take raises with
 * a conditional `ADD` (both in one transaction: all or nothing). The window is an hour, fixed
 * (epoch seconds / 3600); items expire an hour after their window.
 *
 * It reads first (two consistent GetItems) and only writes when the take fits: a refused take
 * usually writes nothing; when two racing takes meet, the transaction's conditions refuse the
 * one that would overflow.
 */
import { BatchGetCommand } from '@aws-sdk/lib-dynamodb';
import { transactWrite } from './dynamo-transact.ts';
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
    // Every plain user of a tenant counts on its tenant's item too, so takes of two users meet there
    // (TransactionConflict): `transactWrite` tries those again after a backoff.
    const outcome = await transactWrite(
      this.db,
      scopes.map((scope) => ({
        Update: {
          TableName: table,
          Key: { pk: scope.pk },
          UpdateExpression: 'ADD used :n SET expiresAt = :expiresAt',
          ConditionExpression: 'attribute_not_exists(used) OR used <= :max',
          ExpressionAttributeValues: { ':n': count, ':max': scope.capacity - count, ':expiresAt': (window + 2) * selfSendWindowSeconds },
        },
      })),
    );
    return outcome.ok ? { ok: true } : { ok: false, retryAfterSeconds };
  }
}
