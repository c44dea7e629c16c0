/**
 * Runs a Herald Lambda handler in-process, the way the Lambda nodejs24.x runtime would:
 * a JSON-serialised event, a realistic `Context`, and the function's timeout enforced.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Context } from 'aws-lambda';
import type { FunctionDescription } from '../lib/app-description.ts';

/** Account id the local stack uses in every ARN (the same as fauxqs). */
export const LOCAL_ACCOUNT_ID = '000000000000';

/** The repository root, against which `FunctionDescription.entry` is resolved. */
const repositoryRoot = resolve(import.meta.dirname, '..');

/** A handler as Herald writes them: async, two arguments, no callback. */
export type LambdaHandler = (event: unknown, context: Context) => unknown;

/** What the local stack calls to run one function. */
export interface LambdaInvoker {
  /** Physical name, `herald-local-<name>`. */
  readonly functionName: string;
  /** Runs the handler once; rejects with the handler's own error or a `LambdaTimeoutError`. */
  invoke(event: unknown): Promise<unknown>;
}

export interface InvokerOptions {
  /** Logical name from the app description. */
  readonly name: string;
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
  readonly region: string;
  /** @default LOCAL_ACCOUNT_ID */
  readonly accountId?: string;
}

/** The function ran past its configured timeout; its work may still be running in the background. */
export class LambdaTimeoutError extends Error {
  override readonly name = 'LambdaTimeoutError';
  readonly functionName: string;

  constructor(functionName: string, timeoutSeconds: number) {
    // The same words the Lambda service logs for a timed-out invocation.
    super(`Task timed out after ${timeoutSeconds.toFixed(2)} seconds`);
    this.functionName = functionName;
  }
}

/** Builds an invoker around a plain handler function (tests, or handlers already imported). */
export function createInvoker(handler: LambdaHandler, options: InvokerOptions): LambdaInvoker {
  const functionName = `herald-local-${options.name}`;
  const accountId = options.accountId ?? LOCAL_ACCOUNT_ID;
  const timeoutMs = options.timeoutSeconds * 1000;

  async function invoke(event: unknown): Promise<unknown> {
    // Lambda hands the handler a fresh deserialised copy; a handler must not share objects with its caller.
    const payload: unknown = event === undefined ? null : JSON.parse(JSON.stringify(event));
    const deadline = Date.now() + timeoutMs;
    const context = buildContext({ functionName, accountId, deadline, ...options });
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new LambdaTimeoutError(functionName, options.timeoutSeconds)), timeoutMs);
    });
    try {
      const result = await Promise.race([Promise.resolve().then(() => handler(payload, context)), timedOut]);
      // The service serialises the result as JSON: `undefined` becomes null, Dates become strings.
      return result === undefined ? null : JSON.parse(JSON.stringify(result));
    } finally {
      clearTimeout(timer);
    }
  }

  return { functionName, invoke };
}

/** Imports the handler module a `FunctionDescription` names and returns an invoker for it. */
export async function loadFunction(
  description: FunctionDescription,
  options: { readonly region: string; readonly accountId?: string; readonly rootDir?: string },
): Promise<LambdaInvoker> {
  const modulePath = resolve(options.rootDir ?? repositoryRoot, description.entry);
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(modulePath).href)) as Record<string, unknown>;
  } catch (error) {
    throw new Error(`Cannot load function ${description.name} from ${modulePath}`, { cause: error });
  }
  const handler = module[description.handler];
  if (typeof handler !== 'function') {
    throw new Error(`${modulePath} does not export a function named ${description.handler}`);
  }
  return createInvoker(handler as LambdaHandler, {
    name: description.name,
    timeoutSeconds: description.timeoutSeconds,
    memoryMb: description.memoryMb,
    region: options.region,
    accountId: options.accountId,
  });
}

function buildContext(options: {
  readonly functionName: string;
  readonly accountId: string;
  readonly region: string;
  readonly memoryMb: number;
  readonly deadline: number;
}): Context {
  const { functionName, accountId, region, memoryMb, deadline } = options;
  const today = new Date().toISOString().slice(0, 10).replaceAll('-', '/');
  const legacy = (): never => {
    // nodejs24.x dropped the callback-era completion functions; failing loudly beats a silent no-op.
    throw new Error('context.done/succeed/fail are not supported by the nodejs24.x runtime: return or throw instead');
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${region}:${accountId}:function:${functionName}`,
    memoryLimitInMB: String(memoryMb),
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `${today}/[$LATEST]${randomBytes(16).toString('hex')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: legacy,
    fail: legacy,
    succeed: legacy,
  };
}
