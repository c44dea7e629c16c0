/** Email through SES (v1 `SendEmail`). */
import { SendEmailCommand } from '@aws-sdk/client-ses';
import type { SESClient } from '@aws-sdk/client-ses';
import type { Mailer } from '../ports.ts';

export class SesMailer implements Mailer {
  private readonly ses: SESClient;
  private readonly from: string;

  constructor(ses: SESClient, from: string) {
    this.ses = ses;
    this.from = from;
  }

  async send(email: { readonly to: string; readonly subject: string; readonly text: string }): Promise<{ readonly messageId?: string }> {
    const { MessageId } = await this.ses.send(
      new SendEmailCommand({
        Source: this.from,
        Destination: { ToAddresses: [email.to] },
        Message: {
          Subject: { Data: email.subject, Charset: 'UTF-8' },
          Body: { Text: { Data: email.text, Charset: 'UTF-8' } },
        },
      }),
    );
    return MessageId ? { messageId: MessageId } : {};
  }
}
