/**
 * A reverse proxy in front of one emulated AWS service that fails calls on demand. The functions'
 * `AWS_ENDPOINT_URL_<SERVICE>` point here; the stack's own clients (table and queue creation, the
 * event-source mapping's polling, the scheduler's firing) talk to the emulators directly, as the
 * AWS services themselves would not see a customer's faults.
 *
 * It recognises the operation of each request the way AWS routes it (the `X-Amz-Target` header of
 * the JSON protocols, `Action=` of the query protocol, method and path of the REST services) and,
 * when a fault rule fires, answers with the error in that service's own wire format, so the SDK
 * raises the same exception class, with the same status, retryable or not, as it would on AWS.
 * Requests it cannot name (SES's mail viewer, unknown paths) always pass through.
 */
import { randomUUID } from 'node:crypto';
import { Agent, createServer, request } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream';
import type { FaultError, FaultInjector, FaultService } from './fault-rules.ts';
import { closeServer, describeError } from './http-gateway.ts';

export interface FaultProxyOptions {
  readonly service: FaultService;
  /** The emulator's base URL, e.g. `http://127.0.0.1:8000`. */
  readonly target: string;
  readonly injector: FaultInjector;
  /** @default 0 (a free port) */
  readonly port?: number;
  /** @default '127.0.0.1' */
  readonly host?: string;
  /** Where forwarding failures are reported. @default stderr */
  readonly log?: (line: string) => void;
  /** Told of every API call the proxy recognises, faulted or not (the bench counts them). @default none */
  readonly onCall?: (service: FaultService, operation: string) => void;
}

export interface FaultProxy {
  /** The URL to give the SDK instead of the emulator's. */
  readonly endpoint: string;
  readonly port: number;
  stop(): Promise<void>;
}

/** How a service encodes its requests and errors on the wire. */
export type WireProtocol = 'awsJson' | 'awsQuery' | 'restJson';

/** The operation a request calls, and the protocol its error answer must use. */
export interface RecognisedCall {
  readonly operation: string;
  readonly protocol: WireProtocol;
}

/** `X-Amz-Target` prefixes of the JSON-protocol services. */
const targetPrefixes: Partial<Record<FaultService, string>> = {
  dynamodb: 'DynamoDB_20120810.',
  sqs: 'AmazonSQS.',
};

/** EventBridge Scheduler's restJson1 routes (its Smithy model's `@http` traits). */
const schedulerRoutes: readonly (readonly [method: string, path: RegExp, operation: string])[] = [
  ['POST', /^\/schedules\/[^/]+$/, 'CreateSchedule'],
  ['GET', /^\/schedules\/[^/]+$/, 'GetSchedule'],
  ['PUT', /^\/schedules\/[^/]+$/, 'UpdateSchedule'],
  ['DELETE', /^\/schedules\/[^/]+$/, 'DeleteSchedule'],
  ['GET', /^\/schedules$/, 'ListSchedules'],
  ['POST', /^\/schedule-groups\/[^/]+$/, 'CreateScheduleGroup'],
  ['GET', /^\/schedule-groups\/[^/]+$/, 'GetScheduleGroup'],
  ['DELETE', /^\/schedule-groups\/[^/]+$/, 'DeleteScheduleGroup'],
  ['GET', /^\/schedule-groups$/, 'ListScheduleGroups'],
  ['POST', /^\/tags\/[^/]+$/, 'TagResource'],
  ['DELETE', /^\/tags\/[^/]+$/, 'UntagResource'],
  ['GET', /^\/tags\/[^/]+$/, 'ListTagsForResource'],
];

const connectionOperations: Readonly<Record<string, string>> = {
  POST: 'PostToConnection',
  GET: 'GetConnection',
  DELETE: 'DeleteConnection',
};

function queryAction(url: URL, headers: IncomingHttpHeaders, body: Buffer): string | undefined {
  const fromUrl = url.searchParams.get('Action');
  if (fromUrl) return fromUrl;
  if (!(headers['content-type'] ?? '').includes('application/x-www-form-urlencoded')) return undefined;
  return new URLSearchParams(body.toString('utf8')).get('Action') ?? undefined;
}

/** Names the operation of a request to `service`, or undefined when it is not an API call. */
export function recogniseCall(
  service: FaultService,
  request: { readonly method: string; readonly url: string; readonly headers: IncomingHttpHeaders },
  body: Buffer,
): RecognisedCall | undefined {
  const url = new URL(request.url, 'http://localhost');
  const target = request.headers['x-amz-target'];
  const prefix = targetPrefixes[service];
  if (prefix && typeof target === 'string' && target.startsWith(prefix)) {
    return { operation: target.slice(prefix.length), protocol: 'awsJson' };
  }
  if (service === 'sqs' || service === 'ses') {
    const action = queryAction(url, request.headers, body);
    return action ? { operation: action, protocol: 'awsQuery' } : undefined;
  }
  if (service === 'scheduler') {
    const route = schedulerRoutes.find(([method, path]) => method === request.method && path.test(url.pathname));
    return route ? { operation: route[2], protocol: 'restJson' } : undefined;
  }
  if (service === 'apigatewaymanagementapi') {
    // The SDK puts the stage, when the endpoint has one, before `@connections`.
    const operation = connectionOperations[request.method];
    return operation && /^(?:\/[^/]+)?\/@connections\/[^/]+$/.test(url.pathname) ? { operation, protocol: 'restJson' } : undefined;
  }
  return undefined;
}

/**
 * SQS errors with two names: the modelled one (`__type` of the JSON protocol) and the legacy query
 * code (the query protocol's `<Code>` and the JSON protocol's `x-amzn-query-error`), per the SQS model.
 */
const sqsQueryCodes: Readonly<Record<string, string>> = {
  BatchEntryIdsNotDistinct: 'AWS.SimpleQueueService.BatchEntryIdsNotDistinct',
  BatchRequestTooLong: 'AWS.SimpleQueueService.BatchRequestTooLong',
  EmptyBatchRequest: 'AWS.SimpleQueueService.EmptyBatchRequest',
  InvalidBatchEntryId: 'AWS.SimpleQueueService.InvalidBatchEntryId',
  MessageNotInflight: 'AWS.SimpleQueueService.MessageNotInflight',
  PurgeQueueInProgress: 'AWS.SimpleQueueService.PurgeQueueInProgress',
  QueueDeletedRecently: 'AWS.SimpleQueueService.QueueDeletedRecently',
  QueueDoesNotExist: 'AWS.SimpleQueueService.NonExistentQueue',
  QueueNameExists: 'QueueAlreadyExists',
  TooManyEntriesInBatchRequest: 'AWS.SimpleQueueService.TooManyEntriesInBatchRequest',
  UnsupportedOperation: 'AWS.SimpleQueueService.UnsupportedOperation',
  KmsAccessDenied: 'KMS.AccessDeniedException',
  KmsDisabled: 'KMS.DisabledException',
  KmsInvalidKeyUsage: 'KMS.InvalidKeyUsageException',
  KmsInvalidState: 'KMS.InvalidStateException',
  KmsNotFound: 'KMS.NotFoundException',
  KmsOptInRequired: 'KMS.OptInRequired',
  KmsThrottled: 'KMS.ThrottlingException',
};
const sqsModelledNames: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(sqsQueryCodes).map(([modelled, query]) => [query, modelled]),
);

const jsonNamespaces: Partial<Record<FaultService, string>> = {
  dynamodb: 'com.amazonaws.dynamodb.v20120810',
  sqs: 'com.amazonaws.sqs',
};
const queryNamespaces: Partial<Record<FaultService, string>> = {
  ses: 'http://ses.amazonaws.com/doc/2010-12-01/',
  sqs: 'http://queue.amazonaws.com/doc/2012-11-05/',
};

function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** An HTTP answer, ready to write. */
export interface WireResponse {
  readonly statusCode: number;
  readonly headers: OutgoingHttpHeaders;
  readonly body: string;
}

/** The error as `service` sends it over `protocol`; the message defaults to one naming the injection. */
export function faultResponse(service: FaultService, protocol: WireProtocol, error: FaultError): WireResponse {
  const requestId = randomUUID();
  const message = error.message ?? `${error.code} (fault injected by the local stack)`;
  // Query-protocol errors say whose fault it was; the SDK uses the status for that otherwise.
  const type = error.statusCode < 500 ? 'Sender' : 'Receiver';
  const queryCode = service === 'sqs' ? (sqsQueryCodes[error.code] ?? error.code) : error.code;

  if (protocol === 'awsQuery') {
    const xml =
      `<ErrorResponse xmlns="${queryNamespaces[service] ?? ''}"><Error><Type>${type}</Type>` +
      `<Code>${escapeXml(queryCode)}</Code><Message>${escapeXml(message)}</Message></Error>` +
      `<RequestId>${requestId}</RequestId></ErrorResponse>`;
    return { statusCode: error.statusCode, headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId }, body: xml };
  }
  if (protocol === 'awsJson') {
    const name = service === 'sqs' ? (sqsModelledNames[error.code] ?? error.code) : error.code;
    return {
      statusCode: error.statusCode,
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amzn-requestid': requestId,
        'x-amzn-errortype': name,
        // SQS's JSON protocol also carries the legacy query code, which the SDK exposes as `Code`.
        ...(service === 'sqs' ? { 'x-amzn-query-error': `${queryCode};${type}` } : {}),
      },
      body: JSON.stringify({ __type: `${jsonNamespaces[service] ?? ''}#${name}`, message }),
    };
  }
  // restJson1: the type in `x-amzn-ErrorType`; Scheduler's model names the member `Message`,
  // API Gateway answers `message`.
  return {
    statusCode: error.statusCode,
    headers: { 'content-type': 'application/json', 'x-amzn-requestid': requestId, 'x-amzn-errortype': error.code },
    body: JSON.stringify(service === 'scheduler' ? { Message: message } : { message }),
  };
}

/** Headers that describe one hop, not the message: Node sets its own on each side. */
const hopByHopHeaders = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'expect', 'te', 'trailer']);

function endToEndHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !hopByHopHeaders.has(name)));
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** Starts a fault proxy for one service; with no rule firing it is a transparent pass-through. */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const target = new URL(options.target);
  const host = options.host ?? '127.0.0.1';
  const log = options.log ?? ((line: string): void => void process.stderr.write(`${line}\n`));
  const agent = new Agent({ keepAlive: true });

  function forward(req: IncomingMessage, res: ServerResponse, body: Buffer): void {
    const upstream = request(
      {
        protocol: target.protocol,
        hostname: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        // The Host header stays the client's, as through any transparent proxy (fauxqs builds queue URLs from it).
        headers: { ...endToEndHeaders(req.headers), 'content-length': body.length },
        agent,
      },
      (response) => {
        res.writeHead(response.statusCode ?? 502, endToEndHeaders(response.headers));
        pipeline(response, res, () => undefined);
      },
    );
    upstream.on('error', (error) => {
      log(`[fault-proxy ${options.service}] ${req.method} ${req.url} could not reach ${options.target}: ${describeError(error)}`);
      if (res.headersSent) res.destroy(error);
      else {
        res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(`The local ${options.service} emulator did not answer.`);
      }
    });
    // A client that gives up (a timeout, a stopped long poll) ends the upstream call too.
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    upstream.end(body);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const call = recogniseCall(options.service, { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers }, body);
    if (call) options.onCall?.(options.service, call.operation);
    const fault = call ? options.injector.decide(options.service, call.operation) : undefined;
    if (call && fault) {
      const answer = faultResponse(options.service, call.protocol, fault);
      res.writeHead(answer.statusCode, { ...answer.headers, 'content-length': Buffer.byteLength(answer.body) });
      res.end(answer.body);
      return;
    }
    forward(req, res, body);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      log(`[fault-proxy ${options.service}] ${req.method} ${req.url} failed: ${describeError(error)}`);
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    });
  });
  // Node's server drops a keep-alive connection idle for 5 s, and the SDK's agent reuses idle
  // sockets with no limit of its own: a function (on its own thread) reusing one as it is dropped
  // gets ECONNRESET, which an email send does not retry (it ends unconfirmed, unsent). A minute
  // keeps that race away from the few-second pauses of local use and of the tests.
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    stop: async () => {
      await closeServer(server);
      agent.destroy();
    },
  };
}
