/**
 * The EventBridge delivery scheduler of one test account (eu-west-1, 111122223333), on the local
 * Scheduler and SQS: given their clients (local-queues.ts) or the endpoints to make them on (a
 * faultable endpoint, a wire front), in the group and to the queue `testAccountScheduling` names,
 * which the test makes.
 */
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SQSClient } from '@aws-sdk/client-sqs';
import { EventBridgeDeliveryScheduler } from '../../../shared/adapters/eventbridge-delivery-scheduler.ts';
import type { SchedulerConfig } from '../../../shared/config.ts';
import type { Clock } from '../../../shared/ports.ts';

/** The test account's delivery scheduling: its schedule group, and the queue its schedules and direct sends reach. */
export const testAccountScheduling = {
  groupName: 'herald',
  deliveryQueueName: 'delivery',
  deliveryQueueUrl: 'https://sqs.eu-west-1.amazonaws.com/111122223333/delivery',
  schedulerDeadLetterQueueName: 'scheduler-dlq',
} as const;

const config: SchedulerConfig = {
  groupName: testAccountScheduling.groupName,
  roleArn: 'arn:aws:iam::111122223333:role/scheduler',
  targetArn: 'arn:aws:sqs:eu-west-1:111122223333:delivery',
  deadLetterArn: 'arn:aws:sqs:eu-west-1:111122223333:scheduler-dlq',
  leadSeconds: 60,
  firesPerSecond: 1000,
};

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

/** Where the scheduler runs: the local services' clients, or their endpoints. */
export interface LocalScheduling {
  readonly scheduler: SchedulerClient | string;
  /** Absent: a client on AWS's endpoint, for a test whose scheduler never sends a message. */
  readonly sqs?: SQSClient | string;
  readonly clock?: Clock;
  /** Attempts of each Scheduler call on an endpoint given, the SDK's retries included. @default the SDK's (3) */
  readonly schedulerAttempts?: number;
}

/** A delivery scheduler firing 60 s early, at most 1,000 schedules a second, into the account's `delivery` queue. */
export function testAccountDeliveryScheduler(local: LocalScheduling): EventBridgeDeliveryScheduler {
  const scheduler =
    typeof local.scheduler === 'string'
      ? new SchedulerClient({ region: 'eu-west-1', endpoint: local.scheduler, credentials, ...(local.schedulerAttempts === undefined ? {} : { maxAttempts: local.schedulerAttempts }) })
      : local.scheduler;
  const sqs = typeof local.sqs === 'string' || local.sqs === undefined ? new SQSClient({ region: 'eu-west-1', ...(local.sqs ? { endpoint: local.sqs, credentials } : {}) }) : local.sqs;
  return new EventBridgeDeliveryScheduler(scheduler, sqs, config, testAccountScheduling.deliveryQueueUrl, local.clock);
}
