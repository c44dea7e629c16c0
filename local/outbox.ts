/**
 * What the local providers received, for people and tests to read: every push, SMS, Telegram
 * message and webhook the local stack's provider emulators accepted (or, for webhooks, that Herald
 * posted), newest first, served as `GET /_local/outbox?channel=…`. E-mail has its own viewer (the
 * local SES). Kept in memory for the life of the stack, at most `capacity` entries per channel.
 */
import { randomUUID } from 'node:crypto';
import { newestFirstPage } from './newest-first-page.ts';
import type { LocalPage, LocalPageQuery } from './newest-first-page.ts';

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

/** An entry as kept: with its rank in the order of recording, which pages break ties of `at` by. */
interface Kept {
  readonly entry: OutboxEntry;
  readonly seq: number;
}

export class Outbox {
  private readonly entries = new Map<OutboxChannel, Kept[]>();
  private readonly capacity: number;
  private recorded = 0;
  private clears = 0;

  constructor(options: { readonly capacity?: number } = {}) {
    this.capacity = options.capacity ?? 10_000;
  }

  /** Records what a provider received; answers the entry as stored. */
  record(record: OutboxRecord): OutboxEntry {
    const entry: OutboxEntry = { ...record, id: randomUUID(), at: record.at ?? Date.now() };
    const list = this.entries.get(entry.channel) ?? [];
    list.push({ entry, seq: this.recorded });
    this.recorded += 1;
    if (list.length > this.capacity) list.splice(0, list.length - this.capacity);
    this.entries.set(entry.channel, list);
    return entry;
  }

  /** Entries of `channel` (every channel when absent), newest first. */
  list(channel?: OutboxChannel): OutboxEntry[] {
    return this.page(channel, { limit: Number.POSITIVE_INFINITY }).items;
  }

  /**
   * One page of the entries of `channel` (every channel when absent), newest first: at most
   * `query.limit`, older than `query.after` when given, with the total and the next page's cursor.
   */
  page(channel: OutboxChannel | undefined, query: LocalPageQuery): LocalPage<OutboxEntry> {
    const lists = channel ? [this.entries.get(channel) ?? []] : [...this.entries.values()];
    const page = newestFirstPage(lists.flat(), ({ entry, seq }) => ({ at: entry.at, seq }), query);
    return { ...page, items: page.items.map(({ entry }) => entry) };
  }

  /** Forgets every entry of `channel` (every channel when absent). */
  clear(channel?: OutboxChannel): void {
    if (channel) this.entries.delete(channel);
    else this.entries.clear();
    this.clears += 1;
  }

  /** Changes whenever an entry is recorded, forgotten or dropped past the capacity: what a page's ETag is made of. */
  get version(): string {
    return `${this.recorded}.${this.clears}`;
  }
}

/** True when `value` names an outbox channel. */
export function isOutboxChannel(value: unknown): value is OutboxChannel {
  return typeof value === 'string' && (outboxChannels as readonly string[]).includes(value);
}
