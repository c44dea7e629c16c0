/**
 * The AWS calls a test's code makes, as the wire carries them: an HTTP front on a local emulator
 * (DynamoDB, SQS, the Scheduler, SES, Secrets Manager...) that names each call as the stack's call
 * hook does (`recogniseCall`, local/aws-call-hook.ts), reads its input (a JSON body's members, a
 * query-protocol form's fields, and the URL's query parameters), records both with the call's
 * path, and lets the test decide the answer: served by the emulator as sent (the default), served
 * after a wait, served with another input (part of a batch), never answered, or answered as AWS
 * answers in a state the emulator never reaches (an error on AWS's side, throttled, entries of a
 * batch failed, items left unprocessed, a transaction meeting another, an action the emulator
 * lacks). Answers are in the service's own wire format, so the SDK raises its real exception
 * classes and parses its real outputs. The emulators' own hook names the operation only and
 * answers at once; tests that must see what was asked, answer by it, or hold a call, use this front.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { crc32 } from 'node:zlib';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { faultResponse, recogniseCall, sendWireResponse } from '../../../local/aws-call-hook.ts';
import type { RecognisedCall, WireProtocol, WireResponse } from '../../../local/aws-call-hook.ts';
import type { FaultError, FaultService } from '../../../local/fault-rules.ts';
import { transactionCanceled } from '../../../local/dynamodb/transaction-support.ts';
import type { CancellationReason } from '../../../local/dynamodb/transaction-support.ts';
import { closeServer } from '../../../local/http-gateway.ts';
import { httpUrl, listen } from '../../../local/listen.ts';
import { readBody } from '../../../local/request-body.ts';

/** A JSON object as the wire carries it (attribute values in DynamoDB's `{ S: ... }` form). */
export type WireObject = Record<string, unknown>;

/** One call as the front saw it: the operation (`BatchWriteItem`), its path, decoded (a REST call's resource: `/schedules/<name>`), and its input. */
export interface WireCall {
  readonly operation: string;
  readonly path: string;
  readonly input: WireObject;
}

/** The endpoint's answer to a call it served: its status, its output (JSON protocols), and the answer as sent. */
export interface ServedCall {
  readonly status: number;
  readonly output: WireObject;
  readonly response: WireResponse;
}

/**
 * Decides the answer to one call; it may first change the world the call meets (a rival's write)
 * or wait. Undefined lets the endpoint serve the call as sent; `serve` has the endpoint run an
 * input of the test's choosing (JSON protocols) and returns what it answered.
 */
export type WireAnswer = (call: WireCall, serve: (input: WireObject) => Promise<ServedCall>) => WireResponse | undefined | Promise<WireResponse | undefined>;

/** A front on an emulator's endpoint: the calls it saw, and their answers. */
export interface WireFront {
  /** The front's URL, for a client of the code under test. */
  readonly endpoint: string;
  /** The calls since the start or the last `reset()`, in the order they arrived; of `operation` only when given. */
  calls(operation?: string): readonly WireCall[];
  /** The operations of those calls, in order. */
  operations(): string[];
  /** Lets `answer` decide the next `times` calls of `operation` (every one from now: `Infinity`). */
  intercept(operation: string, answer: WireAnswer, times?: number): void;
  /** Answers the next `times` calls of `operation` with `error`, as the service sends it. */
  failNext(operation: string, error: FaultError, times?: number): void;
  /** Answers the next `times` calls of `operation` with `output`, as the service sends a success. */
  answerNext(operation: string, output: WireObject, times?: number): void;
  /** Forgets the calls and the answers. */
  reset(): void;
  /** Closes the front and every connection (a call never answered fails then). */
  stop(): Promise<void>;
}

/** The front on a DynamoDB endpoint, with a document client on it. */
export interface DynamoWire extends WireFront {
  /** A document client on the front, configured as the functions' (`removeUndefinedValues`). */
  readonly documentClient: DynamoDBDocumentClient;
}

/** The JSON content type each JSON-protocol service answers with; the REST ones answer `application/json`. */
const jsonContentTypes: Partial<Record<FaultService, string>> = {
  sqs: 'application/x-amz-json-1.0',
  dynamodb: 'application/x-amz-json-1.0',
  secretsmanager: 'application/x-amz-json-1.1',
};

/**
 * A JSON answer of `service` whose body is `output` (200 unless told), as the service sends one;
 * its CRC32 header is DynamoDB's, which its client checks and the others ignore.
 */
export function jsonAnswer(service: FaultService, output: WireObject, statusCode = 200): WireResponse {
  const body = JSON.stringify(output);
  const contentType = jsonContentTypes[service] ?? 'application/json';
  return { statusCode, headers: { 'content-type': contentType, 'x-amzn-requestid': randomUUID(), 'x-amz-crc32': String(crc32(body)) }, body };
}

/** `TransactionCanceledException` with one reason per action, as the DynamoDB endpoint itself sends it. */
export function transactionCancelledAnswer(reasons: readonly CancellationReason[]): WireResponse {
  const error = transactionCanceled(reasons);
  return jsonAnswer('dynamodb', error.body as WireObject, error.statusCode);
}

/**
 * An answer for SQS's batch actions (`SendMessageBatch` and the like): the entries with these ids
 * fail on AWS's side with `failure` (they are not served, and the output lists them under
 * `Failed`), the others reach the queue.
 */
export function failEntries(ids: readonly string[], failure: { readonly Code: string; readonly SenderFault: boolean; readonly Message?: string }): WireAnswer {
  return async (call, serve) => {
    const entries = (call.input.Entries ?? []) as { Id: string }[];
    const served = await serve({ ...call.input, Entries: entries.filter((entry) => !ids.includes(entry.Id)) });
    if (served.status !== 200) return served.response;
    return jsonAnswer('sqs', { ...served.output, Failed: [...((served.output.Failed ?? []) as unknown[]), ...ids.map((Id) => ({ Id, ...failure }))] });
  };
}

/** Starts a front on the DynamoDB endpoint at `endpoint`; `stop()` closes it and its client. */
export async function startDynamoWire(endpoint: string): Promise<DynamoWire> {
  const front = await startWireFront('dynamodb', endpoint);
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

/** A call's input: a JSON body's members, or a query-protocol form's fields, and the URL's query parameters. */
function inputOf(protocol: WireProtocol, url: URL, body: Buffer): WireObject {
  const query = Object.fromEntries(url.searchParams);
  const text = body.toString('utf8');
  if (protocol === 'awsQuery') return { ...query, ...Object.fromEntries(new URLSearchParams(text)) };
  return { ...query, ...(text.trim() === '' ? {} : (JSON.parse(text) as WireObject)) };
}

/** Headers that describe one hop, not the call (fetch decodes the body, so its encoding goes too). */
const hopHeaders = new Set(['host', 'connection', 'content-length', 'transfer-encoding', 'keep-alive', 'content-encoding']);

/** Decides one call; `protocol` is the call's, for an error in its wire format. */
type Rule = (call: WireCall, serve: (input: WireObject) => Promise<ServedCall>, protocol: WireProtocol) => ReturnType<WireAnswer>;

/**
 * Starts a front on the emulator of `service` at `endpoint`; requests that are no call of it pass
 * untouched. A failure of the front answers the service's own 500.
 */
export async function startWireFront(service: FaultService, endpoint: string): Promise<WireFront> {
  let recorded: WireCall[] = [];
  let rules: { operation: string; rule: Rule; left: number }[] = [];

  /** Has the emulator answer the request with `body`. */
  async function forward(req: IncomingMessage, body: Buffer | string): Promise<WireResponse> {
    const headers = Object.fromEntries(
      Object.entries(req.headers).flatMap(([name, value]) => (hopHeaders.has(name) || value === undefined ? [] : [[name, Array.isArray(value) ? value.join(', ') : value]])),
    );
    const method = req.method ?? 'POST';
    const response = await fetch(new URL(req.url ?? '/', endpoint), { method, headers, ...(method === 'GET' || method === 'HEAD' ? {} : { body }) });
    const responseHeaders: Record<string, string> = {};
    response.headers.forEach((value, name) => {
      if (!hopHeaders.has(name)) responseHeaders[name] = value;
    });
    return { statusCode: response.status, headers: responseHeaders, body: await response.text() };
  }

  async function answer(req: IncomingMessage, body: Buffer, named: RecognisedCall | undefined): Promise<WireResponse> {
    if (!named) return forward(req, body);
    const url = new URL(req.url ?? '/', 'http://front');
    const call: WireCall = { operation: named.operation, path: decodeURIComponent(url.pathname), input: inputOf(named.protocol, url, body) };
    recorded.push(call);
    const chosen = rules.find((candidate) => candidate.operation === call.operation && candidate.left > 0);
    if (!chosen) return forward(req, body);
    chosen.left -= 1;
    const serve = async (input: WireObject): Promise<ServedCall> => {
      const response = await forward(req, JSON.stringify(input));
      const isJson = String(response.headers['content-type'] ?? '').includes('json');
      return { status: response.statusCode, output: isJson && response.body ? (JSON.parse(response.body) as WireObject) : {}, response };
    };
    return (await chosen.rule(call, serve, named.protocol)) ?? forward(req, body);
  }

  /** Reads and names the request, then answers it; a failure of the front answers the service's own 500. */
  async function receive(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = (await readBody(req, 50 * 1024 * 1024)) ?? Buffer.alloc(0);
    const named = recogniseCall(service, { method: req.method ?? 'POST', url: req.url ?? '/', headers: req.headers }, body);
    try {
      sendWireResponse(res, await answer(req, body, named));
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
  const intercept = (operation: string, rule: Rule, times = 1): void => {
    rules.push({ operation, rule, left: times });
  };
  return {
    endpoint: httpUrl('127.0.0.1', await listen(server, 0, '127.0.0.1')),
    calls: (operation) => recorded.filter((call) => operation === undefined || call.operation === operation),
    operations: () => recorded.map((call) => call.operation),
    intercept,
    failNext: (operation, error, times) => intercept(operation, (_call, _serve, protocol) => faultResponse(service, protocol, error), times),
    answerNext: (operation, output, times) => intercept(operation, () => jsonAnswer(service, output), times),
    reset: () => {
      recorded = [];
      rules = [];
    },
    stop: () => closeServer(server),
  };
}
