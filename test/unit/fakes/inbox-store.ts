/**
 * An in-memory InboxStore with the semantics of DynamoInboxStore: `add` is idempotent per
 * (tenant, recipient, notification) and refused once the recipient left the directory; the
 * unread count moves exactly with the items it counts, its version one up with every move;
 * listing is newest arrival first.
 */
import type { UnreadCount } from '../../../shared/domain/inbox.ts';
import { noUnreadCount } from '../../../shared/domain/inbox.ts';
import { RecipientGoneError } from '../../../shared/ports.ts';
import type { InboxItem, InboxPage, InboxPageQuery, InboxStore } from '../../../shared/ports.ts';
import { ScriptedFailures } from './failures.ts';

interface StoredItem {
  item: InboxItem;
  /** TTL, as the Dynamo adapter writes it (epoch seconds); only on read items. */
  expiresAt?: number;
}

function arrivalKey(item: InboxItem): string {
  return `${item.deliveredAt}#${item.notificationId}`;
}

export class InMemoryInboxStore implements InboxStore {
  private readonly items = new Map<string, StoredItem>();
  private readonly counts = new Map<string, UnreadCount>();
  private readonly goneRecipients = new Set<string>();
  /** Errors the next `add` calls throw. */
  readonly failures = new ScriptedFailures();
  /** How many times `add` was called (repeats included). */
  addCalls = 0;
  /**
   * Called when `removeAll` deletes a recipient's counter item: a live-state fake sharing the
   * item forgets the connections kept on it, as DynamoDB does.
   */
  counterRemoved: ((tenantId: string, recipientId: string) => void) | undefined;

  /** Makes later adds for this recipient fail as DynamoDB would once the recipient is erased. */
  recipientLeft(tenantId: string, recipientId: string): void {
    this.goneRecipients.add(`${tenantId}#${recipientId}`);
  }

  /** The TTL of an item (epoch seconds), if it has one. */
  expiresAtOf(tenantId: string, recipientId: string, id: string): number | undefined {
    return this.items.get(`${tenantId}#${recipientId}#${id}`)?.expiresAt;
  }

  async add(item: InboxItem): Promise<boolean> {
    this.addCalls++;
    this.failures.throwNext();
    const key = `${item.tenantId}#${item.recipientId}#${item.notificationId}`;
    if (this.items.has(key)) return false;
    const partition = `${item.tenantId}#${item.recipientId}`;
    if (this.goneRecipients.has(partition)) throw new RecipientGoneError(item.tenantId, item.recipientId);
    const { readAt: _readAt, ...unread } = item;
    this.items.set(key, { item: structuredClone(unread) });
    this.countBy(partition, 1);
    return true;
  }

  /** True when the recipient's inbox holds the item (read or not). */
  holds(tenantId: string, recipientId: string, id: string): boolean {
    return this.items.has(`${tenantId}#${recipientId}#${id}`);
  }

  /**
   * Puts an unread item in and adds one to the count, unconditionally: the delivery store fake
   * calls it once its transaction's conditions held (counted in `addCalls`, like `add`).
   */
  insert(item: InboxItem): void {
    this.addCalls++;
    const { readAt: _readAt, ...unread } = item;
    this.items.set(`${item.tenantId}#${item.recipientId}#${item.notificationId}`, { item: structuredClone(unread) });
    this.countBy(`${item.tenantId}#${item.recipientId}`, 1);
  }

  /** The unread count as stored, read at once (the live state shares it, as the Dynamo item does). */
  unreadOf(tenantId: string, recipientId: string): number {
    return this.countOf(tenantId, recipientId).unread;
  }

  /** The unread count and its version as stored, read at once. */
  countOf(tenantId: string, recipientId: string): UnreadCount {
    return this.counts.get(`${tenantId}#${recipientId}`) ?? noUnreadCount;
  }

  /** Sets the unread count (a test's starting point), and its version when given (else kept). */
  setUnread(tenantId: string, recipientId: string, unread: number, unreadVersion?: number): void {
    this.counts.set(`${tenantId}#${recipientId}`, { unread, unreadVersion: unreadVersion ?? this.countOf(tenantId, recipientId).unreadVersion });
  }

  /** Raises the version by `by`, the count unchanged (the delivery store's commit of an entry that `outdates` a frame's version). */
  raiseVersion(tenantId: string, recipientId: string, by: number): void {
    const { unread, unreadVersion } = this.countOf(tenantId, recipientId);
    this.counts.set(`${tenantId}#${recipientId}`, { unread, unreadVersion: unreadVersion + by });
  }

  /** Moves the count by `delta` and its version one up, as the adapter's one `ADD` does. */
  private countBy(partition: string, delta: number): void {
    const { unread, unreadVersion } = this.counts.get(partition) ?? noUnreadCount;
    this.counts.set(partition, { unread: unread + delta, unreadVersion: unreadVersion + 1 });
  }

  async list(tenantId: string, recipientId: string): Promise<InboxItem[]> {
    return this.sorted(tenantId, recipientId, false);
  }

  async page(tenantId: string, recipientId: string, query: InboxPageQuery): Promise<InboxPage> {
    const after = query.after;
    const candidates = this.sorted(tenantId, recipientId, query.unreadOnly).filter((item) => after === undefined || arrivalKey(item) < after);
    const items = candidates.slice(0, query.limit);
    const last = items[items.length - 1];
    return { items, ...(candidates.length > query.limit && last ? { after: arrivalKey(last) } : {}) };
  }

  async unreadCount(tenantId: string, recipientId: string): Promise<UnreadCount> {
    return this.countOf(tenantId, recipientId);
  }

  async markRead(tenantId: string, recipientId: string, id: string, at: Date, expiresAt: Date): Promise<'read' | 'alreadyRead' | 'missing'> {
    const stored = this.items.get(`${tenantId}#${recipientId}#${id}`);
    if (!stored) return 'missing';
    if (stored.item.readAt !== undefined) return 'alreadyRead';
    stored.item = { ...stored.item, readAt: at.toISOString() };
    stored.expiresAt = Math.floor(expiresAt.getTime() / 1000);
    this.countBy(`${tenantId}#${recipientId}`, -1);
    return 'read';
  }

  async markManyRead(tenantId: string, recipientId: string, ids: readonly string[], at: Date, expiresAt: Date): Promise<number> {
    let read = 0;
    for (const id of ids) if ((await this.markRead(tenantId, recipientId, id, at, expiresAt)) === 'read') read++;
    return read;
  }

  async removeAll(tenantId: string, recipientId: string): Promise<number> {
    const prefix = `${tenantId}#${recipientId}#`;
    const keys = [...this.items.keys()].filter((key) => key.startsWith(prefix));
    for (const key of keys) this.items.delete(key);
    this.counts.delete(`${tenantId}#${recipientId}`);
    this.counterRemoved?.(tenantId, recipientId);
    return keys.length;
  }

  private sorted(tenantId: string, recipientId: string, unreadOnly: boolean): InboxItem[] {
    return [...this.items.values()]
      .map((stored) => stored.item)
      .filter((item) => item.tenantId === tenantId && item.recipientId === recipientId)
      .filter((item) => !unreadOnly || item.readAt === undefined)
      .sort((a, b) => arrivalKey(b).localeCompare(arrivalKey(a)))
      .map((item) => structuredClone(item));
  }
}
