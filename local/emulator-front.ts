/**
 * The faultable endpoint of an emulator we did not write (fauxqs, aws-ses-v2-local): an HTTP
 * server that names each call, gives it to the call hook (count, maybe fail), and hands every
 * call the hook lets through to the emulator in this process, on the same request and response
 * objects: one HTTP hop from the SDK to the emulator, no proxying.
 *
 * The operation comes from the headers (`X-Amz-Target`, or method and path) without touching
 * the body, which the emulator then reads itself. Only a query-protocol call names its action in
 * its form-encoded body: that body is read here and replayed to the emulator as a fresh request
 * carrying the same bytes.
 */
import { createServer, IncomingMessage } from 'node:http';
import type { ServerResponse } from 'node:http';
import { carriesFormBody, recogniseCall, sendWireResponse } from './aws-call-hook.ts';
import type { CallHook, RecognisedCall } from './aws-call-hook.ts';
import type { FaultService } from './fault-rules.ts';
import { closeServer, describeError } from './http-gateway.ts';
import { httpUrl, listen } from './listen.ts';
import { readBody } from './request-body.ts';

export interface EmulatorFrontOptions {
  readonly service: FaultService;
  readonly hook: CallHook;
  /** Serves, in this process, a request the hook let through (with its operation, when it names one). */
  readonly serve: (req: IncomingMessage, res: ServerResponse, call?: RecognisedCall) => void;
  /** @default '127.0.0.1' */
  readonly host?: string;
  /** @default 0 (a free port) */
  readonly port?: number;
  /** Where failures are reported. @default stderr */
  readonly log?: (line: string) => void;
  /** The largest query-protocol body read here, in bytes (SES raw mail is at most 40 MB). @default 50 MiB */
  readonly maxFormBodyBytes?: number;
}

export interface EmulatorFront {
  /** The URL to give the functions' SDK clients. */
  readonly endpoint: string;
  stop(): Promise<void>;
}

/** A request with `original`'s method, URL and headers whose body is `body`, for an emulator to read again. */
export function replayedRequest(original: IncomingMessage, body: Buffer): IncomingMessage {
  const replay = new IncomingMessage(original.socket);
  replay.method = original.method;
  replay.url = original.url;
  replay.headers = original.headers;
  replay.rawHeaders = original.rawHeaders;
  replay.httpVersion = original.httpVersion;
  replay.httpVersionMajor = original.httpVersionMajor;
  replay.httpVersionMinor = original.httpVersionMinor;
  // Complete, as the original is: an IncomingMessage destroyed before it completed takes its socket down with it.
  replay.complete = true;
  replay.push(body);
  replay.push(null);
  return replay;
}

/** A request named, and the request to hand on: a replay of the original when its body had to be read. */
export interface NamedRequest {
  readonly call: RecognisedCall | undefined;
  readonly forward: IncomingMessage;
}

/**
 * Names the operation of `req` to `service` (reading a query-protocol form body when the headers
 * do not name it, and replaying it); undefined when that body exceeds `maxFormBodyBytes`.
 */
export async function nameRequest(service: FaultService, req: IncomingMessage, maxFormBodyBytes: number): Promise<NamedRequest | undefined> {
  const request = { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers };
  const call = recogniseCall(service, request);
  if (call || req.method !== 'POST' || !carriesFormBody(req.headers)) return { call, forward: req };
  const body = await readBody(req, maxFormBodyBytes);
  if (body === undefined) return undefined;
  return { call: recogniseCall(service, request, body), forward: replayedRequest(req, body) };
}

/** The largest query-protocol body read to name a call (SES raw mail is at most 40 MB). */
export const defaultMaxFormBodyBytes = 50 * 1024 * 1024;

/** Starts the faultable endpoint in front of an in-process emulator. */
export async function startEmulatorFront(options: EmulatorFrontOptions): Promise<EmulatorFront> {
  const host = options.host ?? '127.0.0.1';
  const log = options.log ?? ((line: string): void => void process.stderr.write(`${line}\n`));

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const named = await nameRequest(options.service, req, options.maxFormBodyBytes ?? defaultMaxFormBodyBytes);
    if (!named) {
      res.writeHead(413, { connection: 'close' }).end();
      return;
    }
    const fault = named.call ? options.hook(options.service, named.call, req.headers) : undefined;
    if (fault) sendWireResponse(res, fault);
    else options.serve(named.forward, res, named.call);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      log(`[${options.service}] ${req.method} ${req.url} failed: ${describeError(error)}`);
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    });
  });
  const port = await listen(server, options.port ?? 0, host);
  return { endpoint: httpUrl(host, port), stop: () => closeServer(server) };
}
