/**
 * What the local providers received, for people and tests to read: every push, SMS, Telegram
 * message and webhook the local stack's provider emulators accepted (or, for webhooks, that Herald
 * posted), newest first, served as `GET /_local/outbox?channel=…`. E-mail has its own viewer (the
 * local SES). Kept in memory for the life of the stack: the newest `capacity` entries per channel,
 * each channel a ring buffer (`ring-log.ts`), so recording is O(1) when full and a page reads only
 * its entries. A cursor whose entry has been dropped past the capacity, or forgotten by `clear`,
 * answers 410 (`newest-first-page.ts`).
 */
import { randomUUID } from 'node:crypto';
import { newestFirstPage } from './newest-first-page.ts';
import type { LocalPage, LocalPageQuery } from './newest-first-page.ts';
import { RingLog } from './ring-log.ts';

/** The channels whose providers record here. */
export const outboxChannels = ['push', 'sms', 'telegram', 'webhook'] as const;
export type OutboxChannel = (typeof outboxChannels)[number];

/** One thing a provider received. */
export interface OutboxEntry {
  /** Unique per entry. */
  readonly id: string;
  readonly channel: OutboxChannel;
  /** Which provider took it: `web-push`, `sns`, `telegram`, `webhook`… */
  readonly provider: string;
  /** Where it went: the push endpoint or device, the phone number, the chat id, the URL. */
  readonly to: string;
  /** When the provider accepted it, epoch ms. */
  readonly at: number;
  /** What it received, as the provider saw it (decoded where the wire format allows). */
  readonly body: unknown;
  /** The provider's id of it, where it gives one. */
  readonly providerMessageId?: string;
}

export type OutboxRecord = Omit<OutboxEntry, 'id' | 'at'> & { readonly at?: number };

/** An entry as kept: with its rank in the order of recording (across channels), which pages follow. */
interface Kept {
  readonly entry: OutboxEntry;
  readonly seq: number;
}

const seqOf = (kept: Kept): number => kept.seq;

/** The entries each provider received, newest `capacity` per channel. */
export class Outbox {
  private readonly logs: ReadonlyMap<OutboxChannel, RingLog<Kept>>;
  private readonly capacity: number;
  private recorded = 0;
  private clears = 0;

  /** `capacity`: entries kept per channel, the oldest dropped first. Throws RangeError below 1. @default 10000 */
  constructor(options: { readonly capacity?: number } = {}) {
    this.capacity = options.capacity ?? 10_000;
    this.logs = new Map(outboxChannels.map((channel) => [channel, new RingLog<Kept>(this.capacity, seqOf)]));
  }

  /** Records what a provider received; answers the entry as stored. */
  record(record: OutboxRecord): OutboxEntry {
    const entry: OutboxEntry = { ...record, id: randomUUID(), at: record.at ?? Date.now() };
    this.log(entry.channel).append({ entry, seq: this.recorded });
    this.recorded += 1;
    return entry;
  }

  /** Entries of `channel` (every channel when absent), newest first. */
  list(channel?: OutboxChannel): OutboxEntry[] {
    return this.page(channel, { limit: Number.POSITIVE_INFINITY }).items;
  }

  /**
   * One page of the entries of `channel` (every channel when absent), newest first (in the order
   * recorded): at most `query.limit`, older than `query.after` when given, with the total and the
   * next page's cursor. Reads O(limit) entries. Throws `CursorGoneError` (410) when the cursor's
   * entry, or one newer of the channels paged, has been dropped or forgotten since.
   */
  page(channel: OutboxChannel | undefined, query: LocalPageQuery): LocalPage<OutboxEntry> {
    const logs = channel ? [this.log(channel)] : [...this.logs.values()];
    const page = newestFirstPage((before) => logs.map((log) => log.newestFirst(before)), seqOf, query, {
      total: logs.reduce((sum, log) => sum + log.size, 0),
      droppedThrough: Math.max(...logs.map((log) => log.droppedThrough)),
      keeps: `the outbox keeps the newest ${this.capacity} entries of each channel, and DELETE forgets them`,
    });
    return { ...page, items: page.items.map(({ entry }) => entry) };
  }

  /** Forgets every entry of `channel` (every channel when absent). */
  clear(channel?: OutboxChannel): void {
    for (const log of channel ? [this.log(channel)] : this.logs.values()) log.clear();
    this.clears += 1;
  }

  /** Changes whenever an entry is recorded, forgotten or dropped past the capacity: what a page's ETag is made of. */
  get version(): string {
    return `${this.recorded}.${this.clears}`;
  }

  private log(channel: OutboxChannel): RingLog<Kept> {
    const log = this.logs.get(channel);
    if (!log) throw new RangeError(`not an outbox channel: ${String(channel)}`);
    return log;
  }
}

/** True when `value` names an outbox channel. */
export function isOutboxChannel(value: unknown): value is OutboxChannel {
  return typeof value === 'string' && (outboxChannels as readonly string[]).includes(value);
}
