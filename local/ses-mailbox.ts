/**
 * The mail the local SES accepted, paged where it is kept: aws-ses-v2-local's own store, an array
 * in its module in the order it accepted each mail. A mail's sequence number is its place in that
 * array plus what earlier stores held (its `/clear-store` replaces the array), so a page reads the
 * `limit` mails below the cursor by index: O(limit), however much mail there is. Served by the
 * local SES as `GET /store?limit=&cursor=` and by the control API as `GET /_local/mail`.
 */
import { createRequire } from 'node:module';
import type { Email, Store } from 'aws-ses-v2-local/dist/store.js';
import { newestFirstPage } from './newest-first-page.ts';
import type { LocalPage, LocalPageQuery } from './newest-first-page.ts';
import { assertPinnedVersion } from './pinned-version.ts';

/** The version of aws-ses-v2-local whose store this module reads (package.json pins it). */
export const AWS_SES_V2_LOCAL_VERSION = '2.10.2';

/** One mail as aws-ses-v2-local keeps it (`at` in epoch seconds). */
export type StoredEmail = Email;

/** One mail the local SES accepted, as the console lists it. */
export interface SentMail {
  readonly messageId: string;
  readonly from: string;
  readonly to: readonly string[];
  readonly subject: string;
  readonly text?: string;
  /** Epoch ms. */
  readonly at: number;
}

/** `email` as the console lists it: its `at` in epoch ms. */
export function toSentMail(email: StoredEmail): SentMail {
  const { messageId, from, subject, at } = email;
  return { messageId, from, to: email.destination.to, subject, ...(email.body.text !== undefined ? { text: email.body.text } : {}), at: at * 1000 };
}

/** The mail of one store, newest first, whose sequence numbers survive the store being cleared. */
export class SesMailbox {
  private readonly read: () => readonly StoredEmail[];
  private seen: readonly StoredEmail[];
  /** The sequence number of the first mail of `seen`: the mail of the stores before it. */
  private base = 0;
  private clears = 0;

  /** `read` answers the store's array as it is now (a cleared store answers a new one). */
  constructor(read: () => readonly StoredEmail[]) {
    this.read = read;
    this.seen = read();
  }

  /** Changes whenever a mail is accepted or the store cleared: what a page's ETag is made of. */
  get version(): string {
    const emails = this.current();
    return `${this.base + emails.length}.${this.clears}`;
  }

  /**
   * One page of the mail, newest first: at most `query.limit`, older than `query.after` when
   * given. Reads `limit + 1` mails of the store. Throws `CursorGoneError` (410) for a cursor from
   * before the store was cleared.
   */
  page(query: LocalPageQuery): LocalPage<StoredEmail> {
    const emails = this.current();
    const base = this.base;
    const below = (before: number): Iterable<{ email: StoredEmail; seq: number }>[] => [
      (function* newestFirst() {
        for (let index = Math.min(emails.length, before - base) - 1; index >= 0; index -= 1) {
          yield { email: emails[index] as StoredEmail, seq: base + index };
        }
      })(),
    ];
    const page = newestFirstPage(below, ({ seq }) => seq, query, {
      total: emails.length,
      droppedThrough: base - 1,
      keeps: 'the local SES keeps its mail until its store is cleared',
    });
    return { ...page, items: page.items.map(({ email }) => email) };
  }

  /** The store's array, counting the mail of the one before when it was cleared since the last read. */
  private current(): readonly StoredEmail[] {
    const emails = this.read();
    if (emails !== this.seen) {
      this.base += this.seen.length;
      this.clears += 1;
      this.seen = emails;
    }
    return emails;
  }
}

const require = createRequire(import.meta.url);

/** The mailbox of aws-ses-v2-local's store in this process. Throws when another version is installed. */
export function awsSesV2LocalMailbox(): SesMailbox {
  assertPinnedVersion({
    name: 'aws-ses-v2-local',
    installed: (require('aws-ses-v2-local/package.json') as { version: string }).version,
    pinned: AWS_SES_V2_LOCAL_VERSION,
    module: 'local/ses-mailbox.ts',
  });
  const store = require('aws-ses-v2-local/dist/store.js') as { readonly getStoreReadonly: () => Store };
  return new SesMailbox(() => store.getStoreReadonly().emails);
}
