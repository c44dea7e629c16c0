/**
 * Suppressed e-mail addresses: what SES reported back (a permanent bounce, a complaint) marks the
 * recipient's address, so that the e-mail channel skips it; an admin lists them and lifts one.
 */
import * as z from '../zod-mini.ts';
import type { Caller } from '../domain/caller.ts';
import { isAdmin } from '../domain/caller.ts';
import type { EmailFeedback } from '../domain/email-feedback.ts';
import { decodeCursor, encodeCursor } from '../domain/page-cursor.ts';
import { suppressionOfEmail, toRecipientView } from '../domain/recipient.ts';
import type { Recipient } from '../domain/recipient.ts';
import { isSubjectId } from '../domain/subject-ids.ts';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../errors.ts';
import { logger } from '../observability/logger.ts';
import type { RecipientDeps } from './recipients.ts';

/** How many times a write is tried again after losing a race to another writer of the recipient. */
const writeAttempts = 5;

/** What became of one SES report. */
export type FeedbackOutcome = 'suppressed' | 'already suppressed' | 'ignored';

/**
 * Marks the recipient's address suppressed when SES reports it bounced (permanently) or
 * complained of. Nothing happens when the recipient is gone or has another address by now (the
 * report concerns an address it no longer has). Throws ConflictError when the recipient kept
 * changing under every attempt (the message is tried again).
 */
export async function recordEmailFeedback(deps: RecipientDeps, feedback: EmailFeedback): Promise<FeedbackOutcome> {
  if ('ignore' in feedback) {
    logger.info('SES feedback that suppresses nothing', { reason: feedback.ignore });
    return 'ignored';
  }
  for (let attempt = 0; attempt < writeAttempts; attempt++) {
    const recipient = await deps.recipients.get(feedback.tenantId, feedback.recipientId);
    const address = recipient?.email;
    if (!recipient || address === undefined || !feedback.addresses.some((reported) => reported.toLowerCase() === address.toLowerCase())) {
      logger.info('SES feedback for an address the recipient no longer has', { tenantId: feedback.tenantId, recipientId: feedback.recipientId });
      return 'ignored';
    }
    if (suppressionOfEmail(recipient)) return 'already suppressed';
    const next: Recipient = { ...recipient, emailSuppression: { address, ...feedback.suppression }, updatedAt: deps.clock.now().toISOString() };
    if (await deps.recipients.save(next, recipient)) {
      logger.info('Suppressed an e-mail address', { tenantId: feedback.tenantId, recipientId: feedback.recipientId, reason: feedback.suppression.reason });
      return 'suppressed';
    }
  }
  throw new ConflictError(`Recipient ${feedback.recipientId} kept changing while its address was being suppressed`);
}

function requireAdmin(caller: Caller): void {
  if (!isAdmin(caller)) throw new ForbiddenError('Only admins may see and lift suppressed addresses');
}

const cursorSchema = z.object({ suppressions: z.literal(true), after: z.string().check(z.refine(isSubjectId)) });

/** A page of the tenant's recipients whose address is suppressed, in id order (admins). */
export async function listEmailSuppressions(
  deps: RecipientDeps,
  caller: Caller,
  query: { readonly limit: number; readonly cursor?: string },
): Promise<{ items: Record<string, unknown>[]; nextCursor: string | null }> {
  requireAdmin(caller);
  let after: string | undefined;
  if (query.cursor !== undefined) {
    after = decodeCursor(query.cursor, cursorSchema)?.after;
    if (after === undefined) {
      throw new ValidationError('cursor is not one this listing handed out', {
        details: [{ field: 'cursor', message: 'is not a cursor of this listing (pass the nextCursor of the previous page)' }],
      });
    }
  }
  const page = await deps.recipients.list(caller.tenantId, { emailSuppressed: true, limit: query.limit, ...(after !== undefined ? { after } : {}) });
  return {
    // The index is eventually consistent: one lifted a moment ago may still be listed; show what stands.
    items: page.recipients.filter((recipient) => suppressionOfEmail(recipient)).map(toRecipientView),
    nextCursor: page.after ? encodeCursor({ suppressions: true, after: page.after }) : null,
  };
}

/** Lifts the suppression of a recipient's address (admins); NotFoundError when there is none. */
export async function liftEmailSuppression(deps: RecipientDeps, caller: Caller, recipientId: string): Promise<Recipient> {
  requireAdmin(caller);
  for (let attempt = 0; attempt < writeAttempts; attempt++) {
    const recipient = await deps.recipients.get(caller.tenantId, recipientId);
    if (!recipient || !suppressionOfEmail(recipient)) throw new NotFoundError(`Recipient ${recipientId} has no suppressed address`);
    const { emailSuppression: _lifted, ...rest } = recipient;
    const next: Recipient = { ...rest, updatedAt: deps.clock.now().toISOString() };
    if (await deps.recipients.save(next, recipient)) return next;
  }
  throw new ConflictError(`Recipient ${recipientId} kept changing while its suppression was being lifted; try again`);
}
