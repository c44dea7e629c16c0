/**
 * Black-box helpers for the end-to-end suites: a local stack on free ports, tokens signed by
 * its key, a JSON HTTP client, and a WebSocket client that collects frames.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { LOCAL_JWT_AUDIENCE, LOCAL_JWT_ISSUER, signToken } from '../../../local/jwt-keys.ts';
import type { TokenRole, TokenShape } from '../../../local/jwt-keys.ts';
import { startLocalStack } from '../../../local/stack.ts';
import type { LocalStack, LocalStackOptions } from '../../../local/stack.ts';

export interface Harness {
  readonly stack: LocalStack;
  readonly keyFile: string;
  /** A token the stack accepts; `tenant: null` leaves the tenant claim out; `shape` lays the claims out as Cognito or Auth0 do. */
  token(
    sub: string,
    options?: { role?: TokenRole | readonly TokenRole[]; tenant?: string | null; shape?: TokenShape; expiresIn?: string | number; issuer?: string; audience?: string },
  ): Promise<string>;
  api(method: string, path: string, options?: ApiRequestOptions): Promise<ApiResponse>;
  /** As `api`, with the response headers too. */
  apiWithHeaders(method: string, path: string, options?: ApiRequestOptions): Promise<ApiResponse & { readonly headers: Readonly<Record<string, string>> }>;
  close(): Promise<void>;
}

export interface ApiRequestOptions {
  readonly token?: string;
  readonly body?: unknown;
  readonly rawBody?: string;
  /** Extra request headers (e.g. `idempotency-key`). */
  readonly headers?: Readonly<Record<string, string>>;
}

export interface ApiResponse {
  readonly status: number;
  // Tests read arbitrary JSON; `any`-free access goes through this loose record type.
  readonly body: Record<string, unknown> & { error?: { code: string; message: string; details?: unknown } };
}

/** Starts a local stack on free ports with a throw-away signing key (and data dir, if asked). */
export async function startHarness(options: Omit<LocalStackOptions, 'signingKeyFile'> = {}): Promise<Harness> {
  const scratch = await mkdtemp(join(tmpdir(), 'herald-e2e-'));
  const keyFile = join(scratch, 'jwt-signing-key.json');
  const stack = await startLocalStack({
    httpPort: 0,
    wsPort: 0,
    sesPort: 0,
    signingKeyFile: keyFile,
    // Suites drive one tenant harder than its default request quota allows (50 a second), and
    // count the functions' writes: the quota is off (0) but in its own suite (tenant-request-quota.test.ts).
    // A setting, not a variable for every function: only the api function is given the quota.
    tenantRequestsPerSecond: 0,
    ...options,
    // The functions see only their own environment: the log level vitest sets must be handed to them.
    environment: { POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'WARN', ...options.environment },
  });
  const apiWithHeaders: Harness['apiWithHeaders'] = async (method, path, o = {}) => {
    const headers: Record<string, string> = { ...o.headers };
    if (o.token) headers.authorization = `Bearer ${o.token}`;
    const body = o.rawBody ?? (o.body === undefined ? undefined : JSON.stringify(o.body));
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${stack.httpUrl}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
    const text = await response.text();
    return {
      status: response.status,
      headers: Object.fromEntries(response.headers.entries()),
      body: text ? (JSON.parse(text) as ApiResponse['body']) : {},
    };
  };
  return {
    stack,
    keyFile,
    token: (sub, o = {}) =>
      signToken(
        {
          sub,
          ...(o.role ? { role: o.role } : {}),
          ...(o.tenant !== undefined ? { tenant: o.tenant } : {}),
          ...(o.shape ? { shape: o.shape } : {}),
          ...(o.expiresIn !== undefined ? { expiresIn: o.expiresIn } : {}),
          issuer: o.issuer ?? LOCAL_JWT_ISSUER,
          audience: o.audience ?? LOCAL_JWT_AUDIENCE,
        },
        { keyFile },
      ),
    api: async (method, path, o = {}) => {
      const { status, body } = await apiWithHeaders(method, path, o);
      return { status, body };
    },
    apiWithHeaders,
    close: async () => {
      await stack.stop();
      await rm(scratch, { recursive: true, force: true });
    },
  };
}

/** A connected WebSocket client that keeps every JSON frame it receives, with arrival times. */
export interface SocketClient {
  readonly frames: { readonly at: number; readonly data: Record<string, unknown> }[];
  send(data: unknown): void;
  /** Resolves with the first frame (already received or coming) that matches. */
  waitFor(match: (data: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<{ at: number; data: Record<string, unknown> }>;
  close(): Promise<void>;
  /** Resolves with the close code once the socket has closed, whichever side closed it. */
  readonly closed: Promise<number>;
}

/** Opens a WebSocket; rejects with the HTTP status when the handshake is refused. */
export async function connectSocket(url: string, token?: string): Promise<SocketClient> {
  const target = token ? `${url}/?token=${encodeURIComponent(token)}` : url;
  const socket = new WebSocket(target);
  const frames: SocketClient['frames'] = [];
  const waiters = new Set<() => void>();
  const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
  socket.on('message', (raw) => {
    frames.push({ at: Date.now(), data: JSON.parse(raw.toString()) as Record<string, unknown> });
    for (const wake of waiters) wake();
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('unexpected-response', (_req, res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.once('end', () => reject(new HandshakeRefusedError(res.statusCode ?? 0, body)));
      res.once('error', () => reject(new HandshakeRefusedError(res.statusCode ?? 0, body)));
    });
    socket.once('error', reject);
  });
  return {
    frames,
    closed,
    send: (data) => socket.send(JSON.stringify(data)),
    waitFor: (match, timeoutMs = 15_000) =>
      new Promise((resolve, reject) => {
        const check = (): boolean => {
          const frame = frames.find((f) => match(f.data));
          if (!frame) return false;
          waiters.delete(wake);
          clearTimeout(timer);
          resolve(frame);
          return true;
        };
        const wake = (): void => void check();
        const timer = setTimeout(() => {
          waiters.delete(wake);
          reject(new Error(`No matching WebSocket frame within ${timeoutMs} ms; got ${JSON.stringify(frames.map((f) => f.data))}`));
        }, timeoutMs);
        waiters.add(wake);
        check();
      }),
    close: () =>
      new Promise<void>((resolve) => {
        if (socket.readyState === WebSocket.CLOSED) return resolve();
        socket.once('close', () => resolve());
        socket.close();
      }),
  };
}

export class HandshakeRefusedError extends Error {
  readonly status: number;
  /** The refusal's body, as the gateway sent it. */
  readonly body: string;
  constructor(status: number, body = '') {
    super(`WebSocket handshake refused with HTTP ${status}${body ? `: ${body}` : ''}`);
    this.name = 'HandshakeRefusedError';
    this.status = status;
    this.body = body;
  }
}

/** Polls until `read` returns a value that `done` accepts, or fails after `timeoutMs`. */
export async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T;
  do {
    last = await read();
    if (done(last)) return last;
    await new Promise((r) => setTimeout(r, 100));
  } while (Date.now() < deadline);
  throw new Error(`Condition not met within ${timeoutMs} ms; last value: ${JSON.stringify(last)}`);
}

/** An ISO instant `ms` from now. */
export function inMs(ms: number): string {
  return new Date(Date.now() + ms).toISOString();
}
