/**
 * One Lambda sandbox: the worker thread that local/lambda-runtime.ts starts for a function. It
 * imports the handler module (the init phase), then runs each invocation it is sent with a fresh
 * copy of the event and a `Context`, and answers with the result as JSON or the error as Lambda
 * reports it (`errorType`, `errorMessage`, `trace`). An uncaught exception or an unhandled
 * rejection is logged and reported as a crash, after which the runtime terminates the thread, as
 * Lambda resets a sandbox whose runtime exited.
 *
 * Runs only inside a worker thread; its environment (`process.env`) is the function's own.
 */
import { existsSync, writeSync } from 'node:fs';
import { enableCompileCache } from 'node:module';
import { pathToFileURL } from 'node:url';
import { subscribe } from 'node:diagnostics_channel';
import { parentPort, workerData } from 'node:worker_threads';
import type { Context } from 'aws-lambda';
import { formatLogLine, prettyLineWriter } from './log-format.ts';
import type { LogFormat } from './log-format.ts';

/** The diagnostics channels a sandbox forwards to the runtime. */
export const forwardedChannels = ['herald:webhook:sent'] as const;

/** What the runtime tells a new sandbox (its `workerData`). */
export interface SandboxSetup {
  /** Absolute path of the handler module. */
  readonly modulePath: string;
  /** Name of the handler export. */
  readonly handler: string;
  readonly functionName: string;
  readonly functionArn: string;
  readonly memoryMb: number;
  readonly logGroupName: string;
  /** One stream per sandbox, as on Lambda. */
  readonly logStreamName: string;
  /** File descriptors the function's stdout and stderr are written to. */
  readonly stdoutFd: number;
  readonly stderrFd: number;
  /** Where compiled modules are kept between sandboxes (Node's compile cache); none when disabled. */
  readonly compileCacheDir?: string;
  /** How log lines are written: Powertools' JSON as is, or one readable line each (local/log-format.ts). @default 'json' */
  readonly logFormat?: LogFormat;
}

/** A failure as the Lambda service reports it to the caller. */
export interface ErrorResponse {
  readonly errorType: string;
  readonly errorMessage: string;
  readonly trace: readonly string[];
}

/** One invocation: the event as JSON, and when it times out (epoch milliseconds). */
export interface InvokeMessage {
  readonly requestId: string;
  readonly event: string;
  readonly deadline: number;
}

/** What a sandbox tells the runtime. */
export type SandboxMessage =
  | { readonly kind: 'ready' }
  | { readonly kind: 'init-error'; readonly error: ErrorResponse }
  | { readonly kind: 'result'; readonly requestId: string; readonly result: string }
  | { readonly kind: 'error'; readonly requestId: string; readonly error: ErrorResponse }
  | { readonly kind: 'crash'; readonly error: ErrorResponse }
  /** An EMF document the function printed on stdout (its metrics, as CloudWatch Logs would read them). */
  | { readonly kind: 'emf'; readonly line: string }
  /** What the function published on one of the forwarded diagnostics channels (`forwardedChannels`). */
  | { readonly kind: 'published'; readonly channel: string; readonly message: unknown };

/** A handler as Herald writes them: async, two arguments, no callback. */
type LambdaHandler = (event: unknown, context: Context) => unknown;

if (!parentPort) throw new Error('local/lambda-worker.ts runs inside a worker thread started by local/lambda-runtime.ts');
const port = parentPort;
const setup = workerData as SandboxSetup;

function post(message: SandboxMessage): void {
  port.postMessage(message);
}

// What the function tells its observers (node:diagnostics_channel, free when nobody listens)
// reaches the local stack: each webhook Herald posts, for the outbox.
for (const channel of forwardedChannels) subscribe(channel, (message) => post({ kind: 'published', channel, message }));

/** Sleeps the thread for a millisecond while a pipe is full (Atomics.wait blocks without spinning). */
const pauseCell = new Int32Array(new SharedArrayBuffer(4));

/** Writes every byte to the descriptor, waiting while a non-blocking pipe answers EAGAIN. */
function writeFully(fd: number, bytes: Uint8Array): void {
  let offset = 0;
  while (offset < bytes.length) {
    try {
      offset += writeSync(fd, bytes, offset);
    } catch (error) {
      // Node keeps stdio pipes non-blocking: a reader that lags answers EAGAIN, which is no failure.
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
      Atomics.wait(pauseCell, 0, 0, 1);
    }
  }
}

/**
 * Node relays a worker's stdout and stderr through the parent thread, asynchronously: a sandbox
 * terminated after a timeout would lose what it printed last, and the parent thread (where the
 * emulators run) would spend its time copying log lines. Written straight to the descriptor, a
 * line is out when `write` returns. Console objects (the global one, Powertools') call `write` on
 * these very streams, so they follow.
 */
function writeStraightTo(stream: NodeJS.WriteStream, fd: number, onLine?: (line: string) => void): void {
  const pretty = setup.logFormat === 'pretty' ? prettyLineWriter(setup.functionName, (text) => writeFully(fd, Buffer.from(text))) : undefined;
  const write = (
    chunk: string | Uint8Array,
    encodingOrCallback?: BufferEncoding | ((error?: Error | null) => void),
    callback?: (error?: Error | null) => void,
  ): boolean => {
    const encoding = typeof encodingOrCallback === 'string' ? encodingOrCallback : 'utf8';
    const done = typeof encodingOrCallback === 'function' ? encodingOrCallback : callback;
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, encoding) : chunk;
    if (pretty) pretty(Buffer.from(bytes).toString('utf8'));
    else writeFully(fd, bytes);
    if (onLine) for (const line of Buffer.from(bytes).toString('utf8').split('\n')) if (line.startsWith('{"_aws"')) onLine(line);
    if (done) process.nextTick(done);
    return true;
  };
  stream.write = write as NodeJS.WriteStream['write'];
}

function errorResponse(error: unknown): ErrorResponse {
  if (error instanceof Error) {
    return { errorType: error.name, errorMessage: error.message, trace: (error.stack ?? '').split('\n') };
  }
  return { errorType: typeof error, errorMessage: String(error), trace: [] };
}

/**
 * A handler module that cannot be imported, as the nodejs runtime reports it (its module loader,
 * aws-lambda-nodejs-runtime-interface-client `src/function/module-loader.ts`): a syntax error as
 * `Runtime.UserCodeSyntaxError`, a handler file that does not exist as `Runtime.ImportModuleError`,
 * each with the error as a string for message; an error the module's own code threw (a missing
 * package it imports among them, `ERR_MODULE_NOT_FOUND`), as itself.
 */
function importErrorResponse(error: unknown): ErrorResponse {
  const response = errorResponse(error);
  if (error instanceof SyntaxError) return { ...response, errorType: 'Runtime.UserCodeSyntaxError', errorMessage: String(error) };
  if (!existsSync(setup.modulePath)) return { ...response, errorType: 'Runtime.ImportModuleError', errorMessage: String(error) };
  return response;
}

/** Logs a crash as one JSON line on stderr and reports it: the runtime then resets the sandbox. */
function crash(what: string, error: ErrorResponse): void {
  const line = { level: 'ERROR', source: 'lambda-runtime', function: setup.functionName, message: what, ...error };
  const text = setup.logFormat === 'pretty' ? formatLogLine(JSON.stringify(line), setup.functionName) : JSON.stringify(line);
  writeFully(setup.stderrFd, Buffer.from(`${text}\n`));
  post({ kind: 'crash', error });
}

function buildContext(requestId: string, deadline: number): Context {
  const legacy = (): never => {
    // nodejs24.x dropped the callback-era completion functions; failing loudly beats a silent no-op.
    throw new Error('context.done/succeed/fail are not supported by the nodejs24.x runtime: return or throw instead');
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: setup.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: setup.functionArn,
    memoryLimitInMB: String(setup.memoryMb),
    awsRequestId: requestId,
    logGroupName: setup.logGroupName,
    logStreamName: setup.logStreamName,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: legacy,
    fail: legacy,
    succeed: legacy,
  };
}

async function invoke(handler: LambdaHandler, message: InvokeMessage): Promise<void> {
  const { requestId } = message;
  try {
    // A fresh deserialised copy, as Lambda hands it over.
    const result = await handler(JSON.parse(message.event), buildContext(requestId, message.deadline));
    // The service serialises the result as JSON: `undefined` becomes null, Dates become strings.
    post({ kind: 'result', requestId, result: JSON.stringify(result) ?? 'null' });
  } catch (error) {
    post({ kind: 'error', requestId, error: errorResponse(error) });
  }
}

/** The init phase: imports the module and finds the handler, or reports why not. */
async function loadHandler(): Promise<LambdaHandler | undefined> {
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(setup.modulePath).href)) as Record<string, unknown>;
  } catch (error) {
    post({ kind: 'init-error', error: importErrorResponse(error) });
    return undefined;
  }
  const handler = module[setup.handler];
  if (typeof handler !== 'function') {
    const errorMessage = `${setup.modulePath} does not export a function named ${setup.handler}`;
    post({ kind: 'init-error', error: { errorType: 'Runtime.HandlerNotFound', errorMessage, trace: [] } });
    return undefined;
  }
  return handler as LambdaHandler;
}

// Every sandbox imports its own copy of the module graph: the compile cache spares all but the
// first the TypeScript stripping and the compiling, which roughly halves their start.
if (setup.compileCacheDir) enableCompileCache(setup.compileCacheDir);
// EMF lines go to the runtime too: the local stack reads its metrics from them (local/emf-metrics.ts).
writeStraightTo(process.stdout, setup.stdoutFd, (line) => post({ kind: 'emf', line }));
writeStraightTo(process.stderr, setup.stderrFd);
// The Lambda runtime's own handlers: log, report, and let the sandbox go.
process.on('uncaughtException', (error) => crash('Uncaught Exception', errorResponse(error)));
process.on('unhandledRejection', (reason) => {
  const response = errorResponse(reason);
  const errorMessage = reason instanceof Error ? `${reason.name}: ${reason.message}` : String(reason);
  crash('Unhandled Promise Rejection', { ...response, errorType: 'Runtime.UnhandledPromiseRejection', errorMessage });
});

const handler = await loadHandler();
if (handler) {
  port.on('message', (message: InvokeMessage) => void invoke(handler, message));
  post({ kind: 'ready' });
}
