/**
 * The local stack's own operations endpoints, served on the HTTP API port under `/_local/`:
 *
 * - `GET /_local/endpoints`: the AWS endpoints for the CLI or SDK (the raw emulators) and, under
 *   `faultable`, the endpoints the functions use (the same emulators through the call hook);
 * - `GET | POST | DELETE /_local/faults`: read, replace or clear the fault rules
 *   (`{ rules, injected }` in every answer);
 * - `GET | DELETE /_local/calls`: the AWS API calls the functions made, by service and operation,
 *   and the same by function (`{ calls: { dynamodb: { UpdateItem: 13 } }, byFunction: { deliver:
 *   { dynamodb: { UpdateItem: 13 } } }, total: 13 }`; unsigned or unknown callers under
 *   `unknown`), and, from the local DynamoDB, the entries written by every caller, the stack's own
 *   included (`dynamodbWrites: { tableItems, indexEntries }`, local/dynamodb/write-counter.ts);
 *   or start counting from zero (answering the emptied counts);
 * - `GET /_local/ses`: the SES account's quotas and every send it accepted in the last 24 hours,
 *   each with the epoch ms it was accepted (`{ quota: { maxSendRate, max24HourSend,
 *   sentLast24Hours }, sends: [{ operation, recipients, at, messageId }] }`);
 * - `GET | DELETE /_local/metrics`: the metrics the functions printed as CloudWatch EMF, summed
 *   per namespace, name and dimensions (`{ metrics: [{ namespace, name, unit, dimensions, count,
 *   sum, min, max }] }`), or forget them;
 * - `GET | DELETE /_local/outbox?channel=push|sms|telegram|webhook&limit=&cursor=`: what the local
 *   providers received, one page newest first (`{ entries: [{ id, channel, provider, to, at, body,
 *   providerMessageId? }], total, nextCursor }`; every channel without `channel`; `limit` 1 to 1,000,
 *   100 by default, local/newest-first-page.ts; 304 to an `If-None-Match` of the page's `ETag`
 *   while the store is unchanged; 410 naming `cursor` when the cursor's entry has been dropped past
 *   the outbox's capacity or forgotten since), or forget it; `GET /_local/outbox.html` is the same as a page
 *   for people;
 * - `POST /_local/rules/{name}/run`: run an EventBridge rule's target now and answer its result;
 * - `GET /_local/mail?limit=&cursor=`: the mail the local SES accepted, one page newest first
 *   (`{ emails: [{ messageId, from, to, subject, text, at }], total, nextCursor }`, 304 as the
 *   outbox), what the console's "Sent mail" shows, read from the local SES's store a page at a
 *   time (local/ses-mailbox.ts);
 * - `POST /_local/token` `{ sub, tenant?, roles? }`: the console's dev sign-in, a one-hour token
 *   signed by the local issuer (`{ token }`), as `npm run token` prints one.
 *
 * Errors have Herald's shape, `{ "error": { "code", "message", "details"? } }`.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ApiCallCounter } from './api-call-counter.ts';
import type { StoreWrites } from './dynamodb/write-counter.ts';
import { AppError, ForbiddenError, NotFoundError, PayloadTooLargeError, ValidationError } from '../shared/errors.ts';
import { parseFaultRules } from './fault-rules.ts';
import type { FaultInjector } from './fault-rules.ts';
import type { ExtraHandler } from './http-gateway.ts';
import { isOutboxChannel, outboxChannels } from './outbox.ts';
import { outboxPage, outboxPageCsp } from './outbox-page.ts';
import { readBody } from './request-body.ts';
import { queryParameters } from './name-maps.ts';
import { defaultLocalPageSize, parseLocalPageQuery } from './newest-first-page.ts';
import type { Outbox } from './outbox.ts';
import type { EmfMetrics } from './emf-metrics.ts';
import type { SesSendsView } from './ses-emulator.ts';
import { toSentMail } from './ses-mailbox.ts';
import type { SesMailbox } from './ses-mailbox.ts';
import type { LocalEndpoints } from './stack.ts';
import * as z from 'zod';
import { defaultTenant } from '../shared/auth/claims.ts';
import { idSchema, tenantIdSchema } from '../shared/domain/schemas.ts';
import { parseWith } from '../shared/http/validation.ts';
import { tokenRoles } from './jwt-keys.ts';
import type { TokenRole } from './jwt-keys.ts';

/** The scheduled rules the control API can run, by rule name. */
export interface RuleRunner {
  readonly names: readonly string[];
  /** Invokes the rule's target with a Scheduled Event and resolves with what it returned. */
  run(name: string): Promise<unknown>;
}

export interface ControlApiOptions {
  readonly faults: FaultInjector;
  /** The functions' AWS calls, as the emulators' faultable endpoints counted them. */
  readonly calls: ApiCallCounter;
  /** The items and index entries the local DynamoDB wrote since it started; absent, `/_local/calls` leaves them out. */
  readonly dynamodbWrites?: () => StoreWrites;
  /** Undefined until the stack has started them. */
  readonly endpoints: () => { readonly raw: LocalEndpoints; readonly faultable: LocalEndpoints } | undefined;
  /** Undefined until the functions are loaded. */
  readonly rules: () => RuleRunner | undefined;
  /** The SES account's quotas and accepted sends; undefined until SES has started. */
  readonly ses?: () => SesSendsView | undefined;
  /** What the local providers of push, SMS, Telegram and webhooks received. */
  readonly outbox?: Outbox;
  /** The metrics the functions printed as EMF. */
  readonly metrics?: EmfMetrics;
  /** The mail the local SES accepted (`GET /_local/mail` pages it newest first); undefined until SES has started. */
  readonly mail?: SesMailbox;
  /** Signs a local token (the dev sign-in). */
  readonly mintToken?: (request: DevSignIn) => Promise<string>;
}

export type { SentMail } from './ses-mailbox.ts';

/** What the dev sign-in asks a token for. */
export interface DevSignIn {
  readonly sub: string;
  readonly tenant: string;
  readonly roles: readonly TokenRole[];
}

const devSignInSchema = z.strictObject({
  sub: idSchema,
  tenant: tenantIdSchema.default(defaultTenant),
  roles: z.array(z.enum(tokenRoles)).max(tokenRoles.length).default([]),
});

/** A request body larger than any sensible rule set. */
const MAX_BODY_BYTES = 1024 * 1024;

class MethodNotAllowedError extends AppError {
  readonly statusCode = 405;
  readonly code = 'METHOD_NOT_ALLOWED';
  readonly allow: string;

  constructor(method: string, path: string, allow: readonly string[]) {
    super(`${method} is not allowed on ${path}; use ${allow.join(' or ')}`);
    this.allow = allow.join(', ');
  }
}

class NotReadyError extends AppError {
  readonly statusCode = 503;
  readonly code = 'SERVICE_UNAVAILABLE';
}

/** The rule's target threw: the local stack shows why, as an operator would read it in CloudWatch. */
class RuleFailedError extends AppError {
  readonly statusCode = 500;
  readonly code = 'RULE_FAILED';
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  // A handler that returns nothing answers `null`, which is still JSON.
  const text = JSON.stringify(body ?? null);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/**
 * Answers a page of a local store with an ETag made of the store's `version` and the query, or 304
 * and no body when the request's `If-None-Match` names that tag: the console reads these stores
 * every 3 s, and most reads find nothing new. `no-cache` makes a browser ask again every time
 * (with `If-None-Match`, which it adds by itself) rather than reuse an answer it holds.
 */
function sendPage(req: IncomingMessage, res: ServerResponse, version: string, query: URLSearchParams, body: () => unknown): void {
  const etag = `"${createHash('sha256').update(`${version} ${query.toString()}`).digest('base64url').slice(0, 22)}"`;
  const headers = { etag, 'cache-control': 'no-cache' };
  const known = (req.headers['if-none-match'] ?? '').split(',').map((tag) => tag.trim().replace(/^W\//, ''));
  if (known.includes(etag) || known.includes('*')) {
    res.writeHead(304, headers).end();
    return;
  }
  sendJson(res, 200, body(), headers);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const body = await readBody(req, MAX_BODY_BYTES);
  if (body === undefined) throw new PayloadTooLargeError(`The body exceeds ${MAX_BODY_BYTES} bytes`);
  const text = body.toString('utf8');
  // Details naming `body`, as the API's 400s name their field (shared/http/request.ts).
  if (text.trim() === '') throw new ValidationError('Request body is required', { details: [{ field: 'body', message: 'is required' }] });
  try {
    return JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ValidationError('Request body is not valid JSON', { cause: error, details: [{ field: 'body', message: `must be valid JSON (${reason})` }] });
  }
}

function decodedOrRaw(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/**
 * True for a request that would change something (any method but GET and HEAD) sent by a page of
 * another origin. A browser sends a cross-site form or `fetch` POST with `text/plain` without
 * asking first (a "simple request"), so without this any page the developer visits could replace
 * the fault rules or run the sweeps; the browser names the page in `Origin`. The console, served
 * from this very origin, and clients that send no `Origin` (curl, the SDK, tests) are unaffected.
 */
function isCrossOriginChange(req: IncomingMessage, method: string): boolean {
  if (method === 'GET' || method === 'HEAD') return false;
  const origin = req.headers.origin;
  if (origin === undefined) return false;
  try {
    return new URL(origin).host !== req.headers.host;
  } catch {
    // `Origin: null` (a sandboxed frame, a file) or anything unreadable is not this origin.
    return true;
  }
}

function allow(method: string, path: string, allowed: readonly string[]): void {
  if (!allowed.includes(method)) throw new MethodNotAllowedError(method, path, allowed);
}

/** Creates the `/_local/*` router; it leaves every other path to the HTTP API's routes. */
export function createControlApi(options: ControlApiOptions): ExtraHandler {
  const faultState = (): unknown => ({ rules: options.faults.rules(), injected: options.faults.injected() });
  // The write counts only grow: DELETE moves the point they are read from.
  let writesFrom: StoreWrites = options.dynamodbWrites?.() ?? { tableItems: 0, indexEntries: 0 };
  const callState = (): unknown => {
    const calls = options.calls.snapshot();
    const total = Object.values(calls).reduce((sum, perOperation) => sum + Object.values(perOperation).reduce((a, b) => a + b, 0), 0);
    const writes = options.dynamodbWrites?.();
    return {
      calls,
      byFunction: options.calls.byFunction(),
      total,
      ...(writes ? { dynamodbWrites: { tableItems: writes.tableItems - writesFrom.tableItems, indexEntries: writes.indexEntries - writesFrom.indexEntries } } : {}),
    };
  };

  async function route(req: IncomingMessage, res: ServerResponse, method: string, path: string, query: URLSearchParams): Promise<void> {
    if (path === '/_local/endpoints') {
      allow(method, path, ['GET']);
      const endpoints = options.endpoints();
      if (!endpoints) throw new NotReadyError('The local stack is still starting');
      sendJson(res, 200, { ...endpoints.raw, faultable: endpoints.faultable });
      return;
    }

    if (path === '/_local/faults') {
      allow(method, path, ['GET', 'POST', 'DELETE']);
      if (method === 'POST') options.faults.replace(parseFaultRules(await readJson(req)));
      if (method === 'DELETE') options.faults.clear();
      sendJson(res, 200, faultState());
      return;
    }

    if (path === '/_local/calls') {
      allow(method, path, ['GET', 'DELETE']);
      if (method === 'DELETE') {
        options.calls.reset();
        writesFrom = options.dynamodbWrites?.() ?? writesFrom;
      }
      sendJson(res, 200, callState());
      return;
    }

    if (path === '/_local/ses') {
      allow(method, path, ['GET']);
      const sends = options.ses?.();
      if (!sends) throw new NotReadyError('The local stack is still starting');
      sendJson(res, 200, sends);
      return;
    }

    if (path === '/_local/metrics') {
      allow(method, path, ['GET', 'DELETE']);
      if (!options.metrics) throw new NotReadyError('The local stack is still starting');
      if (method === 'DELETE') options.metrics.reset();
      sendJson(res, 200, { metrics: options.metrics.snapshot() });
      return;
    }

    if (path === '/_local/outbox' || path === '/_local/outbox.html') {
      const page = path.endsWith('.html');
      allow(method, path, page ? ['GET'] : ['GET', 'DELETE']);
      const channel = queryParameters(query).channel;
      if (channel !== undefined && !isOutboxChannel(channel)) {
        const allowed = outboxChannels.join(', ');
        // E-mail has its own viewer, the local SES's: say where it is rather than only refuse.
        const message = `must be one of ${allowed}${channel === 'email' ? ' (sent e-mail is at /_local/mail)' : ''}`;
        throw new ValidationError(`channel ${message}`, { details: [{ field: 'channel', message }] });
      }
      const paging = method === 'DELETE' ? undefined : parseLocalPageQuery(query, ['channel']);
      if (!options.outbox) throw new NotReadyError('The local stack is still starting');
      if (method === 'DELETE') {
        options.outbox.clear(channel);
        sendJson(res, 200, { entries: [], total: 0, nextCursor: null });
        return;
      }
      const outbox = options.outbox;
      const read = (): ReturnType<Outbox['page']> => outbox.page(channel, paging ?? { limit: defaultLocalPageSize });
      if (page) {
        const html = outboxPage(read(), channel);
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': outboxPageCsp, 'content-length': Buffer.byteLength(html) });
        res.end(html);
        return;
      }
      sendPage(req, res, outbox.version, query, () => {
        const answer = read();
        return { entries: answer.items, total: answer.total, nextCursor: answer.nextCursor };
      });
      return;
    }

    if (path === '/_local/mail') {
      allow(method, path, ['GET']);
      const paging = parseLocalPageQuery(query);
      const mailbox = options.mail;
      if (!mailbox) throw new NotReadyError('The local stack is still starting');
      sendPage(req, res, mailbox.version, query, () => {
        const answer = mailbox.page(paging);
        return { emails: answer.items.map(toSentMail), total: answer.total, nextCursor: answer.nextCursor };
      });
      return;
    }

    if (path === '/_local/token') {
      allow(method, path, ['POST']);
      if (!options.mintToken) throw new NotReadyError('The local stack is still starting');
      // The API's own reading of zod's verdict: a field left out "is required", not "must be a string".
      const signIn = parseWith(devSignInSchema, await readJson(req), 'sign-in');
      sendJson(res, 200, { token: await options.mintToken(signIn) });
      return;
    }

    const ruleName = /^\/_local\/rules\/([^/]+)\/run$/.exec(path)?.[1];
    if (ruleName !== undefined) {
      allow(method, path, ['POST']);
      const rules = options.rules();
      if (!rules) throw new NotReadyError('The local stack is still starting');
      const name = decodedOrRaw(ruleName);
      if (!rules.names.includes(name)) {
        const known = rules.names.length > 0 ? rules.names.join(', ') : 'none';
        throw new NotFoundError(`No rule named ${name} (rules: ${known})`);
      }
      let result: unknown;
      try {
        result = await rules.run(name);
      } catch (error) {
        throw new RuleFailedError(`Rule ${name} failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
      }
      sendJson(res, 200, result);
      return;
    }

    throw new NotFoundError(`No local endpoint ${path}`);
  }

  return async function controlApi(req, res) {
    const [path = '/', search = ''] = (req.url ?? '/').split('?');
    if (path !== '/_local' && !path.startsWith('/_local/')) return false;
    const method = req.method ?? 'GET';
    try {
      if (isCrossOriginChange(req, method)) {
        throw new ForbiddenError(`${method} ${path} from the page of ${req.headers.origin ?? ''} is refused: the local endpoints change nothing for another origin`);
      }
      await route(req, res, method, path, new URLSearchParams(search));
    } catch (error) {
      if (!req.readableEnded) req.resume();
      if (!(error instanceof AppError)) throw error;
      const body = { code: error.code, message: error.message, ...(error.details !== undefined ? { details: error.details } : {}) };
      sendJson(res, error.statusCode, { error: body }, error instanceof MethodNotAllowedError ? { allow: error.allow } : {});
    }
    return true;
  };
}
