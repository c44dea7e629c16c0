/**
 * The stuck-retry sweep, run by an EventBridge rule every 5 minutes: puts back on the delivery
 * queue what nothing is delivering, and sends a `start` to the fan-out queue for each scheduled
 * broadcast its schedule never started, within the function's time budget. Returns
 * `{ retried, broadcastStarts, timestamp }`.
 */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Context } from 'aws-lambda';
import { fanoutQueue } from '../../shared/adapters/dependencies/broadcast-queues.ts';
import { broadcastSweeps } from '../../shared/adapters/dependencies/broadcasts.ts';
import { systemClock } from '../../shared/adapters/dependencies/clock.ts';
import { deliveryEnqueuer } from '../../shared/adapters/dependencies/notification-queue.ts';
import { notificationSweeps } from '../../shared/adapters/dependencies/notifications.ts';
import { once, stuckRetryConfig } from '../../shared/config.ts';
import { scheduledEventSchema } from '../../shared/domain/scheduled-event.ts';
import { logger } from '../../shared/observability/logger.ts';
import { stuckRetrySweep } from '../../shared/use-cases/stuck-retry-sweep.ts';
import type { StuckRetryResult } from '../../shared/use-cases/stuck-retry-sweep.ts';

const settings = once(stuckRetryConfig);

async function runSweep(event: unknown, context: Context): Promise<StuckRetryResult> {
  const rule = scheduledEventSchema.parse(event);
  logger.info('Stuck-retry sweep starting', { rule: rule.resources[0], scheduledFor: rule.time });
  return stuckRetrySweep({
    sweeps: notificationSweeps(),
    queue: deliveryEnqueuer(),
    broadcasts: { sweeps: broadcastSweeps(), fanout: fanoutQueue() },
    clock: systemClock,
    settings: settings(),
    remainingMs: () => context.getRemainingTimeInMillis(),
  });
}

export const handler = middy<unknown, StuckRetryResult>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler(runSweep);
