/**
 * The delivery metrics, named once: the delivery engine emits them as CloudWatch EMF through
 * Powertools Metrics, and the dashboard (lib/constructs/herald-dashboard.ts) graphs them. A metric
 * is found in CloudWatch by namespace, name and its exact set of dimensions, so both sides build
 * them from here and nowhere else.
 *
 * The emitter, for a delivery outcome on one channel:
 *
 *     const metrics = new Metrics({ namespace: deliveryMetrics.namespace, serviceName: deliveryMetrics.serviceName });
 *     metrics.addDimensions(deliveryMetricDimensions('email'));
 *     metrics.addMetric(deliveryMetrics.counts.delivered, deliveryMetrics.units.count, 1);
 *     metrics.addMetric(deliveryMetrics.lateness, deliveryMetrics.units.lateness, sentAtMs - dueAtMs);
 *
 * Powertools adds the `service` dimension to every metric (its `serviceName`), hence its place in
 * {@link deliveryMetricDimensions}. Plain data: no AWS SDK or CDK import.
 */

/** Namespace, names, dimensions and units of the delivery metrics. */
export const deliveryMetrics = {
  /** The CloudWatch namespace of every Herald metric. */
  namespace: 'Herald',
  /** Powertools' `serviceName`: the value of the `service` dimension (the logger's too). */
  serviceName: 'herald',
  /** The dimension that tells the channels apart. */
  channelDimension: 'Channel',
  /** Counts, one per outcome of a delivery attempt on a channel. */
  counts: {
    /** The channel reached the recipient. */
    delivered: 'Delivered',
    /** The channel failed for good (permanent error, or its last retry). */
    failed: 'Failed',
    /** A transient error: the channel will be tried again after the backoff. */
    retried: 'Retried',
    /** The provider said slow down: the channel waits for its hint, spending no retry. */
    throttled: 'Throttled',
  },
  /** Milliseconds from when a notification was due to when the channel delivered it. */
  lateness: 'DeliveryLatenessMs',
  /** The EMF unit of each kind (Powertools' `MetricUnit` values). */
  units: { count: 'Count', lateness: 'Milliseconds' },
} as const;

/** The name of one of the counts. */
export type DeliveryCountName = (typeof deliveryMetrics.counts)[keyof typeof deliveryMetrics.counts];

/** The full dimension set of a delivery metric of `channel`, as CloudWatch stores it. */
export function deliveryMetricDimensions(channel: string): Readonly<Record<string, string>> {
  return { service: deliveryMetrics.serviceName, [deliveryMetrics.channelDimension]: channel };
}
