/**
 * The SES account's status through SES API v2 `GetAccount`: `ProductionAccessEnabled` false means
 * the sandbox (only verified recipients, 200 a day, 1 a second), `SendingEnabled` false a pause,
 * and `SendQuota` the quota ("GetAccount", Amazon SES API v2 Reference).
 */
import { GetAccountCommand } from '@aws-sdk/client-sesv2';
import type { SESv2Client } from '@aws-sdk/client-sesv2';
import type { EmailAccountStatus } from '../domain/email-account.ts';
import type { EmailAccount } from '../ports.ts';

export class SesAccount implements EmailAccount {
  private readonly ses: SESv2Client;

  constructor(ses: SESv2Client) {
    this.ses = ses;
  }

  /** Throws the SDK's error when SES cannot be asked. */
  async status(): Promise<EmailAccountStatus> {
    const account = await this.ses.send(new GetAccountCommand({}));
    return {
      sandbox: account.ProductionAccessEnabled !== true,
      sendingEnabled: account.SendingEnabled === true,
      maxSendRate: account.SendQuota?.MaxSendRate ?? 0,
      max24HourSend: account.SendQuota?.Max24HourSend ?? 0,
      sentLast24Hours: account.SendQuota?.SentLast24Hours ?? 0,
    };
  }
}
