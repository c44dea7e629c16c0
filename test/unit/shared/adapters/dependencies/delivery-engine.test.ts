/**
 * The delivery engine's composition: the SES send budget read once per cold start, however many
 * invocations a sandbox starts side by side (locally every concurrent invocation of a function
 * shares one sandbox; on Lambda an environment's first invocation is alone anyway). Through the
 * real SES client, against the local SES (its faultable endpoint, as the functions call it, whose
 * hook records the operations).
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { CallHook } from '../../../../../local/aws-call-hook.ts';
import { startSesEmulator } from '../../../../../local/ses-emulator.ts';
import { localFunctionEnv } from '../../../support/function-env.ts';

const calls: string[] = [];
const hook: CallHook = (_service, call) => {
  calls.push(call.operation);
  return undefined;
};
const ses = await startSesEmulator({ port: 0, faultable: { hook, port: 0 }, quota: { maxSendRate: 14 }, log: () => undefined });

// No configured budget: the engine asks SES for the account's own rate. Set before the module loads.
const env = localFunctionEnv('http://127.0.0.1:1', { AWS_ENDPOINT_URL_SES: ses.faultableEndpoint ?? '' });
delete env.HERALD_RATE_SES_PER_SECOND;
Object.assign(process.env, env);
delete process.env.HERALD_RATE_SES_PER_SECOND;
const { loadSendBudgets } = await import('../../../../../shared/adapters/dependencies/delivery-engine.ts');

afterAll(async () => {
  await ses.stop();
});

describe('the send budgets of the delivery engine', () => {
  it('asks SES for its quota once, however many invocations wait for it at once', async () => {
    // Act: five invocations of a cold sandbox start together, then one more later.
    await Promise.all(Array.from({ length: 5 }, () => loadSendBudgets()));
    await loadSendBudgets();

    // Assess
    expect(calls).toEqual(['GetSendQuota']);
  });
});
