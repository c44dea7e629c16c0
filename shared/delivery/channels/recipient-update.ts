/**
 * A channel's own change to the recipient it delivered to, made after the provider answered: a
 * Telegram chat that moved, a webhook URL that is gone. The send is what counts, so the change is
 * made only while the recipient still holds what the provider answered about, and its failure is
 * logged, never thrown in place of the send's outcome.
 */
import type { Recipient } from '../../domain/recipient.ts';
import { logger } from '../../observability/logger.ts';
import type { RecipientStore } from '../../ports.ts';

/** Where channels read and change recipients. */
export type ChannelDirectory = Pick<RecipientStore, 'get' | 'save'>;

/** What {@link updateRecipientWhile} changes, and while what holds. */
export interface RecipientUpdate {
  /** True while the stored recipient still holds what the change is about (e.g. the same chat id). */
  readonly stillHolds: (recipient: Recipient) => boolean;
  /** The recipient as it should be stored; `updatedAt` is set here. */
  readonly change: (recipient: Recipient) => Recipient;
  /** What is changed, for the warning when it could not be written: "follow a Telegram chat that moved". */
  readonly what: string;
}

/** How many times a change is read and written again after another write came first. */
const attempts = 3;

/**
 * Writes `update.change(recipient)` with a conditional save while `update.stillHolds` it, read
 * again after a racing write, at most three times. True when written; false when the recipient
 * is gone, no longer holds it, kept changing, or the directory failed (logged as a warning, not
 * thrown: the send's outcome stands).
 */
export async function updateRecipientWhile(directory: ChannelDirectory, tenantId: string, recipientId: string, update: RecipientUpdate): Promise<boolean> {
  try {
    for (let attempt = 0; attempt < attempts; attempt++) {
      const current = await directory.get(tenantId, recipientId);
      if (current === undefined || !update.stillHolds(current)) return false;
      if (await directory.save({ ...update.change(current), updatedAt: new Date().toISOString() }, current)) return true;
    }
  } catch (error) {
    logger.warn(`Could not ${update.what}`, { tenantId, recipientId, error: error as Error });
  }
  return false;
}
