/**
 * The broadcast delivery consumer: an SQS batch from the broadcast delivery queue, each message
 * naming several recipients of one broadcast (see shared/use-cases/deliver-broadcast.ts). A
 * message with recipients still to come back to (a retry backoff, another worker's lease) is
 * hidden for that long and reported in `batchItemFailures`; the others are deleted.
 */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import {
  broadcastDeliveryQueue,
  broadcastRecipientStore,
  broadcastStore,
  connectionStore,
  inboxStore,
  mailer,
  recipientStore,
  socketPoster,
  systemClock,
} from '../../shared/adapters/dependencies.ts';
import { deliveryConfig, once, retryPolicyConfig } from '../../shared/config.ts';
import type { BroadcastContent } from '../../shared/domain/broadcast.ts';
import { describeError } from '../../shared/domain/delivery-errors.ts';
import { retryDelaySeconds } from '../../shared/domain/retry-policy.ts';
import { broadcastDeliveryMessageSchema } from '../../shared/domain/schemas.ts';
import { logger } from '../../shared/observability/logger.ts';
import { deliverBroadcastMessage } from '../../shared/use-cases/deliver-broadcast.ts';
import type { BroadcastDeliveryDeps } from '../../shared/use-cases/deliver-broadcast.ts';
import { processSqsBatch } from '../../shared/http/sqs-batch.ts';

/** Contents never change once a broadcast exists: one read per broadcast per container. */
const contentCache = new Map<string, BroadcastContent>();

const deps = once(
  (): BroadcastDeliveryDeps => ({
    broadcasts: broadcastStore(),
    rows: broadcastRecipientStore(),
    recipients: recipientStore(),
    inbox: inboxStore(),
    connections: connectionStore(),
    sockets: socketPoster(),
    mailer: mailer(),
    clock: systemClock,
    settings: { leaseSeconds: deliveryConfig().leaseSeconds, retry: retryPolicyConfig() },
    contentCache,
  }),
);

function parseMessage(record: SQSRecord): ReturnType<typeof broadcastDeliveryMessageSchema.safeParse> {
  let body: unknown;
  try {
    body = JSON.parse(record.body);
  } catch {
    body = undefined;
  }
  return broadcastDeliveryMessageSchema.safeParse(body);
}

/** Handles one record; true when it must stay on the queue. */
async function processRecord(record: SQSRecord, deadline: Date): Promise<boolean> {
  const message = parseMessage(record);
  if (!message.success) {
    logger.error('Dropping a malformed broadcast delivery message', { messageId: record.messageId, body: record.body });
    return false;
  }
  const { tenantId, broadcastId } = message.data;
  try {
    const outcome = await deliverBroadcastMessage(deps(), message.data, { deadline });
    if (outcome.comeBackInSeconds === undefined) return false;
    // Failing to hide it only brings it back sooner, after the queue's visibility timeout.
    await broadcastDeliveryQueue()
      .hide(record.receiptHandle, outcome.comeBackInSeconds)
      .catch((error: unknown) => logger.warn('Could not hide a broadcast delivery message', { messageId: record.messageId, error: describeError(error) }));
    return true;
  } catch (error) {
    // The claimed rows stay held until their lease ends; the message comes back after the backoff.
    const receives = Number(record.attributes.ApproximateReceiveCount ?? '1');
    const delay = retryDelaySeconds(retryPolicyConfig(), receives);
    logger.error('Broadcast delivery failed', { tenantId, broadcastId, messageId: record.messageId, receives, error: describeError(error) });
    if (delay !== undefined) await broadcastDeliveryQueue().hide(record.receiptHandle, delay).catch(() => undefined);
    return true;
  }
}

async function deliverBatch(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
  const deadline = new Date(Date.now() + context.getRemainingTimeInMillis());
  return processSqsBatch(event, (record) => processRecord(record, deadline));
}

export const handler = middy<SQSEvent, SQSBatchResponse>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler(deliverBatch);
