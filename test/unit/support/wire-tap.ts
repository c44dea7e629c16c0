/**
 * A tap in front of a local AWS endpoint, for adapter tests: each call is recorded as the endpoint
 * receives it (its operation, path and input, as the SDK put them on the wire) and passed on to
 * the emulator, unless a rule answers it first. Rules answer as AWS would in a state no emulator
 * reaches (an error on AWS's side, an action the local service lacks, entries of a batch failed on
 * AWS's side), always in the service's wire shape (`local/aws-call-hook.ts`), so the SDK parses the
 * answer into its own exception class or output. The emulators' own call hook names the
 * operation only; the tap sees the input too.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { faultResponse, recogniseCall, sendWireResponse } from '../../../local/aws-call-hook.ts';
import type { WireProtocol, WireResponse } from '../../../local/aws-call-hook.ts';
import type { FaultError, FaultService } from '../../../local/fault-rules.ts';
import { closeServer } from '../../../local/http-gateway.ts';
import { httpUrl, listen } from '../../../local/listen.ts';
import { readBody } from '../../../local/request-body.ts';

/** One call as the endpoint received it. */
export interface TappedCall {
  readonly operation: string;
  readonly protocol: WireProtocol;
  /** The URL's path, decoded: a REST call's resource (`/schedules/<name>`). */
  readonly path: string;
  /** The input: a JSON body's members, or a query-protocol form's fields, and the URL's query parameters. */
  readonly input: Readonly<Record<string, unknown>>;
}

/**
 * What a rule makes of a call: an answer in its stead, or the call passed on with another input
 * and its output changed before the SDK reads it (JSON protocols); undefined passes it on as it is.
 */
export type TapAnswer =
  | { readonly answer: WireResponse }
  | { readonly forward: Readonly<Record<string, unknown>>; readonly output: (output: Record<string, unknown>) => Record<string, unknown> };

/** Decides one call; it may first change the world the call meets (a rival's write). */
export type TapRule = (call: TappedCall) => TapAnswer | undefined | Promise<TapAnswer | undefined>;

export interface WireTap {
  /** The URL to give the SDK client. */
  readonly endpoint: string;
  /** The calls received so far, in order; of `operation` only when given. */
  calls(operation?: string): TappedCall[];
  /** The operations of the calls received so far, in order. */
  operations(): string[];
  /** Lets `rule` decide the next `times` calls of `operation` (every one from now: `Infinity`). */
  intercept(operation: string, rule: TapRule, times?: number): void;
  /** Answers the next `times` calls of `operation` with `error`, as the service sends it. */
  failNext(operation: string, error: FaultError, times?: number): void;
  /** Answers the next `times` calls of `operation` with `output`, as the service sends a success. */
  answerNext(operation: string, output: Readonly<Record<string, unknown>>, times?: number): void;
  /** Forgets the calls and the rules. */
  clear(): void;
  stop(): Promise<void>;
}

/** The JSON content type each JSON-protocol service answers with. */
const jsonContentTypes: Partial<Record<FaultService, string>> = {
  sqs: 'application/x-amz-json-1.0',
  dynamodb: 'application/x-amz-json-1.0',
  secretsmanager: 'application/x-amz-json-1.1',
};

/** A success of `service` carrying `output` as JSON (its JSON protocol, or restJson1). */
export function jsonAnswer(service: FaultService, output: Readonly<Record<string, unknown>>): WireResponse {
  return {
    statusCode: 200,
    headers: { 'content-type': jsonContentTypes[service] ?? 'application/json', 'x-amzn-requestid': randomUUID() },
    body: JSON.stringify(output),
  };
}

/**
 * A rule for SQS's batch actions (`SendMessageBatch` and the like): the entries with these ids fail
 * on AWS's side with `failure` (they are not passed on, and the output lists them under `Failed`),
 * the others reach the queue.
 */
export function failEntries(ids: readonly string[], failure: { readonly Code: string; readonly SenderFault: boolean; readonly Message?: string }): TapRule {
  return (call) => {
    const entries = (call.input.Entries ?? []) as { Id: string }[];
    return {
      forward: { ...call.input, Entries: entries.filter((entry) => !ids.includes(entry.Id)) },
      output: (output) => ({ ...output, Failed: [...((output.Failed ?? []) as unknown[]), ...ids.map((Id) => ({ Id, ...failure }))] }),
    };
  };
}

function inputOf(protocol: WireProtocol, url: URL, body: Buffer): Record<string, unknown> {
  const query = Object.fromEntries(url.searchParams);
  const text = body.toString('utf8');
  if (protocol === 'awsQuery') return { ...query, ...Object.fromEntries(new URLSearchParams(text)) };
  return { ...query, ...(text.trim() === '' ? {} : (JSON.parse(text) as Record<string, unknown>)) };
}

/** Headers that describe one hop, not the call. */
const hopHeaders = new Set(['host', 'connection', 'content-length', 'transfer-encoding', 'keep-alive', 'content-encoding']);

/** Starts a tap for `service` in front of the emulator endpoint `target`. */
export async function startWireTap(service: FaultService, target: string): Promise<WireTap> {
  const calls: TappedCall[] = [];
  let rules: { operation: string; rule: TapRule; left: number }[] = [];

  async function pass(req: IncomingMessage, body: Buffer | string): Promise<{ status: number; headers: Record<string, string>; body: Buffer }> {
    const headers = Object.fromEntries(
      Object.entries(req.headers).flatMap(([name, value]) => (hopHeaders.has(name) || value === undefined ? [] : [[name, Array.isArray(value) ? value.join(', ') : value]])),
    );
    const method = req.method ?? 'GET';
    const reply = await fetch(new URL(req.url ?? '/', target), { method, headers, ...(method === 'GET' || method === 'HEAD' ? {} : { body }) });
    const replyHeaders: Record<string, string> = {};
    reply.headers.forEach((value, name) => {
      if (!hopHeaders.has(name)) replyHeaders[name] = value;
    });
    return { status: reply.status, headers: replyHeaders, body: Buffer.from(await reply.arrayBuffer()) };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = (await readBody(req, 50 * 1024 * 1024)) ?? Buffer.alloc(0);
    const url = new URL(req.url ?? '/', 'http://tap.local');
    const recognised = recogniseCall(service, { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers }, body);
    let answer: TapAnswer | undefined;
    if (recognised) {
      const call: TappedCall = { ...recognised, path: decodeURIComponent(url.pathname), input: inputOf(recognised.protocol, url, body) };
      calls.push(call);
      const rule = rules.find((candidate) => candidate.operation === call.operation && candidate.left > 0);
      if (rule) {
        rule.left -= 1;
        answer = await rule.rule(call);
      }
    }
    if (answer && 'answer' in answer) {
      sendWireResponse(res, answer.answer);
      return;
    }
    const passed = await pass(req, answer ? JSON.stringify(answer.forward) : body);
    let replyBody = passed.body;
    if (answer && passed.status === 200) replyBody = Buffer.from(JSON.stringify(answer.output(JSON.parse(replyBody.toString('utf8')) as Record<string, unknown>)));
    res.writeHead(passed.status, { ...passed.headers, 'content-length': replyBody.length });
    res.end(replyBody);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' }).end(String(error));
      else res.destroy();
    });
  });
  const port = await listen(server, 0, '127.0.0.1');
  return {
    endpoint: httpUrl('127.0.0.1', port),
    calls: (operation) => calls.filter((call) => operation === undefined || call.operation === operation),
    operations: () => calls.map((call) => call.operation),
    intercept(operation, rule, times = 1) {
      rules.push({ operation, rule, left: times });
    },
    failNext(operation, error, times = 1) {
      rules.push({ operation, rule: (call) => ({ answer: faultResponse(service, call.protocol, error) }), left: times });
    },
    answerNext(operation, output, times = 1) {
      rules.push({ operation, rule: () => ({ answer: jsonAnswer(service, output) }), left: times });
    },
    clear() {
      calls.length = 0;
      rules = [];
    },
    stop: () => closeServer(server),
  };
}
