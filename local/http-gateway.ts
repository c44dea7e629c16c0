/**
 * Local emulation of API Gateway HTTP API (payload format 2.0) with a JWT authorizer.
 *
 * It answers the way AWS answers wherever Herald's code or clients can tell the difference:
 * route matching (`{param}`, greedy `{proxy+}`, most specific route first, 404 `Not Found`
 * otherwise), real JWT verification (RS256 against a JWKS, iss, aud, exp, nbf, iat, kid),
 * 401 with AWS's body and `www-authenticate` header, the exact 2.0 event envelope with the
 * claims stringified as AWS presents them, the 2.0 response mapping, 500 on a handler error and
 * 413 above the 10 MB payload quota.
 *
 * Sources: "Create AWS Lambda proxy integrations for HTTP APIs" (payload format 2.0, response
 * format), "Control access to HTTP APIs with JWT authorizers" (validation steps),
 * "Troubleshooting issues with HTTP API JWT authorizers" (401 body and `www-authenticate`).
 */
import { isUtf8 } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, OutgoingHttpHeaders, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLocalJWKSet, createRemoteJWKSet, decodeProtectedHeader, errors as joseErrors, jwtVerify } from 'jose';
import type { JSONWebKeySet, JWTPayload } from 'jose';
import type {
  APIGatewayEventRequestContextV2,
  APIGatewayProxyEventV2,
  APIGatewayProxyEventV2WithJWTAuthorizer,
} from 'aws-lambda';
import type { HttpRoute } from '../lib/app-description.ts';
import { presentClaim, presentClaims } from '../shared/auth/claims.ts';
import { isLocalHostHeader } from './host-guard.ts';
import { nameMap, queryParameters } from './name-maps.ts';
import { listen as listenOn } from './listen.ts';
import { readBody as readRequestBody } from './request-body.ts';

/** What the gateway hands each matched request to: the `api` function, through the local Lambda runtime. */
export type HttpInvoke = (event: APIGatewayProxyEventV2WithJWTAuthorizer | APIGatewayProxyEventV2) => Promise<unknown>;

/** A local-only endpoint (JWKS, `/_local/...`); resolves true when it answered the request. */
export type ExtraHandler = (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;

/** The JWT authorizer's configuration, as `AWS::ApiGatewayV2::Authorizer` JwtConfiguration holds it. */
export interface JwtAuthorizerOptions {
  readonly issuer: string;
  /** One audience or several; the token's `aud` must name one of them. */
  readonly audience: string | readonly string[];
  /** The key set itself, or the `jwks_uri` to fetch it from. */
  readonly jwks: JSONWebKeySet | URL;
}

export interface HttpGatewayOptions {
  /** 0 picks a free port. */
  readonly port: number;
  /** @default '127.0.0.1' */
  readonly host?: string;
  readonly routes: readonly HttpRoute[];
  readonly invoke: HttpInvoke;
  readonly jwt: JwtAuthorizerOptions;
  /** Tried before route matching. */
  readonly extraHandlers?: ExtraHandler;
  /** @default 'local' */
  readonly apiId?: string;
  /** @default '000000000000' */
  readonly accountId?: string;
  /** Where function failures are reported (the client only sees a bare 500). @default stderr */
  readonly log?: (line: string) => void;
}

export interface RunningHttpGateway {
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

/** HTTP API's payload quota; above it AWS answers 413 without invoking the integration. */
export const HTTP_API_MAX_PAYLOAD_BYTES = 10 * 1024 * 1024;

const messages = {
  notFound: '{"message":"Not Found"}',
  unauthorized: '{"message":"Unauthorized"}',
  internalError: '{"message":"Internal Server Error"}',
  tooLarge: '{"message":"Request Entity Too Large"}',
} as const;

// ---------------------------------------------------------------------------------------------
// Small AWS-isms shared with the WebSocket gateway
// ---------------------------------------------------------------------------------------------

const requestIdAlphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** An id shaped like API Gateway's request and connection ids (`JKJaXmPLvHcESHA=`). */
export function awsStyleId(): string {
  // 15 alphanumerics and a trailing '=' like AWS's; no '/' or '+', which would need escaping in URLs.
  const bytes = randomBytes(15);
  let id = '';
  for (const byte of bytes) id += requestIdAlphabet[byte % requestIdAlphabet.length];
  return `${id}=`;
}

const monthNames = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Formats a time the way `requestContext.time` / `requestTime` carry it: `09/Feb/2024:18:11:43 +0000`. */
export function awsRequestTime(date: Date): string {
  const two = (n: number): string => String(n).padStart(2, '0');
  return (
    `${two(date.getUTCDate())}/${monthNames[date.getUTCMonth()]}/${date.getUTCFullYear()}:` +
    `${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())} +0000`
  );
}

/** A thrown value as one log-friendly string, with its stack when it has one. */
export function describeError(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}

/** The client's address without the IPv4-mapped IPv6 prefix Node reports on dual-stack sockets. */
export function sourceIpOf(req: IncomingMessage): string {
  const address = req.socket.remoteAddress ?? '127.0.0.1';
  return address.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address;
}

// ---------------------------------------------------------------------------------------------
// Route matching
// ---------------------------------------------------------------------------------------------

interface CompiledRoute {
  readonly route: HttpRoute;
  readonly routeKey: string;
  readonly pattern: RegExp;
  readonly parameterNames: readonly string[];
  /** Sort key: literal segments beat `{param}`, which beats `{proxy+}`. */
  readonly specificity: readonly number[];
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function compileRoute(route: HttpRoute): CompiledRoute {
  // As API Gateway (and the CDK) refuse it: such a path is deployed as a greedy route (lib/http-gateway-routes.ts).
  if (route.path !== '/' && route.path.endsWith('/')) {
    throw new Error(`An HTTP API route cannot end in "/": ${route.method} ${route.path} (deploy gatewayRoutes() of the description)`);
  }
  const segments = route.path.split('/').slice(1);
  const parameterNames: string[] = [];
  const specificity: number[] = [];
  const parts = segments.map((segment, index) => {
    const greedy = /^\{([A-Za-z0-9_]+)\+\}$/.exec(segment);
    if (greedy?.[1]) {
      if (index !== segments.length - 1) throw new Error(`Greedy variable must end the path: ${route.path}`);
      parameterNames.push(greedy[1]);
      specificity.push(0);
      return '(.+)';
    }
    const variable = /^\{([A-Za-z0-9_]+)\}$/.exec(segment);
    if (variable?.[1]) {
      parameterNames.push(variable[1]);
      specificity.push(1);
      return '([^/]+)';
    }
    specificity.push(2);
    return escapeRegExp(segment);
  });
  return {
    route,
    routeKey: `${route.method} ${route.path}`,
    pattern: new RegExp(`^/${parts.join('/')}$`),
    parameterNames,
    specificity,
  };
}

function compareSpecificity(a: CompiledRoute, b: CompiledRoute): number {
  const length = Math.max(a.specificity.length, b.specificity.length);
  for (let i = 0; i < length; i += 1) {
    const difference = (b.specificity[i] ?? -1) - (a.specificity[i] ?? -1);
    if (difference !== 0) return difference;
  }
  return 0;
}

interface RouteMatch {
  readonly compiled: CompiledRoute;
  readonly pathParameters: Record<string, string>;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    // API Gateway passes malformed escapes through rather than failing the request.
    return text;
  }
}

function matchRoute(routes: readonly CompiledRoute[], method: string, rawPath: string): RouteMatch | undefined {
  // An HTTP API route cannot end in `/`, and a request for `/x/` takes the route `/x` (its rawPath
  // keeps the slash). So `/x/{id}/` names `{id}`, and `/x/` never names an empty `{id}`.
  const path = rawPath.length > 1 && rawPath.endsWith('/') ? rawPath.slice(0, -1) : rawPath;
  for (const compiled of routes) {
    if (compiled.route.method !== method) continue;
    const found = compiled.pattern.exec(path);
    if (!found) continue;
    const pathParameters: Record<string, string> = {};
    compiled.parameterNames.forEach((name, index) => {
      pathParameters[name] = safeDecode(found[index + 1] ?? '');
    });
    return { compiled, pathParameters };
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// JWT authorizer
// ---------------------------------------------------------------------------------------------

type ClaimValue = string;

// How the HTTP API's JWT authorizer presents claims: one home, shared with the WebSocket authorizer.
export { presentClaim, presentClaims };

class TokenRejectedError extends Error {
  /** The `www-authenticate` value AWS sends for this failure. */
  readonly challenge: string;

  constructor(description: string | undefined, options?: { cause?: unknown }) {
    super(description ?? 'no token', options);
    this.name = 'TokenRejectedError';
    this.challenge =
      description === undefined ? 'Bearer' : `Bearer scope="" error="invalid_token" error_description="${description}"`;
  }
}

/**
 * The `error_description` AWS gives for a failure. The audience text is AWS's documented one and
 * the segments text was observed on AWS; the others follow the same wording.
 */
function describeVerificationFailure(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return 'the token has expired';
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    switch (error.claim) {
      case 'aud':
        return 'the token does not have a valid audience';
      case 'iss':
        return 'the token does not have a valid issuer';
      case 'nbf':
        return 'the token is not valid yet';
      case 'iat':
        return 'the token was issued in the future';
      default:
        return `the token has an invalid ${error.claim} claim`;
    }
  }
  if (error instanceof joseErrors.JWKSNoMatchingKey) return 'the token has no valid signing key';
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return 'the token has an unsupported signing algorithm';
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return 'the token has an invalid signature';
  return 'the token is malformed';
}

type Verifier = (authorization: string | undefined) => Promise<JWTPayload>;

/** Tokens verified lately, kept until they expire: a client sends the same token with every request. */
const verifiedTokensKept = 1_000;

function createVerifier(options: JwtAuthorizerOptions): Verifier {
  const keys = options.jwks instanceof URL ? createRemoteJWKSet(options.jwks) : createLocalJWKSet(options.jwks);
  const audience = typeof options.audience === 'string' ? options.audience : [...options.audience];
  // An RS256 verification was a tenth of the main thread's time under API load. A token that passed
  // every check passes them again until its `exp` (the JWKS does not change under a running stack
  // locally; AWS caches a remote one too), so only the expiry is checked again.
  const verified = new Map<string, JWTPayload & { exp: number }>();
  return async (authorization) => {
    // The identity source is `$request.header.Authorization`: the token, optionally prefixed with Bearer.
    const token = authorization?.replace(/^Bearer\s+/i, '').trim();
    if (!token) throw new TokenRejectedError(undefined);
    const known = verified.get(token);
    if (known && known.exp * 1000 > Date.now()) return known;
    verified.delete(token);
    if (token.split('.').length !== 3) {
      throw new TokenRejectedError('token contains an invalid number of segments');
    }
    try {
      // AWS requires a kid that names a key of the JWKS; jose would accept a lone key without one.
      if (typeof decodeProtectedHeader(token).kid !== 'string') {
        throw new TokenRejectedError('the token has no kid header');
      }
      const { payload } = await jwtVerify(token, keys, {
        issuer: options.issuer,
        audience,
        algorithms: ['RS256'],
        requiredClaims: ['exp'],
      });
      if (typeof payload.iat === 'number' && payload.iat > Math.floor(Date.now() / 1000)) {
        throw new joseErrors.JWTClaimValidationFailed('"iat" claim timestamp check failed', payload, 'iat', 'check_failed');
      }
      if (typeof payload.exp === 'number') {
        if (verified.size >= verifiedTokensKept) verified.delete(verified.keys().next().value as string);
        verified.set(token, { ...payload, exp: payload.exp });
      }
      return payload;
    } catch (error) {
      if (error instanceof TokenRejectedError) throw error;
      throw new TokenRejectedError(describeVerificationFailure(error), { cause: error });
    }
  };
}

// ---------------------------------------------------------------------------------------------
// Event construction
// ---------------------------------------------------------------------------------------------

class PayloadTooLargeError extends Error {
  constructor() {
    super(`Payload exceeds ${HTTP_API_MAX_PAYLOAD_BYTES} bytes`);
    this.name = 'PayloadTooLargeError';
  }
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const body = await readRequestBody(req, HTTP_API_MAX_PAYLOAD_BYTES);
  if (body === undefined) throw new PayloadTooLargeError();
  return body;
}

/** Content types API Gateway passes as UTF-8 text; any other body reaches the function base64-encoded. */
function isTextContentType(contentType: string | undefined): boolean {
  if (!contentType) return false;
  const type = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  return (
    type.startsWith('text/') ||
    type === 'application/json' ||
    type.endsWith('+json') ||
    type === 'application/xml' ||
    type.endsWith('+xml') ||
    type === 'application/javascript' ||
    type === 'application/x-www-form-urlencoded' ||
    type === 'application/graphql'
  );
}

/**
 * The body as the event carries it: text when its content type is text-like and its bytes are
 * UTF-8, base64 otherwise. Bytes that are not UTF-8 (`caf\xe9` sent as `application/json;
 * charset=iso-8859-1`) are never decoded here, where U+FFFD would replace them: they reach the
 * function as sent, whose strict decoder refuses them (docs/architecture.md, "Where these
 * emulators differ from AWS").
 */
function eventBody(body: Buffer, contentType: string | undefined): Pick<APIGatewayProxyEventV2, 'body' | 'isBase64Encoded'> {
  if (body.length === 0) return { isBase64Encoded: false };
  if (isTextContentType(contentType) && isUtf8(body)) return { body: body.toString('utf8'), isBase64Encoded: false };
  return { body: body.toString('base64'), isBase64Encoded: true };
}

/** Lower-cased header names; repeated headers joined with commas, as format 2.0 does. */
function collectHeaders(rawHeaders: readonly string[]): Record<string, string> {
  const headers = nameMap<string>();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = (rawHeaders[i] ?? '').toLowerCase();
    const value = rawHeaders[i + 1] ?? '';
    headers[name] = Object.hasOwn(headers, name) ? `${headers[name]},${value}` : value;
  }
  return headers;
}

function collectQuery(rawQueryString: string): Record<string, string> | undefined {
  return rawQueryString ? queryParameters(new URLSearchParams(rawQueryString)) : undefined;
}

/** `abc123` for `abc123.execute-api...`; an IP literal or `localhost` has no prefix to take, so stays whole. */
function domainPrefixOf(domainName: string): string {
  const hostname = domainName.startsWith('[') ? domainName.slice(1, domainName.indexOf(']')) : domainName.split(':')[0] ?? '';
  if (hostname.includes(':') || /^\d+(\.\d+){3}$/.test(hostname)) return hostname;
  return hostname.split('.')[0] ?? hostname;
}

interface EventContext {
  readonly requestId: string;
  readonly apiId: string;
  readonly accountId: string;
  readonly proto: string;
  readonly localPort: number;
}

function buildEvent(
  req: IncomingMessage,
  body: Buffer,
  match: RouteMatch,
  claims: Record<string, ClaimValue> | undefined,
  context: EventContext,
): APIGatewayProxyEventV2WithJWTAuthorizer | APIGatewayProxyEventV2 {
  const now = new Date();
  const url = req.url ?? '/';
  const queryAt = url.indexOf('?');
  const rawPath = queryAt === -1 ? url : url.slice(0, queryAt);
  const rawQueryString = queryAt === -1 ? '' : url.slice(queryAt + 1);
  const sourceIp = sourceIpOf(req);

  const headers = collectHeaders(req.rawHeaders);
  // Format 2.0 moves cookies out of the headers into their own array.
  const cookieHeader = headers.cookie;
  delete headers.cookie;
  const cookies = cookieHeader
    ?.split(';')
    .map((cookie) => cookie.trim())
    .filter((cookie) => cookie !== '');
  // What API Gateway's front end adds before the integration sees the request.
  headers['x-forwarded-for'] = headers['x-forwarded-for'] ? `${headers['x-forwarded-for']}, ${sourceIp}` : sourceIp;
  headers['x-forwarded-port'] = String(context.localPort);
  headers['x-forwarded-proto'] = context.proto;

  const domainName = headers.host ?? `127.0.0.1:${context.localPort}`;
  const requestContext: APIGatewayEventRequestContextV2 = {
    accountId: context.accountId,
    apiId: context.apiId,
    domainName,
    domainPrefix: domainPrefixOf(domainName),
    http: {
      method: match.compiled.route.method,
      path: rawPath,
      protocol: `HTTP/${req.httpVersion}`,
      sourceIp,
      userAgent: headers['user-agent'] ?? '',
    },
    requestId: context.requestId,
    routeKey: match.compiled.routeKey,
    stage: '$default',
    time: awsRequestTime(now),
    timeEpoch: now.getTime(),
  };

  const event: APIGatewayProxyEventV2 = {
    version: '2.0',
    routeKey: match.compiled.routeKey,
    rawPath,
    rawQueryString,
    ...(cookies && cookies.length > 0 ? { cookies } : {}),
    headers,
    ...(rawQueryString ? { queryStringParameters: collectQuery(rawQueryString) } : {}),
    requestContext,
    ...eventBody(body, headers['content-type']),
    ...(match.compiled.parameterNames.length > 0 ? { pathParameters: match.pathParameters } : {}),
  };
  if (!claims) return event;
  // Herald's routes require no authorization scopes, and AWS then passes `scopes: null`
  // even when the token has a `scope` claim (awsdocs/amazon-api-gateway-developer-guide#113).
  return { ...event, requestContext: { ...requestContext, authorizer: { jwt: { claims, scopes: null } } } };
}

// ---------------------------------------------------------------------------------------------
// Response mapping
// ---------------------------------------------------------------------------------------------

interface MappedResponse {
  readonly statusCode: number;
  readonly headers: OutgoingHttpHeaders;
  readonly body: Buffer;
}

class MalformedResponseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MalformedResponseError';
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Maps a function's result like format 2.0: an object with `statusCode` is a structured response;
 * anything else is taken as the JSON body of a 200.
 */
function mapResult(result: unknown): MappedResponse {
  if (!isRecord(result) || !('statusCode' in result)) {
    return {
      statusCode: 200,
      headers: { 'content-type': 'application/json' },
      body: Buffer.from(JSON.stringify(result ?? null), 'utf8'),
    };
  }
  const { statusCode, headers, multiValueHeaders, cookies, body, isBase64Encoded } = result;
  if (typeof statusCode !== 'number' || !Number.isInteger(statusCode) || statusCode < 100 || statusCode > 599) {
    throw new MalformedResponseError(`statusCode must be an HTTP status, got ${String(statusCode)}`);
  }
  const outgoing: Record<string, string | string[]> = {};
  if (headers !== undefined) {
    if (!isRecord(headers)) throw new MalformedResponseError('headers must be an object');
    for (const [name, value] of Object.entries(headers)) outgoing[name.toLowerCase()] = String(value);
  }
  if (multiValueHeaders !== undefined) {
    if (!isRecord(multiValueHeaders)) throw new MalformedResponseError('multiValueHeaders must be an object');
    for (const [name, values] of Object.entries(multiValueHeaders)) {
      if (!Array.isArray(values)) throw new MalformedResponseError(`multiValueHeaders.${name} must be an array`);
      const key = name.toLowerCase();
      const existing = outgoing[key];
      const joined = [...(existing === undefined ? [] : [existing].flat()), ...values.map(String)];
      outgoing[key] = joined.join(',');
    }
  }
  if (cookies !== undefined) {
    if (!Array.isArray(cookies)) throw new MalformedResponseError('cookies must be an array');
    outgoing['set-cookie'] = cookies.map(String);
  }
  if (body !== undefined && body !== null && typeof body !== 'string') {
    throw new MalformedResponseError('body must be a string');
  }
  const text = typeof body === 'string' ? body : '';
  return {
    statusCode,
    headers: outgoing,
    body: isBase64Encoded === true ? Buffer.from(text, 'base64') : Buffer.from(text, 'utf8'),
  };
}

function send(res: ServerResponse, statusCode: number, body: string | Buffer, headers: OutgoingHttpHeaders = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const payload = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  res.writeHead(statusCode, { ...headers, 'content-length': payload.length });
  res.end(payload);
}

function sendJsonMessage(res: ServerResponse, statusCode: number, body: string, headers: OutgoingHttpHeaders = {}): void {
  send(res, statusCode, body, { 'content-type': 'application/json', ...headers });
}

// ---------------------------------------------------------------------------------------------
// Server
// ---------------------------------------------------------------------------------------------

async function listen(server: Server, port: number, host: string): Promise<AddressInfo> {
  await listenOn(server, port, host);
  return server.address() as AddressInfo;
}

/** Closes a server and its keep-alive connections; resolves once it no longer listens. */
export async function closeServer(server: Server): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    server.closeAllConnections();
  });
}

function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** Starts the HTTP API emulation; `stop()` closes it and every open connection. */
export async function startHttpGateway(options: HttpGatewayOptions): Promise<RunningHttpGateway> {
  const host = options.host ?? '127.0.0.1';
  const routes = options.routes.map(compileRoute).sort(compareSpecificity);
  const verify = createVerifier(options.jwt);
  const log = options.log ?? ((line: string): void => void process.stderr.write(`${line}\n`));
  let localPort = options.port;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!isLocalHostHeader(req.headers.host, host)) {
      req.resume();
      sendJsonMessage(res, 403, JSON.stringify({ message: `Forbidden: ${req.headers.host ?? ''} is not a name of this local stack (use its address, localhost or HERALD_HOST)` }));
      return;
    }
    if (options.extraHandlers && (await options.extraHandlers(req, res))) return;

    const requestId = awsStyleId();
    const gatewayHeaders = { 'apigw-requestid': requestId };
    const rawPath = (req.url ?? '/').split('?')[0] ?? '/';
    const match = matchRoute(routes, req.method ?? 'GET', rawPath);
    if (!match) {
      req.resume();
      sendJsonMessage(res, 404, messages.notFound, gatewayHeaders);
      return;
    }

    let claims: Record<string, ClaimValue> | undefined;
    if (match.compiled.route.auth === 'jwt') {
      try {
        claims = presentClaims(await verify(req.headers.authorization));
      } catch (error) {
        if (!(error instanceof TokenRejectedError)) throw error;
        req.resume();
        sendJsonMessage(res, 401, messages.unauthorized, { ...gatewayHeaders, 'www-authenticate': error.challenge });
        return;
      }
    }

    let body: Buffer;
    try {
      body = await readBody(req);
    } catch (error) {
      if (!(error instanceof PayloadTooLargeError)) throw error;
      // Answer, then hang up once the answer is out: reading the rest of the upload would only waste time.
      res.once('finish', () => req.destroy());
      sendJsonMessage(res, 413, messages.tooLarge, { ...gatewayHeaders, connection: 'close' });
      return;
    }

    const event = buildEvent(req, body, match, claims, {
      requestId,
      apiId: options.apiId ?? 'local',
      accountId: options.accountId ?? '000000000000',
      proto: 'http',
      localPort,
    });
    let mapped: MappedResponse;
    try {
      mapped = mapResult(await options.invoke(event));
    } catch (error) {
      // AWS hides the function's error from the client; the local runtime logs it.
      log(`[http-gateway] ${event.routeKey} failed: ${describeError(error)}`);
      sendJsonMessage(res, 500, messages.internalError, gatewayHeaders);
      return;
    }
    send(res, mapped.statusCode, mapped.body, { ...mapped.headers, ...gatewayHeaders });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      log(`[http-gateway] ${req.method} ${req.url} crashed: ${describeError(error)}`);
      sendJsonMessage(res, 500, messages.internalError);
    });
  });
  const address = await listen(server, options.port, host);
  localPort = address.port;

  return {
    url: `http://${urlHost(host)}:${address.port}`,
    port: address.port,
    stop: () => closeServer(server),
  };
}
