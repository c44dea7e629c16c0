// The order of the unread counts the WebSocket API announces, as the published client applies it
// (client/unread.ts, `applyUnread`; test/unit/console/unread.test.ts holds the two equal). A
// `notification` or `inboxChanged` frame carries `unread` with its version `unreadVersion`, which
// every change of the count raises: frames from different invocations may arrive out of order, so
// the page keeps the newest count it has applied and drops an older one. No version (a deployment
// older than versions) counts as 0.

/**
 * The count `message` carries, with its version (missing: 0); `undefined` when it carries none.
 * @param {{ unread?: unknown, unreadVersion?: unknown }} message
 * @returns {{ unread: number, unreadVersion: number } | undefined}
 */
export function unreadIn(message) {
  if (typeof message.unread !== 'number') return undefined;
  return { unread: message.unread, unreadVersion: typeof message.unreadVersion === 'number' ? message.unreadVersion : 0 };
}

/**
 * The count to show once `message` arrives, given the newest `applied` so far: the message's
 * unless its version is older (`stale`: dropped); a message with no count leaves `applied`.
 * @param {{ unread: number, unreadVersion: number } | undefined} applied
 * @param {{ unread?: unknown, unreadVersion?: unknown }} message
 * @returns {{ count: { unread: number, unreadVersion: number } | undefined, stale: boolean }}
 */
export function applyUnread(applied, message) {
  const carried = unreadIn(message);
  if (carried === undefined) return { count: applied, stale: false };
  if (applied !== undefined && carried.unreadVersion < applied.unreadVersion) return { count: applied, stale: true };
  return { count: carried, stale: false };
}
