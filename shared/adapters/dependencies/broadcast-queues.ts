/** The way of a broadcast: its one schedule, the fan-out queue and the broadcast delivery queue. */
import { broadcastDeliveryQueueConfig, broadcastSchedulerConfig, fanoutQueueConfig, once } from '../../config.ts';
import { EventBridgeBroadcastScheduler } from '../eventbridge-broadcast-scheduler.ts';
import { SqsBroadcastDeliveryQueue, SqsFanoutQueue } from '../sqs-broadcast-queues.ts';
import { SqsRequeue } from '../sqs-requeue.ts';
import { schedulerClient } from './scheduler.ts';
import { sqsClient } from './sqs.ts';

/** The fan-out queue: one bounded step of a fan-out per message. */
export const fanoutQueue = /* @__PURE__ */ once(() => new SqsFanoutQueue(sqsClient(), fanoutQueueConfig().url));
/** The broadcast delivery queue: packed delivery work for broadcast recipients. */
export const broadcastDeliveryQueue = /* @__PURE__ */ once(() => new SqsBroadcastDeliveryQueue(sqsClient(), broadcastDeliveryQueueConfig().url));
/** One schedule per broadcast, firing into the fan-out queue. */
export const broadcastScheduler = /* @__PURE__ */ once(
  () => new EventBridgeBroadcastScheduler(schedulerClient(), sqsClient(), broadcastSchedulerConfig(), fanoutQueueConfig().url),
);
/** The broadcast delivery queue as its consumer puts messages back. */
export const broadcastDeliveryRequeue = /* @__PURE__ */ once(() => new SqsRequeue(sqsClient(), broadcastDeliveryQueueConfig().url));
/** The fan-out queue as its consumer puts steps back. */
export const fanoutRequeue = /* @__PURE__ */ once(() => new SqsRequeue(sqsClient(), fanoutQueueConfig().url));
