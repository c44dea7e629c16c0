/**
 * The SES feedback consumer: SQS batches from the `ses-feedback` queue, into which an EventBridge
 * rule puts the bounces and complaints SES publishes for Herald's configuration set. Each marks
 * the recipient's address suppressed (shared/use-cases/email-suppressions.ts); a report that
 * failed comes back after the retry policy's backoff and is dead-lettered after the queue's
 * maxReceiveCount.
 */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { systemClock } from '../../shared/adapters/dependencies/clock.ts';
import { recipientStore } from '../../shared/adapters/dependencies/directory.ts';
import { sesFeedbackRequeue } from '../../shared/adapters/dependencies/email-feedback.ts';
import { once, retryPolicyConfig } from '../../shared/config.ts';
import { feedbackFrom, sesFeedbackEventSchema } from '../../shared/domain/email-feedback.ts';
import type { SesFeedbackEvent } from '../../shared/domain/email-feedback.ts';
import { logger } from '../../shared/observability/logger.ts';
import { sqsConsumer } from '../../shared/queue/consumer.ts';
import type { ConsumedMessage, MessageOutcome } from '../../shared/queue/consumer.ts';
import { recordEmailFeedback } from '../../shared/use-cases/email-suppressions.ts';
import type { RecipientDeps } from '../../shared/use-cases/recipients.ts';

const deps = once((): RecipientDeps => ({ recipients: recipientStore(), clock: systemClock }));

async function recordAll(messages: readonly ConsumedMessage<SesFeedbackEvent>[]): Promise<MessageOutcome[]> {
  return Promise.all(
    messages.map(async ({ message }): Promise<MessageOutcome> => {
      try {
        await recordEmailFeedback(deps(), feedbackFrom(message));
        return { kind: 'done' };
      } catch (error) {
        return { kind: 'failed', error };
      }
    }),
  );
}

const consume = sqsConsumer({
  name: 'SES feedback',
  schema: sesFeedbackEventSchema,
  handle: recordAll,
  requeue: sesFeedbackRequeue,
  retry: once(() => retryPolicyConfig()),
  describe: (event) => ({ eventType: event.detail.eventType, messageId: event.detail.mail.messageId }),
});

export const handler = middy<SQSEvent, SQSBatchResponse>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler(consume);
