import { Stack } from 'aws-cdk-lib';
import type { StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import * as appDescription from '../app-description.ts';
import type { QueueDescription, TableDescription } from '../app-description.ts';
import { HeraldQueueAlarms } from '../constructs/herald-queue-alarms.ts';
import { HeraldQueues } from '../constructs/herald-queues.ts';
import { HeraldScheduler } from '../constructs/herald-scheduler.ts';
import { HeraldTables } from '../constructs/herald-tables.ts';

/** The stateful part of the app description. */
export interface DataDescription {
  readonly tables: readonly TableDescription[];
  readonly queues: readonly QueueDescription[];
  readonly scheduleGroupName: string;
}

/** Properties of {@link HeraldDataStack}. */
export interface HeraldDataStackProps extends StackProps {
  /** Deployment stage: every physical name is `herald-<stage>-...`. */
  readonly stage: string;
  /**
   * What to build.
   * @default the tables, queues and schedule group name of lib/app-description.ts
   */
  readonly appDescription?: DataDescription;
}

/**
 * Herald's stateful resources: tables, queues, and the Scheduler group with its execution role.
 * The group is here, not with the functions, because deleting it deletes every pending
 * schedule, and every pending schedule carries the role's ARN.
 */
export class HeraldDataStack extends Stack {
  /** The DynamoDB tables, by description name. */
  readonly tables: HeraldTables;
  /** The SQS queues, by description name. */
  readonly queues: HeraldQueues;
  /** The schedule group and the role its schedules run as. */
  readonly scheduler: HeraldScheduler;
  /** The alarms on the dead-letter queues. */
  readonly deadLetterAlarms: HeraldQueueAlarms;

  constructor(scope: Construct, id: string, props: HeraldDataStackProps) {
    super(scope, id, props);
    const description = props.appDescription ?? appDescription;
    const namePrefix = `herald-${props.stage}`;
    this.tables = new HeraldTables(this, 'Tables', { tables: description.tables, namePrefix });
    this.queues = new HeraldQueues(this, 'Queues', { queues: description.queues, namePrefix });
    this.deadLetterAlarms = new HeraldQueueAlarms(this, 'DeadLetterAlarms', { queues: this.queues.all(), namePrefix });
    // The description names the group but not its queues: config.ts (schedulerConfig) fixes them
    // as the delivery queue and the scheduler dead-letter queue.
    this.scheduler = new HeraldScheduler(this, 'Scheduler', {
      groupName: `${description.scheduleGroupName}-${props.stage}`,
      targetQueue: this.queues.get('delivery'),
      deadLetterQueue: this.queues.get('scheduler-dlq'),
      // Broadcast schedules (config.ts, broadcastSchedulerConfig) send to the fan-out queue.
      broadcasts: { targetQueue: this.queues.get('fanout'), deadLetterQueue: this.queues.get('fanout-dlq') },
    });
  }
}
