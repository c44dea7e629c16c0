/**
 * The local stack's CloudWatch: the EMF lines the functions print ("Specification: Embedded
 * metric format", CloudWatch User Guide) are read back into metrics, as CloudWatch Logs would,
 * and summed per namespace, name and dimension values (`GET /_local/metrics`). Not emulated:
 * periods, percentiles, storage resolution.
 */

/** One metric's values so far, for one set of dimension values. */
export interface LocalMetric {
  readonly namespace: string;
  readonly name: string;
  readonly unit: string;
  readonly dimensions: Readonly<Record<string, string>>;
  readonly count: number;
  readonly sum: number;
  readonly min: number;
  readonly max: number;
}

interface EmfDirective {
  readonly Namespace?: unknown;
  readonly Dimensions?: unknown;
  readonly Metrics?: unknown;
}

/** Collects the metrics of EMF lines. */
export class EmfMetrics {
  private readonly metrics = new Map<string, LocalMetric>();

  /** Reads one printed line; a line that is no EMF document is ignored. */
  read(line: string): void {
    let document: Record<string, unknown>;
    try {
      document = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return;
    }
    const aws = document._aws as { CloudWatchMetrics?: unknown } | undefined;
    if (!aws || !Array.isArray(aws.CloudWatchMetrics)) return;
    for (const directive of aws.CloudWatchMetrics as EmfDirective[]) {
      const namespace = typeof directive.Namespace === 'string' ? directive.Namespace : '';
      const dimensionNames = Array.isArray(directive.Dimensions) && Array.isArray(directive.Dimensions[0]) ? (directive.Dimensions[0] as unknown[]).map(String) : [];
      const dimensions = Object.fromEntries(dimensionNames.map((name) => [name, String(document[name] ?? '')]));
      for (const metric of Array.isArray(directive.Metrics) ? (directive.Metrics as { Name?: unknown; Unit?: unknown }[]) : []) {
        const name = String(metric.Name ?? '');
        const raw = document[name];
        const values = (Array.isArray(raw) ? raw : [raw]).filter((value): value is number => typeof value === 'number');
        if (values.length > 0) this.add({ namespace, name, unit: String(metric.Unit ?? 'None'), dimensions }, values);
      }
    }
  }

  /** Every metric so far, by namespace, name and dimensions. */
  snapshot(): LocalMetric[] {
    return [...this.metrics.values()];
  }

  reset(): void {
    this.metrics.clear();
  }

  private add(metric: Omit<LocalMetric, 'count' | 'sum' | 'min' | 'max'>, values: readonly number[]): void {
    const key = JSON.stringify([metric.namespace, metric.name, Object.entries(metric.dimensions).sort()]);
    const before = this.metrics.get(key) ?? { ...metric, count: 0, sum: 0, min: Number.POSITIVE_INFINITY, max: Number.NEGATIVE_INFINITY };
    this.metrics.set(key, {
      ...before,
      count: before.count + values.length,
      sum: before.sum + values.reduce((a, b) => a + b, 0),
      min: Math.min(before.min, ...values),
      max: Math.max(before.max, ...values),
    });
  }
}
