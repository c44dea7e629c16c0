// Types of console/unread.js, for the tests that import it (the browser loads the .js as is).
export interface UnreadCount {
  readonly unread: number;
  readonly unreadVersion: number;
}
export function unreadIn(message: { readonly unread?: unknown; readonly unreadVersion?: unknown }): UnreadCount | undefined;
export function applyUnread(
  applied: UnreadCount | undefined,
  message: { readonly unread?: unknown; readonly unreadVersion?: unknown },
): { count: UnreadCount | undefined; stale: boolean };
