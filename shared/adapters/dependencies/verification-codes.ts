/**
 * The verification codes (e-mail, SMS, Telegram, webhook) the api sends. Apart from the mailer
 * (mail.ts), which the delivering functions load at their cold start: the SMS, Telegram and
 * webhook providers this reaches are theirs to load on first use.
 */
import { once } from '../../config.ts';
import { verificationEmail, verificationSms } from '../../domain/contact-verification.ts';
import type { VerificationCodeSender } from '../../use-cases/verification-code-sends.ts';
import { mailer } from './mail.ts';
import { smsSender } from './messaging.ts';
import { sendTelegramCode, sendWebhookCode } from './telegram-webhooks.ts';

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
      await mailer().send({ to: address, ...verificationEmail(code) }, options.beforeSend ? { beforeSend: options.beforeSend } : {});
    },
  }),
);
