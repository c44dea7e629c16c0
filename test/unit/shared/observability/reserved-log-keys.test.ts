/**
 * Powertools Logger keeps `message`, `timestamp`, `level`, `service` and `sampling_rate` for its own
 * fields and silently drops attributes of those names. These lines used them: a refused request's
 * reason, the sweeps' time. They must reach the log, and the logger must never warn that it dropped
 * a key (the lint rule in eslint.config.js catches literal keys; spreads are caught here).
 */
import type { Request } from '@middy/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ValidationError } from '../../../../shared/errors.ts';
import { httpErrorMiddleware } from '../../../../shared/http/error-middleware.ts';
import type { HttpEvent, HttpResult } from '../../../../shared/http/request.ts';
import { logger } from '../../../../shared/observability/logger.ts';
import { captureLogs } from '../../support/capture-logs.ts';
import { cleanupSweep } from '../../../../shared/use-cases/cleanup-sweep.ts';
import { stuckRetrySweep } from '../../../../shared/use-cases/stuck-retry-sweep.ts';
import { aDeliveryWorld, FakeDeliveryEnqueuer, FakeFanoutQueue, InMemoryBroadcastSweeps, InMemoryNotificationSweeps } from '../../fakes/index.ts';

afterEach(() => {
  vi.restoreAllMocks();
  logger.setLogLevel('WARN');
});

const droppedKeyWarnings = (lines: Record<string, unknown>[]): unknown[] =>
  lines.filter((line) => String(line.message).includes('reserved key')).map((line) => line.message);

describe('log lines keep what the logger reserves', () => {
  it("carry a refused request's reason", async () => {
    // Prepare: the error the validation of a body throws, as the middleware receives it
    const onError = httpErrorMiddleware().onError;
    const error = new ValidationError('Invalid body: title must be a string');
    const request = { event: { routeKey: 'POST /v1/notifications' }, error, response: undefined } as unknown as Request<HttpEvent, HttpResult>;

    // Act
    const lines = await captureLogs(async () => onError?.(request));

    // Assess
    const refused = lines.find((line) => line.message === 'Request refused');
    expect(refused).toMatchObject({ code: 'VALIDATION_ERROR', reason: 'Invalid body: title must be a string', routeKey: 'POST /v1/notifications' });
    expect(droppedKeyWarnings(lines)).toEqual([]);
    expect(request.response?.statusCode).toBe(400);
  });

  it('carry the time of each sweep', async () => {
    // Prepare: an empty table, a clock at noon
    const world = aDeliveryWorld({ start: '2030-01-01T12:00:00.000Z' });
    const sweeps = new InMemoryNotificationSweeps(world.notifications, 4);
    const deps = { sweeps, clock: world.clock, remainingMs: () => 60_000 };

    // Act
    const lines = await captureLogs(async () => {
      await stuckRetrySweep({
        ...deps,
        queue: new FakeDeliveryEnqueuer(),
        broadcasts: { sweeps: new InMemoryBroadcastSweeps(world.broadcasts, 4), fanout: new FakeFanoutQueue() },
        settings: { stuckAfterSeconds: 300, maxItems: 10 },
      });
      await cleanupSweep({ ...deps, settings: { cancelledRetentionDays: 30, maxItems: 10 } });
    });

    // Assess
    expect(lines.find((line) => line.message === 'Stuck-retry sweep done')).toMatchObject({ retried: 0, broadcastStarts: 0, sweptAt: '2030-01-01T12:00:00.000Z' });
    expect(lines.find((line) => line.message === 'Cleanup sweep done')).toMatchObject({ deleted: 0, sweptAt: '2030-01-01T12:00:00.000Z' });
    expect(droppedKeyWarnings(lines)).toEqual([]);
  });
});
