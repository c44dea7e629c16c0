/**
 * The delivery consumer: an SQS batch from the delivery queue. Each message names one
 * notification; a message that must come back later (not yet due, retry after backoff) has its
 * visibility changed and is reported in `batchItemFailures`, so only finished ones are deleted.
 * A message whose notification failed after its last retry is copied to the delivery DLQ, with
 * why, and then deleted.
 */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import {
  connectionStore,
  deliveryQueue,
  inboxStore,
  mailer,
  notificationStore,
  recipientStore,
  socketPoster,
  systemClock,
} from '../../shared/adapters/dependencies.ts';
import { deliveryConfig, once, retryPolicyConfig } from '../../shared/config.ts';
import { describeError } from '../../shared/domain/delivery-errors.ts';
import { retryDelaySeconds } from '../../shared/domain/retry-policy.ts';
import { deliveryMessageSchema } from '../../shared/domain/schemas.ts';
import { logger } from '../../shared/observability/logger.ts';
import { deliverNotification } from '../../shared/use-cases/deliver-notification.ts';
import type { DeliveryDeps } from '../../shared/use-cases/deliver-notification.ts';
import { processSqsBatch } from '../../shared/http/sqs-batch.ts';

const deps = once(
  (): DeliveryDeps => ({
    notifications: notificationStore(),
    recipients: recipientStore(),
    inbox: inboxStore(),
    connections: connectionStore(),
    sockets: socketPoster(),
    mailer: mailer(),
    clock: systemClock,
    settings: { ...deliveryConfig(), retry: retryPolicyConfig() },
  }),
);

/** Handles one record; true when it must stay on the queue. */
async function processRecord(record: SQSRecord): Promise<boolean> {
  let parsedBody: unknown;
  try {
    parsedBody = JSON.parse(record.body);
  } catch {
    parsedBody = undefined;
  }
  const message = deliveryMessageSchema.safeParse(parsedBody);
  if (!message.success) {
    // No notification can ever come of it; keeping it would only cycle it to the DLQ.
    logger.error('Dropping a malformed delivery message', { messageId: record.messageId, body: record.body });
    return false;
  }
  try {
    const outcome = await deliverNotification(deps(), message.data);
    if (outcome.kind === 'done') {
      if (outcome.deadLetter) await deadLetter(record, message.data, outcome.deadLetter);
      return false;
    }
    await deliveryQueue().hide(record.receiptHandle, outcome.seconds);
    return true;
  } catch (error) {
    // Something outside the channels failed (DynamoDB itself, say): try again on the retry
    // policy's backoff rather than the queue's whole visibility timeout. Past the policy's
    // retries the visibility timeout brings it back until the queue dead-letters it.
    const receives = Number(record.attributes.ApproximateReceiveCount ?? '1');
    const retryInSeconds = retryDelaySeconds(deps().settings.retry, receives);
    logger.error('Delivery attempt failed', { ...message.data, messageId: record.messageId, receives, retryInSeconds, error: describeError(error) });
    if (retryInSeconds !== undefined) await deliveryQueue().hide(record.receiptHandle, retryInSeconds).catch(() => undefined);
    return true;
  }
}

/**
 * Sends the message to the DLQ at once rather than letting it cycle to maxReceiveCount: the
 * notification is final (`failed`, with the reason), so more receives could only delete it. If
 * even this send fails, the notification still says why it failed; only the alarm copy is lost.
 */
async function deadLetter(
  record: SQSRecord,
  message: { tenantId: string; notificationId: string },
  why: { reason: string; attempts: number },
): Promise<void> {
  try {
    await deliveryQueue().deadLetter(record.body, { ...message, ...why, sourceMessageId: record.messageId });
    logger.warn('Dead-lettered the message of a failed notification', { ...message, messageId: record.messageId });
  } catch (error) {
    logger.error('Could not dead-letter the message of a failed notification', {
      ...message,
      messageId: record.messageId,
      error: describeError(error),
    });
  }
}

async function deliverBatch(event: SQSEvent): Promise<SQSBatchResponse> {
  return processSqsBatch(event, (record) => processRecord(record));
}

export const handler = middy<SQSEvent, SQSBatchResponse>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler(deliverBatch);
