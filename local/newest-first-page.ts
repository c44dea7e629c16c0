/**
 * Pages of the local stack's own stores (`GET /_local/outbox`, `GET /_local/mail`, the local SES's
 * `GET /store?limit=`), newest first. The stores keep tens of thousands of entries (a broadcast on
 * the e-mail channel) and the console reads them every 3 s, so an answer is one page: at most
 * `limit` entries, the store's `total`, and `nextCursor` for the page after (older), `null` at the
 * end, as the API's lists page.
 *
 * The order is the store's own: each entry gets a sequence number (`seq`) when it is recorded, and
 * pages go from the highest down, so paging never skips nor repeats an entry. A store hands its
 * entries over already in that order (newest first, lazily), so a page reads `limit + 1` of them
 * and never sorts: O(limit), not O(store). A cursor names the sequence number of the last entry of
 * its page. When the store has since dropped that entry (its capacity) or forgotten it (a clear),
 * the entries the next page would have shown are gone with it: the page answers 410 naming
 * `cursor` ({@link CursorGoneError}) rather than a shorter list that would pass for the end.
 */
import * as z from 'zod';
import { AppError, ValidationError } from '../shared/errors.ts';
import { decimalNumerals } from '../shared/http/decimal-numerals.ts';
import { queryParameters } from './name-maps.ts';

/** Entries of a page when the query names no `limit`. */
export const defaultLocalPageSize = 100;
/** The largest `limit` a query may name (the console draws 200). */
export const maxLocalPageSize = 1000;

/** Where an entry sits in its store's order. */
export interface StorePosition {
  /** Its sequence number in the store, higher for the later recorded. */
  readonly seq: number;
}

/** What a page asks for: how many entries (1 to {@link maxLocalPageSize}), and after which position. */
export interface LocalPageQuery {
  readonly limit: number;
  /** Only entries older than this position; absent, from the newest. */
  readonly after?: StorePosition;
}

/** One page of a store, newest first. */
export interface LocalPage<T> {
  readonly items: T[];
  /** How many entries the store holds (of the channel asked for), every page included. */
  readonly total: number;
  /** Pass back as `cursor` for the next (older) page; `null` when this page holds the oldest entry. */
  readonly nextCursor: string | null;
}

const positionSchema = z.strictObject({ seq: z.number().int().nonnegative() });

/** The opaque `cursor` of the page after `position`: base64url of `{ seq }`. */
export function encodeLocalCursor(position: StorePosition): string {
  return Buffer.from(JSON.stringify({ seq: position.seq })).toString('base64url');
}

function decodeLocalCursor(cursor: string): StorePosition | undefined {
  try {
    const parsed = positionSchema.safeParse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

const limitSchema = z.coerce
  .number('must be a number')
  .int('must be a whole number')
  .min(1, 'must be at least 1')
  .max(maxLocalPageSize, `must be at most ${maxLocalPageSize}`)
  .default(defaultLocalPageSize);

const pageQuerySchema = z.strictObject({
  limit: limitSchema,
  cursor: z
    .string()
    .max(1024, 'is not a cursor of this list')
    .transform((text, context) => {
      const position = decodeLocalCursor(text);
      if (!position) context.addIssue({ code: 'custom', message: 'is not a cursor of this list (pass back a nextCursor as it was answered)' });
      return position ?? z.NEVER;
    })
    .optional(),
});

/**
 * Reads `limit` and `cursor` from a query string; `others` names the other parameters the
 * endpoint takes (read by the caller). Throws a `ValidationError` (400) whose `details` name each
 * parameter that is wrong: a `limit` that is not a whole number from 1 to
 * {@link maxLocalPageSize}, a `cursor` no page answered, a parameter the endpoint does not take.
 */
export function parseLocalPageQuery(query: URLSearchParams, others: readonly string[] = []): LocalPageQuery {
  const own = Object.fromEntries(Object.entries(queryParameters(query)).filter(([name]) => !others.includes(name)));
  const parsed = pageQuerySchema.safeParse(decimalNumerals(pageQuerySchema, own));
  if (!parsed.success) {
    const details = parsed.error.issues.map((issue) => {
      // A parameter the endpoint does not take: zod names it in `keys`, not in `path`.
      const field = issue.code === 'unrecognized_keys' ? issue.keys.join(', ') : issue.path.join('.') || 'query';
      const known = ['limit', 'cursor', ...others].join(', ');
      return { field, message: issue.code === 'unrecognized_keys' ? `is not a parameter of this endpoint (it takes ${known})` : issue.message };
    });
    throw new ValidationError(`Invalid query: ${details.map((d) => `${d.field} ${d.message}`).join('; ')}`, { details });
  }
  return { limit: parsed.data.limit, ...(parsed.data.cursor ? { after: parsed.data.cursor } : {}) };
}

/** A cursor whose entry the store has dropped or forgotten since: 410, naming `cursor`. */
export class CursorGoneError extends AppError {
  readonly statusCode = 410;
  readonly code = 'CURSOR_GONE';
}

/** What a page needs to know of its store besides its entries. */
export interface PagedStore {
  /** How many entries it holds (of the view asked for). */
  readonly total: number;
  /** The newest sequence number it dropped or forgot, -1 when none: a cursor at or below it is gone. */
  readonly droppedThrough: number;
  /** Why entries go, for the 410's message: "the outbox keeps the newest 10000 of a channel". */
  readonly keeps: string;
}

/**
 * The page of a store that `query` asks for. `below(seq)` answers the store's entries whose
 * sequence number is below `seq` (infinity: all), as one or more lazy sources each newest first
 * (the outbox answers one per channel, merged here by `seqOf`); the page reads `limit` entries of
 * them and one look-ahead per source. Throws {@link CursorGoneError} when the cursor's entry is at
 * or below the store's `droppedThrough`.
 */
export function newestFirstPage<T>(below: (seq: number) => readonly Iterable<T>[], seqOf: (entry: T) => number, query: LocalPageQuery, store: PagedStore): LocalPage<T> {
  const { after } = query;
  if (after !== undefined && after.seq <= store.droppedThrough) {
    const message = `names an entry no longer kept (${store.keeps}), and the entries after it went with it: read again from the newest, without cursor`;
    throw new CursorGoneError(`cursor ${message}`, { details: [{ field: 'cursor', message }] });
  }
  const heads = below(after?.seq ?? Number.POSITIVE_INFINITY).map((source) => {
    const iterator = source[Symbol.iterator]();
    return { iterator, next: iterator.next() };
  });
  const items: T[] = [];
  let more = false;
  for (;;) {
    let newest: (typeof heads)[number] | undefined;
    for (const head of heads) {
      if (head.next.done) continue;
      if (!newest || seqOf(head.next.value) > seqOf(newest.next.value as T)) newest = head;
    }
    if (!newest || newest.next.done) break;
    if (items.length === query.limit) {
      more = true;
      break;
    }
    items.push(newest.next.value);
    newest.next = newest.iterator.next();
  }
  const last = items.at(-1);
  return { items, total: store.total, nextCursor: more && last !== undefined ? encodeLocalCursor({ seq: seqOf(last) }) : null };
}
