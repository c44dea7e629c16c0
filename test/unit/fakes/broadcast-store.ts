/**
 * An in-memory BroadcastStore with the conditions of DynamoBroadcastStore: every transition
 * checks the state it starts from, counters add per call, and `finish` only ends a broadcast whose
 * status and counters are still those the caller saw. It keeps the `due` index entry as the
 * adapter keeps `dueShard`/`dueAt`: set by the writes that make a broadcast scheduled, removed by
 * those that take it out (InMemoryBroadcastSweeps reads it).
 */
import { randomUUID } from 'node:crypto';
import { audienceSliceSize, finalStatus, sliceSizeOf } from '../../../shared/domain/broadcast.ts';
import type { Broadcast, BroadcastContent, BroadcastCounts, FanoutPhase } from '../../../shared/domain/broadcast.ts';
import type { BroadcastCountsDelta, BroadcastListPage, BroadcastListQuery, BroadcastStore, FanoutPageClaim } from '../../../shared/ports.ts';
import { ScriptedFailures } from './failures.ts';

interface Stored {
  broadcast: Broadcast;
  content: BroadcastContent;
  slices: string[][];
  cursor?: string;
  token?: string;
  /** The `due` index entry: when the start is due (ISO-8601), only while the adapter would carry it. */
  dueAt?: string;
}

/** A scheduled broadcast in the fake `due` index. */
export interface DueEntry {
  readonly tenantId: string;
  readonly id: string;
  readonly status: Broadcast['status'];
  readonly dueAt: string;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export class InMemoryBroadcastStore implements BroadcastStore {
  private readonly items = new Map<string, Stored>();
  /** Errors the next `get` calls throw. */
  readonly getFailures = new ScriptedFailures();
  /** Errors the next `addCounts` calls throw. */
  readonly addCountsFailures = new ScriptedFailures();
  /** How many `addCounts` calls changed something. */
  addCountsCalls = 0;

  private key(tenantId: string, id: string): string {
    return `${tenantId}#${id}`;
  }

  private stored(tenantId: string, id: string): Stored | undefined {
    return this.items.get(this.key(tenantId, id));
  }

  private change(tenantId: string, id: string, when: (b: Broadcast, s: Stored) => boolean, apply: (b: Mutable<Broadcast>, s: Stored) => void): Broadcast | undefined {
    const s = this.stored(tenantId, id);
    if (!s || !when(s.broadcast, s)) return undefined;
    const next = structuredClone(s.broadcast) as Mutable<Broadcast>;
    apply(next, s);
    s.broadcast = next;
    return structuredClone(next);
  }

  async create(broadcast: Broadcast, content: BroadcastContent, recipientIds: readonly string[] = []): Promise<void> {
    const key = this.key(broadcast.tenantId, broadcast.id);
    if (this.items.has(key)) throw new Error(`Broadcast ${broadcast.id} exists`);
    const slices: string[][] = [];
    const size = broadcast.audience.kind === 'recipients' ? sliceSizeOf(broadcast.audience) : audienceSliceSize;
    for (let start = 0; start < recipientIds.length; start += size) slices.push(recipientIds.slice(start, start + size));
    const dueAt = broadcast.status === 'scheduled' && broadcast.scheduledAt !== undefined ? new Date(broadcast.scheduledAt).toISOString() : undefined;
    this.items.set(key, { broadcast: structuredClone(broadcast), content: structuredClone(content), slices, ...(dueAt ? { dueAt } : {}) });
  }

  /** The `due` index: every broadcast that carries an entry, whatever its status (the sweep filters). */
  dueEntries(): DueEntry[] {
    return [...this.items.values()].flatMap((s) =>
      s.dueAt === undefined ? [] : [{ tenantId: s.broadcast.tenantId, id: s.broadcast.id, status: s.broadcast.status, dueAt: s.dueAt }],
    );
  }

  async remove(broadcast: Pick<Broadcast, 'tenantId' | 'id'>): Promise<boolean> {
    if (this.stored(broadcast.tenantId, broadcast.id)?.broadcast.startedAt !== undefined) return false;
    this.items.delete(this.key(broadcast.tenantId, broadcast.id));
    return true;
  }

  async get(tenantId: string, id: string): Promise<Broadcast | undefined> {
    this.getFailures.throwNext();
    const s = this.stored(tenantId, id);
    return s ? structuredClone(s.broadcast) : undefined;
  }

  async getContent(tenantId: string, id: string): Promise<BroadcastContent | undefined> {
    const s = this.stored(tenantId, id);
    return s ? structuredClone(s.content) : undefined;
  }

  async audienceSlice(tenantId: string, id: string, slice: number): Promise<readonly string[]> {
    return [...(this.stored(tenantId, id)?.slices[slice] ?? [])];
  }

  async list(query: BroadcastListQuery): Promise<BroadcastListPage> {
    const matching = [...this.items.values()]
      .map((s) => s.broadcast)
      .filter((b) => b.tenantId === query.tenantId)
      .filter((b) => query.createdBy === undefined || b.createdBy === query.createdBy)
      .filter((b) => query.status === undefined || b.status === query.status)
      .filter((b) => query.createdFrom === undefined || Date.parse(b.createdAt) >= query.createdFrom.getTime())
      .filter((b) => query.createdTo === undefined || Date.parse(b.createdAt) <= query.createdTo.getTime())
      .filter((b) => query.olderThan === undefined || b.id < query.olderThan)
      .sort((a, b) => b.id.localeCompare(a.id));
    const items = matching.slice(0, query.limit).map((b) => structuredClone(b));
    const last = items.at(-1);
    return { items, ...(matching.length > query.limit && last ? { olderThan: last.id } : {}) };
  }

  async schedule(tenantId: string, id: string, scheduledAt: Date, replacesPlan: boolean): Promise<Broadcast | undefined> {
    return this.change(tenantId, id, (b) => b.status === 'draft', (b, s) => {
      b.status = 'scheduled';
      b.scheduledAt = scheduledAt.toISOString();
      s.dueAt = scheduledAt.toISOString();
      if (replacesPlan) {
        delete b.timezone;
        delete b.localTime;
      }
    });
  }

  async revertToDraft(tenantId: string, id: string): Promise<void> {
    this.change(tenantId, id, (b) => b.status === 'scheduled', (b, s) => {
      b.status = 'draft';
      delete s.dueAt;
    });
  }

  async start(tenantId: string, id: string, at: Date): Promise<Broadcast | undefined> {
    return this.change(tenantId, id, (b) => b.status === 'scheduled', (b, s) => {
      b.status = 'sending';
      b.startedAt = at.toISOString();
      b.fanout = { phase: 'resolving', page: 0 };
      delete s.cursor;
      delete s.token;
      delete s.dueAt;
    });
  }

  async cancel(tenantId: string, id: string, at: Date): Promise<Broadcast | undefined> {
    return this.change(tenantId, id, (b) => ['draft', 'scheduled', 'sending'].includes(b.status), (b, s) => {
      b.status = 'cancelled';
      b.cancelledAt = at.toISOString();
      delete s.dueAt;
    });
  }

  async reopen(tenantId: string, id: string, _at: Date): Promise<Broadcast | undefined> {
    return this.change(tenantId, id, (b) => (b.status === 'completed' || b.status === 'failed') && b.counts.failed > 0, (b) => {
      b.status = 'sending';
      b.run += 1;
      delete b.completedAt;
      delete b.lastError;
    });
  }

  async claimPage(tenantId: string, id: string, page: number, now: Date, leaseUntil: Date): Promise<FanoutPageClaim | undefined> {
    const token = randomUUID();
    const claimed = this.change(
      tenantId,
      id,
      (b) =>
        (b.status === 'sending' || b.status === 'cancelled') &&
        b.fanout?.phase === 'resolving' &&
        b.fanout.page === page &&
        (b.fanout.leaseUntil === undefined || b.fanout.leaseUntil < now.getTime()),
      (b, s) => {
        b.fanout = { phase: 'resolving', page, leaseUntil: leaseUntil.getTime() };
        s.token = token;
      },
    );
    if (!claimed) return undefined;
    const cursor = this.stored(tenantId, id)?.cursor;
    return { broadcast: claimed, page, token, ...(cursor !== undefined ? { cursor } : {}) };
  }

  async commitPage(claim: FanoutPageClaim, next: string | undefined): Promise<boolean> {
    const { tenantId, id } = claim.broadcast;
    const committed = this.change(
      tenantId,
      id,
      (b, s) => s.token === claim.token && b.fanout?.phase === 'resolving' && b.fanout.page === claim.page,
      (b, s) => {
        const phase: FanoutPhase = next === undefined ? 'counting' : 'resolving';
        b.fanout = { phase, page: next === undefined ? claim.page : claim.page + 1 };
        delete s.token;
        if (next === undefined) delete s.cursor;
        else s.cursor = next;
      },
    );
    return committed !== undefined;
  }

  async releasePage(claim: FanoutPageClaim): Promise<void> {
    this.change(claim.broadcast.tenantId, claim.broadcast.id, (_b, s) => s.token === claim.token, (b, s) => {
      if (b.fanout) b.fanout = { phase: b.fanout.phase, page: b.fanout.page };
      delete s.token;
    });
  }

  async setTotal(tenantId: string, id: string, total: number): Promise<Broadcast | undefined> {
    return this.change(tenantId, id, (b) => b.fanout?.phase === 'counting', (b) => {
      b.fanout = { phase: 'delivering', page: b.fanout?.page ?? 0 };
      b.counts = { ...b.counts, total };
    });
  }

  async addCounts(tenantId: string, id: string, delta: BroadcastCountsDelta, lastError?: string): Promise<Broadcast | undefined> {
    this.addCountsFailures.throwNext();
    this.addCountsCalls++;
    return this.change(tenantId, id, () => true, (b) => {
      b.counts = {
        total: b.counts.total,
        sent: b.counts.sent + (delta.sent ?? 0),
        failed: b.counts.failed + (delta.failed ?? 0),
        cancelled: b.counts.cancelled + (delta.cancelled ?? 0),
        ...(b.counts.held !== undefined || delta.held ? { held: (b.counts.held ?? 0) + (delta.held ?? 0) } : {}),
      };
      if (lastError !== undefined) b.lastError = lastError;
    });
  }

  async correctCounts(seen: Broadcast, counts: Omit<BroadcastCounts, 'total'>): Promise<Broadcast | undefined> {
    return this.change(seen.tenantId, seen.id, (b) => sameCounts(b.counts, seen.counts), (b) => {
      b.counts = { total: b.counts.total, ...counts };
    });
  }

  async finish(seen: Broadcast, at: Date): Promise<Broadcast | undefined> {
    return this.change(
      seen.tenantId,
      seen.id,
      (b) =>
        b.status === seen.status &&
        b.fanout?.phase === 'delivering' &&
        sameCounts(b.counts, seen.counts) &&
        (b.status === 'sending' ? b.run === seen.run : b.status === 'cancelled' && b.completedAt === undefined),
      (b) => {
        if (b.status === 'sending') {
          b.status = finalStatus(b.counts);
          if (b.counts.failed === 0) delete b.lastError;
        }
        b.completedAt = at.toISOString();
      },
    );
  }

  async recordError(tenantId: string, id: string, error: string): Promise<void> {
    this.change(tenantId, id, () => true, (b) => {
      b.lastError = error;
    });
  }

  /** Test helper: overwrites fields of a stored broadcast (e.g. to fake a crash's aftermath). */
  patch(tenantId: string, id: string, fields: Partial<Broadcast>): void {
    const s = this.stored(tenantId, id);
    if (!s) throw new Error(`No broadcast ${id}`);
    s.broadcast = { ...s.broadcast, ...structuredClone(fields) };
  }
}

function sameCounts(a: BroadcastCounts, b: BroadcastCounts): boolean {
  return a.total === b.total && a.sent === b.sent && a.failed === b.failed && a.cancelled === b.cancelled;
}
