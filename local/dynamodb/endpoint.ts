/**
 * The local stack's DynamoDB endpoint: one HTTP server speaking DynamoDB's awsJson 1.0 that runs
 * every call in this process, on dynalite's store, with no HTTP to dynalite at all.
 *
 * A request is read once and checked as dynalite's own server checks it (`wire.ts`). On the
 * faultable endpoint (the functions') the call is then counted and may be failed by a fault rule.
 * Then the signature headers and AWS's nesting limit, before anything recursive runs; then
 * dynalite's validations, the item locks, and dynalite's action or a transaction
 * (`operations.ts`). An exception anywhere in handling one request answers 500
 * `InternalServerError` and is logged; the process and the other requests carry on.
 *
 * Two ports, one store: `endpoint` (never faulted nor counted: table creation, the TTL reaper,
 * tests and the AWS CLI) and, when asked for, `faultableEndpoint` (with the hook). Both also
 * serve the DynamoDB Streams API (`DynamoDBStreams_20120810`, `streams-api.ts`), neither faulted
 * nor counted: on AWS its reader is Lambda's event-source mapping, not the functions.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, OutgoingHttpHeaders, Server, ServerResponse } from 'node:http';
import { crc32 } from 'node:zlib';
import { sendWireResponse } from '../aws-call-hook.ts';
import type { CallHook } from '../aws-call-hook.ts';
import { closeServer, describeError } from '../http-gateway.ts';
import { httpUrl, listen } from '../listen.ts';
import { readBody } from '../request-body.ts';
import { isDynaliteError, openDynaliteStore } from './dynalite.ts';
import type { DynaliteStore, Json } from './dynalite.ts';
import { createDynamoDbOperations } from './operations.ts';
import type { Caller } from './operations.ts';
import { bodyOf } from './serialized-json.ts';
import type { SerializedJson } from './serialized-json.ts';
import { STREAMS_API } from './streams-api.ts';
import { callError, corsHeaders, routeRequest } from './wire.ts';
import type { WireAnswer } from './wire.ts';
import { countingStore } from './write-counter.ts';
import type { StoreWrites } from './write-counter.ts';

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
  /** The region stream records and ARNs name. @default 'us-east-1' */
  readonly region?: string;
  /** The streams' clock, epoch ms (tests move it to expire iterators and records). @default Date.now */
  readonly now?: () => number;
}

export interface DynamoDbEndpoint {
  /** The unfaulted endpoint: `http://host:port`. */
  readonly endpoint: string;
  /** The endpoint with the fault and call-count hook, when `faultable` was given. */
  readonly faultableEndpoint?: string;
  /** Calls `listener` with a stream's ARN as soon as a write appended records to it; returns the unsubscribe. */
  onStreamRecords(listener: (streamArn: string) => void): () => void;
  /** Items and index entries written since the endpoint started, by every caller (`write-counter.ts`). */
  writes(): StoreWrites;
  /** Closes both endpoints and every connection, then the store (unless it was given). */
  stop(): Promise<void>;
}

/** dynalite's limit on a request body, in bytes. */
const MAX_REQUEST_BYTES = 16 * 1024 * 1024;
/** The API version whose calls the hook counts and faults, as the SDK v3 sends them. */
const COUNTED_API = 'DynamoDB_20120810';
/**
 * The access key id the local TTL reaper signs with: DynamoDB's own principal, so that its
 * deletes carry the service's `userIdentity` in the stream, as AWS's Time to Live deletes do.
 */
export const SERVICE_ACCESS_KEY_ID = 'dynamodb.amazonaws.com';

/** Who signed the request: the access key id in its `Credential`. */
function callerOf(req: IncomingMessage): Caller {
  const credential = /Credential=([^/,\s]+)\//.exec(String(req.headers.authorization ?? ''))?.[1];
  return credential === SERVICE_ACCESS_KEY_ID ? { service: true } : {};
}

/** A 52-character request id of [0-9A-Z], as AWS's look: a random prefix and a counter, no crypto per request. */
function requestIds(): () => string {
  const prefix = randomBytes(30).toString('base64').toUpperCase().replace(/[^0-9A-Z]/g, '0').slice(0, 40);
  let counter = 0;
  return () => {
    counter += 1;
    return `${prefix}${counter.toString(36).toUpperCase().padStart(12, '0')}`;
  };
}

/** Starts the DynamoDB endpoint (and its faultable twin); `stop()` undoes it. */
export async function startDynamoDbEndpoint(options: DynamoDbEndpointOptions = {}): Promise<DynamoDbEndpoint> {
  const host = options.host ?? '127.0.0.1';
  const log = options.log ?? ((line: string): void => void process.stderr.write(`${line}\n`));
  const opened = options.store ?? await openDynaliteStore({ ...(options.path ? { path: options.path } : {}), createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  const { store, writes } = countingStore(opened);
  const operations = createDynamoDbOperations(store, log, {
    region: options.region ?? 'us-east-1',
    ...(options.now ? { now: options.now } : {}),
  });
  const nextRequestId = requestIds();

  function send(res: ServerResponse, answer: WireAnswer, headers: OutgoingHttpHeaders): void {
    res.writeHead(answer.status, {
      ...headers,
      ...answer.headers,
      'x-amz-crc32': String(crc32(answer.body)),
      'content-type': answer.contentType,
      'content-length': Buffer.byteLength(answer.body),
    });
    res.end(answer.body);
  }

  async function handle(req: IncomingMessage, res: ServerResponse, hook: CallHook | undefined): Promise<void> {
    const body = await readBody(req, MAX_REQUEST_BYTES);
    if (body === undefined) {
      res.writeHead(413, { connection: 'close' });
      res.end();
      return;
    }
    const headers: OutgoingHttpHeaders = { 'x-amzn-requestid': nextRequestId(), ...corsHeaders(req) };
    const call = routeRequest(req, body);
    if ('status' in call) {
      send(res, call, headers);
      return;
    }
    const fault = hook && call.api === COUNTED_API ? hook('dynamodb', { operation: call.operation, protocol: 'awsJson' }, req.headers) : undefined;
    if (fault) {
      sendWireResponse(res, fault);
      return;
    }
    const reply = (status: number, json: Json | SerializedJson): void => send(res, { status, contentType: call.replyType, body: bodyOf(json) }, headers);
    const refused = callError(req, call);
    if (refused) {
      reply(400, refused);
      return;
    }
    try {
      const request = call.request as Json;
      reply(200, call.api === STREAMS_API ? await operations.streamsApi.run(call.operation, request) : await operations.run(call.operation, request, callerOf(req)));
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
        send(res, { status: 500, contentType: 'application/x-amz-json-1.0', body }, { 'x-amzn-requestid': nextRequestId() });
      });
    });
    // Its idle keep-alive connections last as AWS's do (local/listen.ts sets it when it listens).
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
    return { endpoint, ...(faultableEndpoint ? { faultableEndpoint } : {}), onStreamRecords: (listener) => operations.streams.onAppend(listener), writes, stop };
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
}
