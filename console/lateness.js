// Delivery lateness, computed in the browser from the notifications the console lists: how long
// after its `scheduledAt` each notification got its first channel outcome that reached the
// recipient (`sent` or `unconfirmed`), in ms. GET /v1/metrics counts transitions per hour and
// keeps no lateness, so this is what can be drawn today; a server-side histogram is missing.

/** Channel outcomes that mean the notification reached (or was handed to) its recipient. */
const reached = new Set(['sent', 'unconfirmed']);

/**
 * The lateness of one notification view (ms, may be negative by clock skew); undefined when no
 * channel reached its recipient yet.
 * @param {{ scheduledAt: string, deliveries?: Record<string, { status: string, at: string }> }} notification
 * @returns {number | undefined}
 */
export function latenessMs(notification) {
  const scheduled = Date.parse(notification.scheduledAt);
  const times = Object.values(notification.deliveries ?? {})
    .filter((d) => reached.has(d.status))
    .map((d) => Date.parse(d.at));
  if (times.length === 0 || Number.isNaN(scheduled)) return undefined;
  return Math.min(...times) - scheduled;
}

/**
 * The `p`-th percentile (0 < p <= 100) of `values` by the nearest-rank method; undefined for none.
 * @param {readonly number[]} values
 * @param {number} p
 * @returns {number | undefined}
 */
export function percentile(values, p) {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1];
}

/**
 * Lateness over time: the notifications bucketed by `scheduledAt` into `buckets` equal slices of
 * their span, each with its p50 and p99 (ms); empty slices are left out.
 * @param {readonly { scheduledAt: string, deliveries?: Record<string, { status: string, at: string }> }[]} notifications
 * @param {number} [buckets]
 * @returns {{ from: number, to: number, count: number, p50: number, p99: number }[]}
 */
export function latenessSeries(notifications, buckets = 20) {
  const points = notifications
    .map((n) => ({ at: Date.parse(n.scheduledAt), lateness: latenessMs(n) }))
    .filter((p) => p.lateness !== undefined && !Number.isNaN(p.at));
  if (points.length === 0) return [];
  const start = Math.min(...points.map((p) => p.at));
  const end = Math.max(...points.map((p) => p.at));
  const width = Math.max(1, Math.ceil((end - start + 1) / buckets));
  /** @type {number[][]} */
  const slices = Array.from({ length: buckets }, () => []);
  for (const p of points) slices[Math.min(buckets - 1, Math.floor((p.at - start) / width))]?.push(/** @type {number} */ (p.lateness));
  return slices.flatMap((values, index) =>
    values.length === 0
      ? []
      : [{ from: start + index * width, to: start + (index + 1) * width, count: values.length, p50: percentile(values, 50) ?? 0, p99: percentile(values, 99) ?? 0 }],
  );
}
