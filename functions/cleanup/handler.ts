/**
 * The cleanup sweep, run by an EventBridge rule daily at 03:00 UTC: deletes cancelled
 * notifications past their retention. Returns `{ deleted, before_cutoff, cutoff_date, timestamp }`.
 */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Context } from 'aws-lambda';
import { systemClock } from '../../shared/adapters/dependencies/clock.ts';
import { notificationSweeps } from '../../shared/adapters/dependencies/notifications.ts';
import { cleanupConfig, once } from '../../shared/config.ts';
import { scheduledEventSchema } from '../../shared/domain/scheduled-event.ts';
import { logger } from '../../shared/observability/logger.ts';
import { cleanupSweep } from '../../shared/use-cases/cleanup-sweep.ts';
import type { CleanupResult } from '../../shared/use-cases/cleanup-sweep.ts';

const settings = once(cleanupConfig);

async function runSweep(event: unknown, context: Context): Promise<CleanupResult> {
  const rule = scheduledEventSchema.parse(event);
  logger.info('Cleanup sweep starting', { rule: rule.resources[0], scheduledFor: rule.time });
  return cleanupSweep({
    sweeps: notificationSweeps(),
    clock: systemClock,
    settings: settings(),
    remainingMs: () => context.getRemainingTimeInMillis(),
  });
}

export const handler = middy<unknown, CleanupResult>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler(runSweep);
