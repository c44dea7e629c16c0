/**
 * Reading API Gateway HTTP API (payload 2.0) requests: the caller from the JWT authorizer's
 * claims, bodies and path parameters through zod schemas, and JSON responses.
 */
import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import * as contentType from 'content-type';
import type { z } from 'zod';
import { readCaller } from '../auth/claims.ts';
import { claimsConfig, once } from '../config.ts';
import type { Caller } from '../domain/caller.ts';
import { maxDataBytes, maxDataDepth } from '../domain/field-limits.ts';
import { PayloadTooLargeError, UnauthorizedError, UnsupportedMediaTypeError, ValidationError } from '../errors.ts';
import { decimalNumeralOr, decimalNumerals } from './decimal-numerals.ts';
import { parseWith } from './validation.ts';
import * as zm from '../zod-mini.ts';
import { bodyCapOf } from './body-limits.ts';
import { readJsonBody } from './json-body.ts';
import type { ReadBody, StructuralBounds } from './json-body.ts';

export type HttpEvent = APIGatewayProxyEventV2WithJWTAuthorizer;
export type HttpResult = APIGatewayProxyStructuredResultV2;
/** One route of the HTTP API; the Lambda context is there for what needs the time left. */
export type HttpRouteHandler = (event: HttpEvent, context?: Context) => Promise<HttpResult>;

/**
 * The structure every request body must keep to, checked on its text before it is parsed
 * (shared/http/json-body.ts): the body and `data` nested to DynamoDB's 32 levels; no object or
 * array larger, and no more values in all, than the largest `data` (or the largest list of
 * recipients) could need.
 */
export const requestBodyBounds: StructuralBounds = {
  maxDepth: 1 + maxDataDepth,
  maxMembers: maxDataBytes / 4,
  maxElements: maxDataBytes / 2,
  maxValues: 2 * maxDataBytes,
};

export { parseWith, toValidationError } from './validation.ts';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Refuses (415) a body whose `Content-Type` says it is not JSON: Herald reads `application/json`
 * and the `+json` types (RFC 6839, section 3.1), UTF-8 only (RFC 8259, section 8.1: a `charset`
 * other than UTF-8 says the text is not what Herald reads). A body without the header (or with an
 * empty one) is read as JSON. API Gateway lower-cases header names.
 * @throws UnsupportedMediaTypeError naming the header
 */
function requireJsonContentType(header: string | undefined): void {
  if (header === undefined || header.trim() === '') return;
  // The `content-type` library reads what it can (it refuses nothing), lower-cased and unquoted.
  const parsed = contentType.parse(header);
  const type = parsed.type.slice(0, 100);
  const charset = parsed.parameters.charset?.toLowerCase().slice(0, 100);
  if (type !== 'application/json' && !(type.startsWith('application/') && type.endsWith('+json'))) {
    throw unsupportedMediaType(`must be application/json, not ${type}`);
  }
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') throw unsupportedMediaType(`must name no charset or UTF-8, not ${charset}`);
}

function unsupportedMediaType(message: string): UnsupportedMediaTypeError {
  return new UnsupportedMediaTypeError(`Request body is not JSON: Content-Type ${message}`, { details: [{ field: 'content-type', message }] });
}

/**
 * The body of a request as text (`undefined` when there is none); 415 when its `Content-Type` is
 * not JSON, 413 beyond the route's cap (shared/http/body-limits.ts), 400 when it is not UTF-8.
 */
export function rawBody(event: HttpEvent): string | undefined {
  if (event.body === undefined || event.body === '') return undefined;
  requireJsonContentType(event.headers?.['content-type']);
  const bytes = event.isBase64Encoded ? Buffer.from(event.body, 'base64') : Buffer.from(event.body, 'utf8');
  const cap = bodyCapOf(event.routeKey);
  if (bytes.length > cap) {
    throw new PayloadTooLargeError(`Request body is ${bytes.length} bytes; this route accepts at most ${cap}`, {
      details: [{ field: 'body', message: `must be at most ${cap} bytes` }],
    });
  }
  try {
    return utf8.decode(bytes);
  } catch (error) {
    throw new ValidationError('Request body must be UTF-8', { details: [{ field: 'body', message: 'must be UTF-8 text' }], cause: error });
  }
}

/** Bodies already parsed, per event and schema: an idempotent route checks its body before it takes its key. */
const parsedBodies = new WeakMap<HttpEvent, Map<z.ZodType, unknown>>();

/**
 * The JSON body of a request, validated; with `optional`, a missing body reads as `{}`. The text
 * is checked for structure before it is parsed, numbers are kept as written and every string
 * must be well-formed (shared/http/json-body.ts): each refusal is a 400 naming the field.
 */
export function parseBody<S extends z.ZodType>(event: HttpEvent, schema: S, options: { optional?: boolean } = {}): z.infer<S> {
  const cached = parsedBodies.get(event);
  if (cached?.has(schema)) return cached.get(schema) as z.infer<S>;
  const parsed = readBodyWith(event, schema, options);
  parsedBodies.set(event, (cached ?? new Map<z.ZodType, unknown>()).set(schema, parsed));
  return parsed;
}

function readBodyWith<S extends z.ZodType>(event: HttpEvent, schema: S, options: { optional?: boolean }): z.infer<S> {
  const read = readBodyJson(event);
  if (read === undefined) {
    if (options.optional) return parseWith(schema, {}, 'body');
    throw new ValidationError('Request body is required', { details: [{ field: 'body', message: 'is required' }] });
  }
  return parseWith(schema, valueOf(read), 'body');
}

/** A body's JSON value; a 400 naming the field where the text was refused. */
function valueOf(read: ReadBody): unknown {
  if (!read.ok) {
    const { field, message } = read.fault;
    throw new ValidationError(`Invalid body: ${field} ${message}`, { details: [read.fault] });
  }
  return read.value;
}

/** Bodies already read as JSON, per event: the route and the Idempotency-Key's fingerprint share one parse. */
const readBodies = new WeakMap<HttpEvent, ReadBody>();

/**
 * A request's body read as JSON (structure checked, numbers kept as written, strings well-formed:
 * shared/http/json-body.ts), once per request however many readers ask; `undefined` when there is
 * no body. A refusal is returned, not thrown: the route answers it 400.
 * @throws PayloadTooLargeError (413) or ValidationError (400) as {@link rawBody} does
 */
export function readBodyJson(event: HttpEvent): ReadBody | undefined {
  const cached = readBodies.get(event);
  if (cached) return cached;
  const text = rawBody(event);
  if (text === undefined) return undefined;
  const read = readJsonBody(text, requestBodyBounds);
  readBodies.set(event, read);
  return read;
}

/**
 * Said of a refused query value that holds a space: API Gateway decodes a query string as an HTML
 * form does, `+` as a space, so `from=2027-03-28T09:00:00+02:00` arrives as `…09:00:00 02:00`
 * and `recipientId=bob+work` as `bob work` (URL Standard, "application/x-www-form-urlencoded parsing").
 */
export const plusReadAsSpace = "(a '+' in a query string reads as a space: write it %2B)";

/**
 * The query string parameters, validated (API Gateway joins a repeated parameter with commas).
 * @throws ValidationError (400) naming each refused parameter; one whose value holds a space also says how to send a `+` ({@link plusReadAsSpace})
 */
export function queryParameters<S extends z.ZodType>(event: HttpEvent, schema: S): z.infer<S> {
  const query = event.queryStringParameters ?? {};
  try {
    return parseWith(schema, decimalNumerals(schema, query), 'query');
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    const details = (error.details as { readonly field: string; readonly message: string }[]).map((d) =>
      query[d.field]?.includes(' ') ? { ...d, message: `${d.message} ${plusReadAsSpace}` } : d,
    );
    throw new ValidationError(`Invalid query: ${details.map((d) => `${d.field} ${d.message}`).join('; ')}`, { details });
  }
}

const nothing = zm.strictObject({});

/**
 * Refuses a query string the route does not read: each parameter is a 400 naming it ("is not a
 * known field"), as the listings' own schemas answer, instead of a write that quietly did what the
 * client did not ask (`DELETE /v1/recipients/alice?dryRun=true` erasing her).
 */
export function noQueryParameters(event: HttpEvent): void {
  parseWith(nothing, event.queryStringParameters ?? {}, 'query');
}

/**
 * Refuses a body the route does not read, as `send-now` does: none, or `{}`, is taken; anything
 * else is a 400 naming it (`before is not a known field`), so that `read-all` with
 * `{ "before": ... }` does not mark every item read.
 */
export function noBody(event: HttpEvent): void {
  const read = readBodyJson(event);
  if (read !== undefined) parseWith(nothing, valueOf(read), 'body');
}

/** A path parameter, validated; a number is written in decimal digits, as in a query. */
export function pathParameter<S extends z.ZodType>(event: HttpEvent, name: string, schema: S): z.infer<S> {
  return parseWith(schema, decimalNumeralOr(schema, event.pathParameters?.[name]), `path parameter ${name}`);
}

// Read on first use: the claim names are the deployment's (herald:tenantClaim, herald:roleClaim).
const claimNames = once(() => claimsConfig());

/** Who is calling, from the claims the JWT authorizer verified; UnauthorizedError (401) saying why when they name nobody. */
export function callerFrom(event: HttpEvent): Caller {
  const reading = readCaller(event.requestContext.authorizer?.jwt?.claims, claimNames());
  if ('refusal' in reading) throw new UnauthorizedError(reading.refusal);
  return reading.caller;
}

/** A JSON response. */
export function json(statusCode: number, body: unknown): HttpResult {
  return { statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}
