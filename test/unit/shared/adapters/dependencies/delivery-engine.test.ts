/**
 * The delivery engine's composition: the SES send budget read once per cold start, however many
 * invocations a sandbox starts side by side (locally every concurrent invocation of a function
 * shares one sandbox; on Lambda an environment's first invocation is alone anyway).
 */
import { GetSendQuotaCommand, SESClient } from '@aws-sdk/client-ses';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { localFunctionEnv } from '../../../support/function-env.ts';

// No configured budget: the engine asks SES for the account's own rate. Set before the module loads.
const env = localFunctionEnv('http://127.0.0.1:1');
delete env.HERALD_RATE_SES_PER_SECOND;
Object.assign(process.env, env);
delete process.env.HERALD_RATE_SES_PER_SECOND;
const { loadSendBudgets } = await import('../../../../../shared/adapters/dependencies/delivery-engine.ts');

describe('the send budgets of the delivery engine', () => {
  it('asks SES for its quota once, however many invocations wait for it at once', async () => {
    // Prepare: SES takes a while to answer.
    const ses = mockClient(SESClient);
    ses.on(GetSendQuotaCommand).callsFake(async () => {
      await new Promise((resolve) => setTimeout(resolve, 50));
      return { MaxSendRate: 14, Max24HourSend: 50_000, SentLast24Hours: 0 };
    });

    // Act: five invocations of a cold sandbox start together, then one more later.
    await Promise.all(Array.from({ length: 5 }, () => loadSendBudgets()));
    await loadSendBudgets();

    // Assess
    expect(ses.commandCalls(GetSendQuotaCommand)).toHaveLength(1);
    ses.restore();
  });
});
