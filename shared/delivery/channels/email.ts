/**
 * E-mail through SES: one message per recipient with an address, multipart (HTML and its text
 * alternative) when the template has an HTML part, plain text otherwise.
 */
import { classifyProviderError } from '../../domain/delivery-errors.ts';
import { emailTags } from '../../domain/email-feedback.ts';
import { hasVerifiedAddress, suppressionOfEmail } from '../../domain/recipient.ts';
import type { Mailer } from '../../ports.ts';
import { sectionFor } from '../../templates/section.ts';
import type { DeliveryChannel } from '../channel.ts';

/** What the e-mail channel sends: a subject line, a text body and, from a template, an HTML one. */
export interface EmailBody {
  readonly subject: string;
  readonly text: string;
  readonly html?: string;
}

/**
 * A subject is one header line: control characters and line breaks become spaces (the API already
 * refuses them in titles; this is the second line of defence against header injection).
 */
export function oneLine(text: string): string {
  return text.replace(/[\p{Cc}\u2028\u2029]+/gu, ' ');
}

/** The e-mail channel over `mailer` (SES in production, the local SES emulator locally). */
export function emailChannel(mailer: Mailer): DeliveryChannel<string, EmailBody> {
  return {
    name: 'email',
    kind: 'send',
    provider: 'ses',
    needs: ['email', 'pendingVerifications', 'emailSuppression'],
    target: ({ recipient }) => {
      if (recipient.email === undefined) return { skip: 'no email address' };
      // SES reported the address bounced or complained of: sending again would hurt the account's reputation.
      const suppression = suppressionOfEmail(recipient);
      if (suppression) return { skip: `address suppressed (${suppression.reason})` };
      // An address its owner set and has not confirmed gets nothing but the code (contact-verification.ts).
      return hasVerifiedAddress(recipient, 'email') ? recipient.email : { skip: 'address not verified' };
    },
    render(content) {
      const chosen = sectionFor(content, 'email');
      if (chosen.kind === 'fallback') return { subject: oneLine(chosen.title), text: chosen.message };
      const { subject, text, html } = chosen.section;
      return { subject: oneLine(subject), text, ...(html !== undefined ? { html } : {}) };
    },
    async send(to, body, context) {
      const { messageId } = await mailer.send(
        {
          to,
          subject: body.subject,
          text: body.text,
          ...(body.html !== undefined ? { html: body.html } : {}),
          tags: emailTags(context.tenantId, context.recipient.id),
        },
        // Before each attempt: an SDK retry of a throttled send goes out only within the reserved second too.
        context.checkBudgetSecond ? { beforeSend: context.checkBudgetSecond } : {},
      );
      return messageId ? { providerMessageId: messageId } : {};
    },
    classify: (error) => classifyProviderError(error),
  };
}
