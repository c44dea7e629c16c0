/** WebSocket `$disconnect`: forgets the connection (the authorizer's context names its user). */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { APIGatewayProxyResultV2 } from 'aws-lambda';
import { liveStateStore } from '../../shared/adapters/dependencies/inbox.ts';
import { socketCaller } from '../../shared/http/socket-event.ts';
import type { SocketEvent } from '../../shared/http/socket-event.ts';
import { logger } from '../../shared/observability/logger.ts';
import { closeConnection } from '../../shared/use-cases/connections.ts';

async function disconnect(event: SocketEvent): Promise<APIGatewayProxyResultV2> {
  const { connectionId } = event.requestContext;
  const caller = socketCaller(event);
  // Without an authorizer context nobody was recorded for it (and deliveries skip a stale one).
  if (caller) await closeConnection({ live: liveStateStore() }, caller, connectionId);
  logger.info('Disconnected', { connectionId });
  return { statusCode: 200 };
}

export const handler = middy<SocketEvent, APIGatewayProxyResultV2>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler(disconnect);
