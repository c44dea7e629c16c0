/**
 * The fan-out consumer: SQS batches from the fan-out queue, one bounded step of a broadcast's
 * fan-out per message (see shared/use-cases/fan-out-broadcast.ts). A step to take again later
 * goes back on the queue, delayed; a step that failed comes back after the retry policy's backoff
 * and is dead-lettered after the queue's maxReceiveCount.
 */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import * as z from '../../shared/zod-mini.ts';
import { broadcastDeliveryQueue, fanoutQueue, fanoutRequeue } from '../../shared/adapters/dependencies/broadcast-queues.ts';
import { deliveryEnqueuer } from '../../shared/adapters/dependencies/notification-queue.ts';
import { ImmediateBroadcastScheduler, ImmediateDeliveryScheduler } from '../../shared/adapters/immediate-schedulers.ts';
import { notificationStore } from '../../shared/adapters/dependencies/notifications.ts';
import { occurrenceCreateRecords, recurringStore } from '../../shared/adapters/dependencies/recurring.ts';
import { broadcastRecipientStore, broadcastStore } from '../../shared/adapters/dependencies/broadcasts.ts';
import { systemClock } from '../../shared/adapters/dependencies/clock.ts';
import { recipientStore, tenantSettingsStore } from '../../shared/adapters/dependencies/directory.ts';
import { broadcastConfig, once, retryPolicyConfig } from '../../shared/config.ts';
import { fanoutMessageSchema, recurringOccurrenceMessageSchema } from '../../shared/domain/message-schemas.ts';
import { logger } from '../../shared/observability/logger.ts';
import type { SelfSendLimits } from '../../shared/ports.ts';
import { sqsConsumer } from '../../shared/queue/consumer.ts';
import type { ConsumedMessage, MessageOutcome } from '../../shared/queue/consumer.ts';
import { runFanoutStep } from '../../shared/use-cases/fan-out-broadcast.ts';
import type { FanoutDeps } from '../../shared/use-cases/fan-out-broadcast.ts';
import { runOccurrence } from '../../shared/use-cases/recurring.ts';
import type { OccurrenceDeps } from '../../shared/use-cases/recurring.ts';

const deps = once(
  (): FanoutDeps => ({
    broadcasts: broadcastStore(),
    rows: broadcastRecipientStore(),
    recipients: recipientStore(),
    tenantSettings: tenantSettingsStore(),
    fanout: fanoutQueue(),
    delivery: broadcastDeliveryQueue(),
    clock: systemClock,
    settings: broadcastConfig(),
  }),
);

/** What a plain user may send themself, for an occurrence: nothing (only admins and senders create recurring notifications). */
const noSelfSends: SelfSendLimits = {
  take: async () => ({ ok: false, retryAfterSeconds: 3_600 }),
  check: async () => ({ ok: false, retryAfterSeconds: 3_600 }),
};

/** What runs each occurrence of a recurring notification (its schedule targets this queue). */
const occurrenceDeps = once(
  (): OccurrenceDeps => ({
    recurring: recurringStore(),
    // An occurrence is due now: its notifications and broadcast go straight onto their queues.
    notifications: {
      notifications: notificationStore(),
      recipients: recipientStore(),
      scheduler: new ImmediateDeliveryScheduler(deliveryEnqueuer()),
      clock: systemClock,
      // Only admins and senders create recurring notifications: the limits of plain users never apply.
      selfSend: noSelfSends,
      tenantSettings: tenantSettingsStore(),
    },
    broadcasts: { broadcasts: broadcastStore(), rows: broadcastRecipientStore(), recipients: recipientStore(), scheduler: new ImmediateBroadcastScheduler(fanoutQueue()), fanout: fanoutQueue(), clock: systemClock },
    clock: systemClock,
    createRecords: occurrenceCreateRecords(),
  }),
);

/** A fan-out step, or an occurrence of a recurring notification. */
const fanoutQueueMessageSchema = z.union([fanoutMessageSchema, recurringOccurrenceMessageSchema]);
type FanoutQueueMessage = z.infer<typeof fanoutQueueMessageSchema>;

async function runSteps(messages: readonly ConsumedMessage<FanoutQueueMessage>[], context: Context): Promise<MessageOutcome[]> {
  const deadline = new Date(Date.now() + context.getRemainingTimeInMillis());
  return Promise.all(
    messages.map(async ({ record, message }): Promise<MessageOutcome> => {
      try {
        const outcome =
          message.kind === 'occurrence'
            ? await runOccurrence(occurrenceDeps(), message.tenantId, message.recurringId, message.at)
            : await runFanoutStep(deps(), message, { deadline });
        if (outcome.kind === 'done') return { kind: 'done' };
        return { kind: 'done', requeue: [{ at: Date.now() + outcome.seconds * 1000, body: record.body }] };
      } catch (error) {
        return { kind: 'failed', error };
      }
    }),
  );
}

const consume = sqsConsumer({
  name: 'fan-out',
  schema: fanoutQueueMessageSchema,
  handle: runSteps,
  requeue: fanoutRequeue,
  retry: once(() => retryPolicyConfig()),
  describe: (message) => ({ kind: message.kind, tenantId: message.tenantId, ...('broadcastId' in message ? { broadcastId: message.broadcastId } : { recurringId: message.recurringId }) }),
});

export const handler = middy<SQSEvent, SQSBatchResponse>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler(consume);
