/**
 * The local stack's DynamoDB endpoint: one HTTP server speaking DynamoDB's awsJson 1.0 that runs
 * every call in this process, on dynalite's store, with no HTTP to dynalite at all.
 *
 * A request is read once; then, as dynalite's own `httpHandler` (`dynalite/index.js`) does, with
 * its answers and error shapes: CORS, the health check, the content type, the JSON, the
 * `X-Amz-Target` operation, the signature headers. On the faultable endpoint (the functions')
 * the call is then counted and may be failed by a fault rule. Before anything recursive runs, the
 * request is checked against AWS's nesting limit (`limits.ts`); then dynalite's validations, the
 * item locks, and dynalite's action or the transaction engine (`operations.ts`). An exception
 * anywhere in handling one request answers 500 `InternalServerError` and is logged; the process
 * and the other requests carry on.
 *
 * Two ports, one store: `endpoint` (never faulted nor counted: table creation, the TTL reaper,
 * tests and the AWS CLI) and, when asked for, `faultableEndpoint` (with the hook).
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, OutgoingHttpHeaders, Server, ServerResponse } from 'node:http';
import { crc32 } from 'node:zlib';
import { sendWireResponse } from '../aws-call-hook.ts';
import type { CallHook } from '../aws-call-hook.ts';
import { closeServer, describeError } from '../http-gateway.ts';
import { httpUrl, listen } from '../listen.ts';
import { createDynaliteStore, isDynaliteError } from './dynalite.ts';
import type { DynaliteStore, Json } from './dynalite.ts';
import { nestingError } from './limits.ts';
import { createDynamoDbOperations, supportedOperations } from './operations.ts';
import type { SupportedOperation } from './operations.ts';

export interface DynamoDbEndpointOptions {
  /** @default '127.0.0.1' */
  readonly host?: string;
  /** Port of the unfaulted endpoint; 0 picks a free one. @default 0 */
  readonly port?: number;
  /** LevelDB directory of the data; in memory when absent. */
  readonly path?: string;
  /** When set, a second endpoint on the same store whose calls go through `hook`: the functions'. */
  readonly faultable?: { readonly hook: CallHook; readonly port?: number };
  /** A store to serve instead of a new one (left open by `stop()`). */
  readonly store?: DynaliteStore;
  /** Where internal failures are reported. @default stderr */
  readonly log?: (line: string) => void;
}

export interface DynamoDbEndpoint {
  /** The unfaulted endpoint: `http://host:port`. */
  readonly endpoint: string;
  /** The endpoint with the fault and call-count hook, when `faultable` was given. */
  readonly faultableEndpoint?: string;
  /** Closes both endpoints and every connection, then the store (unless it was given). */
  stop(): Promise<void>;
}

/** dynalite's limit on a request body, in bytes. */
const MAX_REQUEST_BYTES = 16 * 1024 * 1024;
const API_VERSIONS = new Set(['DynamoDB_20111205', 'DynamoDB_20120810']);
/** The API version whose calls the hook counts and faults, as the SDK v3 sends them. */
const COUNTED_API = 'DynamoDB_20120810';
const HEALTHY = 'healthy: dynamodb.us-east-1.amazonaws.com '; // dynalite's answer, trailing space included
/** AWS's (and dynalite's) keep-alive is generous; Node's 5 s default races clients reusing idle sockets. */
const KEEP_ALIVE_MS = 60_000;

/** A 52-character request id of [0-9A-Z], as AWS's look: a random prefix and a counter, no crypto per request. */
function requestIds(): () => string {
  const prefix = randomBytes(30).toString('base64').toUpperCase().replace(/[^0-9A-Z]/g, '0').slice(0, 40);
  let counter = 0;
  return () => {
    counter += 1;
    return `${prefix}${counter.toString(36).toUpperCase().padStart(12, '0')}`;
  };
}

/** Reads the body, or undefined when it passes `limit` bytes. */
async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** The signature problem dynalite (and AWS) answer for the authorization headers, if any. */
function signatureError(req: IncomingMessage): Json | undefined {
  const authHeader = req.headers.authorization;
  const query = new URL(req.url ?? '/', 'http://localhost').searchParams;
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

/** Starts the DynamoDB endpoint (and its faultable twin); `stop()` undoes it. */
export async function startDynamoDbEndpoint(options: DynamoDbEndpointOptions = {}): Promise<DynamoDbEndpoint> {
  const host = options.host ?? '127.0.0.1';
  const log = options.log ?? ((line: string): void => void process.stderr.write(`${line}\n`));
  const store = options.store ?? createDynaliteStore({ ...(options.path ? { path: options.path } : {}), createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  const operations = createDynamoDbOperations(store, log);
  const nextRequestId = requestIds();

  function send(res: ServerResponse, status: number, contentType: string, body: string, headers: OutgoingHttpHeaders = {}): void {
    res.writeHead(status, {
      ...headers,
      'x-amz-crc32': String(crc32(body)),
      'content-type': contentType,
      'content-length': Buffer.byteLength(body),
    });
    res.end(body);
  }

  async function handle(req: IncomingMessage, res: ServerResponse, hook: CallHook | undefined): Promise<void> {
    const body = await readBody(req, MAX_REQUEST_BYTES);
    if (body === undefined) {
      res.writeHead(413, { connection: 'close' });
      res.end();
      return;
    }
    const headers: OutgoingHttpHeaders = { 'x-amzn-requestid': nextRequestId() };
    if (req.headers.origin) {
      headers['access-control-allow-origin'] = '*';
      if (req.method === 'OPTIONS') {
        if (req.headers['access-control-request-headers']) headers['access-control-allow-headers'] = req.headers['access-control-request-headers'];
        if (req.headers['access-control-request-method']) headers['access-control-allow-methods'] = req.headers['access-control-request-method'];
        res.writeHead(200, { ...headers, 'access-control-max-age': '172800', 'content-length': 0 });
        res.end();
        return;
      }
    }
    if (req.method === 'GET') {
      send(res, 200, 'text/plain', HEALTHY, headers);
      return;
    }
    const contentType = (req.headers['content-type'] ?? '').split(';')[0]?.trim() ?? '';
    if (req.method !== 'POST' || (body.length > 0 && contentType !== 'application/json' && contentType !== 'application/x-amz-json-1.0')) {
      send(res, 404, 'text/plain', '<UnknownOperationException/>\n', headers);
      return;
    }
    const replyType = contentType === 'application/x-amz-json-1.0' ? contentType : 'application/json';
    const reply = (status: number, json: Json): void => send(res, status, replyType, JSON.stringify(json), headers);

    let request: unknown;
    if (body.length > 0) {
      try {
        request = JSON.parse(body.toString('utf8'));
      } catch {
        reply(400, { __type: 'com.amazon.coral.service#SerializationException' });
        return;
      }
    }
    const [api, operation, ...rest] = String(req.headers['x-amz-target'] ?? '').split('.');
    if (rest.length > 0 || api === undefined || !API_VERSIONS.has(api) || operation === undefined || !supportedOperations.has(operation)) {
      reply(400, { __type: 'com.amazon.coral.service#UnknownOperationException' });
      return;
    }
    const fault = hook && api === COUNTED_API ? hook('dynamodb', { operation, protocol: 'awsJson' }) : undefined;
    if (fault) {
      sendWireResponse(res, fault);
      return;
    }
    const badSignature = signatureError(req);
    if (badSignature) {
      reply(400, badSignature);
      return;
    }
    if (body.length === 0 || typeof request !== 'object' || request === null) {
      reply(400, { __type: 'com.amazon.coral.service#SerializationException' });
      return;
    }
    const tooDeep = nestingError(request as Json);
    if (tooDeep) {
      reply(400, { __type: 'com.amazon.coral.validate#ValidationException', message: tooDeep });
      return;
    }
    try {
      reply(200, await operations.run(operation as SupportedOperation, request as Json));
    } catch (error) {
      if (!isDynaliteError(error)) throw error;
      reply(error.statusCode, error.body);
    }
  }

  function serve(hook: CallHook | undefined): Server {
    const server = createServer((req, res) => {
      handle(req, res, hook).catch((error: unknown) => {
        log(`[dynamodb] ${String(req.headers['x-amz-target'] ?? req.method)} failed: ${describeError(error)}`);
        if (res.headersSent) {
          res.destroy();
          return;
        }
        const body = JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', message: 'Internal server error' });
        send(res, 500, 'application/x-amz-json-1.0', body, { 'x-amzn-requestid': nextRequestId() });
      });
    });
    server.keepAliveTimeout = KEEP_ALIVE_MS;
    server.headersTimeout = KEEP_ALIVE_MS + 1_000;
    return server;
  }

  const servers: Server[] = [];
  const stop = async (): Promise<void> => {
    for (const server of servers.splice(0)) if (server.listening) await closeServer(server);
    if (!options.store) await new Promise<void>((resolve, reject) => store.db.close((error) => (error ? reject(error) : resolve())));
  };
  try {
    const plain = serve(undefined);
    servers.push(plain);
    const endpoint = httpUrl(host, await listen(plain, options.port ?? 0, host));
    let faultableEndpoint: string | undefined;
    if (options.faultable) {
      const faultable = serve(options.faultable.hook);
      servers.push(faultable);
      faultableEndpoint = httpUrl(host, await listen(faultable, options.faultable.port ?? 0, host));
    }
    return { endpoint, ...(faultableEndpoint ? { faultableEndpoint } : {}), stop };
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
}
