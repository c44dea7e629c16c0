import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import * as appDescription from '../app-description.ts';
import type { QueueDescription, TableDescription } from '../app-description.ts';
import { HeraldAlarmTopic } from '../constructs/herald-alarm-topic.ts';
import { HeraldEmailFeedback } from '../constructs/herald-email-feedback.ts';
import { HeraldQueueAlarms } from '../constructs/herald-queue-alarms.ts';
import { HeraldQueues } from '../constructs/herald-queues.ts';
import { HeraldScheduler } from '../constructs/herald-scheduler.ts';
import { HeraldTables } from '../constructs/herald-tables.ts';
import { HeraldVapidSecret } from '../constructs/herald-vapid-secret.ts';
import { acknowledgeFinding } from '../constructs/nag-acknowledgements.ts';

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
   * A production stage keeps its tables, queues, schedule group and alarm topic when they leave the
   * stack (CloudFormation `RetainExceptOnCreate`: a failed first deploy still removes them, so a
   * fixed physical name never blocks the next try) and its tables refuse deletion; any other
   * stage deletes them with the stack, so it can be destroyed and deployed again.
   * @default false
   */
  readonly production?: boolean;
  /**
   * An address the alarm topic mails.
   * @default no subscription
   */
  readonly alarmEmail?: string;
  /**
   * What to build.
   * @default the tables, queues and schedule group name of lib/app-description.ts
   */
  readonly appDescription?: DataDescription;
}

/**
 * Herald's stateful resources: tables, queues, the Scheduler group with its execution role, and
 * the alarm topic every alarm notifies. The group is here, not with the functions, because
 * deleting it deletes every pending schedule, and every pending schedule carries the role's ARN.
 */
export class HeraldDataStack extends Stack {
  /** The DynamoDB tables, by description name. */
  readonly tables: HeraldTables;
  /** The SQS queues, by description name. */
  readonly queues: HeraldQueues;
  /** The schedule group and the role its schedules run as. */
  readonly scheduler: HeraldScheduler;
  /** The topic every alarm notifies. */
  readonly alarmTopic: HeraldAlarmTopic;
  /** The alarms on the dead-letter queues. */
  readonly deadLetterAlarms: HeraldQueueAlarms;
  /** The SES configuration set every e-mail names, and the way its bounces and complaints come back. */
  readonly emailFeedback: HeraldEmailFeedback;
  /** The secret the stage's VAPID keys (Web Push) are derived from. */
  readonly vapidSecret: HeraldVapidSecret;
  /** The Telegram bot's token (from BotFather): created with a placeholder, set by the operator (docs/deploying.md). */
  readonly telegramBotToken: Secret;

  constructor(scope: Construct, id: string, props: HeraldDataStackProps) {
    super(scope, id, props);
    const description = props.appDescription ?? appDescription;
    const namePrefix = `herald-${props.stage}`;
    const production = props.production ?? false;
    const removalPolicy = production ? RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE : RemovalPolicy.DESTROY;
    this.tables = new HeraldTables(this, 'Tables', { tables: description.tables, namePrefix, removalPolicy, deletionProtection: production });
    this.queues = new HeraldQueues(this, 'Queues', { queues: description.queues, namePrefix, removalPolicy });
    // Stateful: browsers subscribed with the keys it gives; a new secret would orphan every subscription.
    this.vapidSecret = new HeraldVapidSecret(this, 'VapidSecret', { secretName: `${namePrefix}-vapid`, removalPolicy });
    this.alarmTopic = new HeraldAlarmTopic(this, 'AlarmTopic', { topicName: `${namePrefix}-alarms`, email: props.alarmEmail, removalPolicy });
    this.deadLetterAlarms = new HeraldQueueAlarms(this, 'DeadLetterAlarms', {
      queues: this.queues.all(),
      namePrefix,
      actions: [this.alarmTopic.action],
    });
    // The description names the group but not its queues: config.ts (schedulerConfig) fixes them
    // as the delivery queue and the scheduler dead-letter queue.
    this.scheduler = new HeraldScheduler(this, 'Scheduler', {
      groupName: `${description.scheduleGroupName}-${props.stage}`,
      targetQueue: this.queues.get('delivery'),
      deadLetterQueue: this.queues.get('scheduler-dlq'),
      // Broadcast schedules (config.ts, broadcastSchedulerConfig) send to the fan-out queue.
      broadcasts: { targetQueue: this.queues.get('fanout'), deadLetterQueue: this.queues.get('fanout-dlq') },
      removalPolicy,
    });
    const feedbackQueue = description.queues.find((queue) => queue.receivesEmailFeedback);
    if (!feedbackQueue) throw new Error('The app description names no queue that receives e-mail feedback');
    this.emailFeedback = new HeraldEmailFeedback(this, 'EmailFeedback', { queue: this.queues.get(feedbackQueue.name) });
    this.telegramBotToken = new Secret(this, 'TelegramBotToken', {
      secretName: `${namePrefix}/telegram-bot-token`,
      description: 'The Telegram bot token Herald sends with (BotFather); put the real one with aws secretsmanager put-secret-value',
      removalPolicy,
    });
    acknowledgeFinding(
      this.telegramBotToken,
      'AwsSolutions-SMG4',
      'A bot token is issued by Telegram (BotFather), not by AWS: no rotation Lambda can make a new one; it is replaced by hand when revoked',
    );
  }
}
