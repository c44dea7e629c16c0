/**
 * Email through SES (v1 `SendEmail`): `Body.Text` alone, or `Body.Html` with `Body.Text` beside
 * it, which SES sends as multipart/alternative ("SendEmail", Amazon SES API v1 reference: "If the
 * recipient's email client can render HTML, the HTML version is shown, otherwise the text"). Errors raised before a request left the process are flagged
 * `$notSent` (sdk-dispatch.ts), so the engine retries them; and the client that threw while building
 * a request is dropped for a new one, so one recipient's message can never affect the next one's.
 */
import { SendEmailCommand } from '@aws-sdk/client-ses';
import type { SESClient } from '@aws-sdk/client-ses';
import type { Mailer, OutgoingEmail } from '../ports.ts';
import { checkBeforeEachAttempt, failedBeforeDispatch, flagErrorsBeforeDispatch } from './sdk-dispatch.ts';

export class SesMailer implements Mailer {
  private readonly newClient: () => SESClient;
  private ses: SESClient;
  private readonly from: string;
  private readonly configurationSet: string | undefined;

  /**
   * `newClient` makes the SES client, again whenever one threw before sending. `configurationSet`:
   * the SES configuration set every send names, whose event destination reports bounces and
   * complaints back (the data stack's).
   */
  constructor(newClient: () => SESClient, from: string, configurationSet?: string) {
    this.newClient = newClient;
    this.ses = flagErrorsBeforeDispatch(newClient());
    this.from = from;
    this.configurationSet = configurationSet;
  }

  async send(email: OutgoingEmail, options: { readonly beforeSend?: () => void } = {}): Promise<{ readonly messageId?: string }> {
    try {
      const command = new SendEmailCommand({
          Source: this.from,
          Destination: { ToAddresses: [email.to] },
          Message: {
            Subject: { Data: email.subject, Charset: 'UTF-8' },
            Body: {
              Text: { Data: email.text, Charset: 'UTF-8' },
              ...(email.html !== undefined ? { Html: { Data: email.html, Charset: 'UTF-8' } } : {}),
            },
          },
          ...(this.configurationSet !== undefined ? { ConfigurationSetName: this.configurationSet } : {}),
          ...(email.tags && email.tags.length > 0 ? { Tags: email.tags.map((tag) => ({ Name: tag.name, Value: tag.value })) } : {}),
        });
      // Before each attempt: an SDK retry of a throttled send is checked too.
      if (options.beforeSend) checkBeforeEachAttempt(command, options.beforeSend);
      const { MessageId } = await this.ses.send(command);
      return MessageId ? { messageId: MessageId } : {};
    } catch (error) {
      // It threw mid-way through building a request: whatever it holds, the next send gets a fresh client.
      if (failedBeforeDispatch(error)) this.ses = flagErrorsBeforeDispatch(this.newClient());
      throw error;
    }
  }
}
