/**
 * Reading API Gateway HTTP API (payload 2.0) requests: the caller from the JWT authorizer's
 * claims, bodies and path parameters through zod schemas, and JSON responses.
 */
import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type { z } from 'zod';
import { callerFromClaims } from '../auth/claims.ts';
import type { Caller } from '../domain/caller.ts';
import { PayloadTooLargeError, UnauthorizedError, ValidationError } from '../errors.ts';

export type HttpEvent = APIGatewayProxyEventV2WithJWTAuthorizer;
export type HttpResult = APIGatewayProxyStructuredResultV2;
/** One route of the HTTP API; the Lambda context is there for what needs the time left. */
export type HttpRouteHandler = (event: HttpEvent, context?: Context) => Promise<HttpResult>;

/** The largest request body Herald reads (API Gateway would take 10 MB). */
export const maxRequestBodyBytes = 256 * 1024;

/** Turns zod issues into `{ field, message }` details and a message naming the fields. */
export function toValidationError(error: z.ZodError, where: string): ValidationError {
  const details = error.issues.flatMap((issue) => {
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ field: [...issue.path, key].join('.'), message: 'is not a known field' }));
    }
    return [{ field: issue.path.join('.') || where, message: issue.message }];
  });
  const summary = details.map((d) => `${d.field} ${d.message}`).join('; ');
  return new ValidationError(`Invalid ${where}: ${summary}`, { details, cause: error });
}

/** Parses a value with a schema, or throws a ValidationError naming what was wrong. */
export function parseWith<S extends z.ZodType>(schema: S, value: unknown, where: string): z.infer<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw toValidationError(result.error, where);
  return result.data;
}

/** The body of a request as text (`undefined` when there is none); 413 beyond {@link maxRequestBodyBytes}. */
export function rawBody(event: HttpEvent): string | undefined {
  if (event.body === undefined || event.body === '') return undefined;
  const bytes = event.isBase64Encoded ? Buffer.from(event.body, 'base64') : Buffer.from(event.body, 'utf8');
  if (bytes.length > maxRequestBodyBytes) {
    throw new PayloadTooLargeError(`Request body is ${bytes.length} bytes; at most ${maxRequestBodyBytes} are accepted`, {
      details: { maxBytes: maxRequestBodyBytes },
    });
  }
  return bytes.toString('utf8');
}

/** The JSON body of a request, validated; with `optional`, a missing body reads as `{}`. */
export function parseBody<S extends z.ZodType>(event: HttpEvent, schema: S, options: { optional?: boolean } = {}): z.infer<S> {
  const text = rawBody(event);
  if (text === undefined) {
    if (options.optional) return parseWith(schema, {}, 'body');
    throw new ValidationError('Request body is required');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ValidationError('Request body must be valid JSON', { cause: error });
  }
  return parseWith(schema, value, 'body');
}

/** The query string parameters, validated (API Gateway joins a repeated parameter with commas). */
export function queryParameters<S extends z.ZodType>(event: HttpEvent, schema: S): z.infer<S> {
  return parseWith(schema, event.queryStringParameters ?? {}, 'query');
}

/** A path parameter, validated. */
export function pathParameter<S extends z.ZodType>(event: HttpEvent, name: string, schema: S): z.infer<S> {
  return parseWith(schema, event.pathParameters?.[name], `path parameter ${name}`);
}

/** Who is calling, from the claims the JWT authorizer verified. */
export function callerFrom(event: HttpEvent): Caller {
  const caller = callerFromClaims(event.requestContext.authorizer?.jwt?.claims);
  if (!caller) throw new UnauthorizedError('The token names no valid subject or tenant');
  return caller;
}

/** A JSON response. */
export function json(statusCode: number, body: unknown): HttpResult {
  return { statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}
