import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Context } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FunctionDescription } from '../../../lib/app-description.ts';
import { createInvoker, LambdaTimeoutError, loadFunction } from '../../../local/lambda-runtime.ts';

const options = { name: 'deliver', timeoutSeconds: 30, memoryMb: 512, region: 'eu-west-1' };

describe('local Lambda runtime', () => {
  it('gives the handler a Context like the Lambda service does', async () => {
    // Prepare
    let context: Context | undefined;
    let remaining = 0;
    const invoker = createInvoker((_event, received) => {
      context = received;
      remaining = received.getRemainingTimeInMillis();
    }, options);

    // Act
    await invoker.invoke({});

    // Assess
    expect(invoker.functionName).toBe('herald-local-deliver');
    expect(context).toMatchObject({
      functionName: 'herald-local-deliver',
      functionVersion: '$LATEST',
      invokedFunctionArn: 'arn:aws:lambda:eu-west-1:000000000000:function:herald-local-deliver',
      memoryLimitInMB: '512',
      logGroupName: '/aws/lambda/herald-local-deliver',
      awsRequestId: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/),
    });
    expect(remaining).toBeGreaterThan(25_000);
    expect(remaining).toBeLessThanOrEqual(30_000);
  });

  it('gives every invocation its own request id', async () => {
    // Prepare
    const ids: string[] = [];
    const invoker = createInvoker((_event, context) => ids.push(context.awsRequestId), options);

    // Act
    await invoker.invoke({});
    await invoker.invoke({});

    // Assess
    expect(new Set(ids).size).toBe(2);
  });

  it('hands the handler a copy of the event and returns the result as JSON would carry it', async () => {
    // Prepare
    const event = { items: [1, 2] };
    const invoker = createInvoker((received) => {
      (received as { items: number[] }).items.push(3);
      return { at: new Date('2030-01-01T00:00:00Z'), missing: undefined };
    }, options);

    // Act
    const result = await invoker.invoke(event);

    // Assess
    expect(event.items).toEqual([1, 2]);
    expect(result).toEqual({ at: '2030-01-01T00:00:00.000Z' });
  });

  it('rejects with the handler’s own error', async () => {
    // Prepare
    const failure = new Error('store unavailable');
    const invoker = createInvoker(async () => {
      throw failure;
    }, options);

    // Act
    const invocation = invoker.invoke({});

    // Assess
    await expect(invocation).rejects.toBe(failure);
  });

  it('rejects with LambdaTimeoutError when the handler runs past its timeout', async () => {
    // Prepare
    const invoker = createInvoker(() => new Promise(() => undefined), { ...options, timeoutSeconds: 0.1 });

    // Act
    const invocation = invoker.invoke({});

    // Assess
    await expect(invocation).rejects.toBeInstanceOf(LambdaTimeoutError);
    await expect(invocation).rejects.toThrow('Task timed out after 0.10 seconds');
  });

  describe('loading a function from the app description', () => {
    let directory: string;

    beforeEach(async () => {
      directory = await mkdtemp(join(tmpdir(), 'herald-lambda-runtime-'));
    });

    afterEach(async () => {
      await rm(directory, { recursive: true, force: true });
    });

    function description(entry: string): FunctionDescription {
      return { name: 'echo', entry, handler: 'handler', memoryMb: 128, timeoutSeconds: 3, triggers: [], access: {} };
    }

    it('imports the entry relative to the root and invokes its handler export', async () => {
      // Prepare
      await writeFile(
        join(directory, 'echo.mjs'),
        'export const handler = async (event, context) => ({ echoed: event.message, by: context.functionName });\n',
      );

      // Act
      const invoker = await loadFunction(description('echo.mjs'), { region: 'eu-west-1', rootDir: directory });
      const result = await invoker.invoke({ message: 'hi' });

      // Assess
      expect(result).toEqual({ echoed: 'hi', by: 'herald-local-echo' });
    });

    it('fails naming the module when it has no such handler export', async () => {
      // Prepare
      await writeFile(join(directory, 'wrong.mjs'), 'export const main = async () => null;\n');

      // Act
      const loading = loadFunction(description('wrong.mjs'), { region: 'eu-west-1', rootDir: directory });

      // Assess
      await expect(loading).rejects.toThrow(/wrong\.mjs does not export a function named handler/);
    });
  });
});
