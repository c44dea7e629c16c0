import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PowertoolsDeliveryMetrics } from '../../../../shared/adapters/powertools-delivery-metrics.ts';
import { deliveryMetricDimensions, deliveryMetrics } from '../../../../shared/observability/metric-names.ts';

/** The EMF documents written to stdout (Powertools writes one JSON line per flush). */
let lines: string[];

beforeEach(() => {
  lines = [];
  // Powertools writes through its own Console on stdout.
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(...String(chunk).split('\n').filter(Boolean));
    return true;
  });
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe('the delivery metrics as EMF', () => {
  it('writes one EMF line per channel, under the names, units and dimensions the dashboard graphs', () => {
    // Prepare
    const metrics = new PowertoolsDeliveryMetrics();

    // Act
    metrics.count('email', deliveryMetrics.counts.delivered);
    metrics.count('email', deliveryMetrics.counts.delivered);
    metrics.lateness('email', 1250);
    metrics.count('websocket', deliveryMetrics.counts.retried);
    metrics.flush();
    metrics.flush();

    // Assess
    const documents = lines.filter((line) => line.includes('"_aws"')).map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(documents).toHaveLength(2);
    const email = documents.find((d) => d.Channel === 'email');
    expect(email).toMatchObject({ ...deliveryMetricDimensions('email'), [deliveryMetrics.counts.delivered]: [1, 1], [deliveryMetrics.lateness]: 1250 });
    const directive = (email?._aws as { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[] }).CloudWatchMetrics[0];
    expect(directive?.Namespace).toBe(deliveryMetrics.namespace);
    expect(directive?.Dimensions[0]?.slice().sort()).toEqual(Object.keys(deliveryMetricDimensions('email')).sort());
    expect(directive?.Metrics).toEqual(
      expect.arrayContaining([
        { Name: deliveryMetrics.counts.delivered, Unit: deliveryMetrics.units.count },
        { Name: deliveryMetrics.lateness, Unit: deliveryMetrics.units.lateness },
      ]),
    );
    expect(documents.find((d) => d.Channel === 'websocket')).toMatchObject({ [deliveryMetrics.counts.retried]: 1 });
  });
});
