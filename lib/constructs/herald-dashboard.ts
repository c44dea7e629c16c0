import { Duration } from 'aws-cdk-lib';
import type { IHttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import { Dashboard, GraphWidget, Metric, Stats, TextWidget } from 'aws-cdk-lib/aws-cloudwatch';
import type { HorizontalAnnotation, IMetric, IWidget } from 'aws-cdk-lib/aws-cloudwatch';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { deliveryMetricDimensions, deliveryMetrics } from '../../shared/observability/metric-names.ts';
import type { HeraldQueue } from './herald-queues.ts';

/** Properties of {@link HeraldDashboard}. */
export interface HeraldDashboardProps {
  /** Name of the dashboard in CloudWatch. */
  readonly dashboardName: string;
  /** The channels the delivery engine delivers on: one row of outcomes and lateness each. */
  readonly channels: readonly string[];
  /** Every queue: the working ones are graphed by depth and age, the dead-letter ones apart. */
  readonly queues: readonly HeraldQueue[];
  /** The functions whose errors, throttles, concurrency and duration are graphed, by name. */
  readonly functions: ReadonlyMap<string, IFunction>;
  /**
   * The HTTP API whose requests, errors and latency are graphed.
   * @default no API row
   */
  readonly httpApi?: IHttpApi;
  /**
   * The period of every graph.
   * @default Duration.minutes(1)
   */
  readonly period?: Duration;
}

const fullWidth = 24;

/**
 * Herald's operations dashboard: per channel what was delivered, failed, retried and throttled and
 * how late (p50/p99); the queues' depth, messages in flight and age of the oldest message; the
 * dead-letter queues; the functions; the HTTP API. The delivery metrics are the EMF ones named in
 * shared/observability/metric-names.ts; SQS, Lambda and API Gateway metrics come from the constructs.
 */
export class HeraldDashboard extends Construct {
  /** The CloudWatch dashboard. */
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: HeraldDashboardProps) {
    super(scope, id);
    const period = props.period ?? Duration.minutes(1);
    this.dashboard = new Dashboard(this, 'Dashboard', { dashboardName: props.dashboardName, defaultInterval: Duration.hours(3) });
    const working = props.queues.filter((q) => !q.description.deadLetters);
    const deadLetters = props.queues.filter((q) => q.description.deadLetters);

    this.dashboard.addWidgets(
      new TextWidget({
        markdown: `# Herald deliveries\nOutcomes and lateness per channel (namespace \`${deliveryMetrics.namespace}\`, EMF from the delivery engine), then the queues, dead letters, functions and the HTTP API.`,
        width: fullWidth,
        height: 2,
      }),
    );
    for (const channel of props.channels) this.dashboard.addWidgets(...channelRow(channel, period));
    this.dashboard.addWidgets(...queueRow(working, period));
    this.dashboard.addWidgets(...deadLetterRow(deadLetters, period));
    this.dashboard.addWidgets(...functionRow(props.functions, period));
    if (props.httpApi) this.dashboard.addWidgets(...apiRow(props.httpApi, period));
  }
}

function deliveryMetric(channel: string, metricName: string, statistic: string, period: Duration, label: string): Metric {
  return new Metric({
    namespace: deliveryMetrics.namespace,
    metricName,
    dimensionsMap: { ...deliveryMetricDimensions(channel) },
    statistic,
    period,
    label,
  });
}

function channelRow(channel: string, period: Duration): IWidget[] {
  const { counts, lateness } = deliveryMetrics;
  return [
    new GraphWidget({
      title: `${channel}: delivered, failed, retried, throttled`,
      left: [
        deliveryMetric(channel, counts.delivered, Stats.SUM, period, 'delivered'),
        deliveryMetric(channel, counts.failed, Stats.SUM, period, 'failed'),
        deliveryMetric(channel, counts.retried, Stats.SUM, period, 'retried'),
        deliveryMetric(channel, counts.throttled, Stats.SUM, period, 'throttled'),
      ],
      width: 12,
    }),
    new GraphWidget({
      title: `${channel}: how late (ms after due)`,
      left: [deliveryMetric(channel, lateness, Stats.p(50), period, 'p50'), deliveryMetric(channel, lateness, Stats.p(99), period, 'p99')],
      width: 12,
    }),
  ];
}

function byQueue(queues: readonly HeraldQueue[], metric: (queue: HeraldQueue) => IMetric): IMetric[] {
  return queues.map(metric);
}

function queueRow(queues: readonly HeraldQueue[], period: Duration): IWidget[] {
  const options = (queue: HeraldQueue): { period: Duration; statistic: string; label: string } => ({
    period,
    statistic: Stats.MAXIMUM,
    label: queue.description.name,
  });
  return [
    new GraphWidget({
      title: 'Queues: messages waiting',
      left: byQueue(queues, (q) => q.queue.metricApproximateNumberOfMessagesVisible(options(q))),
      width: 8,
    }),
    new GraphWidget({
      // Early messages held and backoffs wait here; a standard queue takes about 120,000 in flight.
      title: 'Queues: messages in flight',
      left: byQueue(queues, (q) => q.queue.metricApproximateNumberOfMessagesNotVisible(options(q))),
      width: 8,
    }),
    new GraphWidget({
      title: 'Queues: age of the oldest message (s)',
      left: byQueue(queues, (q) => q.queue.metricApproximateAgeOfOldestMessage(options(q))),
      width: 8,
    }),
  ];
}

function deadLetterRow(queues: readonly HeraldQueue[], period: Duration): IWidget[] {
  const options = (queue: HeraldQueue): { period: Duration; statistic: string; label: string } => ({
    period,
    statistic: Stats.MAXIMUM,
    label: queue.description.name,
  });
  const oldestAlarm = Math.min(...queues.map((q) => q.description.deadLetters?.oldestMessageAlarmSeconds ?? Infinity));
  const ageAnnotations: HorizontalAnnotation[] = Number.isFinite(oldestAlarm) ? [{ value: oldestAlarm, label: 'the soonest oldest-message alarm' }] : [];
  return [
    new GraphWidget({
      title: 'Dead letters: messages waiting (any is an alarm)',
      left: byQueue(queues, (q) => q.queue.metricApproximateNumberOfMessagesVisible(options(q))),
      width: 12,
    }),
    new GraphWidget({
      title: 'Dead letters: age of the oldest (s)',
      left: byQueue(queues, (q) => q.queue.metricApproximateAgeOfOldestMessage(options(q))),
      leftAnnotations: ageAnnotations,
      width: 12,
    }),
  ];
}

function functionRow(functions: ReadonlyMap<string, IFunction>, period: Duration): IWidget[] {
  const each = (metric: (fn: IFunction, label: string) => IMetric): IMetric[] => [...functions].map(([name, fn]) => metric(fn, name));
  return [
    new GraphWidget({ title: 'Functions: errors', left: each((fn, label) => fn.metricErrors({ period, label })), width: 6 }),
    new GraphWidget({ title: 'Functions: throttles', left: each((fn, label) => fn.metricThrottles({ period, label })), width: 6 }),
    new GraphWidget({
      title: 'Functions: concurrent executions',
      left: each((fn, label) => fn.metric('ConcurrentExecutions', { period, statistic: Stats.MAXIMUM, label })),
      width: 6,
    }),
    new GraphWidget({ title: 'Functions: duration p99 (ms)', left: each((fn, label) => fn.metricDuration({ period, statistic: Stats.p(99), label })), width: 6 }),
  ];
}

function apiRow(api: IHttpApi, period: Duration): IWidget[] {
  return [
    new GraphWidget({
      title: 'HTTP API: requests, 4xx (429 included), 5xx',
      left: [
        api.metricCount({ period, statistic: Stats.SUM, label: 'requests' }),
        api.metricClientError({ period, statistic: Stats.SUM, label: '4xx' }),
        api.metricServerError({ period, statistic: Stats.SUM, label: '5xx' }),
      ],
      width: 12,
    }),
    new GraphWidget({
      title: 'HTTP API: latency (ms)',
      left: [api.metricLatency({ period, statistic: Stats.p(50), label: 'p50' }), api.metricLatency({ period, statistic: Stats.p(99), label: 'p99' })],
      width: 12,
    }),
  ];
}
