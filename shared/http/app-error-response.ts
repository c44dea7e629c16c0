/**
 * The response an {@link AppError} becomes: `{ "error": { "code", "message", "details"? } }` with
 * its status, and `Retry-After` when it says when to try again. Apart from the error middleware
 * (its one user on the HTTP API) so that a function that only refuses (the WebSocket `$connect`)
 * maps its refusal the same way without bundling the HTTP request parsing.
 */
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { ServiceUnavailableError, TooManyRequestsError } from '../errors.ts';
import type { AppError } from '../errors.ts';

/** Maps an error Herald shows to a caller to its JSON response. */
export function appErrorResponse(error: AppError): APIGatewayProxyStructuredResultV2 {
  const body = { code: error.code, message: error.message, ...(error.details !== undefined ? { details: error.details } : {}) };
  const retryAfter = error instanceof TooManyRequestsError || error instanceof ServiceUnavailableError ? error.retryAfterSeconds : undefined;
  return {
    statusCode: error.statusCode,
    headers: { 'content-type': 'application/json', ...(retryAfter !== undefined ? { 'retry-after': String(retryAfter) } : {}) },
    body: JSON.stringify({ error: body }),
  };
}
