/**
 * The delivery metrics as CloudWatch EMF, through Powertools Metrics: one `Metrics` per channel
 * (its `Channel` dimension beside Powertools' `service`), each flushed as one EMF line on stdout,
 * which CloudWatch Logs turns into metrics. Names, units and dimensions come from
 * shared/observability/metric-names.ts, which the dashboard graphs.
 */
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Channel } from '../domain/notification.ts';
import { deliveryMetrics } from '../observability/metric-names.ts';
import type { DeliveryCountName } from '../observability/metric-names.ts';
import type { DeliveryMetricsRecorder } from '../ports.ts';

type Unit = (typeof MetricUnit)[keyof typeof MetricUnit];

export class PowertoolsDeliveryMetrics implements DeliveryMetricsRecorder {
  private readonly byChannel = new Map<Channel, Metrics>();

  private metricsOf(channel: Channel): Metrics {
    let metrics = this.byChannel.get(channel);
    if (!metrics) {
      metrics = new Metrics({
        namespace: deliveryMetrics.namespace,
        serviceName: deliveryMetrics.serviceName,
        defaultDimensions: { [deliveryMetrics.channelDimension]: channel },
      });
      this.byChannel.set(channel, metrics);
    }
    return metrics;
  }

  count(channel: Channel, name: DeliveryCountName): void {
    this.metricsOf(channel).addMetric(name, deliveryMetrics.units.count as Unit, 1);
  }

  lateness(channel: Channel, ms: number): void {
    this.metricsOf(channel).addMetric(deliveryMetrics.lateness, deliveryMetrics.units.lateness as Unit, Math.max(0, ms));
  }

  /** Writes what was recorded since the last flush, one EMF line per channel that has any. */
  flush(): void {
    for (const metrics of this.byChannel.values()) {
      if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
    }
  }
}
