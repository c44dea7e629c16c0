/**
 * The fan-out consumer: an SQS batch from the fan-out queue, one bounded step of a broadcast's
 * fan-out per message (see shared/use-cases/fan-out-broadcast.ts). A step to take again later is
 * hidden for that long and reported in `batchItemFailures`; a step that failed is hidden for the
 * retry policy's backoff (by receive count) and dead-lettered after the queue's maxReceiveCount.
 */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import {
  broadcastDeliveryQueue,
  broadcastRecipientStore,
  broadcastStore,
  fanoutQueue,
  recipientStore,
  systemClock,
} from '../../shared/adapters/dependencies.ts';
import { broadcastConfig, once, retryPolicyConfig } from '../../shared/config.ts';
import { describeError } from '../../shared/domain/delivery-errors.ts';
import { retryDelaySeconds } from '../../shared/domain/retry-policy.ts';
import { fanoutMessageSchema } from '../../shared/domain/schemas.ts';
import { logger } from '../../shared/observability/logger.ts';
import { runFanoutStep } from '../../shared/use-cases/fan-out-broadcast.ts';
import type { FanoutDeps } from '../../shared/use-cases/fan-out-broadcast.ts';
import { processSqsBatch } from '../../shared/http/sqs-batch.ts';

const deps = once(
  (): FanoutDeps => ({
    broadcasts: broadcastStore(),
    rows: broadcastRecipientStore(),
    recipients: recipientStore(),
    fanout: fanoutQueue(),
    delivery: broadcastDeliveryQueue(),
    clock: systemClock,
    settings: broadcastConfig(),
  }),
);
const retryPolicy = once(() => retryPolicyConfig());

function parseMessage(record: SQSRecord): ReturnType<typeof fanoutMessageSchema.safeParse> {
  let body: unknown;
  try {
    body = JSON.parse(record.body);
  } catch {
    body = undefined;
  }
  return fanoutMessageSchema.safeParse(body);
}

/** Handles one record; true when it must stay on the queue. */
async function processRecord(record: SQSRecord, deadline: Date): Promise<boolean> {
  const message = parseMessage(record);
  if (!message.success) {
    // No step can ever come of it; keeping it would only cycle it to the DLQ.
    logger.error('Dropping a malformed fan-out message', { messageId: record.messageId, body: record.body });
    return false;
  }
  const { kind, tenantId, broadcastId } = message.data;
  try {
    const outcome = await runFanoutStep(deps(), message.data, { deadline });
    if (outcome.kind === 'done') return false;
    // Failing to hide it only brings it back sooner, after the queue's visibility timeout.
    await fanoutQueue()
      .hide(record.receiptHandle, outcome.seconds)
      .catch((error: unknown) => logger.warn('Could not hide a fan-out message', { messageId: record.messageId, error: describeError(error) }));
    return true;
  } catch (error) {
    const receives = Number(record.attributes.ApproximateReceiveCount ?? '1');
    const delay = retryDelaySeconds(retryPolicy(), receives);
    logger.error('Fan-out step failed', { kind, tenantId, broadcastId, messageId: record.messageId, receives, retryInSeconds: delay, error: describeError(error) });
    // Past the policy's retries, the visibility timeout brings it back until the queue dead-letters it.
    if (delay !== undefined) await fanoutQueue().hide(record.receiptHandle, delay).catch(() => undefined);
    return true;
  }
}

async function fanoutBatch(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
  const deadline = new Date(Date.now() + context.getRemainingTimeInMillis());
  return processSqsBatch(event, (record) => processRecord(record, deadline));
}

export const handler = middy<SQSEvent, SQSBatchResponse>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler(fanoutBatch);
