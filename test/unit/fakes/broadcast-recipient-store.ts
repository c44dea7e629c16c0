/**
 * An in-memory BroadcastRecipientStore with the semantics of the Dynamo adapter: rows spread over
 * shards by recipient id, blind pending writes, conditional claim / cancel / requeue, and a status
 * view where a held row shows `pending`. Each call yields to the event loop first, as a network
 * call would, so races between concurrent steps show.
 */
import { localDueAttributes } from '../../../shared/adapters/dynamo-broadcast-recipient-store.ts';
import { randomUUID } from 'node:crypto';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { publicRecipientStatus, recipientShard } from '../../../shared/domain/broadcast.ts';
import type { BroadcastRecipient, BroadcastRecipientStatus, RecipientClaim } from '../../../shared/domain/broadcast.ts';
import type { BroadcastRecipientStore, RecipientRowPage } from '../../../shared/ports.ts';
import { mayHaveReached } from '../../../shared/domain/channel-reach.ts';
import { ScriptedFailures } from './failures.ts';

export class InMemoryBroadcastRecipientStore implements BroadcastRecipientStore {
  readonly shardCount: number;
  private readonly rows = new Map<string, BroadcastRecipient>();
  /** The claim token of each row a worker holds, as the Dynamo adapter keeps it on the row. */
  private readonly tokens = new Map<string, string>();
  /** Errors the next `putPending` calls throw. */
  readonly putFailures = new ScriptedFailures();
  /** Errors the next `finish` calls throw. */
  readonly finishFailures = new ScriptedFailures();
  /** Every `putPending` call's ids, in order. */
  readonly pendingWrites: string[][] = [];
  claimCalls = 0;

  constructor(shardCount = 4) {
    this.shardCount = shardCount;
  }

  private key(tenantId: string, broadcastId: string, recipientId: string): string {
    return `${tenantId}#${broadcastId}#${recipientId}`;
  }

  private inShard(tenantId: string, broadcastId: string, shard: number): BroadcastRecipient[] {
    return [...this.rows.values()]
      .filter((r) => r.tenantId === tenantId && r.broadcastId === broadcastId && recipientShard(r.recipientId, this.shardCount) === shard)
      .sort((a, b) => (a.recipientId < b.recipientId ? -1 : a.recipientId > b.recipientId ? 1 : 0));
  }

  async putPending(tenantId: string, broadcastId: string, recipientIds: readonly string[], at: Date, localDue?: ReadonlyMap<string, number>): Promise<void> {
    await yieldToEventLoop();
    this.putFailures.throwNext();
    this.pendingWrites.push([...recipientIds]);
    for (const recipientId of recipientIds) {
      const now = at.toISOString();
      this.rows.set(this.key(tenantId, broadcastId, recipientId), {
        tenantId,
        broadcastId,
        recipientId,
        status: 'pending',
        attempts: 0,
        deliveries: {},
        run: 0,
        ...localDueAttributes(localDue?.get(recipientId), at),
        createdAt: now,
        updatedAt: now,
      });
    }
  }

  async countShard(tenantId: string, broadcastId: string, shard: number, after?: string): Promise<number> {
    await yieldToEventLoop();
    return this.inShard(tenantId, broadcastId, shard).filter((r) => after === undefined || r.recipientId > after).length;
  }

  async countByStatus(tenantId: string, broadcastId: string, status: BroadcastRecipientStatus, shard: number): Promise<number> {
    await yieldToEventLoop();
    return this.inShard(tenantId, broadcastId, shard).filter((r) => publicRecipientStatus(r.status) === status).length;
  }

  private pageOf(rows: BroadcastRecipient[], limit: number, after?: string): RecipientRowPage {
    const from = after === undefined ? rows : rows.filter((r) => r.recipientId > after);
    const page = from.slice(0, limit);
    const last = page.at(-1);
    return { rows: page.map((r) => structuredClone(r)), ...(from.length > limit && last ? { after: last.recipientId } : {}) };
  }

  async pageShard(tenantId: string, broadcastId: string, shard: number, limit: number, after?: string): Promise<RecipientRowPage> {
    await yieldToEventLoop();
    return this.pageOf(this.inShard(tenantId, broadcastId, shard), limit, after);
  }

  async pageByStatus(
    tenantId: string,
    broadcastId: string,
    status: BroadcastRecipientStatus,
    shard: number,
    limit: number,
    after?: string,
  ): Promise<RecipientRowPage> {
    await yieldToEventLoop();
    const rows = this.inShard(tenantId, broadcastId, shard).filter((r) => publicRecipientStatus(r.status) === status);
    return this.pageOf(rows, limit, after);
  }

  async getMany(tenantId: string, broadcastId: string, recipientIds: readonly string[]): Promise<BroadcastRecipient[]> {
    await yieldToEventLoop();
    return recipientIds.flatMap((id) => {
      const row = this.rows.get(this.key(tenantId, broadcastId, id));
      return row ? [structuredClone(row)] : [];
    });
  }

  async claim(tenantId: string, broadcastId: string, recipientId: string, now: Date, leaseUntil: Date): Promise<RecipientClaim | undefined> {
    this.claimCalls++;
    await yieldToEventLoop();
    const key = this.key(tenantId, broadcastId, recipientId);
    const row = this.rows.get(key);
    if (!row) return undefined;
    const due = row.nextAttemptAt === undefined || Date.parse(row.nextAttemptAt) <= now.getTime();
    const fresh = row.status === 'pending' && due;
    const takeover = row.status === 'sending' && (row.leaseUntil ?? 0) < now.getTime();
    if (!fresh && !takeover) return undefined;
    const claimed: BroadcastRecipient = {
      ...row,
      status: 'sending',
      leaseUntil: leaseUntil.getTime(),
      attempts: row.attempts + 1,
      updatedAt: now.toISOString(),
    };
    this.rows.set(key, claimed);
    const token = randomUUID();
    this.tokens.set(key, token);
    return { row: structuredClone(claimed), token, takeover };
  }

  async finish(rows: readonly BroadcastRecipient[], _at: Date): Promise<void> {
    await yieldToEventLoop();
    this.finishFailures.throwNext();
    for (const row of rows) {
      const { leaseUntil: _leaseUntil, ...rest } = row;
      const key = this.key(row.tenantId, row.broadcastId, row.recipientId);
      this.rows.set(key, structuredClone(rest));
      this.tokens.delete(key);
    }
  }

  async cancel(tenantId: string, broadcastId: string, recipientId: string, at: Date): Promise<boolean> {
    await yieldToEventLoop();
    const key = this.key(tenantId, broadcastId, recipientId);
    const row = this.rows.get(key);
    if (row?.status !== 'pending') return false;
    this.rows.set(key, { ...row, status: 'cancelled', updatedAt: at.toISOString() });
    return true;
  }

  async requeue(seen: BroadcastRecipient, run: number, at: Date): Promise<boolean> {
    await yieldToEventLoop();
    const key = this.key(seen.tenantId, seen.broadcastId, seen.recipientId);
    const row = this.rows.get(key);
    if (row?.status !== 'failed' || row.updatedAt !== seen.updatedAt) return false;
    const deliveries = Object.fromEntries(Object.entries(row.deliveries).filter(([, d]) => mayHaveReached(d)));
    const { lastError: _lastError, lastErrorCategory: _category, nextAttemptAt: _next, heldUntil: _held, heldReason: _why, ...rest } = row;
    this.rows.set(key, { ...rest, deliveries, status: 'pending', run, attempts: 0, updatedAt: at.toISOString() });
    return true;
  }

  /** A row as stored, with the token of the claim on it: for the delivery store fake. */
  record(tenantId: string, broadcastId: string, recipientId: string): { readonly row: BroadcastRecipient; readonly token?: string } | undefined {
    const key = this.key(tenantId, broadcastId, recipientId);
    const row = this.rows.get(key);
    if (!row) return undefined;
    const token = this.tokens.get(key);
    return { row: structuredClone(row), ...(token !== undefined ? { token } : {}) };
  }

  /** Writes a row and the token of the claim on it (none: no claim), as a conditional write that held would. */
  write(row: BroadcastRecipient, token: string | undefined): void {
    const key = this.key(row.tenantId, row.broadcastId, row.recipientId);
    this.rows.set(key, structuredClone(row));
    if (token === undefined) this.tokens.delete(key);
    else this.tokens.set(key, token);
  }

  /** Every row of a broadcast, by recipient id. */
  all(tenantId: string, broadcastId: string): BroadcastRecipient[] {
    return [...this.rows.values()]
      .filter((r) => r.tenantId === tenantId && r.broadcastId === broadcastId)
      .sort((a, b) => a.recipientId.localeCompare(b.recipientId))
      .map((r) => structuredClone(r));
  }

  /** Test helper: overwrites fields of a row (e.g. to fake a worker that died holding it). */
  patch(tenantId: string, broadcastId: string, recipientId: string, fields: Partial<BroadcastRecipient>): void {
    const key = this.key(tenantId, broadcastId, recipientId);
    const row = this.rows.get(key);
    if (!row) throw new Error(`No row ${recipientId}`);
    this.rows.set(key, { ...row, ...fields });
  }
}
