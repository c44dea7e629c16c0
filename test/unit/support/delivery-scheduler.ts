/**
 * The EventBridge delivery scheduler of one test account (eu-west-1, 111122223333), on SDK clients
 * that `aws-sdk-client-mock` replaces: for tests that run the real adapter against mocked
 * Scheduler and SQS calls.
 */
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SQSClient } from '@aws-sdk/client-sqs';
import { EventBridgeDeliveryScheduler } from '../../../shared/adapters/eventbridge-delivery-scheduler.ts';

/** A delivery scheduler firing 60 s early, at most 1,000 schedules a second, into the account's `delivery` queue. */
export function testAccountDeliveryScheduler(): EventBridgeDeliveryScheduler {
  return new EventBridgeDeliveryScheduler(
    new SchedulerClient({ region: 'eu-west-1' }),
    new SQSClient({ region: 'eu-west-1' }),
    {
      groupName: 'herald',
      roleArn: 'arn:aws:iam::111122223333:role/scheduler',
      targetArn: 'arn:aws:sqs:eu-west-1:111122223333:delivery',
      deadLetterArn: 'arn:aws:sqs:eu-west-1:111122223333:scheduler-dlq',
      leadSeconds: 60,
      firesPerSecond: 1000,
    },
    'https://sqs.eu-west-1.amazonaws.com/111122223333/delivery',
  );
}
