/**
 * The EventBridge delivery scheduler of one test account (eu-west-1, 111122223333). Given the
 * clients of the local Scheduler and SQS (local-queues.ts), it runs against them, in the group and
 * to the queue `testAccountScheduling` names, which the test makes; without, its clients name AWS's
 * regional endpoints, for the tests that still replace them with `aws-sdk-client-mock`.
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

/** A delivery scheduler firing 60 s early, at most 1,000 schedules a second, into the account's `delivery` queue. */
export function testAccountDeliveryScheduler(local?: { readonly scheduler: SchedulerClient; readonly sqs: SQSClient; readonly clock?: Clock }): EventBridgeDeliveryScheduler {
  return new EventBridgeDeliveryScheduler(
    local?.scheduler ?? new SchedulerClient({ region: 'eu-west-1' }),
    local?.sqs ?? new SQSClient({ region: 'eu-west-1' }),
    config,
    testAccountScheduling.deliveryQueueUrl,
    local?.clock,
  );
}
