/**
 * The way of a notification to the delivery queue: schedules (EventBridge Scheduler) for those due
 * later, messages for those due soon, and the queue as its consumer and the sweeps use it.
 */
import { deliveryDeadLetterQueueUrl, deliveryQueueConfig, once, schedulerConfig } from '../../config.ts';
import { DynamoFireSlots } from '../dynamo-fire-slots.ts';
import { EventBridgeDeliveryScheduler } from '../eventbridge-delivery-scheduler.ts';
import { OneShotSchedule } from '../one-shot-schedule.ts';
import { SqsDeliveryEnqueuer } from '../sqs-delivery-enqueuer.ts';
import { SqsDeliveryQueue } from '../sqs-delivery-queue.ts';
import { SqsRequeue } from '../sqs-requeue.ts';
import { documentClient, tables } from './dynamodb.ts';
import { schedulerClient } from './scheduler.ts';
import { sqsClient } from './sqs.ts';

/**
 * Puts created (and rescheduled) notifications on their way: one schedule per instant and batch,
 * each in a fire second with room under the Scheduler's quota (the rate-limits table counts them).
 */
export const deliveryScheduler = /* @__PURE__ */ once(() => {
  const config = schedulerConfig();
  const slots = new DynamoFireSlots(documentClient(), () => tables().rateLimits, config.firesPerSecond);
  return new EventBridgeDeliveryScheduler(schedulerClient(), sqsClient(), config, deliveryQueueConfig().url, undefined, slots);
});
/** The delivery queue and its dead-letter queue, as the consumer uses them. */
export const deliveryQueue = /* @__PURE__ */ once(
  () => new SqsDeliveryQueue(sqsClient(), deliveryQueueConfig().url, once(() => deliveryDeadLetterQueueUrl())),
);
/** What the stuck-retry sweep sends back onto the delivery queue. */
export const deliveryEnqueuer = /* @__PURE__ */ once(() => new SqsDeliveryEnqueuer(sqsClient(), deliveryQueueConfig().url));
/** The delivery queue as its consumer puts messages back: delayed, or scheduled beyond 15 minutes. */
export const deliveryRequeue = /* @__PURE__ */ once(
  () =>
    new SqsRequeue(
      sqsClient(),
      deliveryQueueConfig().url,
      once(() => new OneShotSchedule(schedulerClient(), sqsClient(), schedulerConfig(), deliveryQueueConfig().url)),
    ),
);
