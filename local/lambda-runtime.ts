/**
 * Runs a Herald Lambda handler the way the Lambda nodejs24.x runtime would, each function in its
 * own sandbox: a worker thread (local/lambda-worker.ts), started at the function's first invocation
 * (or at load, {@link InitializationType}), that sees only the function's environment plus the
 * variables Lambda reserves, gets a JSON copy of each event and a realistic `Context`, and is reset
 * (terminated, then started afresh on the next invocation) when an invocation times out or its
 * runtime crashes, as Lambda resets an execution environment.
 *
 * One difference: a Lambda sandbox runs one invocation at a time, while a worker here runs every
 * concurrent invocation of its function (as async code); a reset therefore fails all of them.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { FunctionDescription } from '../lib/app-description.ts';
import type { Variables } from '../lib/function-environment.ts';
import type { LogFormat } from './log-format.ts';
import type { ErrorResponse, InvokeMessage, SandboxMessage, SandboxSetup } from './lambda-worker.ts';

/** Account id the local stack uses in every ARN (the same as fauxqs). */
export const LOCAL_ACCOUNT_ID = '000000000000';

/** The repository root, against which `FunctionDescription.entry` is resolved. */
const repositoryRoot = resolve(import.meta.dirname, '..');
const workerEntry = new URL('./lambda-worker.ts', import.meta.url);

/** What the local stack calls to run one function. */
export interface LambdaInvoker {
  /** Physical name, `herald-local-<name>`. */
  readonly functionName: string;
  /**
   * Runs the handler once and resolves with its result as JSON carries it; rejects with a
   * `LambdaFunctionError` (the handler threw, or its sandbox crashed) or a `LambdaTimeoutError`.
   */
  invoke(event: unknown): Promise<unknown>;
}

/** A function loaded into its own sandbox. */
export interface LocalFunction extends LambdaInvoker {
  /** The variables the function is configured with; each sandbox adds those Lambda reserves. */
  readonly environment: Variables;
  /** The access key id its SDK clients sign with (its physical name): the emulators can tell who called. */
  readonly accessKeyId: string;
  /** Terminates the sandbox; invocations under way and later ones reject. */
  stop(): Promise<void>;
  /** The V8 heap of its sandbox now, in bytes; `undefined` when no sandbox is running. */
  heap(): Promise<SandboxHeap | undefined>;
}

/** A sandbox's V8 heap: what its objects use, and what V8 has taken from the system for them. */
export interface SandboxHeap {
  readonly usedBytes: number;
  readonly totalBytes: number;
}

export interface LoadFunctionOptions {
  readonly region: string;
  /** @default LOCAL_ACCOUNT_ID */
  readonly accountId?: string;
  /** Directory the description's `entry` is relative to. @default the repository root */
  readonly rootDir?: string;
  /** The function's own variables (what the CDK sets, the SDK's endpoints, overrides). @default none */
  readonly environment?: Variables;
  /** File descriptors the function's stdout and stderr go to. @default 1 and 2, the process's own */
  readonly output?: { readonly stdout: number; readonly stderr: number };
  /** Told each EMF line the function prints (its metrics). @default ignored */
  readonly onMetrics?: (line: string) => void;
  /** How the function's log lines are written (local/log-format.ts). @default 'json', as on Lambda */
  readonly logFormat?: LogFormat;
  /** Told what the function publishes on a forwarded diagnostics channel (local/lambda-worker.ts). @default ignored */
  readonly onPublished?: (channel: string, message: unknown) => void;
  /** When the function's first sandbox is initialised ({@link InitializationType}). @default 'on-demand' */
  readonly initialization?: InitializationType;
}

/**
 * When a function's execution environment is initialised, named as Lambda names it in
 * `AWS_LAMBDA_INITIALIZATION_TYPE` ("Defined runtime environment variables", Lambda developer guide):
 * - `on-demand`, Lambda's default: no environment exists until an invocation needs one, so the
 *   first invocation pays the init (a cold start), and a module that cannot be imported fails that
 *   invocation, and the next one tries again. A function never invoked costs no memory: a sandbox
 *   takes 40-65 MB of RSS, most of which the process keeps even after its thread ends
 *   (docs/architecture.md).
 * - `provisioned-concurrency`: the environment is initialised before any invocation, as provisioned
 *   concurrency prepares one, and {@link loadFunction} rejects when the module cannot be imported.
 */
export type InitializationType = 'on-demand' | 'provisioned-concurrency';

/** The function ran past its configured timeout; its sandbox was reset, so nothing of it runs on. */
export class LambdaTimeoutError extends Error {
  override readonly name = 'LambdaTimeoutError';
  readonly functionName: string;

  constructor(functionName: string, timeoutSeconds: number) {
    // The same words the Lambda service logs for a timed-out invocation.
    super(`Task timed out after ${timeoutSeconds.toFixed(2)} seconds`);
    this.functionName = functionName;
  }
}

/**
 * The invocation failed as Lambda reports it: `errorType` is the handler's error name (e.g.
 * `ConfigError`) or the runtime's (`Runtime.UnhandledPromiseRejection`, `Runtime.ExitError`,
 * `Runtime.OutOfMemory`, `Runtime.HandlerNotFound`, `Runtime.ImportModuleError`,
 * `Runtime.UserCodeSyntaxError`), `trace` its stack in the sandbox.
 */
export class LambdaFunctionError extends Error {
  readonly functionName: string;
  readonly errorType: string;
  readonly trace: readonly string[];

  constructor(functionName: string, response: ErrorResponse) {
    super(response.errorMessage);
    // Named after the error inside, so a log line reads `ConfigError: ...` as CloudWatch shows it.
    this.name = response.errorType;
    this.functionName = functionName;
    this.errorType = response.errorType;
    this.trace = response.trace;
    if (response.trace.length > 0) this.stack = response.trace.join('\n');
  }
}

interface Invocation {
  readonly resolve: (result: unknown) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
}

/**
 * Node's compile cache for the sandboxes, where Node would put it (a sandbox's own environment
 * has neither TMPDIR nor NODE_COMPILE_CACHE), and none under NODE_DISABLE_COMPILE_CACHE.
 */
const compileCache: { readonly compileCacheDir?: string } = process.env.NODE_DISABLE_COMPILE_CACHE
  ? {}
  : { compileCacheDir: process.env.NODE_COMPILE_CACHE ?? join(tmpdir(), 'node-compile-cache') };

/**
 * The young generation of a sandbox's heap, in MB, for a function of `memoryMb`: 1/16 of it (32 MB
 * at 512 MB, 16 MB at 256 MB). Lambda's Node.js bootstrap sizes the young generation from the
 * memory too (`--max-semi-space-size` of memory/20, so ~3/20 of it in all), which would let the
 * thirteen sandboxes take ~650 MB of young generation between them; uncapped, V8 grows each to
 * ~48 MB under allocation and keeps it. At 8 MB for every function, a 10,000-recipient broadcast
 * peaked ~200 MB lower than uncapped, but the `api` sandbox spent 17 % of its time collecting and
 * the mixed API bench saturated at 550-640 req/s; at 1/16 it reaches 680-700 req/s, for ~25 MB
 * more RSS with all thirteen started (`npm run bench -- api`, docs/architecture.md).
 */
export function sandboxYoungGenerationMb(memoryMb: number): number {
  return Math.max(8, Math.round(memoryMb / 16));
}

/**
 * Lambda's limit on an on-demand init, in seconds; past it, Lambda tries the init again within the
 * invocation's own timeout, so an invocation waits for a cold start at most this plus its timeout
 * ("Init phase", Lambda execution environment lifecycle).
 */
const ON_DEMAND_INIT_LIMIT_SECONDS = 10;

/** `2030/01/01/[$LATEST]<32 hex>`: Lambda's stream name, one per execution environment. */
function newLogStreamName(): string {
  return `${new Date().toISOString().slice(0, 10).replaceAll('-', '/')}/[$LATEST]${randomBytes(16).toString('hex')}`;
}

/** The variables Lambda sets in every execution environment; a function's configuration cannot override them. */
function reservedVariables(setup: SandboxSetup, region: string, accessKeyId: string, initialization: InitializationType): Variables {
  return {
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
    AWS_LAMBDA_FUNCTION_NAME: setup.functionName,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(setup.memoryMb),
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_INITIALIZATION_TYPE: initialization,
    AWS_LAMBDA_LOG_GROUP_NAME: setup.logGroupName,
    AWS_LAMBDA_LOG_STREAM_NAME: setup.logStreamName,
    // On Lambda, the execution role's temporary credentials; here one key per function.
    AWS_ACCESS_KEY_ID: accessKeyId,
    AWS_SECRET_ACCESS_KEY: 'local',
  };
}

/** `Runtime.ExitError` for an invocation whose sandbox went away under it. */
function exitError(functionName: string, requestId: string, cause: string): LambdaFunctionError {
  return new LambdaFunctionError(functionName, {
    errorType: 'Runtime.ExitError',
    errorMessage: `RequestId: ${requestId} Error: Runtime exited: ${cause}`,
    trace: [],
  });
}

/**
 * One execution environment: a worker thread with the function's environment that imports the
 * handler module, then runs the invocations it is given until it is retired (a timeout, a crash,
 * or stop), which fails those still under way and terminates the thread.
 */
class Sandbox {
  /** Resolves once the handler module is imported; rejects with why it could not be. */
  readonly ready: Promise<void>;
  private readonly worker: Worker;
  private readonly invocations = new Map<string, Invocation>();
  private readonly setup: SandboxSetup;
  private readonly timeoutSeconds: number;
  private readonly onRetired: (sandbox: Sandbox) => void;
  private retiredFlag = false;
  private initFailed: (error: Error) => void = () => undefined;
  private initTimer: NodeJS.Timeout | undefined;

  constructor(options: {
    readonly setup: SandboxSetup;
    readonly environment: Variables;
    readonly timeoutSeconds: number;
    /** How long its init may take before it fails as timed out. @default no limit */
    readonly initLimitSeconds?: number;
    readonly onRetired: (sandbox: Sandbox) => void;
    readonly onMetrics?: (line: string) => void;
    readonly onPublished?: (channel: string, message: unknown) => void;
  }) {
    const { setup } = options;
    this.setup = setup;
    this.timeoutSeconds = options.timeoutSeconds;
    this.onRetired = options.onRetired;
    this.worker = new Worker(workerEntry, {
      workerData: setup,
      env: options.environment,
      // The function's memory size caps its heap: a function that outgrows it dies, as on Lambda.
      resourceLimits: { maxOldGenerationSizeMb: setup.memoryMb, maxYoungGenerationSizeMb: sandboxYoungGenerationMb(setup.memoryMb) },
    });
    let ready: () => void = () => undefined;
    this.ready = new Promise<void>((resolveReady, rejectReady) => {
      ready = resolveReady;
      this.initFailed = rejectReady;
    });
    // Nobody may be waiting when a sandbox fails: its failure reaches the next invocation instead.
    this.ready.catch(() => undefined);
    if (options.initLimitSeconds !== undefined) {
      this.initTimer = setTimeout(() => {
        // As Lambda reports an init that outlasts its limit (Sandbox.Timedout): "Task timed out after N.NN seconds".
        this.initFailed(new LambdaTimeoutError(setup.functionName, this.timeoutSeconds));
        void this.retire((requestId) => exitError(setup.functionName, requestId, 'its init timed out'));
      }, options.initLimitSeconds * 1000);
    }
    this.worker.on('message', (message: SandboxMessage) => {
      if (this.retiredFlag) return;
      if (message.kind === 'emf') options.onMetrics?.(message.line);
      else if (message.kind === 'ready') {
        clearTimeout(this.initTimer);
        ready();
      } else if (message.kind === 'init-error' || message.kind === 'crash') this.fail(message.error);
      else if (message.kind === 'published') options.onPublished?.(message.channel, message.message);
      else this.settle(message);
    });
    // What the sandbox cannot report itself: running out of heap, or an error while crashing.
    this.worker.on('error', (error: Error & { code?: string }) => {
      if (this.retiredFlag) return;
      const outOfMemory = error.code === 'ERR_WORKER_OUT_OF_MEMORY';
      this.fail({
        errorType: outOfMemory ? 'Runtime.OutOfMemory' : 'Runtime.ExitError',
        errorMessage: outOfMemory ? `Runtime exited: the heap outgrew ${setup.memoryMb} MB` : `Runtime exited: ${error.message}`,
        trace: (error.stack ?? '').split('\n'),
      });
    });
    // The handler called process.exit(), or the thread ended some other way nobody asked for.
    this.worker.on('exit', (code) => {
      if (this.retiredFlag) return;
      this.fail({ errorType: 'Runtime.ExitError', errorMessage: `Runtime exited with error: exit status ${code}`, trace: [] });
    });
  }

  get retired(): boolean {
    return this.retiredFlag;
  }

  /** Runs one invocation of the (ready) sandbox on the event as JSON; rejects as `LambdaInvoker.invoke` says. */
  invoke(payload: string): Promise<unknown> {
    const requestId = randomUUID();
    const { functionName } = this.setup;
    // The timeout counts from the invocation: the init phase has a budget of its own on Lambda.
    const timeoutMs = this.timeoutSeconds * 1000;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.invocations.delete(requestId);
        reject(new LambdaTimeoutError(functionName, this.timeoutSeconds));
        // Lambda resets a timed-out sandbox: nothing the invocation left running may go on.
        void this.retire((other) => exitError(functionName, other, `the sandbox was reset after invocation ${requestId} timed out`));
      }, timeoutMs);
      this.invocations.set(requestId, { resolve, reject, timer });
      const message: InvokeMessage = { requestId, event: payload, deadline: Date.now() + timeoutMs };
      this.worker.postMessage(message);
    });
  }

  /** Its heap now, from the thread's own V8 statistics. */
  async heap(): Promise<SandboxHeap | undefined> {
    if (this.retiredFlag) return undefined;
    const statistics = await this.worker.getHeapStatistics().catch(() => undefined);
    return statistics ? { usedBytes: statistics.used_heap_size, totalBytes: statistics.total_heap_size } : undefined;
  }

  /** Fails the invocations under way with `failure` and terminates the thread. */
  async retire(failure: (requestId: string) => Error): Promise<void> {
    if (this.retiredFlag) return;
    this.retiredFlag = true;
    clearTimeout(this.initTimer);
    this.onRetired(this);
    for (const [requestId, invocation] of this.invocations) {
      clearTimeout(invocation.timer);
      invocation.reject(failure(requestId));
    }
    this.invocations.clear();
    // An invocation still waiting for the init (a cold start) fails alike, rather than waiting on.
    this.initFailed(failure(randomUUID()));
    await this.worker.terminate();
  }

  /** The sandbox cannot go on: whatever was waiting for it (its init, its invocations) fails alike. */
  private fail(error: ErrorResponse): void {
    this.initFailed(new LambdaFunctionError(this.setup.functionName, error));
    void this.retire(() => new LambdaFunctionError(this.setup.functionName, error));
  }

  private settle(message: Extract<SandboxMessage, { kind: 'result' | 'error' }>): void {
    const invocation = this.invocations.get(message.requestId);
    if (!invocation) return;
    this.invocations.delete(message.requestId);
    clearTimeout(invocation.timer);
    if (message.kind === 'result') invocation.resolve(JSON.parse(message.result));
    else invocation.reject(new LambdaFunctionError(this.setup.functionName, message.error));
  }
}

/**
 * The function a `FunctionDescription` names, ready to be invoked. With `initialization`
 * `provisioned-concurrency` its sandbox is started now (importing its module, the init phase) and
 * the promise rejects naming the function when the module cannot be imported or lacks the handler
 * export; `on-demand` (the default) starts it at the first invocation instead, which then fails
 * with that error.
 */
export async function loadFunction(description: FunctionDescription, options: LoadFunctionOptions): Promise<LocalFunction> {
  const functionName = `herald-local-${description.name}`;
  const accountId = options.accountId ?? LOCAL_ACCOUNT_ID;
  const environment: Variables = { ...options.environment };
  const accessKeyId = functionName;
  const initialization = options.initialization ?? 'on-demand';
  let current: Sandbox | undefined;
  let stopped = false;

  function startSandbox(initLimitSeconds?: number): Sandbox {
    const setup: SandboxSetup = {
      modulePath: resolve(options.rootDir ?? repositoryRoot, description.entry),
      handler: description.handler,
      functionName,
      functionArn: `arn:aws:lambda:${options.region}:${accountId}:function:${functionName}`,
      memoryMb: description.memoryMb,
      logGroupName: `/aws/lambda/${functionName}`,
      logStreamName: newLogStreamName(),
      stdoutFd: options.output?.stdout ?? 1,
      stderrFd: options.output?.stderr ?? 2,
      ...(options.logFormat ? { logFormat: options.logFormat } : {}),
      ...compileCache,
    };
    return new Sandbox({
      setup,
      environment: { ...environment, ...reservedVariables(setup, options.region, accessKeyId, initialization) },
      timeoutSeconds: description.timeoutSeconds,
      ...(initLimitSeconds !== undefined ? { initLimitSeconds } : {}),
      ...(options.onMetrics ? { onMetrics: options.onMetrics } : {}),
      // The next invocation starts a new sandbox, as Lambda initialises a new environment.
      onRetired: (sandbox) => {
        if (current === sandbox) current = undefined;
      },
      ...(options.onPublished ? { onPublished: options.onPublished } : {}),
    });
  }

  async function invoke(event: unknown): Promise<unknown> {
    if (stopped) throw new Error(`${functionName} is stopped`);
    // Lambda hands the handler a deserialised copy: nothing is shared with the caller.
    const payload = JSON.stringify(event ?? null);
    // Started here, on demand: its init is bounded as Lambda bounds an on-demand one.
    current ??= startSandbox(ON_DEMAND_INIT_LIMIT_SECONDS + description.timeoutSeconds);
    const sandbox = current;
    await sandbox.ready;
    // Reset while this invocation waited for it (a concurrent one timed out): a new sandbox takes it.
    if (sandbox.retired) return invoke(event);
    return sandbox.invoke(payload);
  }

  async function stop(): Promise<void> {
    stopped = true;
    await current?.retire((requestId) => exitError(functionName, requestId, `${functionName} was stopped`));
  }

  if (initialization === 'provisioned-concurrency') {
    current = startSandbox();
    try {
      await current.ready;
    } catch (error) {
      throw new Error(`Cannot load function ${description.name}: ${(error as Error).message}`, { cause: error });
    }
  }
  return { functionName, environment, accessKeyId, invoke, stop, heap: async () => current?.heap() };
}
