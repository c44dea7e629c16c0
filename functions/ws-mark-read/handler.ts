/**
 * WebSocket `markRead`: `{ "action": "markRead", "id" }` marks an inbox item of the connected user
 * read, exactly as `POST /v1/me/inbox/{id}/read` does; every connection of the user then receives
 * `{ "type": "inboxChanged", "unread", "unreadVersion" }`. A bad message or an unknown id is answered on this
 * connection only: `{ "type": "error", "action": "markRead", "code", "message" }`.
 */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { APIGatewayProxyResultV2 } from 'aws-lambda';
import { systemClock } from '../../shared/adapters/dependencies/clock.ts';
import { socketPoster } from '../../shared/adapters/dependencies/connections.ts';
import { inboxStore, liveStateStore } from '../../shared/adapters/dependencies/inbox.ts';
import { once, readInboxRetentionDays } from '../../shared/config.ts';
import { markReadMessageSchema } from '../../shared/domain/socket-messages.ts';
import { AppError } from '../../shared/errors.ts';
import { parseWith } from '../../shared/http/validation.ts';
import { socketCaller, socketJson } from '../../shared/http/socket-event.ts';
import type { SocketEvent } from '../../shared/http/socket-event.ts';
import { logger } from '../../shared/observability/logger.ts';
import { markInboxItemRead } from '../../shared/use-cases/inbox.ts';
import type { InboxDeps } from '../../shared/use-cases/inbox.ts';

const deps = once(
  (): InboxDeps => ({
    inbox: inboxStore(),
    live: liveStateStore(),
    sockets: socketPoster(),
    clock: systemClock,
    readRetentionDays: readInboxRetentionDays(),
  }),
);

async function markRead(event: SocketEvent): Promise<APIGatewayProxyResultV2> {
  const caller = socketCaller(event);
  // Only reachable without an authorizer context if the API was misconfigured: refuse.
  if (!caller) return { statusCode: 401, body: 'Unauthorized' };
  const { connectionId } = event.requestContext;
  try {
    const message = parseWith(markReadMessageSchema, socketJson(event), 'message');
    await markInboxItemRead(deps(), caller, message.id);
  } catch (error) {
    if (!(error instanceof AppError) || error.statusCode >= 500) throw error;
    logger.info('Refused a markRead', { connectionId, tenantId: caller.tenantId, userId: caller.sub, code: error.code });
    await deps().sockets.post(connectionId, { type: 'error', action: 'markRead', code: error.code, message: error.message });
  }
  return { statusCode: 200 };
}

export const handler = middy<SocketEvent, APIGatewayProxyResultV2>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler(markRead);
