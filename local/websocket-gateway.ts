/**
 * Local emulation of API Gateway WebSocket API plus its `@connections` management API, on one
 * port: WebSocket upgrades on `/`, and `POST|GET|DELETE /@connections/{connectionId}` for
 * `ApiGatewayManagementApiClient({ endpoint: callbackUrl })`.
 *
 * Behaviour follows AWS where Herald depends on it:
 * - `$connect`: an optional Lambda REQUEST authorizer (identity sources checked first, 401 when
 *   missing; IAM policy Allow → connect; Deny → 403; `Unauthorized` error → 401; other failure
 *   → 500), then the `$connect` route, whose non-2xx status refuses the handshake.
 * - The authorizer's `principalId` and stringified `context` reach `requestContext.authorizer`
 *   of every later event of that connection.
 * - Messages are routed by the route selection expression (`$request.body.action`), falling
 *   back to `$default`; with no route AWS answers with a `Forbidden` error frame.
 * - Messages above 128 KB close the connection with 1009; a connection idle for 10 minutes, and
 *   any connection 2 hours old, is closed with 1001 (both overridable); `$disconnect` carries
 *   `disconnectStatusCode` and `disconnectReason`. Not emulated: AWS's 32 KB per frame (ws checks
 *   one `maxPayload` for frames and messages alike).
 * - `@connections`: POST sends a text frame, GET describes the connection, DELETE closes it,
 *   and a stale id answers 410 with `x-amzn-ErrorType: GoneException`, which the SDK turns into
 *   its `GoneException` class.
 *
 * Sources: "Control access to WebSocket APIs with AWS Lambda REQUEST authorizers", "Managing
 * connected users and client apps: $connect and $disconnect routes", "Quotas for configuring
 * and running a WebSocket API", and events captured from AWS (see the test of this file).
 */
import { createServer } from 'node:http';
import type { IncomingMessage, OutgoingHttpHeaders, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import type { RawData } from 'ws';
import { recogniseCall, sendWireResponse } from './aws-call-hook.ts';
import type { CallHook } from './aws-call-hook.ts';
import { awsRequestTime, awsStyleId, closeServer, describeError, sourceIpOf } from './http-gateway.ts';
import { httpUrl, listen } from './listen.ts';
import { nameMap } from './name-maps.ts';
import { readBody } from './request-body.ts';

/** `requestContext.authorizer` of a connection: the authorizer's stringified context, principalId, latency. */
export type WebSocketAuthorizerContext = Readonly<Record<string, string | number | null>>;

/** The `requestContext` of CONNECT, MESSAGE and DISCONNECT events, and of the authorizer's event. */
export interface WebSocketRequestContext {
  readonly routeKey: string;
  readonly messageId?: string;
  readonly disconnectStatusCode?: number;
  readonly authorizer?: WebSocketAuthorizerContext;
  readonly eventType: 'CONNECT' | 'MESSAGE' | 'DISCONNECT';
  readonly extendedRequestId: string;
  readonly requestTime: string;
  readonly messageDirection: 'IN';
  readonly disconnectReason?: string;
  readonly stage: string;
  readonly connectedAt: number;
  readonly requestTimeEpoch: number;
  readonly identity: { readonly sourceIp: string; readonly userAgent?: string };
  readonly requestId: string;
  readonly domainName: string;
  readonly connectionId: string;
  readonly apiId: string;
}

/** What a WebSocket route's function receives (Lambda proxy integration). */
export interface WebSocketRouteEvent {
  readonly headers?: Readonly<Record<string, string>>;
  readonly multiValueHeaders?: Readonly<Record<string, readonly string[]>>;
  readonly queryStringParameters?: Readonly<Record<string, string>>;
  readonly multiValueQueryStringParameters?: Readonly<Record<string, readonly string[]>>;
  readonly requestContext: WebSocketRequestContext;
  readonly body?: string;
  readonly isBase64Encoded: boolean;
}

/** What the `$connect` REQUEST authorizer receives. */
export interface WebSocketAuthorizerEvent {
  readonly type: 'REQUEST';
  readonly methodArn: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly multiValueHeaders: Readonly<Record<string, readonly string[]>>;
  readonly queryStringParameters: Readonly<Record<string, string>>;
  readonly multiValueQueryStringParameters: Readonly<Record<string, readonly string[]>>;
  readonly stageVariables: Readonly<Record<string, string>>;
  readonly requestContext: WebSocketRequestContext;
}

export type WebSocketRouteInvoke = (event: WebSocketRouteEvent) => Promise<unknown>;
export type WebSocketAuthorizerInvoke = (event: WebSocketAuthorizerEvent) => Promise<unknown>;

export interface WebSocketGatewayOptions {
  /** 0 picks a free port. */
  readonly port: number;
  /** @default '127.0.0.1' */
  readonly host?: string;
  /** The `$connect` Lambda REQUEST authorizer; without one every handshake reaches `$connect`. */
  readonly authorizer?: WebSocketAuthorizerInvoke;
  /**
   * The authorizer's identity sources, comma-separated as AWS writes them
   * (`route.request.querystring.token`, `route.request.header.Auth`); when one is missing AWS
   * refuses with 401 without invoking the authorizer.
   */
  readonly authorizerIdentitySource?: string;
  /** Keyed `$connect`, `$disconnect`, `$default` or a custom route key. */
  readonly routes: Readonly<Record<string, WebSocketRouteInvoke>>;
  /** @default '$request.body.action' */
  readonly routeSelectionExpression?: string;
  /** Close connections idle this long with 1001. @default {@link WEBSOCKET_IDLE_TIMEOUT_MS} (AWS's 10 min) */
  readonly idleTimeoutMs?: number;
  /** Close every connection this long after it opened, with 1001. @default {@link WEBSOCKET_MAX_CONNECTION_MS} (AWS's 2 h) */
  readonly maxConnectionMs?: number;
  /** @default 'local' */
  readonly stage?: string;
  /** @default 'local' */
  readonly apiId?: string;
  /** @default 'us-east-1' */
  readonly region?: string;
  /** @default '000000000000' */
  readonly accountId?: string;
  /** Where route failures and refused handshakes (5xx) are reported. @default stderr */
  readonly log?: (line: string) => void;
  /** When set, a second `@connections` endpoint whose calls go through the fault and call-count hook: the functions'. */
  readonly faultable?: { readonly hook: CallHook; readonly port?: number };
}

export interface RunningWebSocketGateway {
  /** Where clients connect: `ws://host:port`. */
  readonly url: string;
  /** The `@connections` endpoint for the Management API client: `http://host:port`; never faulted. */
  readonly callbackUrl: string;
  /** The `@connections` endpoint with the fault and call-count hook, when `faultable` was given. */
  readonly faultableCallbackUrl?: string;
  readonly port: number;
  /**
   * Refuses new handshakes, closes every socket with 1001 and waits for their `$disconnect`;
   * `@connections` keeps answering (410 for the closed ones), for functions still running.
   */
  closeSockets(): Promise<void>;
  /** Closes the sockets as `closeSockets` does, then stops listening, `@connections` included. */
  stop(): Promise<void>;
  connectionIds(): string[];
}

/** The WebSocket API message payload quota; larger messages close the connection with 1009. */
export const WEBSOCKET_MAX_MESSAGE_BYTES = 128 * 1024;

/** API Gateway's idle timeout of a WebSocket connection: no frame either way for 10 minutes closes it. */
export const WEBSOCKET_IDLE_TIMEOUT_MS = 10 * 60 * 1000;

/** API Gateway's maximum duration of a WebSocket connection: 2 hours, active or not. */
export const WEBSOCKET_MAX_CONNECTION_MS = 2 * 60 * 60 * 1000;

/** How long a closing socket may take to answer our close frame before it is cut. */
const closeGraceMs = 1000;

interface Connection {
  readonly id: string;
  readonly socket: WebSocket;
  readonly connectedAt: number;
  lastActiveAt: number;
  readonly sourceIp: string;
  readonly userAgent?: string;
  readonly domainName: string;
  readonly authorizer?: WebSocketAuthorizerContext;
  /** Set when the gateway closes the socket, so `$disconnect` reports why. */
  closing?: { readonly code: number; readonly reason: string };
  idleTimer?: NodeJS.Timeout;
  /** Closes the connection at its maximum duration. */
  ageTimer?: NodeJS.Timeout;
  /** Settles once `$disconnect` has run for this connection. */
  disconnected: Promise<void>;
}

/** What every event of a connection says about it. */
type ConnectionIdentity = Pick<Connection, 'id' | 'connectedAt' | 'sourceIp' | 'userAgent' | 'domainName' | 'authorizer'>;

/** What `$disconnect` needs, also for a connection that dropped before its socket was adopted. */
type ClosingConnection = ConnectionIdentity & Pick<Connection, 'closing' | 'idleTimer' | 'ageTimer'>;

/** Why a handshake is refused: the status the client sees. */
class HandshakeRefusedError extends Error {
  readonly statusCode: number;
  readonly body: string;

  constructor(statusCode: number, body: string, options?: { cause?: unknown }) {
    super(`Handshake refused with ${statusCode}`, options);
    this.name = 'HandshakeRefusedError';
    this.statusCode = statusCode;
    this.body = body;
  }
}

const statusTexts: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
};

function jsonMessage(message: string): string {
  return JSON.stringify({ message });
}

// ---------------------------------------------------------------------------------------------
// Request parts, in the shapes API Gateway gives WebSocket events
// ---------------------------------------------------------------------------------------------

interface HeaderMaps {
  readonly headers: Record<string, string>;
  readonly multiValueHeaders: Record<string, string[]>;
}

/** WebSocket events keep header names as the client sent them (unlike HTTP API's lower case). */
function headerMaps(rawHeaders: readonly string[]): HeaderMaps {
  const headers = nameMap<string>();
  const multiValueHeaders = nameMap<string[]>();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] ?? '';
    const value = rawHeaders[i + 1] ?? '';
    headers[name] = value;
    (multiValueHeaders[name] ??= []).push(value);
  }
  return { headers, multiValueHeaders };
}

interface QueryMaps {
  readonly queryStringParameters: Record<string, string>;
  readonly multiValueQueryStringParameters: Record<string, string[]>;
}

/** The single-value map holds the last value of a repeated parameter, as in REST-style events. */
function queryMaps(search: URLSearchParams): QueryMaps {
  const queryStringParameters = nameMap<string>();
  const multiValueQueryStringParameters = nameMap<string[]>();
  for (const [name, value] of search) {
    queryStringParameters[name] = value;
    (multiValueQueryStringParameters[name] ??= []).push(value);
  }
  return { queryStringParameters, multiValueQueryStringParameters };
}

function headerValue(headers: Readonly<Record<string, string>>, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === wanted) return value;
  return undefined;
}

/** True when every identity source (`route.request.header.X`, `route.request.querystring.y`) is present. */
function identitySourcesPresent(identitySource: string, headers: Record<string, string>, query: Record<string, string>): boolean {
  return identitySource
    .split(',')
    .map((source) => source.trim())
    .filter((source) => source !== '')
    .every((source) => {
      const header = /^route\.request\.header\.(.+)$/.exec(source)?.[1];
      if (header) return Boolean(headerValue(headers, header));
      const parameter = /^route\.request\.querystring\.(.+)$/.exec(source)?.[1];
      if (parameter) return Boolean(query[parameter]);
      // Stage variables and context sources are not used by Herald; do not refuse on them.
      return true;
    });
}

// ---------------------------------------------------------------------------------------------
// Authorizer results
// ---------------------------------------------------------------------------------------------

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function asList(value: unknown): unknown[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/** IAM-style wildcard match: `*` any run of characters, `?` one character. */
function wildcardMatches(pattern: string, value: string): boolean {
  const expression = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${expression}$`).test(value);
}

function statementApplies(statement: Record<string, unknown>, methodArn: string): boolean {
  const actions = asList(statement.Action).filter((a): a is string => typeof a === 'string');
  const resources = asList(statement.Resource).filter((r): r is string => typeof r === 'string');
  const actionMatches = actions.some((action) => wildcardMatches(action.toLowerCase(), 'execute-api:invoke'));
  return actionMatches && resources.some((resource) => wildcardMatches(resource, methodArn));
}

/**
 * Turns the authorizer's answer into the connection's `requestContext.authorizer`, or refuses:
 * an explicit Deny or no matching Allow is 403; a malformed answer is 500, as AWS reports an
 * AuthorizerConfigurationException. Context values are stringified; objects and arrays are not
 * allowed in it.
 */
function authorizerContextFrom(result: unknown, methodArn: string, latencyMs: number): WebSocketAuthorizerContext {
  const misconfigured = (why: string): HandshakeRefusedError =>
    new HandshakeRefusedError(500, jsonMessage(statusTexts[500] ?? ''), { cause: new Error(why) });
  if (!isRecord(result)) throw misconfigured('authorizer returned no object');
  const { principalId, policyDocument, context } = result;
  if (typeof principalId !== 'string' && typeof principalId !== 'number') {
    throw misconfigured('authorizer result lacks principalId');
  }
  if (!isRecord(policyDocument)) throw misconfigured('authorizer result lacks policyDocument');
  const statements = asList(policyDocument.Statement).filter(isRecord);
  const applicable = statements.filter((statement) => statementApplies(statement, methodArn));
  const denied = applicable.some((statement) => statement.Effect === 'Deny');
  const allowed = applicable.some((statement) => statement.Effect === 'Allow');
  if (denied || !allowed) throw new HandshakeRefusedError(403, jsonMessage('Forbidden'));

  const presented: Record<string, string | number | null> = {};
  if (context !== undefined && context !== null) {
    if (!isRecord(context)) throw misconfigured('authorizer context must be an object');
    for (const [key, value] of Object.entries(context)) {
      if (value === null || value === undefined) presented[key] = null;
      else if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
        presented[key] = String(value);
      } else throw misconfigured(`authorizer context.${key} must be a string, number or boolean`);
    }
  }
  presented.principalId = String(principalId);
  presented.integrationLatency = latencyMs;
  return presented;
}

function isUnauthorizedError(error: unknown): boolean {
  return (error instanceof Error ? error.message : String(error)) === 'Unauthorized';
}

function isSuccessfulResult(result: unknown): boolean {
  if (!isRecord(result) || !('statusCode' in result)) return true;
  const statusCode = Number(result.statusCode);
  return statusCode >= 200 && statusCode < 300;
}

// ---------------------------------------------------------------------------------------------
// Route selection
// ---------------------------------------------------------------------------------------------

type RouteSelector = (body: string | undefined) => string | undefined;

/** Compiles `$request.body.<path>`: the only kind of expression Herald (and most APIs) use. */
function compileRouteSelection(expression: string): RouteSelector {
  const path = /^\$request\.body\.([A-Za-z0-9_$]+(?:\.[A-Za-z0-9_$]+)*)$/.exec(expression)?.[1];
  if (!path) throw new Error(`Unsupported route selection expression: ${expression}`);
  const keys = path.split('.');
  return (body) => {
    if (body === undefined) return undefined;
    let value: unknown;
    try {
      value = JSON.parse(body);
    } catch {
      // Non-JSON messages go to $default.
      return undefined;
    }
    for (const key of keys) value = isRecord(value) ? value[key] : undefined;
    return typeof value === 'string' ? value : undefined;
  };
}

// ---------------------------------------------------------------------------------------------
// The gateway
// ---------------------------------------------------------------------------------------------

function writeHandshakeRefusal(socket: Duplex, statusCode: number, body: string): void {
  if (socket.destroyed) return;
  const text = statusTexts[statusCode] ?? 'Error';
  const payload = Buffer.from(body, 'utf8');
  socket.end(
    `HTTP/1.1 ${statusCode} ${text}\r\n` +
      'Connection: close\r\n' +
      'Content-Type: application/json\r\n' +
      `Content-Length: ${payload.length}\r\n\r\n` +
      body,
  );
}

function sendJson(res: ServerResponse, statusCode: number, body: unknown, headers: OutgoingHttpHeaders = {}): void {
  const payload = Buffer.from(body === undefined ? '' : JSON.stringify(body), 'utf8');
  res.writeHead(statusCode, {
    'content-type': 'application/json',
    'content-length': payload.length,
    'x-amzn-requestid': awsStyleId(),
    ...headers,
  });
  res.end(payload);
}

/** The error shape the SDK's REST-JSON protocol recognises: the type in `x-amzn-ErrorType`. */
function sendError(res: ServerResponse, statusCode: number, errorType: string, body: Record<string, unknown>): void {
  sendJson(res, statusCode, body, { 'x-amzn-errortype': errorType });
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** Starts the WebSocket API and `@connections` emulation on one port. */
export async function startWebSocketGateway(options: WebSocketGatewayOptions): Promise<RunningWebSocketGateway> {
  const host = options.host ?? '127.0.0.1';
  const stage = options.stage ?? 'local';
  const apiId = options.apiId ?? 'local';
  const region = options.region ?? 'us-east-1';
  const accountId = options.accountId ?? '000000000000';
  const selectRoute = compileRouteSelection(options.routeSelectionExpression ?? '$request.body.action');
  const idleTimeoutMs = options.idleTimeoutMs ?? WEBSOCKET_IDLE_TIMEOUT_MS;
  const maxConnectionMs = options.maxConnectionMs ?? WEBSOCKET_MAX_CONNECTION_MS;
  const connections = new Map<string, Connection>();
  /** The $disconnect handling of sockets already closed, which stop() waits for too. */
  const disconnectsUnderWay = new Set<Promise<void>>();
  const pendingHandshakes = new Set<Duplex>();
  /** Handshakes whose $connect (and, for a client gone meanwhile, $disconnect) is still running. */
  const handshakesUnderWay = new Set<Promise<void>>();
  const webSockets = new WebSocketServer({ noServer: true, maxPayload: WEBSOCKET_MAX_MESSAGE_BYTES });
  let stopping = false;

  const writeLine = options.log ?? ((line: string): void => void process.stderr.write(`${line}\n`));
  function log(message: string, error?: unknown): void {
    writeLine(`[websocket-gateway] ${message}${error === undefined ? '' : `: ${describeError(error)}`}`);
  }

  function requestContext(
    connection: ConnectionIdentity,
    routeKey: string,
    eventType: WebSocketRequestContext['eventType'],
    extra: Partial<Pick<WebSocketRequestContext, 'messageId' | 'disconnectStatusCode' | 'disconnectReason'>> = {},
  ): WebSocketRequestContext {
    const now = new Date();
    const requestId = awsStyleId();
    // Property order follows the events AWS delivers, which keeps logged events easy to compare.
    return {
      routeKey,
      ...(extra.messageId === undefined ? {} : { messageId: extra.messageId }),
      ...(extra.disconnectStatusCode === undefined ? {} : { disconnectStatusCode: extra.disconnectStatusCode }),
      ...(connection.authorizer ? { authorizer: connection.authorizer } : {}),
      eventType,
      extendedRequestId: requestId,
      requestTime: awsRequestTime(now),
      messageDirection: 'IN',
      ...(extra.disconnectReason === undefined ? {} : { disconnectReason: extra.disconnectReason }),
      stage,
      connectedAt: connection.connectedAt,
      requestTimeEpoch: now.getTime(),
      identity: {
        sourceIp: connection.sourceIp,
        ...(connection.userAgent === undefined ? {} : { userAgent: connection.userAgent }),
      },
      requestId,
      domainName: connection.domainName,
      connectionId: connection.id,
      apiId,
    };
  }

  function touch(connection: Connection): void {
    connection.lastActiveAt = Date.now();
    clearTimeout(connection.idleTimer);
    connection.idleTimer = setTimeout(() => closeConnection(connection, 1001, 'Going away', 'Going away'), idleTimeoutMs);
    connection.idleTimer.unref();
  }

  /** Closes from the gateway's side; `$disconnect` then reports this code and reason. */
  function closeConnection(connection: Connection, code: number, reason: string, frameReason = ''): void {
    connection.closing ??= { code, reason };
    if (connection.socket.readyState === WebSocket.CLOSED) return;
    connection.socket.close(code, frameReason);
    // A peer that never answers the close frame must not hold up stop() for ws's 30 s default.
    setTimeout(() => connection.socket.terminate(), closeGraceMs).unref();
  }

  /** The route a key names: an own entry of `routes` only (`constructor`, `__proto__` name none). */
  function routeOf(routeKey: string | undefined): WebSocketRouteInvoke | undefined {
    return routeKey !== undefined && Object.hasOwn(options.routes, routeKey) ? options.routes[routeKey] : undefined;
  }

  async function invokeRoute(routeKey: string, event: WebSocketRouteEvent): Promise<unknown> {
    const route = routeOf(routeKey);
    return route ? route(event) : undefined;
  }

  function sendErrorFrame(connection: Connection, message: string, requestId: string): void {
    if (connection.socket.readyState !== WebSocket.OPEN) return;
    // AWS's error frames have exactly this spacing.
    connection.socket.send(`{"message": ${JSON.stringify(message)}, "connectionId":${JSON.stringify(connection.id)}, "requestId":${JSON.stringify(requestId)}}`);
  }

  async function onMessage(connection: Connection, data: RawData, isBinary: boolean): Promise<void> {
    touch(connection);
    const raw = toBuffer(data);
    const body = isBinary ? raw.toString('base64') : raw.toString('utf8');
    const selected = isBinary ? undefined : selectRoute(body);
    // A message never runs `$connect` or `$disconnect`: those follow the handshake and the close.
    const lifecycle = selected === '$connect' || selected === '$disconnect';
    const routeKey = !lifecycle && routeOf(selected) ? (selected as string) : '$default';
    const context = requestContext(connection, routeKey, 'MESSAGE', { messageId: awsStyleId() });
    if (!routeOf(routeKey)) {
      sendErrorFrame(connection, 'Forbidden', context.requestId);
      return;
    }
    try {
      // Two-way route responses are not used by Herald: the result is ignored.
      await invokeRoute(routeKey, { requestContext: context, body, isBase64Encoded: isBinary });
    } catch (error) {
      log(`route ${routeKey} failed for ${connection.id}`, error);
      sendErrorFrame(connection, 'Internal server error', context.requestId);
    }
  }

  async function onClose(connection: ClosingConnection, code: number, reasonBuffer: Buffer): Promise<void> {
    clearTimeout(connection.idleTimer);
    clearTimeout(connection.ageTimer);
    connections.delete(connection.id);
    const clientReason = reasonBuffer.toString('utf8');
    const { code: disconnectStatusCode, reason: disconnectReason } = connection.closing ?? {
      code,
      reason: code === 1005 ? 'Client-side close frame status not set' : clientReason,
    };
    // AWS's $disconnect carries only a few headers of its own, not the handshake's.
    const headers = { Host: connection.domainName, 'x-api-key': '', 'X-Forwarded-For': '', 'x-restapi': '' };
    const event: WebSocketRouteEvent = {
      headers,
      multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, [value]])),
      requestContext: requestContext(connection, '$disconnect', 'DISCONNECT', { disconnectStatusCode, disconnectReason }),
      isBase64Encoded: false,
    };
    try {
      await invokeRoute('$disconnect', event);
    } catch (error) {
      // Best effort on AWS too: a failing $disconnect changes nothing for anyone.
      log(`$disconnect failed for ${connection.id}`, error);
    }
  }

  function register(socket: WebSocket, pending: Omit<Connection, 'socket' | 'disconnected' | 'lastActiveAt'>): void {
    let settle: () => void = () => undefined;
    const connection: Connection = {
      ...pending,
      socket,
      lastActiveAt: pending.connectedAt,
      disconnected: new Promise<void>((resolve) => (settle = resolve)),
    };
    connections.set(connection.id, connection);
    touch(connection);
    connection.ageTimer = setTimeout(
      () => closeConnection(connection, 1001, 'Going away', 'Going away'),
      Math.max(0, connection.connectedAt + maxConnectionMs - Date.now()),
    );
    connection.ageTimer.unref();
    socket.on('message', (data, isBinary) => {
      onMessage(connection, data, isBinary).catch((error: unknown) => log(`message on ${connection.id} failed`, error));
    });
    socket.on('error', (error: Error & { code?: string }) => {
      // ws closes with 1009 by itself when a message exceeds maxPayload; report it like AWS.
      if (error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') connection.closing ??= { code: 1009, reason: 'Message too big' };
      else log(`socket error on ${connection.id}`, error);
    });
    socket.on('close', (code, reason) => {
      const disconnecting = onClose(connection, code, reason).finally(settle);
      // stop() waits for it even when the client closed first: the function must not go before it.
      disconnectsUnderWay.add(disconnecting);
      void disconnecting.finally(() => disconnectsUnderWay.delete(disconnecting));
    });
    if (stopping) closeConnection(connection, 1001, 'Going away', 'Going away');
  }

  async function admit(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== '/') throw new HandshakeRefusedError(404, jsonMessage('Not Found'));
    if (req.headers.upgrade?.toLowerCase() !== 'websocket') throw new HandshakeRefusedError(400, jsonMessage('Bad Request'));
    if (stopping) throw new HandshakeRefusedError(502, jsonMessage('Bad Gateway'));

    const { headers, multiValueHeaders } = headerMaps(req.rawHeaders);
    const { queryStringParameters, multiValueQueryStringParameters } = queryMaps(url.searchParams);
    const hasQuery = Object.keys(queryStringParameters).length > 0;
    const pending = {
      id: awsStyleId(),
      connectedAt: Date.now(),
      sourceIp: sourceIpOf(req),
      userAgent: req.headers['user-agent'],
      domainName: req.headers.host ?? `${host}:${port}`,
    };

    let authorizer: WebSocketAuthorizerContext | undefined;
    if (options.authorizer) {
      if (options.authorizerIdentitySource && !identitySourcesPresent(options.authorizerIdentitySource, headers, queryStringParameters)) {
        throw new HandshakeRefusedError(401, jsonMessage('Unauthorized'));
      }
      const methodArn = `arn:aws:execute-api:${region}:${accountId}:${apiId}/${stage}/$connect`;
      const startedAt = Date.now();
      let result: unknown;
      try {
        result = await options.authorizer({
          type: 'REQUEST',
          methodArn,
          headers,
          multiValueHeaders,
          queryStringParameters,
          multiValueQueryStringParameters,
          stageVariables: {},
          requestContext: requestContext(pending, '$connect', 'CONNECT'),
        });
      } catch (error) {
        // The authorizer's way to say "no credentials" is to fail with exactly `Unauthorized`.
        if (isUnauthorizedError(error)) throw new HandshakeRefusedError(401, jsonMessage('Unauthorized'), { cause: error });
        throw new HandshakeRefusedError(500, jsonMessage('Internal Server Error'), { cause: error });
      }
      authorizer = authorizerContextFrom(result, methodArn, Date.now() - startedAt);
    }

    const connecting = { ...pending, ...(authorizer ? { authorizer } : {}) };
    let connectResult: unknown;
    try {
      connectResult = await invokeRoute('$connect', {
        headers,
        multiValueHeaders,
        ...(hasQuery ? { queryStringParameters, multiValueQueryStringParameters } : {}),
        requestContext: requestContext(connecting, '$connect', 'CONNECT'),
        isBase64Encoded: false,
      });
    } catch (error) {
      throw new HandshakeRefusedError(502, jsonMessage('Bad Gateway'), { cause: error });
    }
    if (!isSuccessfulResult(connectResult)) {
      const status = Number((connectResult as Record<string, unknown>).statusCode);
      const body = (connectResult as Record<string, unknown>).body;
      throw new HandshakeRefusedError(status >= 400 && status < 600 ? status : 502, typeof body === 'string' ? body : '');
    }

    // The client gave up while $connect ran (closed, or only half-closed: `ws` then destroys the
    // socket without calling back): AWS would see the connection drop at once and run $disconnect,
    // so the connection is not left counted in the user's live state for its two hours.
    const goneAway = (): Promise<void> => onClose({ ...connecting, closing: { code: 1006, reason: 'Going away' } }, 1006, Buffer.alloc(0));
    if (socket.destroyed || !socket.readable || !socket.writable) {
      // Half closed, it would hold the server open: gone, as `ws` would make it.
      socket.destroy();
      await goneAway();
      return;
    }
    const closedBeforeUpgrade = (): void => {
      const disconnecting = goneAway();
      disconnectsUnderWay.add(disconnecting);
      void disconnecting.finally(() => disconnectsUnderWay.delete(disconnecting));
    };
    socket.once('close', closedBeforeUpgrade);
    webSockets.handleUpgrade(req, socket, head, (webSocket) => {
      socket.off('close', closedBeforeUpgrade);
      register(webSocket, connecting);
    });
  }

  async function manage(req: IncomingMessage, res: ServerResponse, hook: CallHook | undefined): Promise<void> {
    if (hook) {
      const call = recogniseCall('apigatewaymanagementapi', { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers });
      const fault = call ? hook('apigatewaymanagementapi', call, req.headers) : undefined;
      if (fault) {
        sendWireResponse(res, fault);
        return;
      }
    }
    const pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
    // The SDK puts the stage, if the endpoint has one, before `@connections`.
    const rawId = /^(?:\/[^/]+)?\/@connections\/([^/]+)$/.exec(pathname)?.[1];
    if (rawId === undefined) {
      req.resume();
      sendJson(res, 404, { message: 'Not Found' });
      return;
    }
    let connectionId: string;
    try {
      connectionId = decodeURIComponent(rawId);
    } catch {
      connectionId = rawId;
    }
    const connection = connections.get(connectionId);
    const open = connection !== undefined && connection.socket.readyState === WebSocket.OPEN && !connection.closing;

    if (req.method === 'POST') {
      const data = await readBody(req, WEBSOCKET_MAX_MESSAGE_BYTES);
      if (data === undefined) {
        sendError(res, 413, 'PayloadTooLargeException', { message: 'Message too long' });
        return;
      }
      if (!open) {
        sendError(res, 410, 'GoneException', {});
        return;
      }
      const sent = await new Promise<boolean>((resolve) => {
        connection.socket.send(data, { binary: false }, (error) => resolve(!error));
      });
      if (!sent) {
        sendError(res, 410, 'GoneException', {});
        return;
      }
      touch(connection);
      sendJson(res, 200, undefined);
      return;
    }
    req.resume();
    if (req.method === 'GET') {
      if (!open) {
        sendError(res, 410, 'GoneException', {});
        return;
      }
      sendJson(res, 200, {
        connectedAt: new Date(connection.connectedAt).toISOString(),
        identity: { sourceIp: connection.sourceIp, userAgent: connection.userAgent ?? '' },
        lastActiveAt: new Date(connection.lastActiveAt).toISOString(),
      });
      return;
    }
    if (req.method === 'DELETE') {
      if (!open) {
        sendError(res, 410, 'GoneException', {});
        return;
      }
      closeConnection(connection, 1000, 'Connection Closed Normally');
      res.writeHead(204, { 'x-amzn-requestid': awsStyleId() });
      res.end();
      return;
    }
    sendJson(res, 404, { message: 'Not Found' });
  }

  const managementServer = (hook: CallHook | undefined): Server =>
    createServer((req, res) => {
      manage(req, res, hook).catch((error: unknown) => {
        log(`${req.method} ${req.url} failed`, error);
        if (!res.headersSent) sendJson(res, 500, { message: 'Internal Server Error' });
        else res.destroy();
      });
    });
  const server = managementServer(undefined);
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    pendingHandshakes.add(socket);
    // A client may hang up while $connect runs; without a listener that error would crash us.
    const ignoreSocketError = (): void => undefined;
    socket.on('error', ignoreSocketError);
    const handshake = admit(req, socket, head)
      .catch((error: unknown) => {
        if (error instanceof HandshakeRefusedError) {
          if (error.statusCode >= 500) log(`handshake refused with ${error.statusCode}`, error.cause);
          writeHandshakeRefusal(socket, error.statusCode, error.body);
        } else {
          log('handshake failed', error);
          writeHandshakeRefusal(socket, 500, jsonMessage('Internal Server Error'));
        }
      })
      .finally(() => {
        pendingHandshakes.delete(socket);
        socket.off('error', ignoreSocketError);
      });
    handshakesUnderWay.add(handshake);
    void handshake.finally(() => handshakesUnderWay.delete(handshake));
  });

  const port = await listen(server, options.port, host);
  const faultable = options.faultable ? managementServer(options.faultable.hook) : undefined;
  let faultableCallbackUrl: string | undefined;
  if (faultable && options.faultable) {
    try {
      faultableCallbackUrl = httpUrl(host, await listen(faultable, options.faultable.port ?? 0, host));
    } catch (error) {
      webSockets.close();
      await closeServer(server);
      throw error;
    }
  }

  async function closeSockets(): Promise<void> {
    stopping = true;
    for (const socket of pendingHandshakes) socket.destroy();
    // A $connect still running ends in a $disconnect (its client is gone): the functions must outlive both.
    await Promise.all([...handshakesUnderWay]);
    const open = [...connections.values()];
    for (const connection of open) closeConnection(connection, 1001, 'Going away', 'Going away');
    await Promise.all(open.map((connection) => connection.disconnected));
    await Promise.all([...disconnectsUnderWay]);
  }

  return {
    url: `ws://${urlHost(host)}:${port}`,
    callbackUrl: httpUrl(host, port),
    ...(faultableCallbackUrl ? { faultableCallbackUrl } : {}),
    port,
    connectionIds: () => [...connections.keys()],
    closeSockets,
    async stop(): Promise<void> {
      await closeSockets();
      webSockets.close();
      if (faultable?.listening) await closeServer(faultable);
      await closeServer(server);
    },
  };
}
