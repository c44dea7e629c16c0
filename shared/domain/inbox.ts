/** The in-app inbox as clients see it: items, and the frame that tells them the unread count moved. */
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

/** What every open connection of a user receives when their unread count changes. */
export function inboxChangedMessage(unread: number): { type: 'inboxChanged'; unread: number } {
  return { type: 'inboxChanged', unread };
}

/** When an item read at `at` expires, `retentionDays` later. */
export function readItemExpiry(at: Date, retentionDays: number): Date {
  return new Date(at.getTime() + retentionDays * 24 * 60 * 60 * 1000);
}
