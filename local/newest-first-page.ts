/**
 * Pages of the local stack's own stores (`GET /_local/outbox`, `GET /_local/mail`), newest first.
 * The stores keep tens of thousands of entries (a broadcast on the e-mail channel) and the console
 * reads them every 3 s, so an answer is one page: at most `limit` entries, the store's `total`,
 * and `nextCursor` for the page after (older), `null` at the end, as the API's lists page.
 *
 * The order is total, so that paging never skips nor repeats an entry: by `at` (epoch ms), newest
 * first, then by the store's own sequence (`seq`, the later recorded first) among entries of the
 * same millisecond. A cursor names the position of the last entry of its page, not the entry, so
 * it stays valid when that entry is forgotten meanwhile (a `DELETE`, or the store's capacity).
 */
import * as z from 'zod';
import { ValidationError } from '../shared/errors.ts';

/** Entries of a page when the query names no `limit`. */
export const defaultLocalPageSize = 100;
/** The largest `limit` a query may name (the console draws 200). */
export const maxLocalPageSize = 1000;

/** Where an entry sits in its store's order: epoch ms, then the store's sequence number. */
export interface StorePosition {
  /** When the entry was recorded, epoch ms. */
  readonly at: number;
  /** Its rank among the store's entries, higher for the later recorded. */
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

const positionSchema = z.strictObject({ at: z.number().finite(), seq: z.number().int().nonnegative() });

/** The opaque `cursor` of the page after `position`: base64url of `{ at, seq }`. */
export function encodeLocalCursor(position: StorePosition): string {
  return Buffer.from(JSON.stringify({ at: position.at, seq: position.seq })).toString('base64url');
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
  const own = Object.fromEntries([...query.entries()].filter(([name]) => !others.includes(name)));
  const parsed = pageQuerySchema.safeParse(own);
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

/** True when `a` comes before `b` in the stores' order (newest first). */
function isNewer(a: StorePosition, b: StorePosition): boolean {
  return a.at !== b.at ? a.at > b.at : a.seq > b.seq;
}

/**
 * The page of `entries` that `query` asks for, newest first, each entry placed by `positionOf`.
 * Reads the store once and sorts only what is older than the cursor: O(n log n) of the store's
 * size, done on the server, so only `limit` entries cross the wire.
 */
export function newestFirstPage<T>(entries: readonly T[], positionOf: (entry: T) => StorePosition, query: LocalPageQuery): LocalPage<T> {
  const { after } = query;
  const older = entries
    .map((entry) => ({ entry, position: positionOf(entry) }))
    .filter(({ position }) => after === undefined || isNewer(after, position))
    .sort((a, b) => (isNewer(a.position, b.position) ? -1 : isNewer(b.position, a.position) ? 1 : 0));
  const page = older.slice(0, query.limit);
  const last = page.at(-1);
  return {
    items: page.map(({ entry }) => entry),
    total: entries.length,
    nextCursor: older.length > query.limit && last ? encodeLocalCursor(last.position) : null,
  };
}
