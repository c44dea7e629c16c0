/**
 * Tenant metrics: counters of transitions, kept per tenant per UTC hour. A notification entering
 * a status adds one to `notifications.<status>`; a channel outcome adds one to
 * `deliveries.<channel>.<outcome>`. A report sums the hours of a window, so its granularity is
 * one hour: the window starts at the beginning of the hour that holds `now - period`.
 */
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
}

/** Shapes summed counters into a report; counters never written read as zero. */
export function toMetricsReport(sums: MetricCounts, window: { period: number; from: Date; to: Date }): MetricsReport {
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
  };
}
