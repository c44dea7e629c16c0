/**
 * Tenant metrics: counters of transitions, kept per tenant per UTC hour. A notification entering
 * a status adds one to `notifications.<status>`; a channel outcome adds one to
 * `deliveries.<channel>.<outcome>`. The transitions are read off the notifications table's stream,
 * from each write's item before and after (`changeMetrics`). A report sums the hours of a window,
 * so its granularity is one hour: the window starts at the beginning of the hour that holds
 * `now - period`.
 */
import type { EmailAccountStatus } from './email-account.ts';
import { channelDeliveryStatuses, channels, notificationStatuses } from './notification.ts';
import type { Channel, ChannelDeliveryStatus, NotificationStatus } from './notification.ts';

/** A channel outcome worth counting: `sending` is an intent, not an outcome. */
export type CountedOutcome = Exclude<ChannelDeliveryStatus, 'sending'>;
export const countedOutcomes: readonly CountedOutcome[] = channelDeliveryStatuses.filter(
  (status): status is CountedOutcome => status !== 'sending',
);

export type MetricName = `notifications.${NotificationStatus}` | `deliveries.${Channel}.${CountedOutcome}`;
export type MetricCounts = Readonly<Partial<Record<MetricName, number>>>;

/** The counter a notification entering `status` adds to. */
export function statusMetric(status: NotificationStatus): MetricName {
  return `notifications.${status}`;
}

/** The counter a channel outcome adds to; `undefined` for one that is not counted (an intent). */
export function deliveryMetric(channel: Channel, outcome: ChannelDeliveryStatus): MetricName | undefined {
  return outcome === 'sending' ? undefined : `deliveries.${channel}.${outcome}`;
}

/** Every metric name (what a report lists, zeros included). */
export const metricNames: readonly MetricName[] = [
  ...notificationStatuses.map(statusMetric),
  ...channels.flatMap((channel) => countedOutcomes.map((outcome): MetricName => `deliveries.${channel}.${outcome}`)),
];

/** True for a string that names a metric. */
export function isMetricName(name: string): name is MetricName {
  return (metricNames as readonly string[]).includes(name);
}

/** The UTC hour that holds `at`, as a sortable key: `2030-01-01T12`. */
export function hourKey(at: Date): string {
  return at.toISOString().slice(0, 13);
}

/** The start of the UTC hour that holds `at`. */
export function startOfHour(at: Date): Date {
  return new Date(Math.floor(at.getTime() / 3_600_000) * 3_600_000);
}

export interface MetricsReport {
  readonly period: number;
  /** The window actually counted: from the start of the hour that holds `now - period`, to now. */
  readonly from: string;
  readonly to: string;
  readonly granularity: 'hour';
  readonly notifications: Readonly<Record<NotificationStatus, number>>;
  readonly deliveries: Readonly<Record<Channel, Readonly<Record<CountedOutcome, number>>>>;
  /** The SES account's sandbox status and quota; `null` when SES could not be asked. */
  readonly email: EmailAccountStatus | null;
}

/** Shapes summed counters into a report; counters never written read as zero. */
export function toMetricsReport(sums: MetricCounts, window: { period: number; from: Date; to: Date }, email: EmailAccountStatus | null = null): MetricsReport {
  const count = (name: MetricName): number => sums[name] ?? 0;
  return {
    period: window.period,
    from: window.from.toISOString(),
    to: window.to.toISOString(),
    granularity: 'hour',
    notifications: Object.fromEntries(notificationStatuses.map((s) => [s, count(statusMetric(s))])) as Record<NotificationStatus, number>,
    deliveries: Object.fromEntries(
      channels.map((channel) => [
        channel,
        Object.fromEntries(countedOutcomes.map((outcome) => [outcome, count(`deliveries.${channel}.${outcome}`)])),
      ]),
    ) as Record<Channel, Record<CountedOutcome, number>>,
    email,
  };
}

/**
 * What a metrics count needs to know of a notification as stored: its tenant, its status, how
 * often it was claimed, and the status of each channel's delivery record (with when it was
 * recorded, so that an outcome written again counts again, as it was counted when written).
 */
export interface NotificationImage {
  readonly tenantId: string;
  readonly status: NotificationStatus;
  readonly attempts: number;
  readonly deliveries: Readonly<Partial<Record<Channel, { readonly status: ChannelDeliveryStatus; readonly at: string }>>>;
}

/** One write of a notification, as the table's stream tells it: the item before (absent for a creation) and after (absent for a deletion). */
export interface NotificationChange {
  readonly before?: NotificationImage;
  readonly after?: NotificationImage;
}

/**
 * The counter a status change adds to, if any: a creation counts its status (`pending`); a claim
 * and a takeover of a lease that ran out (`sending` → `sending`, one more attempt) count
 * `sending`; every other change of status counts the status entered, except a claim released for
 * a retry (`sending` → `pending`), which is still the same attempt's story. A rescheduled
 * notification (`pending`, unchanged) counts nothing.
 */
export function statusChangeMetric(before: NotificationImage | undefined, after: NotificationImage): MetricName | undefined {
  if (!before) return statusMetric(after.status);
  if (before.status === after.status) return after.status === 'sending' && after.attempts > before.attempts ? statusMetric('sending') : undefined;
  if (before.status === 'sending' && after.status === 'pending') return undefined;
  return statusMetric(after.status);
}

/**
 * The counts one write of a notification adds: its status change (see `statusChangeMetric`) and
 * each channel whose delivery record appeared or changed to an outcome (`sending`, an intent, is
 * none). A deletion (the TTL, the cleanup sweep, a rolled-back create) counts nothing.
 */
export function changeMetrics(change: NotificationChange): MetricCounts {
  const { before, after } = change;
  if (!after) return {};
  const counts: Partial<Record<MetricName, number>> = {};
  const add = (name: MetricName | undefined): void => {
    if (name) counts[name] = (counts[name] ?? 0) + 1;
  };
  add(statusChangeMetric(before, after));
  for (const channel of channels) {
    const now = after.deliveries[channel];
    const was = before?.deliveries[channel];
    if (!now || (was && was.status === now.status && was.at === now.at)) continue;
    add(deliveryMetric(channel, now.status));
  }
  return counts;
}

/** Adds `more` into `into`. */
export function addCounts(into: Partial<Record<MetricName, number>>, more: MetricCounts): void {
  for (const [name, value] of Object.entries(more) as [MetricName, number | undefined][]) {
    if (value) into[name] = (into[name] ?? 0) + value;
  }
}

/** `counts`, each negated: what takes them back out of a counter. */
export function negatedCounts(counts: MetricCounts): MetricCounts {
  return Object.fromEntries(Object.entries(counts).map(([name, value]) => [name, -(value ?? 0)])) as MetricCounts;
}
