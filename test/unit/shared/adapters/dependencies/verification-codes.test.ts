/**
 * The verification-code sender of the API (shared/adapters/dependencies/verification-codes.ts) checks the
 * send's budget second before each attempt of the provider call that would send the code: SES
 * `SendEmail`, and for SMS after SNS's opt-out check, `Publish`, the SDK's retries of a throttled
 * call included. A second that is over sends nothing. Through the real SDK clients, against the
 * local SES and SNS (their faultable endpoints, as the functions call them).
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { faultResponse } from '../../../../../local/aws-call-hook.ts';
import type { CallHook } from '../../../../../local/aws-call-hook.ts';
import { Outbox } from '../../../../../local/outbox.ts';
import { startSesEmulator } from '../../../../../local/ses-emulator.ts';
import { startSnsEmulator } from '../../../../../local/sns-emulator.ts';
import { BudgetSecondPassedError } from '../../../../../shared/domain/rate-budget.ts';
import { localFunctionEnv } from '../../../support/function-env.ts';

/** How many of the next calls of each operation the providers answer `Throttling`, then what they saw. */
const throttleNext = new Map<string, number>();
const attempts: string[] = [];
const hook: CallHook = (service, call) => {
  attempts.push(call.operation);
  const left = throttleNext.get(call.operation) ?? 0;
  if (left === 0) return undefined;
  throttleNext.set(call.operation, left - 1);
  return faultResponse(service, call.protocol, { statusCode: 400, code: 'Throttling', message: 'Maximum sending rate exceeded.' });
};
const outbox = new Outbox();
const ses = await startSesEmulator({ port: 0, faultable: { hook, port: 0 }, log: () => undefined });
const sns = await startSnsEmulator({ region: 'eu-west-1', accountId: '111122223333', platformApplications: [], outbox, faultable: { hook }, log: () => undefined });

// Set before the module loads: functions read their configuration once per process.
Object.assign(process.env, localFunctionEnv('http://127.0.0.1:1', { AWS_ENDPOINT_URL_SES: ses.faultableEndpoint ?? '', AWS_ENDPOINT_URL_SNS: sns.faultableEndpoint ?? '' }));
const { verificationCodes } = await import('../../../../../shared/adapters/dependencies/verification-codes.ts');

const who = { tenantId: 'acme', id: 'bob' };
const secondOver = (): void => {
  throw new BudgetSecondPassedError('ses', Date.parse('2030-01-01T12:00:01.000Z'));
};
/** A check whose second is over once a first attempt was made. */
const overAfterFirstAttempt = (operation: string) => (): void => {
  if (attempts.includes(operation)) secondOver();
};

afterEach(() => {
  throttleNext.clear();
  attempts.length = 0;
});

afterAll(async () => {
  await ses.stop();
  await sns.stop();
});

describe('the verification-code sender', () => {
  it('sends no e-mail when its budget second is over just before SendEmail, and one when it is not', async () => {
    // Act
    const late = verificationCodes().send('email', 'late@example.com', '123456', who, { beforeSend: secondOver });
    await expect(late).rejects.toBeInstanceOf(BudgetSecondPassedError);
    await verificationCodes().send('email', 'new@example.com', '654321', who, { beforeSend: () => undefined });

    // Assess
    expect(attempts).toEqual(['SendEmail']);
    expect(ses.sends().sends).toHaveLength(1);
  });

  it('does not retry a SendEmail SES throttled once its second is over: nothing goes out in a second nobody reserved', async () => {
    // Prepare
    throttleNext.set('SendEmail', 1);
    const before = ses.sends().sends.length;

    // Act
    const late = verificationCodes().send('email', 'throttled@example.com', '123456', who, { beforeSend: overAfterFirstAttempt('SendEmail') });

    // Assess
    await expect(late).rejects.toBeInstanceOf(BudgetSecondPassedError);
    expect(attempts).toEqual(['SendEmail']);
    expect(ses.sends().sends).toHaveLength(before);
  });

  it('checks the second of an SMS code after the opt-out check, right before Publish', async () => {
    // Act
    const late = verificationCodes().send('sms', '+14155550100', '123456', who, { beforeSend: secondOver });

    // Assess
    await expect(late).rejects.toBeInstanceOf(BudgetSecondPassedError);
    expect(attempts).toEqual(['CheckIfPhoneNumberIsOptedOut']);
    expect(outbox.list('sms')).toEqual([]);
  });

  it('does not retry a Publish SNS throttled once its second is over, and retries it while the second lasts', async () => {
    // Prepare
    throttleNext.set('Publish', 1);

    // Act
    const late = verificationCodes().send('sms', '+14155550101', '123456', who, { beforeSend: overAfterFirstAttempt('Publish') });
    await expect(late).rejects.toBeInstanceOf(BudgetSecondPassedError);
    const heldBack = [...attempts];
    throttleNext.set('Publish', 1);
    await verificationCodes().send('sms', '+14155550102', '654321', who, { beforeSend: () => undefined });

    // Assess
    expect(heldBack).toEqual(['CheckIfPhoneNumberIsOptedOut', 'Publish']);
    expect(outbox.list('sms').map((m) => m.to)).toEqual(['+14155550102']);
  });
});
