/**
 * The one place where errors become HTTP responses: `{ "error": { "code", "message",
 * "details"? } }`. An AppError shows its message (it says what was wrong); an AWS service that
 * could not serve a call now (throttling, a 5xx, no connection) is a 503 with `Retry-After`;
 * anything else is a 500 that says nothing internal, and is logged in full (with the caller).
 */
import type { MiddlewareObj } from '@middy/core';
import { AppError } from '../errors.ts';
import { logger } from '../observability/logger.ts';
import { isServiceUnavailable } from '../domain/delivery-errors.ts';
import { appErrorResponse } from './app-error-response.ts';
import type { HttpEvent, HttpResult } from './request.ts';
import { callerFrom, json } from './request.ts';

/** Maps an error to the response a caller sees. */
export function errorResponse(error: unknown): HttpResult {
  if (error instanceof AppError) return appErrorResponse(error);
  if (isServiceUnavailable(error)) {
    const response = json(503, { error: { code: 'SERVICE_UNAVAILABLE', message: 'A service Herald depends on could not take the request now; retry later' } });
    return { ...response, headers: { ...response.headers, 'retry-after': '1' } };
  }
  return json(500, { error: { code: 'INTERNAL_ERROR', message: 'Internal server error' } });
}

/** Who made the request, for the log: its tenant and subject when the token names them. */
function callerOf(event: HttpEvent): { tenantId?: string; sub?: string } {
  try {
    const { tenantId, sub } = callerFrom(event);
    return { tenantId, sub };
  } catch {
    return {};
  }
}

/** Middy middleware that turns thrown errors into JSON error responses. */
export function httpErrorMiddleware(): MiddlewareObj<HttpEvent, HttpResult> {
  const httpErrorMiddlewareOnError: NonNullable<MiddlewareObj<HttpEvent, HttpResult>['onError']> = async (request) => {
    if (request.response !== undefined) return;
    const { error } = request;
    if (error instanceof AppError && error.statusCode < 500) {
      // `reason`, not `message`: Powertools Logger keeps `message` for the line's own text and drops it.
      logger.info('Request refused', { code: error.code, reason: error.message, routeKey: request.event.routeKey, ...callerOf(request.event) });
    } else {
      logger.error('Request failed', { error: error as Error, routeKey: request.event.routeKey, ...callerOf(request.event) });
    }
    request.response = errorResponse(error);
  };
  return { onError: httpErrorMiddlewareOnError };
}
