/**
 * The channels Herald delivers on, by name: a leaf module (no imports), so that what needs only
 * the names (the body caps, the recipient's switches, at the api's cold start) does not load the
 * notification model and the Temporal polyfill its views use. `notification.ts` re-exports them.
 */
export const channels = ['inbox', 'websocket', 'email', 'push', 'sms', 'telegram', 'webhook'] as const;
export type Channel = (typeof channels)[number];
