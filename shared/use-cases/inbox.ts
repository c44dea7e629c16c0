/**
 * A user's own in-app inbox: listing it, its exact unread count, reading items one by one or all
 * at once. Whenever the count changes, every open connection of the user is told the new count
 * with its version (`unreadVersion`, which every change of the count raises by one), and every
 * answer that carries the count carries its version too, so a client can order what it hears.
 * The inbox is always the caller's own (tenant and user from the token): another user's item is
 * simply not there, so it is a 404 like any missing one.
 */
import * as z from '../zod-mini.ts';
import type { Caller } from '../domain/caller.ts';
import { inboxChangedMessage, inboxPosition, readItemExpiry, toInboxItemView } from '../domain/inbox.ts';
import type { UnreadCount } from '../domain/inbox.ts';
import { countFitting } from '../domain/payload-budget.ts';
import { decodeCursor, encodeCursor } from '../domain/page-cursor.ts';
import type { ListInboxQuery } from '../domain/schemas.ts';
import { NotFoundError, ValidationError } from '../errors.ts';
import { logger } from '../observability/logger.ts';
import { openConnections } from '../domain/delivery.ts';
import type { Clock, InboxStore, LiveStateStore, SocketPoster } from '../ports.ts';
import { postFrame } from './socket-frames.ts';

export interface InboxDeps {
  readonly inbox: InboxStore;
  readonly live: LiveStateStore;
  readonly sockets: SocketPoster;
  readonly clock: Clock;
  /** Days a read item is kept (HERALD_READ_INBOX_RETENTION_DAYS). */
  readonly readRetentionDays: number;
}

/** How many items read-all flips per page. */
const readAllPageSize = 100;

/** Where a page of an inbox stopped: deliveredAt#id, as the listing indexes sort. */
const arrivalKeySchema = z.string().check(z.regex(/^\d{4}-\d{2}-\d{2}T[\d:.]+Z#[A-Za-z0-9][A-Za-z0-9_.@:+-]{0,127}$/));

function inboxCursorSchema(unreadOnly: boolean): z.ZodMiniType<{ after: string }> {
  return z.object({ inbox: z.literal(unreadOnly ? 'unread' : 'all'), after: arrivalKeySchema });
}

/**
 * Tells every open connection of a user their unread count and its version, read in one go with
 * the connections from the user's live state (so the pair told is the one stored, whatever wrote
 * it). A failed post is logged, never thrown. Resolves with the pair told.
 */
export async function notifyInboxChanged(deps: Pick<InboxDeps, 'live' | 'sockets' | 'clock'>, tenantId: string, userId: string): Promise<UnreadCount> {
  const live = await deps.live.get(tenantId, userId);
  const { failures } = await postFrame(deps, { tenantId, userId }, openConnections(live, deps.clock.now()), inboxChangedMessage(live));
  // The count is stored; a client that missed the frame reads it on its next request.
  if (failures.length > 0) logger.warn('Could not tell some connections their unread count', { tenantId, userId, failed: failures.length, error: failures[0] as Error });
  return { unread: live.unread, unreadVersion: live.unreadVersion };
}

/** A page of the caller's inbox, newest arrival first; `unread` keeps only unread items. */
export async function listInbox(
  deps: Pick<InboxDeps, 'inbox'>,
  caller: Caller,
  query: ListInboxQuery,
): Promise<{ items: Record<string, unknown>[]; nextCursor: string | null }> {
  const unreadOnly = query.unread ?? false;
  let after: string | undefined;
  if (query.cursor !== undefined) {
    after = decodeCursor(query.cursor, inboxCursorSchema(unreadOnly))?.after;
    if (after === undefined) {
      throw new ValidationError('cursor is not one this listing handed out', {
        details: [{ field: 'cursor', message: 'is not a cursor of this listing (pass the nextCursor of the previous page, with the same unread filter)' }],
      });
    }
  }
  const page = await deps.inbox.page(caller.tenantId, caller.sub, { unreadOnly, limit: query.limit, ...(after ? { after } : {}) });
  const views = page.items.map(toInboxItemView);
  // A page stops where its answer would outgrow the Lambda response quota (payload-budget.ts).
  const fitting = countFitting(views);
  const last = page.items[fitting - 1];
  const next = fitting < page.items.length && last ? inboxPosition(last) : page.after;
  return {
    items: views.slice(0, fitting),
    nextCursor: next ? encodeCursor({ inbox: unreadOnly ? 'unread' : 'all', after: next }) : null,
  };
}

/** The caller's exact unread count with its version (to order it among `inboxChanged` frames). */
export async function countUnread(deps: Pick<InboxDeps, 'inbox'>, caller: Caller): Promise<UnreadCount> {
  return deps.inbox.unreadCount(caller.tenantId, caller.sub);
}

/**
 * Marks one of the caller's items read (again is fine); the user's connections hear of a change.
 * Answers the count and version after it. Throws NotFoundError when the inbox holds no such item.
 */
export async function markInboxItemRead(
  deps: InboxDeps,
  caller: Caller,
  id: string,
): Promise<{ id: string; read: true } & UnreadCount> {
  const now = deps.clock.now();
  const outcome = await deps.inbox.markRead(caller.tenantId, caller.sub, id, now, readItemExpiry(now, deps.readRetentionDays));
  if (outcome === 'missing') throw new NotFoundError(`Inbox item ${id} not found`);
  const count = outcome === 'read' ? await notifyInboxChanged(deps, caller.tenantId, caller.sub) : await deps.inbox.unreadCount(caller.tenantId, caller.sub);
  return { id, read: true, ...count };
}

/**
 * Marks every unread item of the caller read, page by page through the unread index; repeating
 * it is harmless. Items delivered while it runs may stay unread (they arrived after the request).
 */
export async function markAllInboxRead(deps: InboxDeps, caller: Caller): Promise<{ marked: number } & UnreadCount> {
  const now = deps.clock.now();
  const expiresAt = readItemExpiry(now, deps.readRetentionDays);
  let marked = 0;
  let after: string | undefined;
  do {
    const page = await deps.inbox.page(caller.tenantId, caller.sub, { unreadOnly: true, limit: readAllPageSize, ...(after ? { after } : {}) });
    const ids = page.items.map((item) => item.notificationId);
    if (ids.length > 0) marked += await deps.inbox.markManyRead(caller.tenantId, caller.sub, ids, now, expiresAt);
    after = page.after;
  } while (after);
  const count = marked > 0 ? await notifyInboxChanged(deps, caller.tenantId, caller.sub) : await deps.inbox.unreadCount(caller.tenantId, caller.sub);
  return { marked, ...count };
}
