/** WebSocket `$default`: client messages (`{ "action": "ping" }` → `{ "type": "pong" }`). */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { APIGatewayProxyResultV2 } from 'aws-lambda';
import { socketPoster } from '../../shared/adapters/dependencies/connections.ts';
import { socketAction } from '../../shared/http/socket-event.ts';
import type { SocketEvent } from '../../shared/http/socket-event.ts';
import { logger } from '../../shared/observability/logger.ts';
import { answerSocketMessage } from '../../shared/use-cases/connections.ts';

async function answer(event: SocketEvent): Promise<APIGatewayProxyResultV2> {
  await answerSocketMessage({ sockets: socketPoster() }, event.requestContext.connectionId, socketAction(event));
  return { statusCode: 200 };
}

export const handler = middy<SocketEvent, APIGatewayProxyResultV2>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler(answer);
