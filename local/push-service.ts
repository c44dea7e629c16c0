/**
 * A Web Push service for the local stack (RFC 8030), what a browser's push service (FCM's, Mozilla
 * autopush, Apple's) is to a real deployment: a subscription whose endpoint points here is
 * delivered here. It takes `POST /push/{id}` as a push service does, and refuses what one would:
 * - no or a bad VAPID `Authorization: vapid t=<JWT>, k=<key>` (RFC 8292): the JWT must be ES256,
 *   signed by `k`, for this service's origin (`aud`), expire within 24 hours, name a `sub`
 *   contact: 401 (403 when the key is not the one the subscription was made for is not checked:
 *   local subscriptions are not bound to a key);
 * - no `TTL` header: 400; `Content-Encoding` other than `aes128gcm` (RFC 8291): 415; a body over
 *   4,096 bytes: 413; an `Urgency` outside RFC 8030's four: 400;
 * - a subscription unsubscribed (`DELETE /push/{id}`, as a browser's `unsubscribe()`): 410.
 * An accepted message is kept encrypted, as a push service keeps it (it has no key to read it), in
 * the stack's outbox (`push`, provider `web-push`), and answered 201 with its `Location`. Fault
 * rules for service `push`, operation `PushMessage`, answer with the status they name in the JSON
 * error shape push services use (`{ code, errno, error, message }`, with `Retry-After` on a 429).
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { STATUS_CODES } from 'node:http';
import { decodeProtectedHeader, importJWK, jwtVerify } from 'jose';
import type { CallHook } from './aws-call-hook.ts';
import { readBody } from './request-body.ts';
import { closeServer, describeError } from './http-gateway.ts';
import { httpUrl, listen } from './listen.ts';
import type { Outbox } from './outbox.ts';

/** The largest payload a push service must accept (RFC 8030, 7.2). */
export const maxPushPayloadBytes = 4096;
const urgencies = new Set(['very-low', 'low', 'normal', 'high']);

export interface PushServiceOptions {
  /** @default '127.0.0.1' */
  readonly host?: string;
  /** @default 0 (a free port) */
  readonly port?: number;
  readonly outbox: Outbox;
  /** Counts each push and fails it by the fault rules (service `push`). */
  readonly hook?: CallHook;
  readonly log?: (line: string) => void;
}

export interface PushService {
  /** The service's origin, e.g. `http://127.0.0.1:4321`. */
  readonly url: string;
  /** A new subscription endpoint on this service (what a browser's `pushManager.subscribe` would get). */
  newEndpoint(): string;
  stop(): Promise<void>;
}

class PushRefusal extends Error {
  readonly status: number;
  readonly headers: Record<string, string>;

  constructor(status: number, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.status = status;
    this.headers = headers;
  }
}

function refuse(res: ServerResponse, refusal: PushRefusal): void {
  // The error shape of Mozilla's autopush, which push libraries log as they get it.
  const body = JSON.stringify({ code: refusal.status, errno: 999, error: STATUS_CODES[refusal.status] ?? 'Error', message: refusal.message });
  res.writeHead(refusal.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...refusal.headers });
  res.end(body);
}

/** Checks the VAPID authorization (RFC 8292) for `origin`; resolves with its claims. */
async function verifyVapid(header: string | undefined, origin: string): Promise<{ sub: string; aud: string; exp: number }> {
  const match = /^vapid\s+(.+)$/i.exec(header ?? '');
  if (!match?.[1]) throw new PushRefusal(401, 'missing VAPID authorization (Authorization: vapid t=..., k=...)');
  const params = Object.fromEntries(match[1].split(',').map((part) => part.trim().split(/=(.*)/s).slice(0, 2) as [string, string]));
  const token = params.t;
  const key = params.k;
  if (!token || !key) throw new PushRefusal(401, 'VAPID authorization needs t (the JWT) and k (the public key)');
  const point = Buffer.from(key, 'base64url');
  if (point.length !== 65 || point[0] !== 4) throw new PushRefusal(401, 'VAPID k must be an uncompressed P-256 point (65 bytes, base64url)');
  if (decodeProtectedHeader(token).alg !== 'ES256') throw new PushRefusal(401, 'the VAPID JWT must be signed ES256');
  const publicKey = await importJWK({ kty: 'EC', crv: 'P-256', x: point.subarray(1, 33).toString('base64url'), y: point.subarray(33).toString('base64url') }, 'ES256');
  let claims: { sub?: unknown; aud?: unknown; exp?: unknown };
  try {
    ({ payload: claims } = await jwtVerify(token, publicKey, { algorithms: ['ES256'], audience: origin }));
  } catch (error) {
    throw new PushRefusal(401, `the VAPID JWT does not verify: ${(error as Error).message}`);
  }
  if (typeof claims.exp !== 'number' || claims.exp > Date.now() / 1000 + 24 * 60 * 60) throw new PushRefusal(401, 'the VAPID JWT must expire within 24 hours');
  if (typeof claims.sub !== 'string' || !/^(mailto:|https:)/.test(claims.sub)) throw new PushRefusal(401, 'the VAPID JWT must name a mailto: or https: sub');
  return { sub: claims.sub, aud: origin, exp: claims.exp };
}

/** Starts the push service. */
export async function startPushService(options: PushServiceOptions): Promise<PushService> {
  const host = options.host ?? '127.0.0.1';
  const log = options.log ?? ((line: string): void => void process.stderr.write(`${line}\n`));
  const unsubscribed = new Set<string>();
  let origin = '';

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const id = /^\/push\/([A-Za-z0-9_-]{1,128})$/.exec(path)?.[1];
    if (id === undefined) throw new PushRefusal(404, `no push resource at ${path}`);
    if (req.method === 'DELETE') {
      unsubscribed.add(id);
      res.writeHead(204).end();
      return;
    }
    if (req.method !== 'POST') throw new PushRefusal(405, 'push messages are POSTed', { allow: 'POST, DELETE' });
    const fault = options.hook?.('push', { operation: 'PushMessage', protocol: 'restJson' }, req.headers);
    if (fault) throw new PushRefusal(fault.statusCode, 'fault injected by the local stack', fault.statusCode === 429 ? { 'retry-after': '1' } : {});
    if (unsubscribed.has(id)) throw new PushRefusal(410, 'the subscription has expired or was unsubscribed');
    const vapid = await verifyVapid(req.headers.authorization, origin);
    const ttl = req.headers.ttl;
    if (ttl === undefined || !/^\d+$/.test(String(ttl))) throw new PushRefusal(400, 'a push message needs a TTL header (RFC 8030, 5.2)');
    const urgency = String(req.headers.urgency ?? 'normal');
    if (!urgencies.has(urgency)) throw new PushRefusal(400, `Urgency must be one of ${[...urgencies].join(', ')}`);
    const body = await readBody(req, maxPushPayloadBytes);
    if (body === undefined) throw new PushRefusal(413, `the payload exceeds ${maxPushPayloadBytes} bytes`);
    if (body.length > 0 && req.headers['content-encoding'] !== 'aes128gcm') throw new PushRefusal(415, 'the payload must be encrypted with Content-Encoding: aes128gcm (RFC 8291)');
    const messageId = randomUUID();
    options.outbox.record({
      channel: 'push',
      provider: 'web-push',
      to: `${origin}${path}`,
      body: { ciphertext: body.toString('base64url'), ttl: Number(ttl), urgency, vapid },
      providerMessageId: messageId,
    });
    res.writeHead(201, { location: `${origin}/m/${messageId}`, 'content-length': 0 }).end();
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!req.readableEnded) req.resume();
      if (error instanceof PushRefusal) return refuse(res, error);
      log(`[push] ${req.method} ${req.url} failed: ${describeError(error)}`);
      if (!res.headersSent) refuse(res, new PushRefusal(500, 'internal error'));
    });
  });
  const port = await listen(server, options.port ?? 0, host);
  origin = httpUrl(host, port);
  return {
    url: origin,
    newEndpoint: () => `${origin}/push/${randomUUID()}`,
    stop: () => closeServer(server),
  };
}
