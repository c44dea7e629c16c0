/**
 * Runs a Herald Lambda handler the way the Lambda nodejs24.x runtime would, each function in its
 * own sandbox: a worker thread (local/lambda-worker.ts) that sees only the function's environment
 * plus the variables Lambda reserves, gets a JSON copy of each event and a realistic `Context`,
 * and is reset (terminated, then started afresh on the next invocation) when an invocation times
 * out or its runtime crashes, as Lambda resets an execution environment.
 *
 * One difference: a Lambda sandbox runs one invocation at a time, while a worker here runs every
 * concurrent invocation of its function (as async code); a reset therefore fails all of them.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { FunctionDescription } from '../lib/app-description.ts';
import type { Variables } from '../lib/function-environment.ts';
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
}

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
 * `Runtime.OutOfMemory`, `Runtime.HandlerNotFound`), `trace` its stack in the sandbox.
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

interface Sandbox {
  readonly worker: Worker;
  /** Resolves once the handler module is imported; rejects with why it could not be. */
  readonly ready: Promise<void>;
  readonly invocations: Map<string, Invocation>;
  /** Set once the sandbox is being torn down: its later messages and exit mean nothing. */
  retired: boolean;
}

/** `2030/01/01/[$LATEST]<32 hex>`: Lambda's stream name, one per execution environment. */
function newLogStreamName(): string {
  return `${new Date().toISOString().slice(0, 10).replaceAll('-', '/')}/[$LATEST]${randomBytes(16).toString('hex')}`;
}

/** The variables Lambda sets in every execution environment; a function's configuration cannot override them. */
function reservedVariables(setup: SandboxSetup, region: string, accessKeyId: string): Variables {
  return {
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
    AWS_LAMBDA_FUNCTION_NAME: setup.functionName,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(setup.memoryMb),
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    AWS_LAMBDA_LOG_GROUP_NAME: setup.logGroupName,
    AWS_LAMBDA_LOG_STREAM_NAME: setup.logStreamName,
    // On Lambda, the execution role's temporary credentials; here one key per function.
    AWS_ACCESS_KEY_ID: accessKeyId,
    AWS_SECRET_ACCESS_KEY: 'local',
  };
}

/**
 * Starts the sandbox of the function a `FunctionDescription` names (importing its module, the
 * init phase) and resolves with it; rejects naming the function when the module cannot be
 * imported or lacks the handler export.
 */
export async function loadFunction(description: FunctionDescription, options: LoadFunctionOptions): Promise<LocalFunction> {
  const functionName = `herald-local-${description.name}`;
  const accountId = options.accountId ?? LOCAL_ACCOUNT_ID;
  const modulePath = resolve(options.rootDir ?? repositoryRoot, description.entry);
  const environment: Variables = { ...options.environment };
  const accessKeyId = functionName;
  const timeoutMs = description.timeoutSeconds * 1000;
  let current: Sandbox | undefined;
  let stopped = false;

  const exitError = (requestId: string, cause: string): LambdaFunctionError =>
    new LambdaFunctionError(functionName, {
      errorType: 'Runtime.ExitError',
      errorMessage: `RequestId: ${requestId} Error: Runtime exited: ${cause}`,
      trace: [],
    });

  /** Fails what the sandbox was running and terminates it; the next invocation starts a new one. */
  async function retire(sandbox: Sandbox, failure: (requestId: string) => Error): Promise<void> {
    if (current === sandbox) current = undefined;
    if (sandbox.retired) return;
    sandbox.retired = true;
    for (const [requestId, invocation] of sandbox.invocations) {
      clearTimeout(invocation.timer);
      invocation.reject(failure(requestId));
    }
    sandbox.invocations.clear();
    await sandbox.worker.terminate();
  }

  function startSandbox(): Sandbox {
    const setup: SandboxSetup = {
      modulePath,
      handler: description.handler,
      functionName,
      functionArn: `arn:aws:lambda:${options.region}:${accountId}:function:${functionName}`,
      memoryMb: description.memoryMb,
      logGroupName: `/aws/lambda/${functionName}`,
      logStreamName: newLogStreamName(),
      stdoutFd: options.output?.stdout ?? 1,
      stderrFd: options.output?.stderr ?? 2,
    };
    const worker = new Worker(workerEntry, {
      workerData: setup,
      env: { ...environment, ...reservedVariables(setup, options.region, accessKeyId) },
      // The function's memory size caps its heap: a function that outgrows it dies, as on Lambda.
      resourceLimits: { maxOldGenerationSizeMb: description.memoryMb },
    });
    let ready: () => void = () => undefined;
    let initFailed: (error: Error) => void = () => undefined;
    const sandbox: Sandbox = {
      worker,
      ready: new Promise<void>((resolveReady, rejectReady) => {
        ready = resolveReady;
        initFailed = rejectReady;
      }),
      invocations: new Map(),
      retired: false,
    };
    // Nobody may be waiting when a sandbox fails: its failure reaches the next invocation instead.
    sandbox.ready.catch(() => undefined);
    const failAll = (error: ErrorResponse): void => {
      initFailed(new LambdaFunctionError(functionName, error));
      void retire(sandbox, () => new LambdaFunctionError(functionName, error));
    };
    worker.on('message', (message: SandboxMessage) => {
      if (sandbox.retired) return;
      switch (message.kind) {
        case 'ready':
          ready();
          return;
        case 'init-error':
        case 'crash':
          failAll(message.error);
          return;
        case 'result':
        case 'error': {
          const invocation = sandbox.invocations.get(message.requestId);
          if (!invocation) return;
          sandbox.invocations.delete(message.requestId);
          clearTimeout(invocation.timer);
          if (message.kind === 'result') invocation.resolve(JSON.parse(message.result));
          else invocation.reject(new LambdaFunctionError(functionName, message.error));
        }
      }
    });
    // What the sandbox cannot report itself: running out of heap, or an error while crashing.
    worker.on('error', (error: Error & { code?: string }) => {
      if (sandbox.retired) return;
      const outOfMemory = error.code === 'ERR_WORKER_OUT_OF_MEMORY';
      failAll({
        errorType: outOfMemory ? 'Runtime.OutOfMemory' : 'Runtime.ExitError',
        errorMessage: outOfMemory ? `Runtime exited: the heap outgrew ${description.memoryMb} MB` : `Runtime exited: ${error.message}`,
        trace: (error.stack ?? '').split('\n'),
      });
    });
    // The handler called process.exit(), or the thread ended some other way nobody asked for.
    worker.on('exit', (code) => {
      if (sandbox.retired) return;
      failAll({ errorType: 'Runtime.ExitError', errorMessage: `Runtime exited with error: exit status ${code}`, trace: [] });
    });
    return sandbox;
  }

  async function invoke(event: unknown): Promise<unknown> {
    if (stopped) throw new Error(`${functionName} is stopped`);
    current ??= startSandbox();
    const sandbox = current;
    await sandbox.ready;
    // Reset while this invocation waited for it (a concurrent one timed out): a new sandbox takes it.
    if (sandbox.retired) return invoke(event);
    const requestId = randomUUID();
    // The timeout counts from the invocation: the init phase has a budget of its own on Lambda.
    const deadline = Date.now() + timeoutMs;
    return new Promise((resolveResult, rejectResult) => {
      const timer = setTimeout(() => {
        sandbox.invocations.delete(requestId);
        rejectResult(new LambdaTimeoutError(functionName, description.timeoutSeconds));
        // Lambda resets a timed-out sandbox: nothing the invocation left running may go on.
        void retire(sandbox, (other) => exitError(other, `the sandbox was reset after invocation ${requestId} timed out`));
      }, timeoutMs);
      sandbox.invocations.set(requestId, { resolve: resolveResult, reject: rejectResult, timer });
      const message: InvokeMessage = { requestId, event: JSON.stringify(event ?? null), deadline };
      sandbox.worker.postMessage(message);
    });
  }

  async function stop(): Promise<void> {
    stopped = true;
    const sandbox = current;
    if (sandbox) await retire(sandbox, (requestId) => exitError(requestId, `${functionName} was stopped`));
  }

  const first = startSandbox();
  current = first;
  try {
    await first.ready;
  } catch (error) {
    throw new Error(`Cannot load function ${description.name}: ${(error as Error).message}`, { cause: error });
  }
  return { functionName, environment, accessKeyId, invoke, stop };
}
