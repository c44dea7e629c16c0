/**
 * The broadcast delivery consumer: SQS batches from the broadcast delivery queue, each message
 * naming several recipients of one broadcast. The same delivery engine as notifications delivers
 * them (shared/use-cases/deliver-messages.ts); recipients to see again (a retry backoff, another
 * worker's lease) go back on the queue in a message of their own.
 */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { broadcastDeliveryRequeue } from '../../shared/adapters/dependencies/broadcast-queues.ts';
import { engineDeps, loadSendBudgets } from '../../shared/adapters/dependencies/delivery-engine.ts';
import { once, retryPolicyConfig } from '../../shared/config.ts';
import type { UnitRef } from '../../shared/domain/delivery.ts';
import { broadcastDeliveryMessageSchema } from '../../shared/domain/message-schemas.ts';
import type { BroadcastDeliveryMessage } from '../../shared/domain/schemas.ts';
import { logger } from '../../shared/observability/logger.ts';
import { sqsConsumer } from '../../shared/queue/consumer.ts';
import type { ConsumedMessage, MessageOutcome } from '../../shared/queue/consumer.ts';
import { deliverMessages } from '../../shared/use-cases/deliver-messages.ts';
import { announceBroadcastProgress } from '../../shared/use-cases/broadcast-progress.ts';
import type { BroadcastProgressDeps } from '../../shared/use-cases/broadcast-progress.ts';
import { broadcastStore } from '../../shared/adapters/dependencies/broadcasts.ts';
import { systemClock } from '../../shared/adapters/dependencies/clock.ts';
import { socketPoster } from '../../shared/adapters/dependencies/connections.ts';
import { liveStateStore } from '../../shared/adapters/dependencies/inbox.ts';

type RecipientRef = Extract<UnitRef, { kind: 'broadcast' }>;

async function deliverBatch(messages: readonly ConsumedMessage<BroadcastDeliveryMessage>[], context: Context): Promise<MessageOutcome[]> {
  await loadSendBudgets();
  const deadline = new Date(Date.now() + context.getRemainingTimeInMillis());
  const results = await deliverMessages(
    engineDeps(),
    messages.map(({ message }) => ({
      refs: message.recipientIds.map((recipientId): RecipientRef => ({ kind: 'broadcast', tenantId: message.tenantId, broadcastId: message.broadcastId, recipientId })),
    })),
    { deadline },
  );
  await announceProgress(messages);
  return messages.map(({ message }, index): MessageOutcome => {
    const result = results[index];
    const later = result?.later ?? [];
    const requeue = later.map(({ at, refs }) => {
      const body: BroadcastDeliveryMessage = { ...message, recipientIds: (refs as RecipientRef[]).map((ref) => ref.recipientId) };
      return { at, body: JSON.stringify(body) };
    });
    return result && 'error' in result ? { kind: 'failed', error: result.error, requeue } : { kind: 'done', requeue };
  });
}

const progressDeps = once(
  (): BroadcastProgressDeps => ({ broadcasts: broadcastStore(), live: liveStateStore(), sockets: socketPoster(), clock: systemClock }),
);

/** Tells each broadcast's creator its progress; a failure here is logged, never the batch's. */
async function announceProgress(messages: readonly ConsumedMessage<BroadcastDeliveryMessage>[]): Promise<void> {
  try {
    await announceBroadcastProgress(progressDeps(), messages.map(({ message }) => message));
  } catch (error) {
    logger.warn('Broadcast progress not announced', { error });
  }
}

const consume = sqsConsumer({
  name: 'broadcast delivery',
  schema: broadcastDeliveryMessageSchema,
  handle: deliverBatch,
  requeue: broadcastDeliveryRequeue,
  retry: once(() => retryPolicyConfig()),
  describe: (message) => ({ tenantId: message.tenantId, broadcastId: message.broadcastId }),
});

export const handler = middy<SQSEvent, SQSBatchResponse>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler(consume);
