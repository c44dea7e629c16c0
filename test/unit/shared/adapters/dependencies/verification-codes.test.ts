/**
 * The verification-code sender of the API (shared/adapters/dependencies/verification-codes.ts) checks the
 * send's budget second just before the provider call that would send the code: before SES
 * `SendEmail`, and for SMS after SNS's opt-out check, right before `Publish`. A second that is
 * over sends nothing.
 */
import { SendEmailCommand, SESClient } from '@aws-sdk/client-ses';
import { CheckIfPhoneNumberIsOptedOutCommand, PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { BudgetSecondPassedError } from '../../../../../shared/domain/rate-budget.ts';
import { localFunctionEnv } from '../../../support/function-env.ts';

// Set before the module loads: functions read their configuration once per process.
Object.assign(process.env, localFunctionEnv('http://127.0.0.1:1'));
const { verificationCodes } = await import('../../../../../shared/adapters/dependencies/verification-codes.ts');

const who = { tenantId: 'acme', id: 'bob' };
const secondOver = (): void => {
  throw new BudgetSecondPassedError('ses', Date.parse('2030-01-01T12:00:01.000Z'));
};

describe('the verification-code sender', () => {
  const ses = mockClient(SESClient);
  const sns = mockClient(SNSClient);

  afterEach(() => {
    ses.reset();
    sns.reset();
  });

  it('sends no e-mail when its budget second is over just before SendEmail, and one when it is not', async () => {
    // Prepare
    ses.on(SendEmailCommand).resolves({ MessageId: 'm-1' });

    // Act
    const late = verificationCodes().send('email', 'new@example.com', '123456', who, { beforeSend: secondOver });
    await expect(late).rejects.toBeInstanceOf(BudgetSecondPassedError);
    await verificationCodes().send('email', 'new@example.com', '654321', who, { beforeSend: () => undefined });

    // Assess
    expect(ses.commandCalls(SendEmailCommand)).toHaveLength(1);
  });

  it('checks the second of an SMS code after the opt-out check, right before Publish', async () => {
    // Prepare
    sns.on(CheckIfPhoneNumberIsOptedOutCommand).resolves({ isOptedOut: false });
    sns.on(PublishCommand).resolves({ MessageId: 's-1' });

    // Act
    const late = verificationCodes().send('sms', '+14155550100', '123456', who, { beforeSend: secondOver });

    // Assess
    await expect(late).rejects.toBeInstanceOf(BudgetSecondPassedError);
    expect(sns.commandCalls(CheckIfPhoneNumberIsOptedOutCommand)).toHaveLength(1);
    expect(sns.commandCalls(PublishCommand)).toHaveLength(0);
  });
});
