/**
 * The operations dashboard graphs, per channel, the delivery metrics under the very names and
 * dimensions shared/observability/metric-names.ts gives the emitter, and every queue and
 * dead-letter queue the data stack holds.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { channelDescriptions, functions, queues } from '../../lib/app-description.ts';
import { deliveryMetricDimensions, deliveryMetrics } from '../../shared/observability/metric-names.ts';
import type { SynthesisedHerald } from './synth.ts';
import { synthesiseHerald, testSettings } from './synth.ts';
import { functionLogicalId, prop, resourcesOfType } from './template-queries.ts';

type MetricLine = readonly unknown[];

interface Widget {
  readonly type: string;
  readonly properties: { readonly title?: string; readonly metrics?: readonly MetricLine[] };
}

const physical = (name: string): string => `herald-${testSettings.stage}-${name}`;

/**
 * The dashboard body with each CloudFormation reference written as `<ref:LogicalId>`, so that it
 * parses as the JSON CloudWatch receives (the service stack's queue names are imports of the data
 * stack's: `<import:...>`).
 */
function bodyOf(value: unknown): { widgets: readonly Widget[] } {
  const join = (value as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
  const text = join[1]
    .map((part) => {
      if (typeof part === 'string') return part;
      const record = part as Record<string, unknown>;
      if (typeof record.Ref === 'string') return `<ref:${record.Ref}>`;
      if (record['Fn::GetStackOutput']) return `<import:${(record['Fn::GetStackOutput'] as { OutputName: string }).OutputName}>`;
      return '<value>';
    })
    .join(join[0]);
  return JSON.parse(text) as { widgets: readonly Widget[] };
}

/** The metric lines of every graph, each as `namespace metric dim=value ... stat`, dimensions sorted. */
function graphedMetrics(widgets: readonly Widget[]): string[] {
  return widgets.flatMap((widget) =>
    (widget.properties.metrics ?? []).map((line) => {
      const options = line.at(-1) as { stat?: string } | undefined;
      const [namespace, name, ...dims] = line.slice(0, -1) as string[];
      const pairs: string[] = [];
      for (let i = 0; i + 1 < dims.length; i += 2) pairs.push(`${dims[i]}=${dims[i + 1]}`);
      // CloudWatch tells dimensions apart by name, not by order.
      return [namespace, name, ...pairs.sort(), options?.stat ?? ''].join(' ');
    }),
  );
}

describe('the operations dashboard', () => {
  let herald: SynthesisedHerald;
  let widgets: readonly Widget[];
  let metrics: string[];
  beforeAll(() => {
    herald = synthesiseHerald();
    const dashboards = resourcesOfType(herald.service, 'AWS::CloudWatch::Dashboard');
    expect(dashboards).toHaveLength(1);
    const [, dashboard] = dashboards[0] ?? [];
    expect(dashboard && prop(dashboard, 'DashboardName')).toBe(`herald-${testSettings.stage}`);
    widgets = bodyOf(dashboard && prop(dashboard, 'DashboardBody')).widgets;
    metrics = graphedMetrics(widgets);
  });

  it.each(channelDescriptions.map((channel) => channel.name))('graphs what %s delivered, failed, retried and throttled, as the engine names them', (channel) => {
    // Prepare
    const dimensions = Object.entries(deliveryMetricDimensions(channel)).map(([name, value]) => `${name}=${value}`).sort();

    // Act
    const counted = Object.values(deliveryMetrics.counts).map((name) => [deliveryMetrics.namespace, name, ...dimensions, 'Sum'].join(' '));

    // Assess
    expect(metrics).toEqual(expect.arrayContaining(counted));
  });

  it.each(channelDescriptions.map((channel) => channel.name))('graphs how late %s deliveries were, p50 and p99', (channel) => {
    // Prepare
    const dimensions = Object.entries(deliveryMetricDimensions(channel)).map(([name, value]) => `${name}=${value}`).sort();

    // Act
    const lateness = ['p50', 'p99'].map((stat) => [deliveryMetrics.namespace, deliveryMetrics.lateness, ...dimensions, stat].join(' '));

    // Assess
    expect(metrics).toEqual(expect.arrayContaining(lateness));
  });

  it('graphs the depth, the messages in flight and the age of the oldest message of every working queue', () => {
    // Act
    const working = queues.filter((queue) => !queue.deadLetters);

    // Assess
    expect(working.length).toBeGreaterThan(0);
    for (const metric of ['ApproximateNumberOfMessagesVisible', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateAgeOfOldestMessage']) {
      const queuesGraphed = metrics.filter((line) => line.startsWith(`AWS/SQS ${metric} `));
      expect(queuesGraphed.length, metric).toBeGreaterThanOrEqual(working.length);
    }
  });

  it('graphs every dead-letter queue in its own row, waiting messages and the age of the oldest', () => {
    // Act
    const deadLetterTitles = widgets.map((widget) => widget.properties.title ?? '').filter((title) => title.startsWith('Dead letters'));
    const graphedDeadLetters = widgets
      .filter((widget) => (widget.properties.title ?? '').startsWith('Dead letters'))
      .flatMap((widget) => widget.properties.metrics ?? []);

    // Assess
    expect(deadLetterTitles).toHaveLength(2);
    expect(graphedDeadLetters).toHaveLength(2 * queues.filter((queue) => queue.deadLetters).length);
  });

  it('graphs the errors and throttles of every function', () => {
    // Act
    const errors = metrics.filter((line) => line.startsWith('AWS/Lambda Errors '));
    const throttles = metrics.filter((line) => line.startsWith('AWS/Lambda Throttles '));

    // Assess
    for (const fn of functions) {
      const graphed = `FunctionName=<ref:${functionLogicalId(herald.service, physical(fn.name))}>`;
      expect(errors.some((line) => line.includes(graphed)), fn.name).toBe(true);
      expect(throttles.some((line) => line.includes(graphed)), fn.name).toBe(true);
    }
  });

  it("graphs the HTTP API's requests, errors and latency", () => {
    // Act
    const api = metrics.filter((line) => line.startsWith('AWS/ApiGateway '));

    // Assess
    expect(api.map((line) => line.split(' ')[1])).toEqual(expect.arrayContaining(['Count', '4xx', '5xx', 'Latency']));
  });

  it('names the metric set once, shared with the future emitter', () => {
    // Assess: the dimension set the emitter will publish with (Powertools adds `service`).
    expect(deliveryMetricDimensions('email')).toEqual({ service: 'herald', Channel: 'email' });
    expect(Object.values(deliveryMetrics.counts)).toEqual(['Delivered', 'Failed', 'Retried', 'Throttled']);
    expect(deliveryMetrics.lateness).toBe('DeliveryLatenessMs');
  });
});
