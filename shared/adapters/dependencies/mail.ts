/** E-mail through SES: the mailer every e-mail goes through, and the verification codes (e-mail, SMS, Telegram, webhook). */
import { SESClient } from '@aws-sdk/client-ses';
import { deliveryConfig, emailConfigurationSet, once } from '../../config.ts';
import { verificationEmail, verificationSms } from '../../domain/contact-verification.ts';
import type { VerificationCodeSender } from '../../use-cases/verification-code-sends.ts';
import { AnsweredErrorsRetryStrategy } from '../answered-errors-retry-strategy.ts';
import { SesMailer } from '../ses-mailer.ts';
import { sdkRequestHandler } from '../sdk-clients.ts';
import { withoutSdkLogger } from '../sdk-logger.ts';
import { smsSender } from './messaging.ts';
import { sendTelegramCode, sendWebhookCode } from './telegram-webhooks.ts';

// An email must not go twice: the SDK retries only what SES refused, never a timed-out send.
const newSesClient = (): SESClient => withoutSdkLogger(new SESClient({ requestHandler: sdkRequestHandler(), retryStrategy: new AnsweredErrorsRetryStrategy() }));
/** The client for SES's account questions (`GetSendQuota`); sends go through the mailer's own. */
export const sesClient = /* @__PURE__ */ once(newSesClient);
// The mailer makes its own client, and a new one whenever a send threw before leaving (ses-mailer.ts).
export const mailer = /* @__PURE__ */ once(() => new SesMailer(newSesClient, deliveryConfig().emailFrom, emailConfigurationSet()));
/** Verification codes go out in Herald's own words: by this mailer, by SMS for a phone number, by the Telegram bot, or in a signed webhook. */
export const verificationCodes = /* @__PURE__ */ once(
  (): VerificationCodeSender => ({
    async send(channel, address, code, who, options = {}) {
      if (channel === 'sms') {
        // The send-budget check comes after the opt-out check, right before Publish.
        await smsSender().send(address, verificationSms(code), options.beforeSend ? { beforePublish: options.beforeSend } : {});
        return;
      }
      if (channel === 'telegram') return sendTelegramCode(address, code);
      if (channel === 'webhook') return sendWebhookCode(who.tenantId, who.id, address, code);
      options.beforeSend?.();
      await mailer().send({ to: address, ...verificationEmail(code) });
    },
  }),
);
