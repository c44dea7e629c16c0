import { Duration } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, Stats, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import type { IAlarmAction } from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import type { HeraldQueue } from './herald-queues.ts';

/** Properties of {@link HeraldQueueAlarms}. */
export interface HeraldQueueAlarmsProps {
  /** Every queue; those whose description marks them `deadLetters` get alarms. */
  readonly queues: readonly HeraldQueue[];
  /**
   * Prefix of every alarm name (`<prefix>-<queue>-...`).
   * @default 'herald'
   */
  readonly namePrefix?: string;
  /**
   * What each alarm does when it fires and when it recovers (e.g. publish to the alarm topic).
   * @default no action
   */
  readonly actions?: readonly IAlarmAction[];
}

/**
 * Two CloudWatch alarms per dead-letter queue: one as soon as any message is visible there (a
 * notification failed after its retries, or a schedule could not reach the queue), and one when
 * the oldest has waited longer than the description allows (a dead letter keeps its first enqueue
 * time, so it expires 14 days after it was first sent: redrive it before then). Both take the
 * `actions` given, in alarm and back to OK.
 */
export class HeraldQueueAlarms extends Construct {
  /** The alarms, by queue name: `visible` and `oldest`. */
  readonly alarms: ReadonlyMap<string, { readonly visible: Alarm; readonly oldest: Alarm }>;

  constructor(scope: Construct, id: string, props: HeraldQueueAlarmsProps) {
    super(scope, id);
    const prefix = props.namePrefix ?? 'herald';
    const alarms = new Map<string, { visible: Alarm; oldest: Alarm }>();
    for (const { description, queue } of props.queues) {
      const deadLetters = description.deadLetters;
      if (!deadLetters) continue;
      const visible = new Alarm(this, `${description.name}-visible`, {
        alarmName: `${prefix}-${description.name}-messages-visible`,
        alarmDescription: `Messages are waiting in ${prefix}-${description.name}: see why (message attributes), fix, then npm run redrive`,
        metric: queue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: Stats.MAXIMUM }),
        threshold: 0,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        // SQS stops publishing the metrics of a queue idle for hours: no data is an empty queue.
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
      const oldest = new Alarm(this, `${description.name}-oldest`, {
        alarmName: `${prefix}-${description.name}-oldest-message-age`,
        alarmDescription: `The oldest message in ${prefix}-${description.name} is older than ${deadLetters.oldestMessageAlarmSeconds} s: redrive it before it expires`,
        metric: queue.metricApproximateAgeOfOldestMessage({ period: Duration.minutes(5), statistic: Stats.MAXIMUM }),
        threshold: deadLetters.oldestMessageAlarmSeconds,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
      for (const alarm of [visible, oldest]) {
        alarm.addAlarmAction(...(props.actions ?? []));
        alarm.addOkAction(...(props.actions ?? []));
      }
      alarms.set(description.name, { visible, oldest });
    }
    this.alarms = alarms;
  }
}
