// Types of console/lateness.js, for the tests that import it (the browser loads the .js as is).
export interface NotificationTimes {
  readonly scheduledAt: string;
  readonly deliveries?: Readonly<Record<string, { readonly status: string; readonly at: string }>>;
}
export function latenessMs(notification: NotificationTimes): number | undefined;
export function percentile(values: readonly number[], p: number): number | undefined;
export function latenessSeries(
  notifications: readonly NotificationTimes[],
  buckets?: number,
): { from: number; to: number; count: number; p50: number; p99: number }[];
