/**
 * The delivery consumer: SQS batches from the delivery queue, each message naming the
 * notifications of one tenant due at one instant. The delivery engine delivers them all together
 * (shared/use-cases/deliver-messages.ts); what must come back later goes back on the queue, and a
 * notification that failed after its last retry is copied to the delivery DLQ, saying why.
 */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { engineDeps, loadSendBudgets } from '../../shared/adapters/dependencies/delivery-engine.ts';
import { deliveryQueue, deliveryRequeue } from '../../shared/adapters/dependencies/notification-queue.ts';
import { once, retryPolicyConfig } from '../../shared/config.ts';
import { describeError } from '../../shared/domain/delivery-errors.ts';
import type { UnitRef } from '../../shared/domain/delivery.ts';
import { deliveryMessageSchema } from '../../shared/domain/message-schemas.ts';
import type { DeliveryMessage } from '../../shared/domain/schemas.ts';
import { logger } from '../../shared/observability/logger.ts';
import { sqsConsumer } from '../../shared/queue/consumer.ts';
import type { ConsumedMessage, MessageOutcome } from '../../shared/queue/consumer.ts';
import { deliverMessages } from '../../shared/use-cases/deliver-messages.ts';

type NotificationRef = Extract<UnitRef, { kind: 'notification' }>;

/** The notifications a message names. */
function refsOf(message: DeliveryMessage): NotificationRef[] {
  if ('notifications' in message) {
    return message.notifications.map((n) => ({ kind: 'notification', tenantId: message.tenantId, notificationId: n.id, recipientId: n.recipientId }));
  }
  return [{ kind: 'notification', tenantId: message.tenantId, notificationId: message.notificationId, ...(message.recipientId ? { recipientId: message.recipientId } : {}) }];
}

/** A message naming `refs` (one tenant; each with its recipient, or a single one without), due at `at` (epoch ms) when given. */
function bodyOf(tenantId: string, refs: readonly NotificationRef[], at?: number): string {
  const notBefore = at === undefined ? {} : { notBefore: new Date(at).toISOString() };
  const [first] = refs;
  const message: DeliveryMessage =
    refs.length === 1 && first?.recipientId === undefined
      ? { tenantId, notificationId: first?.notificationId ?? '', ...notBefore }
      : { tenantId, notifications: refs.map((ref) => ({ id: ref.notificationId, recipientId: ref.recipientId ?? '' })), ...notBefore };
  return JSON.stringify(message);
}

async function deliverBatch(messages: readonly ConsumedMessage<DeliveryMessage>[], context: Context): Promise<MessageOutcome[]> {
  await loadSendBudgets();
  const deadline = new Date(Date.now() + context.getRemainingTimeInMillis());
  const results = await deliverMessages(
    engineDeps(),
    messages.map(({ message }) => ({ refs: refsOf(message), ...(message.notBefore ? { notBefore: Date.parse(message.notBefore) } : {}) })),
    { deadline },
  );
  return Promise.all(
    messages.map(async ({ record, message }, index): Promise<MessageOutcome> => {
      const result = results[index] ?? { later: [], deadLetters: [] };
      for (const dead of result.deadLetters) await deadLetter(record.messageId, dead.ref as NotificationRef, dead);
      const requeue = result.later.flatMap(({ at, refs }) => {
        const named = refs as NotificationRef[];
        // A notification whose recipient the message did not name goes back alone.
        if (named.every((ref) => ref.recipientId !== undefined)) return [{ at, body: bodyOf(message.tenantId, named, at) }];
        return named.map((ref) => ({ at, body: bodyOf(message.tenantId, [ref], at) }));
      });
      return 'error' in result ? { kind: 'failed', error: result.error, requeue } : { kind: 'done', requeue };
    }),
  );
}

/**
 * Sends a message naming the failed notification alone to the DLQ rather than letting the
 * message cycle to maxReceiveCount: the notification is final (`failed`, with the reason), and
 * the message it came in may name others. If even this send fails, the notification still says
 * why it failed; only the alarm copy is lost.
 */
async function deadLetter(messageId: string, ref: NotificationRef, why: { reason: string; attempts: number }): Promise<void> {
  const ids = { tenantId: ref.tenantId, notificationId: ref.notificationId };
  try {
    await deliveryQueue().deadLetter(JSON.stringify(ids), { ...ids, ...why, sourceMessageId: messageId });
    logger.warn('Dead-lettered the message of a failed notification', { ...ids, messageId });
  } catch (error) {
    logger.error('Could not dead-letter the message of a failed notification', { ...ids, messageId, error: describeError(error) });
  }
}

const consume = sqsConsumer({
  name: 'delivery',
  schema: deliveryMessageSchema,
  handle: deliverBatch,
  requeue: deliveryRequeue,
  retry: once(() => retryPolicyConfig()),
  describe: (message) => ({ tenantId: message.tenantId, ...('notificationId' in message ? { notificationId: message.notificationId } : { notificationIds: message.notifications.map((n) => n.id) }) }),
});

export const handler = middy<SQSEvent, SQSBatchResponse>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler(consume);
