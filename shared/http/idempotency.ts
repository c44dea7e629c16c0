/**
 * The `Idempotency-Key` header, for every create route: wrap the route with `idempotent(...)`.
 *
 * - The same key with the same body within 24 h gets the first response (same status and body,
 *   plus `idempotent-replayed: true`) and creates nothing.
 * - The same key with a different body is refused (422).
 * - Concurrent duplicates: one runs; the others wait for its response, and get 409 if it takes
 *   longer than `waitMs`.
 * - A request that fails (any thrown error, or a 5xx) leaves no trace: the key may be used again.
 * - Keys are scoped by tenant, caller and route (method and path), so one client's key never
 *   meets another's. Without the header, the route runs as it is.
 */
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Context } from 'aws-lambda';
import * as z from 'zod';
import { IdempotencyInProgressError } from '../errors.ts';
import { isRawJson } from '../domain/opaque-json.ts';
import type { IdempotencyStore, IdempotentRequest } from '../ports.ts';
import { readJsonBody } from './json-body.ts';
import type { ReadBody } from './json-body.ts';
import { callerFrom, parseWith, rawBody, readBodyJson, requestBodyBounds } from './request.ts';
import type { HttpEvent, HttpResult, HttpRouteHandler } from './request.ts';

/** The header, as API Gateway presents it (lower case). */
export const idempotencyKeyHeader = 'idempotency-key';
/** The header a replayed response carries. */
export const replayedHeader = 'idempotent-replayed';

const idempotencyKeySchema = z
  .string()
  .regex(/^[\x21-\x7E]{1,255}$/, 'must be 1-255 visible ASCII characters (a UUID is a good choice)');

/** How long a request may hold its key when the Lambda context does not say (the API timeout). */
const defaultLockSeconds = 30;

export interface IdempotentOptions {
  /**
   * How long a duplicate waits for the first request's response before answering 409.
   * @default 10000
   */
  readonly waitMs?: number;
  /**
   * What the route refuses without writing anything (its body, its role, what it must find):
   * run before the key is taken, when the key is new, so that a 4xx writes nothing, not even the
   * key's in-progress record. A repeat of a key already taken skips it and is answered as the first
   * request was.
   */
  readonly precheck?: (event: HttpEvent) => Promise<void>;
}

/**
 * JSON with object keys sorted, so that the same body written differently hashes the same. A
 * number a double cannot hold is raw JSON (below), printed as it was written.
 */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) && !isRawJson(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/**
 * A hash of a request body: of its JSON value when the routes would read it as JSON, of its text
 * otherwise. The value is the routes' own (`readJsonBody`: `12345678901234567890`, `1e400` and
 * `-0` are kept as written, which the stores keep), so two bodies that would store different
 * numbers never hash the same. `read` is the body already read (`readBodyJson`), so that a keyed
 * request's body is parsed once, not once for the key and again for the route.
 */
export function bodyFingerprint(body: string | undefined, read: ReadBody | undefined = body === undefined ? undefined : readJsonBody(body, requestBodyBounds)): string {
  const canonical = body === undefined ? '' : read?.ok ? `json:${canonicalJson(read.value)}` : `text:${body}`;
  return createHash('sha256').update(canonical).digest('base64url');
}

/**
 * The key a header given more than once names: API Gateway (and the local gateway) join a repeated
 * header's values with commas, so a client or proxy that sends the same key twice would otherwise
 * present `K,K`, a new key, and create everything a second time. The same key repeated is that
 * key; anything else (one key holding commas) is left as it came.
 */
function oneKeyOf(header: string): string {
  const parts = header.split(',').map((part) => part.trim());
  const [first] = parts;
  return parts.length > 1 && first && parts.every((part) => part === first) ? first : header;
}

/**
 * The resource a path names, as the route reads it: its segments percent-decoded (`t%2Da` and
 * `%74-a` are the template `t-a`, as API Gateway hands the route its path parameters decoded) and
 * a trailing slash, which reaches the same route, dropped; a retry that spells the path another way
 * is the same request. A segment that is not valid percent-encoding is kept as written. Plain
 * paths read as themselves (`/v1/notifications`), as keys taken before this rule were scoped.
 */
function resourceOf(rawPath: string): string {
  return rawPath
    .replace(/(?<=.)\/+$/, '')
    .split('/')
    .map((segment) => {
      let decoded = segment;
      try {
        decoded = decodeURIComponent(segment);
      } catch {
        // Kept as written, `%` and all: escaped below like any other.
      }
      // Written back so that a decoded `/` or `%` cannot pass for a separator or an escape.
      return decoded.replaceAll('%', '%25').replaceAll('/', '%2F');
    })
    .join('/');
}

/**
 * The `Idempotency-Key` of a request as the store knows it: the client's key scoped by tenant,
 * caller, route and path, and the body's fingerprint; `undefined` without the header. A create
 * that records what it writes under the key (`scheduleNotifications`) takes it from here, so its scope is
 * the store's by construction.
 * @throws ValidationError (400) when the header is not 1-255 visible ASCII characters
 */
export function idempotencyKeyOf(event: HttpEvent): Pick<IdempotentRequest, 'key' | 'fingerprint'> | undefined {
  const header = event.headers?.[idempotencyKeyHeader];
  if (header === undefined) return undefined;
  const known = scopedKeys.get(event);
  if (known) return known;
  const clientKey = parseWith(idempotencyKeySchema, oneKeyOf(header), 'header Idempotency-Key');
  const caller = callerFrom(event);
  const scoped = {
    key: JSON.stringify([caller.tenantId, caller.sub, event.routeKey, resourceOf(event.rawPath), clientKey]),
    fingerprint: bodyFingerprint(rawBody(event), readBodyJson(event)),
  };
  scopedKeys.set(event, scoped);
  return scoped;
}

/** Keys already scoped, per event: {@link idempotent} and the create it wraps both ask. */
const scopedKeys = new WeakMap<HttpEvent, Pick<IdempotentRequest, 'key' | 'fingerprint'>>();

/** A 5xx is not remembered: it is thrown through the store (which then forgets the key) and returned. */
class UnrememberedResponse extends Error {
  readonly response: HttpResult;
  constructor(response: HttpResult) {
    super(`Response ${response.statusCode} is not remembered`);
    this.name = 'UnrememberedResponse';
    this.response = response;
  }
}

const idempotentRoutes = new WeakSet<HttpRouteHandler>();

/** True for a route made by {@link idempotent}: the API documentation says which routes honour the header. */
export function honoursIdempotencyKey(route: HttpRouteHandler): boolean {
  return idempotentRoutes.has(route);
}

/** Makes a create route honour the `Idempotency-Key` header. */
export function idempotent(route: HttpRouteHandler, store: () => IdempotencyStore, options: IdempotentOptions = {}): HttpRouteHandler {
  const waitMs = options.waitMs ?? 10_000;
  const wrapped = async function idempotentRoute(event: HttpEvent, context?: Context): Promise<HttpResult> {
    const scoped = idempotencyKeyOf(event);
    if (scoped === undefined) return route(event, context);
    const request: IdempotentRequest = {
      ...scoped,
      lockSeconds: context ? Math.max(1, Math.ceil(context.getRemainingTimeInMillis() / 1000)) : defaultLockSeconds,
    };
    const work = async (): Promise<HttpResult> => {
      const response = await route(event, context);
      if ((response.statusCode ?? 200) >= 500) throw new UnrememberedResponse(response);
      return response;
    };

    if (options.precheck && !(await store().has(request))) await options.precheck(event);

    const deadline = Date.now() + waitMs;
    for (let pause = 50; ; pause = Math.min(pause * 2, 1_000)) {
      try {
        const { result, replayed } = await store().run(request, work);
        return replayed ? { ...result, headers: { ...result.headers, [replayedHeader]: 'true' } } : result;
      } catch (error) {
        if (error instanceof UnrememberedResponse) return error.response;
        if (!(error instanceof IdempotencyInProgressError) || Date.now() + pause > deadline) throw error;
        await sleep(pause);
      }
    }
  };
  idempotentRoutes.add(wrapped);
  return wrapped;
}
