/**
 * The order of the unread counts the WebSocket API announces. A `notification` frame (when the
 * delivery added the item to the inbox) and an `inboxChanged` frame carry the caller's unread
 * count, `unread`, with its version, `unreadVersion`: every change of the count raises the version
 * (in the same DynamoDB write), so of two counts the one with the greater version is the newer.
 * Frames posted by different invocations (two deliveries side by side, a delivery and a read) may
 * arrive in any order: a client keeps the newest count it has applied and drops an older one.
 * The answers of `GET /v1/me/inbox/unread-count`, `POST /v1/me/inbox/{id}/read` and
 * `POST /v1/me/inbox/read-all` carry the same pair, to start from or to apply alike.
 *
 * A frame or answer without `unreadVersion` (from a deployment older than versions) counts as
 * version 0: applied until a versioned count has been, dropped after. The console applies the same
 * rule (`console/unread.js`; test/unit/console/unread.test.ts holds the two equal).
 */

/** A count with its version, as a client applied it. */
export interface UnreadCount {
  /** Unread inbox items. */
  readonly unread: number;
  /** The count's version: greater is newer; 0 when the frame or answer carried none. */
  readonly unreadVersion: number;
}

/** Anything that may carry a count: a frame of the WebSocket API, an answer of the inbox routes. */
export interface CarriesUnread {
  readonly unread?: number;
  readonly unreadVersion?: number;
}

/** The count `message` carries, with its version (missing: 0); `undefined` when it carries none. */
export function unreadIn(message: CarriesUnread): UnreadCount | undefined {
  if (typeof message.unread !== 'number') return undefined;
  return { unread: message.unread, unreadVersion: typeof message.unreadVersion === 'number' ? message.unreadVersion : 0 };
}

/**
 * The count to show once `message` arrives, given the newest one `applied` so far: the message's
 * unless its version is older than the applied one's (a stale frame, overtaken on its way), in
 * which case `applied` stays. `stale` says the message's count was dropped; a message with no
 * count leaves `applied` as it is.
 */
export function applyUnread(applied: UnreadCount | undefined, message: CarriesUnread): { readonly count: UnreadCount | undefined; readonly stale: boolean } {
  const carried = unreadIn(message);
  if (carried === undefined) return { count: applied, stale: false };
  if (applied !== undefined && carried.unreadVersion < applied.unreadVersion) return { count: applied, stale: true };
  return { count: carried, stale: false };
}
