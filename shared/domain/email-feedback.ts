/**
 * What SES reports back about an e-mail Herald sent: a bounce or a complaint, as SES event
 * publishing sends it to EventBridge (detail-type `Email Bounced` / `Email Complaint Received`,
 * source `aws.ses`; the detail is the event of "Contents of event data that Amazon SES publishes
 * to Amazon SNS/EventBridge", SES Developer Guide). Herald finds the recipient by the message
 * tags it put on the send (`emailTags`), since an address alone names no tenant.
 *
 * Only a permanent bounce suppresses: a transient one (a full mailbox, an auto-reply) says nothing
 * lasting about the address. A complaint always does.
 */
import * as z from '../zod-mini.ts';
import type { EmailSuppression } from './recipient.ts';

/** The names of the message tags Herald puts on every notification e-mail. */
export const emailTagNames = { tenant: 'herald-tenant', recipient: 'herald-recipient' } as const;

/**
 * The longest value a message tag holds. The SES API Reference says "256 characters or fewer"
 * ("MessageTag"); SES itself refuses a 256th ("Tag value cannot exceed 255 characters.", as
 * LocalStack's tests recorded it against AWS), so 255.
 */
export const maxTagValueLength = 255;

/**
 * SES tag values may hold only ASCII letters, digits, `_` and `-`, at most 255 of them
 * ({@link maxTagValueLength}): ids are any text, so they travel base64url-encoded (exactly that
 * alphabet), and an id longer than one tag holds (over 189 bytes of UTF-8; ids run to 255
 * characters) continues in `<name>-2`, `<name>-3`, ... (a 255-character id of 4-byte characters
 * takes 6).
 */
export function emailTags(tenantId: string, recipientId: string): { readonly name: string; readonly value: string }[] {
  return [...tagsOf(emailTagNames.tenant, tenantId), ...tagsOf(emailTagNames.recipient, recipientId)];
}

function tagsOf(name: string, text: string): { readonly name: string; readonly value: string }[] {
  const encoded = Buffer.from(text, 'utf8').toString('base64url');
  const tags: { name: string; value: string }[] = [];
  for (let start = 0, part = 1; start < encoded.length || part === 1; start += maxTagValueLength, part++) {
    tags.push({ name: part === 1 ? name : `${name}-${part}`, value: encoded.slice(start, start + maxTagValueLength) });
  }
  return tags;
}

const addressesOf = z.array(z.looseObject({ emailAddress: z.string() }));

/** The EventBridge event of an SES bounce or complaint (the fields Herald reads; the rest passes). */
export const sesFeedbackEventSchema = z.looseObject({
  source: z.literal('aws.ses'),
  detail: z.looseObject({
    eventType: z.enum(['Bounce', 'Complaint']),
    bounce: z.optional(z.looseObject({ bounceType: z.string(), bouncedRecipients: addressesOf, timestamp: z.string() })),
    complaint: z.optional(z.looseObject({ complainedRecipients: addressesOf, timestamp: z.string() })),
    mail: z.looseObject({ messageId: z.string(), tags: z._default(z.record(z.string(), z.array(z.string())), {}) }),
  }),
});
export type SesFeedbackEvent = z.infer<typeof sesFeedbackEventSchema>;

/** What one event asks of Herald: suppress these addresses of this recipient, or nothing (and why). */
export type EmailFeedback =
  | {
      readonly tenantId: string;
      readonly recipientId: string;
      readonly addresses: readonly string[];
      readonly suppression: Omit<EmailSuppression, 'address'>;
    }
  | { readonly ignore: string };

/** The text `emailTags` put in `name` and its continuations, or undefined when they do not hold it. */
function decodedTag(tags: Readonly<Record<string, readonly string[]>>, name: string): string | undefined {
  let value = tags[name]?.[0];
  if (value === undefined) return undefined;
  for (let part = 2, next = tags[`${name}-2`]?.[0]; next !== undefined; next = tags[`${name}-${++part}`]?.[0]) value += next;
  if (!/^[A-Za-z0-9_-]+$/.test(value)) return undefined;
  return Buffer.from(value, 'base64url').toString('utf8');
}

/** Reads an SES bounce or complaint event: whom it concerns and what to suppress. */
export function feedbackFrom(event: SesFeedbackEvent): EmailFeedback {
  const { detail } = event;
  const tenantId = decodedTag(detail.mail.tags, emailTagNames.tenant);
  const recipientId = decodedTag(detail.mail.tags, emailTagNames.recipient);
  if (tenantId === undefined || recipientId === undefined) return { ignore: 'the e-mail carries no Herald recipient tags' };
  if (detail.eventType === 'Bounce') {
    if (!detail.bounce) return { ignore: 'a bounce event without its bounce' };
    if (detail.bounce.bounceType !== 'Permanent') return { ignore: `a ${detail.bounce.bounceType} bounce suppresses nothing` };
    const addresses = detail.bounce.bouncedRecipients.map((r) => r.emailAddress);
    return { tenantId, recipientId, addresses, suppression: { reason: 'bounce', at: new Date(detail.bounce.timestamp).toISOString() } };
  }
  if (!detail.complaint) return { ignore: 'a complaint event without its complaint' };
  const addresses = detail.complaint.complainedRecipients.map((r) => r.emailAddress);
  return { tenantId, recipientId, addresses, suppression: { reason: 'complaint', at: new Date(detail.complaint.timestamp).toISOString() } };
}
