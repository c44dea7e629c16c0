import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FunctionDescription } from '../../../lib/app-description.ts';
import { LambdaFunctionError, LambdaTimeoutError, loadFunction, sandboxYoungGenerationMb } from '../../../local/lambda-runtime.ts';
import type { LocalFunction, LoadFunctionOptions } from '../../../local/lambda-runtime.ts';

const probe: FunctionDescription = {
  name: 'probe',
  entry: 'test/unit/local/fixtures/probe-function.ts',
  handler: 'handler',
  memoryMb: 256,
  timeoutSeconds: 30,
  triggers: [],
  access: {},
};

describe('local Lambda runtime', () => {
  let directory: string;
  let output: { stdout: number; stderr: number };
  const loaded: LocalFunction[] = [];

  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'herald-lambda-runtime-'));
    output = { stdout: openSync(join(directory, 'stdout'), 'a'), stderr: openSync(join(directory, 'stderr'), 'a') };
  });

  afterEach(async () => {
    await Promise.all(loaded.splice(0).map((fn) => fn.stop()));
    closeSync(output.stdout);
    closeSync(output.stderr);
    await rm(directory, { recursive: true, force: true });
  });

  async function load(description: Partial<FunctionDescription> = {}, options: Partial<LoadFunctionOptions> = {}): Promise<LocalFunction> {
    const fn = await loadFunction({ ...probe, ...description }, { region: 'us-east-1', output, ...options });
    loaded.push(fn);
    return fn;
  }

  function printed(stream: 'stdout' | 'stderr'): string[] {
    return readFileSync(join(directory, stream), 'utf8').split('\n').filter(Boolean);
  }

  describe('the invocation', () => {
    it('gives the handler a Context like the Lambda service does, its ARN in the local account', async () => {
      // Prepare
      const fn = await load();

      // Act
      const context = (await fn.invoke({ action: 'context' })) as Record<string, unknown>;

      // Assess
      expect(fn.functionName).toBe('herald-local-probe');
      expect(context).toMatchObject({
        functionName: 'herald-local-probe',
        functionVersion: '$LATEST',
        invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:herald-local-probe',
        memoryLimitInMB: '256',
        logGroupName: '/aws/lambda/herald-local-probe',
        logStreamName: expect.stringMatching(/^\d{4}\/\d\d\/\d\d\/\[\$LATEST\][0-9a-f]{32}$/),
        awsRequestId: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/),
      });
      expect(context.remainingMs).toBeGreaterThan(25_000);
      expect(context.remainingMs).toBeLessThanOrEqual(30_000);
    });

    it('names the local account in the ARN of its log lines, even when no account is given', async () => {
      // Prepare: an explicit `undefined` once overrode the default and logged `...:undefined:function:...`.
      const fn = await load({}, { accountId: undefined });

      // Act
      await fn.invoke({ action: 'log' });

      // Assess
      const lines = printed('stdout').map((line) => JSON.parse(line) as Record<string, unknown>);
      expect(lines).toContainEqual(
        expect.objectContaining({ message: 'probed', function_arn: 'arn:aws:lambda:us-east-1:000000000000:function:herald-local-probe' }),
      );
    });

    it('prints one readable line per log event when asked', async () => {
      // Prepare: the format npm start uses on a terminal
      const fn = await load({}, { logFormat: 'pretty' });

      // Act
      await fn.invoke({ action: 'log' });

      // Assess: time, level, function, message; the keys every line repeats are left out
      const lines = printed('stdout');
      expect(lines).toEqual([expect.stringMatching(/^\d\d:\d\d:\d\d\.\d{3} INFO {2}probe {2}probed$/)]);
    });

    it('names another account when asked to', async () => {
      // Prepare
      const fn = await load({}, { accountId: '111122223333', region: 'eu-west-1' });

      // Act
      const context = (await fn.invoke({ action: 'context' })) as Record<string, unknown>;

      // Assess
      expect(context.invokedFunctionArn).toBe('arn:aws:lambda:eu-west-1:111122223333:function:herald-local-probe');
    });

    it('gives every invocation its own request id, and every sandbox one log stream', async () => {
      // Prepare
      const fn = await load();

      // Act
      const first = (await fn.invoke({ action: 'context' })) as Record<string, unknown>;
      const second = (await fn.invoke({ action: 'context' })) as Record<string, unknown>;
      const environment = (await fn.invoke({ action: 'environment' })) as Record<string, string>;

      // Assess
      expect(first.awsRequestId).not.toBe(second.awsRequestId);
      expect(first.logStreamName).toBe(second.logStreamName);
      expect(environment.AWS_LAMBDA_LOG_STREAM_NAME).toBe(first.logStreamName);
    });

    it('hands the handler a copy of the event and returns the result as JSON would carry it', async () => {
      // Prepare
      const fn = await load();
      const event = { action: 'copy', items: [1, 2] };

      // Act
      const result = await fn.invoke(event);

      // Assess
      expect(event.items).toEqual([1, 2]);
      expect(result).toEqual({ at: '2030-01-01T00:00:00.000Z' });
    });

    it('runs concurrent invocations of one function side by side', async () => {
      // Prepare
      const fn = await load();

      // Act
      const results = await Promise.all([fn.invoke({ action: 'a' }), fn.invoke({ action: 'b' }), fn.invoke({ action: 'c' })]);

      // Assess
      expect(results).toEqual([{ echoed: 'a' }, { echoed: 'b' }, { echoed: 'c' }]);
    });

    it('rejects with the handler’s error as Lambda reports it', async () => {
      // Prepare
      const fn = await load();

      // Act
      const failure = await fn.invoke({ action: 'fail' }).catch((error: unknown) => error);

      // Assess
      expect(failure).toBeInstanceOf(LambdaFunctionError);
      expect(failure).toMatchObject({ errorType: 'StoreUnavailableError', name: 'StoreUnavailableError', message: 'store unavailable' });
      expect((failure as LambdaFunctionError).trace.join('\n')).toContain('probe-function.ts');
    });
  });

  describe('the environment', () => {
    afterEach(() => {
      delete process.env.HERALD_PROBE_OF_THE_PROCESS;
    });

    it('holds the function’s own variables and the ones Lambda reserves, nothing of the process', async () => {
      // Prepare
      process.env.HERALD_PROBE_OF_THE_PROCESS = 'leaked';
      const fn = await load({}, { environment: { HERALD_TABLE_INBOX: 'herald-local-inbox' } });

      // Act
      const environment = (await fn.invoke({ action: 'environment' })) as Record<string, string>;

      // Assess
      expect(environment).toEqual({
        HERALD_TABLE_INBOX: 'herald-local-inbox',
        AWS_REGION: 'us-east-1',
        AWS_DEFAULT_REGION: 'us-east-1',
        AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
        AWS_LAMBDA_FUNCTION_NAME: 'herald-local-probe',
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
        AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
        AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
        AWS_LAMBDA_LOG_GROUP_NAME: '/aws/lambda/herald-local-probe',
        AWS_LAMBDA_LOG_STREAM_NAME: expect.stringMatching(/\[\$LATEST\][0-9a-f]{32}$/),
        AWS_ACCESS_KEY_ID: 'herald-local-probe',
        AWS_SECRET_ACCESS_KEY: 'local',
      });
      expect(fn.environment).toEqual({ HERALD_TABLE_INBOX: 'herald-local-inbox' });
    });

    it('signs each function’s calls with an access key id of its own', async () => {
      // Prepare
      const probeFn = await load();
      const other = await load({ name: 'other' });

      // Act
      const keys = await Promise.all([probeFn, other].map(async (fn) => ((await fn.invoke({ action: 'environment' })) as Record<string, string>).AWS_ACCESS_KEY_ID));

      // Assess
      expect(keys).toEqual(['herald-local-probe', 'herald-local-other']);
      expect([probeFn.accessKeyId, other.accessKeyId]).toEqual(keys);
    });

    it('keeps the variables Lambda reserves, whatever the configuration says', async () => {
      // Prepare
      const fn = await load({}, { environment: { AWS_REGION: 'mars-north-1', AWS_ACCESS_KEY_ID: 'borrowed' } });

      // Act
      const environment = (await fn.invoke({ action: 'environment' })) as Record<string, string>;

      // Assess
      expect(environment).toMatchObject({ AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'herald-local-probe' });
    });
  });

  describe('the sandbox lifecycle', () => {
    it('rejects with LambdaTimeoutError when the handler runs past its timeout', async () => {
      // Prepare
      const fn = await load({ timeoutSeconds: 0.1 });

      // Act
      const invocation = fn.invoke({ action: 'hang' });

      // Assess
      await expect(invocation).rejects.toBeInstanceOf(LambdaTimeoutError);
      await expect(invocation).rejects.toThrow('Task timed out after 0.10 seconds');
    });

    it('resets a timed-out sandbox: what the invocation left running stops, the next one starts afresh', async () => {
      // Prepare
      const fn = await load({ timeoutSeconds: 0.2 });
      await fn.invoke({ action: 'count' });

      // Act
      await expect(fn.invoke({ action: 'tick' })).rejects.toBeInstanceOf(LambdaTimeoutError);
      const ticksAtReset = printed('stdout').length;
      await new Promise((resolve) => setTimeout(resolve, 300));
      const ticksLater = printed('stdout').length;
      const count = await fn.invoke({ action: 'count' });

      // Assess
      expect(ticksAtReset).toBeGreaterThan(0);
      expect(ticksLater).toBe(ticksAtReset);
      expect(count).toBe(1);
    });

    it('keeps every line a sandbox printed before it was reset after a timeout', async () => {
      // Prepare
      // Printing takes tens of milliseconds; the timeout leaves it far more.
      const fn = await load({ timeoutSeconds: 1.5 });

      // Act
      await expect(fn.invoke({ action: 'print-then-hang', lines: 5_000 })).rejects.toBeInstanceOf(LambdaTimeoutError);

      // Assess
      const lines = printed('stdout');
      expect(lines).toHaveLength(5_000);
      expect(lines.at(-1)).toMatch(/^line 4999 x+$/);
    });

    it('fails the other invocations of a sandbox reset after a timeout', async () => {
      // Prepare
      const fn = await load({ timeoutSeconds: 0.2 });

      // Act
      const [first, second] = await Promise.allSettled([fn.invoke({ action: 'hang' }), fn.invoke({ action: 'hang' })]);

      // Assess
      expect(first).toMatchObject({ status: 'rejected', reason: expect.any(LambdaTimeoutError) });
      expect(second).toMatchObject({ status: 'rejected', reason: { errorType: 'Runtime.ExitError' } });
      expect((second as PromiseRejectedResult).reason).toBeInstanceOf(LambdaFunctionError);
      expect(((second as PromiseRejectedResult).reason as Error).message).toMatch(/sandbox was reset after invocation .+ timed out/);
    });

    it('fails the invocations under way on an uncaught exception, logs it, and starts afresh', async () => {
      // Prepare
      const fn = await load();
      await fn.invoke({ action: 'count' });

      // Act
      const [crashing, bystander] = await Promise.allSettled([fn.invoke({ action: 'uncaught' }), fn.invoke({ action: 'hang' })]);
      const count = await fn.invoke({ action: 'count' });

      // Assess
      for (const outcome of [crashing, bystander]) {
        expect(outcome).toMatchObject({ status: 'rejected', reason: { errorType: 'Error', message: 'boom' } });
      }
      expect(count).toBe(1);
      expect(printed('stderr').map((line) => JSON.parse(line) as Record<string, unknown>)).toContainEqual(
        expect.objectContaining({ level: 'ERROR', message: 'Uncaught Exception', function: 'herald-local-probe', errorMessage: 'boom' }),
      );
    });

    it('fails the invocations under way on an unhandled rejection, as Lambda names it', async () => {
      // Prepare
      const fn = await load();

      // Act
      const failure = await fn.invoke({ action: 'unhandled' }).catch((error: unknown) => error);
      const after = await fn.invoke({ action: 'after' });

      // Assess
      expect(failure).toBeInstanceOf(LambdaFunctionError);
      expect(failure).toMatchObject({ errorType: 'Runtime.UnhandledPromiseRejection', message: 'Error: yikes' });
      expect(after).toEqual({ echoed: 'after' });
    });

    it('fails the invocations under way when the handler exits the runtime', async () => {
      // Prepare
      const fn = await load();

      // Act
      const failure = await fn.invoke({ action: 'exit' }).catch((error: unknown) => error);
      const after = await fn.invoke({ action: 'after' });

      // Assess
      expect(failure).toMatchObject({ errorType: 'Runtime.ExitError', message: 'Runtime exited with error: exit status 3' });
      expect(after).toEqual({ echoed: 'after' });
    });

    it('fails the invocation whose heap outgrows the function’s memory size', async () => {
      // Prepare
      const fn = await load({ memoryMb: 64 });

      // Act
      const failure = await fn.invoke({ action: 'grow' }).catch((error: unknown) => error);
      const after = await fn.invoke({ action: 'after' });

      // Assess
      expect(failure).toMatchObject({ errorType: 'Runtime.OutOfMemory' });
      expect(after).toEqual({ echoed: 'after' });
    });

    it('rejects the invocations under way and later ones once stopped', async () => {
      // Prepare
      const fn = await load();
      const underWay = fn.invoke({ action: 'hang' }).catch((error: unknown) => error);
      // The sandbox answers in order: once this one is back, the hanging one is running.
      await fn.invoke({ action: 'count' });

      // Act
      await fn.stop();

      // Assess
      expect(await underWay).toMatchObject({ errorType: 'Runtime.ExitError', message: expect.stringContaining('herald-local-probe was stopped') });
      await expect(fn.invoke({ action: 'after' })).rejects.toThrow('herald-local-probe is stopped');
    });
  });

  describe('memory', () => {
    it('reports the heap of its sandbox, and none once stopped', async () => {
      // Prepare
      const fn = await load();
      await fn.invoke({ action: 'count' });

      // Act
      const running = await fn.heap();
      await fn.stop();
      const stopped = await fn.heap();

      // Assess
      expect(running?.usedBytes).toBeGreaterThan(0);
      expect(running?.totalBytes).toBeGreaterThanOrEqual(running?.usedBytes ?? Number.POSITIVE_INFINITY);
      expect(stopped).toBeUndefined();
    });
  });

  describe('loading a function from the app description', () => {
    it('imports the entry relative to the root and invokes its handler export', async () => {
      // Prepare
      writeFileSync(join(directory, 'echo.mjs'), 'export const handler = async (event, context) => ({ echoed: event.message, by: context.functionName });\n');

      // Act
      const fn = await load({ name: 'echo', entry: 'echo.mjs' }, { rootDir: directory });
      const result = await fn.invoke({ message: 'hi' });

      // Assess
      expect(result).toEqual({ echoed: 'hi', by: 'herald-local-echo' });
    });

    it('fails naming the module when it has no such handler export', async () => {
      // Prepare
      writeFileSync(join(directory, 'wrong.mjs'), 'export const main = async () => null;\n');

      // Act
      const loading = load({ name: 'wrong', entry: 'wrong.mjs' }, { rootDir: directory, initialization: 'provisioned-concurrency' });

      // Assess
      await expect(loading).rejects.toThrow(/Cannot load function wrong: .*wrong\.mjs does not export a function named handler/);
    });

    it('fails naming the function when its module throws on import', async () => {
      // Prepare
      writeFileSync(join(directory, 'broken.mjs'), "throw new Error('no config');\n");

      // Act
      const loading = load({ name: 'broken', entry: 'broken.mjs' }, { rootDir: directory, initialization: 'provisioned-concurrency' });

      // Assess
      await expect(loading).rejects.toThrow('Cannot load function broken: no config');
    });
  });

  describe('initialization', () => {
    it('on demand, starts no sandbox until the first invocation, as Lambda', async () => {
      // Prepare
      const fn = await load();

      // Act
      const before = await fn.heap();
      const environment = (await fn.invoke({ action: 'environment' })) as Record<string, string>;
      const after = await fn.heap();

      // Assess
      expect(before).toBeUndefined();
      expect(after?.usedBytes).toBeGreaterThan(0);
      expect(environment.AWS_LAMBDA_INITIALIZATION_TYPE).toBe('on-demand');
    });

    it('with provisioned concurrency, starts the sandbox at load and says so in AWS_LAMBDA_INITIALIZATION_TYPE', async () => {
      // Prepare
      const fn = await load({}, { initialization: 'provisioned-concurrency' });

      // Act
      const before = await fn.heap();
      const environment = (await fn.invoke({ action: 'environment' })) as Record<string, string>;

      // Assess
      expect(before?.usedBytes).toBeGreaterThan(0);
      expect(environment.AWS_LAMBDA_INITIALIZATION_TYPE).toBe('provisioned-concurrency');
    });

    it('on demand, fails the first invocation with an init error, and initialises afresh at the next', async () => {
      // Prepare
      writeFileSync(join(directory, 'fixed-later.mjs'), "throw new Error('no config');\n");
      const fn = await load({ name: 'fixed-later', entry: 'fixed-later.mjs' }, { rootDir: directory });

      // Act
      const first = await fn.invoke({}).catch((error: unknown) => error);
      writeFileSync(join(directory, 'fixed-later.mjs'), "export const handler = async () => 'initialised';\n");
      const second = await fn.invoke({});

      // Assess
      expect(first).toBeInstanceOf(LambdaFunctionError);
      expect(first).toMatchObject({ functionName: 'herald-local-fixed-later', errorType: 'Error', message: 'no config' });
      expect(second).toBe('initialised');
    });

    it('on demand, fails an invocation still waiting for its cold start when the function is stopped', async () => {
      // Prepare
      writeFileSync(join(directory, 'slow-init.mjs'), "await new Promise((resolve) => setTimeout(resolve, 60_000));\nexport const handler = async () => 'late';\n");
      const fn = await load({ name: 'slow-init', entry: 'slow-init.mjs' }, { rootDir: directory });
      const waiting = fn.invoke({}).catch((error: unknown) => error);

      // Act
      await fn.stop();

      // Assess
      expect(await waiting).toMatchObject({ errorType: 'Runtime.ExitError', message: expect.stringContaining('herald-local-slow-init was stopped') });
    });

    it('on demand, bounds a cold start as Lambda bounds an init (10 s, then the function timeout), and resets the sandbox', async () => {
      // Prepare: a 1 s function whose init would take a minute
      writeFileSync(join(directory, 'stuck-init.mjs'), "await new Promise((resolve) => setTimeout(resolve, 60_000));\nexport const handler = async () => 'late';\n");
      const fn = await load({ name: 'stuck-init', entry: 'stuck-init.mjs', timeoutSeconds: 1 }, { rootDir: directory });

      // Act
      const outcome = await fn.invoke({}).catch((error: unknown) => error);

      // Assess
      expect(outcome).toBeInstanceOf(LambdaTimeoutError);
      expect((outcome as Error).message).toBe('Task timed out after 1.00 seconds');
      expect(await fn.heap()).toBeUndefined();
    }, 45_000);

    it('on demand, fails a missing handler module as Runtime.ImportModuleError and a syntax error as Runtime.UserCodeSyntaxError, as the nodejs runtime does', async () => {
      // Prepare
      writeFileSync(join(directory, 'syntax.mjs'), 'export const handler = async () => {;\n');
      const missing = await load({ name: 'missing', entry: 'no-such-file.mjs' }, { rootDir: directory });
      const syntax = await load({ name: 'syntax', entry: 'syntax.mjs' }, { rootDir: directory });

      // Act
      const failures = await Promise.all([missing, syntax].map((fn) => fn.invoke({}).catch((error: unknown) => error)));

      // Assess
      expect(failures).toEqual([
        expect.objectContaining({ errorType: 'Runtime.ImportModuleError', message: expect.stringContaining('no-such-file.mjs') }),
        expect.objectContaining({ errorType: 'Runtime.UserCodeSyntaxError', message: expect.stringMatching(/^SyntaxError: /) }),
      ]);
    });

    it('on demand, starts one sandbox for invocations that arrive together before it is ready', async () => {
      // Prepare
      const fn = await load();

      // Act
      const counts = await Promise.all([1, 2, 3].map(() => fn.invoke({ action: 'count' })));

      // Assess
      expect([...(counts as number[])].sort()).toEqual([1, 2, 3]);
    });
  });
});

describe('sandboxYoungGenerationMb', () => {
  it('gives a sandbox a young generation of 1/16 of its function\'s memory size, at least 8 MB', () => {
    expect([128, 256, 512, 1024, 3008].map(sandboxYoungGenerationMb)).toEqual([8, 16, 32, 64, 188]);
  });
});
