/**
 * WebSocket `$connect`: records the connection of the caller the authorizer verified, or refuses the
 * handshake with 429 when the user has the most connections allowed open already.
 */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { APIGatewayProxyResultV2 } from 'aws-lambda';
import { systemClock } from '../../shared/adapters/dependencies/clock.ts';
import { liveStateStore } from '../../shared/adapters/dependencies/inbox.ts';
import { TooManyRequestsError } from '../../shared/errors.ts';
import { appErrorResponse } from '../../shared/http/app-error-response.ts';
import { socketCaller } from '../../shared/http/socket-event.ts';
import type { SocketEvent } from '../../shared/http/socket-event.ts';
import { logger } from '../../shared/observability/logger.ts';
import { openConnection } from '../../shared/use-cases/connections.ts';

async function connect(event: SocketEvent): Promise<APIGatewayProxyResultV2> {
  const caller = socketCaller(event);
  // Only reachable without an authorizer context if the API was misconfigured: refuse.
  if (!caller) return { statusCode: 401, body: 'Unauthorized' };
  const { connectionId } = event.requestContext;
  try {
    await openConnection({ live: liveStateStore(), clock: systemClock }, caller, connectionId);
  } catch (error) {
    if (!(error instanceof TooManyRequestsError)) throw error;
    // A non-2xx answer refuses the handshake: the client sees the status (a browser only a failure).
    logger.info('Connection refused', { connectionId, tenantId: caller.tenantId, userId: caller.sub, reason: error.message });
    return appErrorResponse(error);
  }
  logger.info('Connected', { connectionId, tenantId: caller.tenantId, userId: caller.sub });
  return { statusCode: 200 };
}

export const handler = middy<SocketEvent, APIGatewayProxyResultV2>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler(connect);
