/**
 * DynamoDB's awsJson 1.0 wire protocol as the local endpoint reads it: the checks dynalite's own
 * `httpHandler` (`dynalite/index.js`) makes before running an operation, in its order and with
 * its answers and error shapes (CORS, the health check, the content type, the JSON, the
 * `X-Amz-Target` operation, the signature headers), plus AWS's nesting limit, which must be
 * checked before anything recursive touches the request.
 */
import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import type { Json } from './dynalite.ts';
import { nestingError } from './limits.ts';
import { supportedOperations } from './operations.ts';
import type { SupportedOperation } from './operations.ts';
import { STREAMS_API, streamsOperations } from './streams-api.ts';
import type { StreamsOperation } from './streams-api.ts';

/** An answer decided by the wire checks, before any operation runs. */
export interface WireAnswer {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
  readonly headers?: OutgoingHttpHeaders;
}

/** A request the wire checks name an operation for. */
export type DynamoDbCall = TableCall | StreamsCall;

interface CallBase {
  /** The parsed body (undefined when empty). */
  readonly request: unknown;
  /** The content type of the answer: the request's JSON flavour. */
  readonly replyType: string;
}

/** A call of the DynamoDB API. */
export interface TableCall extends CallBase {
  /** `DynamoDB_20120810` (what the SDK sends) or the older `DynamoDB_20111205`. */
  readonly api: 'DynamoDB_20120810' | 'DynamoDB_20111205';
  readonly operation: SupportedOperation;
}

/** A call of the DynamoDB Streams API (`DynamoDBStreams_20120810`), which the same endpoint serves. */
export interface StreamsCall extends CallBase {
  readonly api: typeof STREAMS_API;
  readonly operation: StreamsOperation;
}

const API_VERSIONS = new Set(['DynamoDB_20111205', 'DynamoDB_20120810']);
/** dynalite's answer to a GET, trailing space included. */
const HEALTHY = 'healthy: dynamodb.us-east-1.amazonaws.com ';

function json(status: number, contentType: string, body: Json): WireAnswer {
  return { status, contentType, body: JSON.stringify(body) };
}

/** The CORS headers every answer carries when the request names an origin. */
export function corsHeaders(req: IncomingMessage): OutgoingHttpHeaders {
  return req.headers.origin ? { 'access-control-allow-origin': '*' } : {};
}

/** The answer to a request that is not an API call (preflight, health check, wrong type or body, unknown operation), or the call it names. */
export function routeRequest(req: IncomingMessage, body: Buffer): WireAnswer | DynamoDbCall {
  if (req.headers.origin && req.method === 'OPTIONS') {
    const headers: OutgoingHttpHeaders = { 'access-control-max-age': '172800' };
    if (req.headers['access-control-request-headers']) headers['access-control-allow-headers'] = req.headers['access-control-request-headers'];
    if (req.headers['access-control-request-method']) headers['access-control-allow-methods'] = req.headers['access-control-request-method'];
    return { status: 200, contentType: 'text/plain', body: '', headers };
  }
  if (req.method === 'GET') return { status: 200, contentType: 'text/plain', body: HEALTHY };
  const contentType = (req.headers['content-type'] ?? '').split(';')[0]?.trim() ?? '';
  if (req.method !== 'POST' || (body.length > 0 && contentType !== 'application/json' && contentType !== 'application/x-amz-json-1.0')) {
    return { status: 404, contentType: 'text/plain', body: '<UnknownOperationException/>\n' };
  }
  const replyType = contentType === 'application/x-amz-json-1.0' ? contentType : 'application/json';
  let request: unknown;
  if (body.length > 0) {
    try {
      request = JSON.parse(body.toString('utf8'));
    } catch {
      return json(400, replyType, { __type: 'com.amazon.coral.service#SerializationException' });
    }
  }
  const [api, operation, ...rest] = String(req.headers['x-amz-target'] ?? '').split('.');
  if (rest.length === 0 && api === STREAMS_API && (streamsOperations as readonly string[]).includes(operation ?? '')) {
    return { api, operation: operation as StreamsOperation, request, replyType };
  }
  if (rest.length > 0 || api === undefined || !API_VERSIONS.has(api) || operation === undefined || !supportedOperations.has(operation)) {
    return json(400, replyType, { __type: 'com.amazon.coral.service#UnknownOperationException' });
  }
  return { api: api as TableCall['api'], operation: operation as SupportedOperation, request, replyType };
}

/** The signature problem dynalite (and AWS) answer for the authorization headers, if any. */
function signatureError(req: IncomingMessage): Json | undefined {
  const authHeader = req.headers.authorization;
  // The SDK signs in the header and posts to `/`: parse a query string only when there is one.
  const query = req.url?.includes('?') ? new URL(req.url, 'http://localhost').searchParams : new URLSearchParams();
  const authQuery = query.has('X-Amz-Algorithm');
  if (authHeader && authQuery) {
    return {
      __type: 'com.amazon.coral.service#InvalidSignatureException',
      message: "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header.",
    };
  }
  if ((!authHeader && !authQuery) || (authHeader && authHeader.trim().slice(0, 5) !== 'AWS4-')) {
    return { __type: 'com.amazon.coral.service#MissingAuthenticationTokenException', message: 'Request is missing Authentication Token' };
  }
  let message = '';
  if (authHeader) {
    const params = Object.fromEntries(
      authHeader
        .split(/,| /)
        .slice(1)
        .filter(Boolean)
        .map((pair) => pair.trim().split('=')),
    ) as Record<string, string | undefined>;
    for (const param of ['Credential', 'Signature', 'SignedHeaders']) {
      if (!params[param]) message += `Authorization header requires '${param}' parameter. `;
    }
    if (!req.headers['x-amz-date'] && !req.headers.date) {
      message += "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. ";
    }
    if (message) message += `Authorization=${authHeader}`;
  } else {
    for (const param of ['X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Signature', 'X-Amz-SignedHeaders', 'X-Amz-Date']) {
      if (!query.get(param)) message += `AWS query-string parameters must include '${param}'. `;
    }
    if (message) message += 'Re-examine the query-string parameters.';
  }
  return message ? { __type: 'com.amazon.coral.service#IncompleteSignatureException', message } : undefined;
}

/**
 * The 400 body for a call that must not run (its signature headers, an empty or non-object
 * body, attribute values nested deeper than AWS allows); undefined when it may run.
 */
export function callError(req: IncomingMessage, call: DynamoDbCall): Json | undefined {
  const badSignature = signatureError(req);
  if (badSignature) return badSignature;
  if (typeof call.request !== 'object' || call.request === null) return { __type: 'com.amazon.coral.service#SerializationException' };
  const tooDeep = nestingError(call.request as Json);
  return tooDeep ? { __type: 'com.amazon.coral.validate#ValidationException', message: tooDeep } : undefined;
}
