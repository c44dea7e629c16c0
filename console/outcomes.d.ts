// Types of console/outcomes.js, for the tests that import it (the browser loads the .js as is).
export function unattemptedChannelStatus(notification: { readonly status: string; readonly heldUntil?: string | null }): 'cancelled' | 'not attempted' | 'held' | 'waiting';
