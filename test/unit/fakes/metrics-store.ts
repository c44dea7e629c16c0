/** An in-memory MetricsStore: counters per tenant and UTC hour, summed like the Dynamo adapter. */
import { hourKey, isMetricName } from '../../../shared/domain/metrics.ts';
import type { MetricCounts, MetricName } from '../../../shared/domain/metrics.ts';
import type { MetricsStore } from '../../../shared/ports.ts';

export class InMemoryMetricsStore implements MetricsStore {
  private readonly hours = new Map<string, Map<MetricName, number>>();

  async add(tenantId: string, at: Date, counts: MetricCounts): Promise<void> {
    const bucketKey = `${tenantId}#${hourKey(at)}`;
    const bucket = this.hours.get(bucketKey) ?? new Map<MetricName, number>();
    for (const [name, value] of Object.entries(counts)) {
      if (isMetricName(name) && value !== undefined) bucket.set(name, (bucket.get(name) ?? 0) + value);
    }
    this.hours.set(bucketKey, bucket);
  }

  async sum(tenantId: string, from: Date, to: Date): Promise<MetricCounts> {
    const totals: Partial<Record<MetricName, number>> = {};
    for (const [bucketKey, bucket] of this.hours) {
      const [tenant, hour = ''] = bucketKey.split('#');
      if (tenant !== tenantId || hour < hourKey(from) || hour > hourKey(to)) continue;
      for (const [name, value] of bucket) totals[name] = (totals[name] ?? 0) + value;
    }
    return totals;
  }

  /** The counters of one tenant's hour. */
  hour(tenantId: string, at: Date): MetricCounts {
    return Object.fromEntries(this.hours.get(`${tenantId}#${hourKey(at)}`) ?? []);
  }
}
