/**
 * The fan-out consumer: SQS batches from the fan-out queue, one bounded step of a broadcast's
 * fan-out per message (see shared/use-cases/fan-out-broadcast.ts). A step to take again later
 * goes back on the queue, delayed; a step that failed comes back after the retry policy's backoff
 * and is dead-lettered after the queue's maxReceiveCount.
 */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { broadcastDeliveryQueue, fanoutQueue, fanoutRequeue } from '../../shared/adapters/dependencies/broadcast-queues.ts';
import { broadcastRecipientStore, broadcastStore } from '../../shared/adapters/dependencies/broadcasts.ts';
import { systemClock } from '../../shared/adapters/dependencies/clock.ts';
import { recipientStore, tenantSettingsStore } from '../../shared/adapters/dependencies/directory.ts';
import { broadcastConfig, once, retryPolicyConfig } from '../../shared/config.ts';
import { fanoutMessageSchema } from '../../shared/domain/schemas.ts';
import type { FanoutMessage } from '../../shared/domain/schemas.ts';
import { logger } from '../../shared/observability/logger.ts';
import { sqsConsumer } from '../../shared/queue/consumer.ts';
import type { ConsumedMessage, MessageOutcome } from '../../shared/queue/consumer.ts';
import { runFanoutStep } from '../../shared/use-cases/fan-out-broadcast.ts';
import type { FanoutDeps } from '../../shared/use-cases/fan-out-broadcast.ts';

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

async function runSteps(messages: readonly ConsumedMessage<FanoutMessage>[], context: Context): Promise<MessageOutcome[]> {
  const deadline = new Date(Date.now() + context.getRemainingTimeInMillis());
  return Promise.all(
    messages.map(async ({ record, message }): Promise<MessageOutcome> => {
      try {
        const outcome = await runFanoutStep(deps(), message, { deadline });
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
  schema: fanoutMessageSchema,
  handle: runSteps,
  requeue: fanoutRequeue,
  retry: once(() => retryPolicyConfig()),
  describe: (message) => ({ kind: message.kind, tenantId: message.tenantId, broadcastId: message.broadcastId }),
});

export const handler = middy<SQSEvent, SQSBatchResponse>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler(consume);
