/** The in-app inbox as clients see it: items, the unread count with its version, and the frame that tells them it moved. */
import type { InboxItem } from '../ports.ts';

/** The public view of an inbox item, as the API returns it. */
export function toInboxItemView(item: InboxItem): Record<string, unknown> {
  return {
    id: item.notificationId,
    title: item.title,
    message: item.message,
    type: item.type,
    priority: item.priority,
    data: item.data ?? {},
    createdAt: item.createdAt,
    deliveredAt: item.deliveredAt,
    read: item.readAt !== undefined,
    readAt: item.readAt ?? null,
  };
}

/** Where an item stands in its inbox's listings, newest arrival first: its arrival, then its id. */
export function inboxPosition(item: Pick<InboxItem, 'deliveredAt' | 'notificationId'>): string {
  return `${item.deliveredAt}#${item.notificationId}`;
}

/**
 * A recipient's unread count with its version. Every write that changes the count adds 1 to
 * `unreadVersion` in the same write (DynamoDB `ADD` on the same item), so the two never disagree and
 * a greater version is a later count. A count stored before versions existed reads as version 0.
 */
export interface UnreadCount {
  /** Unread inbox items, at least 0. */
  readonly unread: number;
  /**
   * The count's version: 0 until a write since versions exist, then one up with every write that
   * changes the count (and two up, count unchanged, when a delivery's frame announced a count its
   * write did not make: the inbox held the item already). It only grows.
   */
  readonly unreadVersion: number;
}

/** The count of a recipient with nothing kept: nothing unread, version 0. */
export const noUnreadCount: UnreadCount = { unread: 0, unreadVersion: 0 };

/** The count after one write adds one unread item to `before`: each of the two one up. */
export function countAfterAdding(before: UnreadCount): UnreadCount {
  return { unread: before.unread + 1, unreadVersion: before.unreadVersion + 1 };
}

/**
 * What every open connection of a user receives when their unread count changes: the count and
 * its version, which a client compares with the newest it applied (it drops an older one).
 */
export function inboxChangedMessage(count: UnreadCount): { type: 'inboxChanged'; unread: number; unreadVersion: number } {
  return { type: 'inboxChanged', unread: count.unread, unreadVersion: count.unreadVersion };
}

/** When an item read at `at` expires, `retentionDays` later. */
export function readItemExpiry(at: Date, retentionDays: number): Date {
  return new Date(at.getTime() + retentionDays * 24 * 60 * 60 * 1000);
}
