/**
 * The AWS calls a test's code makes, as the wire carries them: an HTTP front on a local emulator
 * (the DynamoDB endpoint of test/unit/support/local-dynamo.ts, the local SQS, the local Scheduler)
 * that names each call as the stack's call hook does (`recogniseCall`, local/aws-call-hook.ts),
 * reads its input (the JSON body), records both, and lets the test decide the answer: served by
 * the emulator as sent (the default), served after a wait, served in part, never answered, or
 * answered as AWS answers in a state the emulator never reaches (throttled, items left
 * unprocessed, a transaction meeting another). Answers are in the service's own wire format, so
 * the SDK raises its real exception classes. The emulators' faultable endpoints (`faultable`)
 * name the operation only and answer at once; tests that must see what was asked, or hold a
 * call, use this front.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { crc32 } from 'node:zlib';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { faultResponse, recogniseCall, sendWireResponse } from '../../../local/aws-call-hook.ts';
import type { RecognisedCall, WireResponse } from '../../../local/aws-call-hook.ts';
import type { FaultService } from '../../../local/fault-rules.ts';
import { transactionCanceled } from '../../../local/dynamodb/transaction-support.ts';
import type { CancellationReason } from '../../../local/dynamodb/transaction-support.ts';
import { closeServer } from '../../../local/http-gateway.ts';
import { httpUrl, listen } from '../../../local/listen.ts';
import { readBody } from '../../../local/request-body.ts';

/** A JSON object as the wire carries it (attribute values in DynamoDB's `{ S: ... }` form). */
export type WireObject = Record<string, unknown>;

/** One call as the front saw it: the operation (`BatchWriteItem`), its path (a REST call names its resource there) and its input. */
export interface WireCall {
  readonly operation: string;
  readonly path: string;
  readonly input: WireObject;
}

/** The endpoint's answer to a call it served. */
export interface ServedCall {
  readonly status: number;
  readonly output: WireObject;
}

/**
 * Decides the answer to one call: undefined lets the endpoint serve it as sent; `serve` has the
 * endpoint run an input of the test's choosing (part of a batch) and returns what it answered.
 */
export type WireAnswer = (call: WireCall, serve: (input: WireObject) => Promise<ServedCall>) => WireResponse | undefined | Promise<WireResponse | undefined>;

/** A front on an emulator's endpoint: the calls it saw, and their answers. */
export interface WireFront {
  /** The front's URL, for a client of the code under test. */
  readonly endpoint: string;
  /** Every call since the start or the last `reset()`, in the order they arrived. */
  calls(): readonly WireCall[];
  /** The calls of one operation, in order. */
  callsOf(operation: string): readonly WireCall[];
  /** Answers the calls from now on with `answer` (undefined: served as sent). */
  answerWith(answer: WireAnswer | undefined): void;
  /** Forgets the calls and the answer. */
  reset(): void;
  stop(): Promise<void>;
}

/** The front on a DynamoDB endpoint, with a document client on it. */
export interface DynamoWire extends WireFront {
  /** A document client on the front, configured as the functions' (`removeUndefinedValues`). */
  readonly documentClient: DynamoDBDocumentClient;
}

const AMZ_JSON = 'application/x-amz-json-1.0';
/** Request headers the emulators read (the signature's among them); the rest are the connection's. */
const forwardedHeaders = ['x-amz-content-sha256', 'x-amz-user-agent', 'x-amzn-query-mode', 'x-amz-client-token', 'content-type', 'x-amz-target', 'authorization', 'x-amz-date', 'x-amz-security-token', 'amz-sdk-invocation-id', 'amz-sdk-request'];

/** The headers among `names` that `headers` carries. */
function headersOf(headers: Headers, names: readonly string[]): Record<string, string> {
  return Object.fromEntries(names.flatMap((name) => (headers.has(name) ? [[name, headers.get(name) ?? '']] : [])));
}

/** An awsJson answer whose body is `output` (200 unless told), as DynamoDB and SQS send one. */
export function jsonAnswer(output: WireObject, statusCode = 200): WireResponse {
  const body = JSON.stringify(output);
  return { statusCode, headers: { 'content-type': AMZ_JSON, 'x-amzn-requestid': randomUUID(), 'x-amz-crc32': String(crc32(body)) }, body };
}

/** `TransactionCanceledException` with one reason per action, as the endpoint itself sends it. */
export function transactionCancelledAnswer(reasons: readonly CancellationReason[]): WireResponse {
  const error = transactionCanceled(reasons);
  return jsonAnswer(error.body as WireObject, error.statusCode);
}

/** Starts a front on the DynamoDB endpoint at `endpoint`; `stop()` closes it and its client. */
export async function startDynamoWire(endpoint: string): Promise<DynamoWire> {
  const front = await startWireFront(endpoint, 'dynamodb');
  const client = new DynamoDBClient({ endpoint: front.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  return {
    ...front,
    documentClient: DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } }),
    stop: async () => {
      client.destroy();
      await front.stop();
    },
  };
}

/**
 * Starts a front on the emulator of `service` at `endpoint`; requests that are no call of it
 * pass untouched. `stop()` closes it and every connection (a call never answered fails then).
 */
export async function startWireFront(endpoint: string, service: FaultService): Promise<WireFront> {
  let recorded: WireCall[] = [];
  let answer: WireAnswer | undefined;

  async function forward(req: IncomingMessage, body: Buffer | string): Promise<{ status: number; text: string; headers: Headers }> {
    const headers: Record<string, string> = {};
    for (const name of forwardedHeaders) {
      const value = req.headers[name];
      if (typeof value === 'string') headers[name] = value;
    }
    const method = req.method ?? 'POST';
    const response = await fetch(new URL(req.url ?? '/', endpoint), { method, headers, body: body.length === 0 && method !== 'POST' ? undefined : body });
    return { status: response.status, text: await response.text(), headers: response.headers };
  }

  async function handle(req: IncomingMessage, res: ServerResponse, body: Buffer, named: RecognisedCall | undefined): Promise<void> {
    const decide = answer;
    let decided: WireResponse | undefined;
    if (named) {
      const input = body.length > 0 ? (JSON.parse(body.toString('utf8')) as WireObject) : {};
      const call: WireCall = { operation: named.operation, path: new URL(req.url ?? '/', 'http://front').pathname, input };
      recorded.push(call);
      const serve = async (input: WireObject): Promise<ServedCall> => {
        const served = await forward(req, JSON.stringify(input));
        return { status: served.status, output: served.text ? (JSON.parse(served.text) as WireObject) : {} };
      };
      decided = await decide?.(call, serve);
    }
    if (decided) {
      sendWireResponse(res, decided);
      return;
    }
    const served = await forward(req, body);
    res.writeHead(served.status, {
      ...headersOf(served.headers, ['content-type', 'x-amzn-requestid', 'x-amzn-errortype', 'x-amzn-query-error', 'x-amz-crc32']),
      'content-length': Buffer.byteLength(served.text),
    });
    res.end(served.text);
  }

  /** Reads and names the request, then answers it; a failure of the front answers the service's own 500. */
  async function receive(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = (await readBody(req, 16 * 1024 * 1024)) ?? Buffer.alloc(0);
    const named = recogniseCall(service, { method: req.method ?? 'POST', url: req.url ?? '/', headers: req.headers }, body);
    try {
      await handle(req, res, body, named);
    } catch (error) {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const code = service === 'dynamodb' ? 'InternalServerError' : 'InternalServerException';
      sendWireResponse(res, faultResponse(service, named?.protocol ?? 'awsJson', { statusCode: 500, code, message: `The test's front failed: ${String(error)}` }));
    }
  }

  const server: Server = createServer((req, res) => {
    receive(req, res).catch(() => res.destroy());
  });
  const front = httpUrl('127.0.0.1', await listen(server, 0, '127.0.0.1'));
  return {
    endpoint: front,
    calls: () => recorded,
    callsOf: (operation) => recorded.filter((call) => call.operation === operation),
    answerWith: (next) => {
      answer = next;
    },
    reset: () => {
      recorded = [];
      answer = undefined;
    },
    stop: () => closeServer(server),
  };
}
