/**
 * What every benchmark needs: a local stack in this process on free ports, tokens, a JSON client,
 * WebSocket listeners that timestamp what they receive, and percentiles. Figures only: nothing
 * here passes or fails on speed.
 */
import { closeSync, openSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import WebSocket from 'ws';
import { LOCAL_JWT_AUDIENCE, LOCAL_JWT_ISSUER, signToken } from '../../local/jwt-keys.ts';
import type { TokenRole } from '../../local/jwt-keys.ts';
import { startLocalStack } from '../../local/stack.ts';
import type { LocalStack, LocalStackOptions } from '../../local/stack.ts';
import { maxBatchRecipients } from '../../shared/domain/schemas.ts';

/** A local stack for a benchmark, with a throw-away signing key. */
export interface BenchStack {
  readonly stack: LocalStack;
  token(sub: string, role?: TokenRole): Promise<string>;
  api<T = Record<string, unknown>>(method: string, path: string, token: string, body?: unknown): Promise<{ status: number; body: T }>;
  close(): Promise<void>;
}

/** Registers `recipients` through `POST /v1/recipients/batch`, in batches of the route's limit; throws on any refusal. */
export async function registerRecipients(bench: BenchStack, token: string, recipients: readonly Record<string, unknown>[]): Promise<void> {
  for (let start = 0; start < recipients.length; start += maxBatchRecipients) {
    const response = await bench.api('POST', '/v1/recipients/batch', token, { recipients: recipients.slice(start, start + maxBatchRecipients) });
    if (response.status !== 200) throw new Error(`POST /v1/recipients/batch answered ${response.status}: ${JSON.stringify(response.body)}`);
  }
}

/** Where a benchmark's functions write their stdout: `path`, open as `fd` until `close()`. */
export interface FunctionLog {
  readonly path: string;
  readonly output: { readonly stdout: number; readonly stderr: number };
  close(): void;
}

/**
 * Opens (truncating) `<tmpdir>/herald-bench-<name>-functions.log` for the functions' stdout, which
 * carries their log lines and an EMF line per metrics flush (thousands in a broadcast, which would
 * bury the bench's own figures); their stderr stays the terminal's. The stack reads the metrics
 * either way. Prints where the file is.
 */
export function openFunctionLog(name: string): FunctionLog {
  const path = join(tmpdir(), `herald-bench-${name}-functions.log`);
  const fd = openSync(path, 'w');
  console.log(`The functions' stdout (their logs and EMF metrics) goes to ${path}.`);
  return { path, output: { stdout: fd, stderr: 2 }, close: () => closeSync(fd) };
}

/**
 * Starts the local stack in this process for the benchmark `name` (quiet logs unless
 * POWERTOOLS_LOG_LEVEL says otherwise; the functions' stdout in {@link openFunctionLog}'s file).
 */
export async function startBenchStack(name: string, environment: Record<string, string> = {}, options: Partial<LocalStackOptions> = {}): Promise<BenchStack> {
  const scratch = await mkdtemp(join(tmpdir(), 'herald-bench-'));
  const keyFile = join(scratch, 'jwt-signing-key.json');
  const functionLog = openFunctionLog(name);
  const stack = await startLocalStack({
    httpPort: 0,
    wsPort: 0,
    sesPort: 0,
    signingKeyFile: keyFile,
    // A bench measures Herald, not the per-tenant request quota that would cap its one tenant.
    tenantRequestsPerSecond: 0,
    functionOutput: functionLog.output,
    ...options,
    environment: { POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'ERROR', ...environment },
  }).catch((error: unknown) => {
    functionLog.close();
    throw error;
  });
  const agent = { keepalive: true } as const;
  return {
    stack,
    token: (sub, role) => signToken({ sub, ...(role ? { role } : {}), issuer: LOCAL_JWT_ISSUER, audience: LOCAL_JWT_AUDIENCE }, { keyFile }),
    async api(method, path, token, body) {
      const response = await fetch(`${stack.httpUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        ...agent,
      });
      const text = await response.text();
      return { status: response.status, body: (text ? JSON.parse(text) : {}) as never };
    },
    close: async () => {
      await stack.stop();
      functionLog.close();
      await rm(scratch, { recursive: true, force: true });
    },
  };
}

/** A WebSocket listener that notes when each notification frame arrives (epoch ms, by notification id). */
export interface FrameListener {
  readonly arrivals: Map<string, number>;
  close(): Promise<void>;
}

/** Connects `token`'s user and records each `notification` frame's arrival. */
export async function listen(wsUrl: string, token: string, arrivals: Map<string, number> = new Map()): Promise<FrameListener> {
  const socket = new WebSocket(`${wsUrl}/?token=${encodeURIComponent(token)}`);
  socket.on('message', (raw) => {
    const at = Date.now();
    const frame = JSON.parse(raw.toString()) as { type?: string; notification?: { id?: string } };
    if (frame.type === 'notification' && frame.notification?.id && !arrivals.has(frame.notification.id)) arrivals.set(frame.notification.id, at);
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  return {
    arrivals,
    close: () =>
      new Promise<void>((resolve) => {
        socket.once('close', () => resolve());
        socket.close();
      }),
  };
}

/** The `p`-th percentile (0..100) of `values`, by nearest rank. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

/** A number with thousands separators and `digits` decimals. */
export function number(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

/** Waits until `done()` holds or `timeoutMs` passes; true when it held. */
export async function waitUntil(done: () => boolean, timeoutMs: number, stepMs = 50): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, stepMs));
  }
  return true;
}

/** What a load run measured: completed calls, their latencies (ms) and the failures. */
export interface LoadResult {
  readonly seconds: number;
  readonly completed: number;
  readonly latencies: number[];
  readonly errors: number;
  readonly firstError?: string;
}

/** One call of a load run: resolves when it succeeded, rejects (or resolves `false`) when it did not. */
export type LoadCall = (n: number) => Promise<boolean>;

function record(result: { latencies: number[]; errors: number; firstError?: string }, began: number, outcome: PromiseSettledResult<boolean>): void {
  if (outcome.status === 'fulfilled' && outcome.value) {
    result.latencies.push(performance.now() - began);
    return;
  }
  result.errors++;
  result.firstError ??= outcome.status === 'rejected' ? String(outcome.reason) : 'answered with an error status';
}

/** `concurrency` callers, each calling again as soon as its last call returned, for `seconds`. */
export async function closedLoop(concurrency: number, seconds: number, call: LoadCall): Promise<LoadResult> {
  const result: { latencies: number[]; errors: number; firstError?: string } = { latencies: [], errors: 0 };
  const start = performance.now();
  const end = start + seconds * 1000;
  let n = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const began = performance.now();
        const [outcome] = await Promise.allSettled([call(n++)]);
        record(result, began, outcome as PromiseSettledResult<boolean>);
      }
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  return { seconds: elapsed, completed: result.latencies.length, ...result };
}

/**
 * Calls at a fixed `rate` per second for `seconds`, whether or not earlier calls returned (an
 * open loop, as independent clients arrive). Latency counts from when the call was due, so a
 * server that falls behind shows it rather than slowing the load down.
 */
export async function openLoop(rate: number, seconds: number, call: LoadCall): Promise<LoadResult> {
  const result: { latencies: number[]; errors: number; firstError?: string } = { latencies: [], errors: 0 };
  const total = Math.round(rate * seconds);
  const start = performance.now();
  const calls: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    calls.push(
      Promise.allSettled([call(i)]).then(([outcome]) => record(result, due, outcome as PromiseSettledResult<boolean>)),
    );
  }
  await Promise.all(calls);
  const elapsed = (performance.now() - start) / 1000;
  return { seconds: elapsed, completed: result.latencies.length, ...result };
}

/**
 * The main thread's heap in use (bytes) right after a full garbage collection: the live data of
 * the emulators (the tables, queues and schedules), without the garbage V8 lets pile up between
 * collections. `--expose-gc` is set for this call's context only.
 */
export function liveMainHeap(): number {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  gc();
  return process.memoryUsage().heapUsed;
}

