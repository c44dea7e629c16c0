/** Reading API Gateway WebSocket events: the connection and the caller the authorizer passed on. */
import type { APIGatewayProxyWebsocketEventV2 } from 'aws-lambda';
import * as z from '../zod-mini.ts';
import { callerFromClaims, heraldClaims } from '../auth/claims.ts';
import type { Caller } from '../domain/caller.ts';

/** The WebSocket event, with the authorizer context API Gateway adds on every route. */
export type SocketEvent = APIGatewayProxyWebsocketEventV2 & {
  requestContext: APIGatewayProxyWebsocketEventV2['requestContext'] & { authorizer?: Record<string, unknown> };
};

const authorizerContextSchema = z.object({ sub: z.string(), tenantId: z.string(), roles: z._default(z.string(), '') });

/** The caller the `$connect` authorizer verified, or `undefined` when there is none. */
export function socketCaller(event: SocketEvent): Caller | undefined {
  const context = authorizerContextSchema.safeParse(event.requestContext.authorizer);
  if (!context.success) return undefined;
  // The authorizer hands on a caller it already read with the deployment's claim names: its context uses Herald's own.
  return callerFromClaims({ sub: context.data.sub, tenant: context.data.tenantId, role: context.data.roles }, heraldClaims);
}

/** The JSON body of a client message; `undefined` when it is not JSON. */
export function socketJson(event: SocketEvent): unknown {
  try {
    return JSON.parse(event.body ?? '');
  } catch {
    return undefined;
  }
}

/** The `action` of a client message, if its body is a JSON object that names one. */
export function socketAction(event: SocketEvent): string | undefined {
  try {
    const body: unknown = JSON.parse(event.body ?? '');
    const action = z.object({ action: z.string() }).safeParse(body);
    return action.success ? action.data.action : undefined;
  } catch {
    return undefined;
  }
}
