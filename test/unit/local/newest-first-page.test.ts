import { describe, expect, it } from 'vitest';
import { queryParameters } from '../../../local/name-maps.ts';
import { CursorGoneError, defaultLocalPageSize, encodeLocalCursor, maxLocalPageSize, newestFirstPage, parseLocalPageQuery } from '../../../local/newest-first-page.ts';
import type { LocalPageQuery, PagedStore } from '../../../local/newest-first-page.ts';
import { ValidationError } from '../../../shared/errors.ts';

interface Item {
  readonly name: string;
  readonly seq: number;
}
const seqOf = (item: Item): number => item.seq;
const store = (total: number, droppedThrough = -1): PagedStore => ({ total, droppedThrough, keeps: 'the test keeps 5' });

/** Sources of `lists` (each oldest first, as a store records them), newest first below `before`. */
function sourcesOf(lists: readonly (readonly Item[])[]): (before: number) => Iterable<Item>[] {
  return (before) => lists.map((list) => list.filter((item) => item.seq < before).reverse());
}

/** Every page of `lists`, `limit` at a time, following each nextCursor. */
function allPages(lists: readonly (readonly Item[])[], limit: number): string[][] {
  const pages: string[][] = [];
  let cursor: string | null = null;
  do {
    const query = parseLocalPageQuery(new URLSearchParams({ limit: String(limit), ...(cursor ? { cursor } : {}) }));
    const page = newestFirstPage(sourcesOf(lists), seqOf, query, store(lists.flat().length));
    pages.push(page.items.map((item) => item.name));
    cursor = page.nextCursor;
  } while (cursor !== null);
  return pages;
}

function validationDetails(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return (error as ValidationError).details;
  }
  throw new Error('expected a ValidationError');
}

describe('newestFirstPage', () => {
  it('pages several sources merged newest first, none skipped nor repeated', () => {
    // Prepare: two channels recorded interleaved
    const sms = [0, 2, 3, 6].map((seq) => ({ name: `s${seq}`, seq }));
    const push = [1, 4, 5, 7, 8].map((seq) => ({ name: `p${seq}`, seq }));

    // Act
    const pages = allPages([sms, push], 3);

    // Assess
    expect(pages).toEqual([['p8', 'p7', 's6'], ['p5', 'p4', 's3'], ['s2', 'p1', 's0']]);
  });

  it('answers the total of the store on every page, and no cursor on the page that holds the oldest', () => {
    // Prepare
    const items = Array.from({ length: 4 }, (_, i) => ({ name: String(i), seq: i }));

    // Act
    const first = newestFirstPage(sourcesOf([items]), seqOf, { limit: 2 }, store(4));
    const exact = newestFirstPage(sourcesOf([items]), seqOf, { limit: 4 }, store(4));

    // Assess
    expect(first).toMatchObject({ total: 4, nextCursor: encodeLocalCursor({ seq: 2 }) });
    expect(exact).toMatchObject({ total: 4, nextCursor: null });
    expect(exact.items).toHaveLength(4);
  });

  it('reads limit entries of its sources and one look-ahead each, however many they hold', () => {
    // Prepare: two sources of 50,000 that count what is read of them
    let read = 0;
    const counted = (offset: number): Iterable<Item> => ({
      *[Symbol.iterator]() {
        for (let seq = 99_998 + offset; seq >= 0; seq -= 2) {
          read += 1;
          yield { name: String(seq), seq };
        }
      },
    });

    // Act
    const page = newestFirstPage(() => [counted(0), counted(1)], seqOf, { limit: 10 }, store(100_000));

    // Assess
    expect(page.items.map((item) => item.seq)).toEqual([99_999, 99_998, 99_997, 99_996, 99_995, 99_994, 99_993, 99_992, 99_991, 99_990]);
    expect(read).toBe(10 + 2);
  });

  it('answers 410 naming cursor for a cursor at or below what the store dropped, and pages a cursor above it', () => {
    // Prepare: the store dropped 0..4 and keeps 5..9
    const kept = Array.from({ length: 5 }, (_, i) => ({ name: String(i + 5), seq: i + 5 }));
    const after = (seq: number): LocalPageQuery => ({ limit: 10, after: { seq } });

    // Act
    const gone = (): unknown => newestFirstPage(sourcesOf([kept]), seqOf, after(4), store(5, 4));
    const above = newestFirstPage(sourcesOf([kept]), seqOf, after(7), store(5, 4));

    // Assess
    expect(gone).toThrow(CursorGoneError);
    try {
      gone();
    } catch (error) {
      expect(error).toMatchObject({ statusCode: 410, details: [{ field: 'cursor', message: expect.stringContaining('the test keeps 5') }] });
    }
    expect(above).toMatchObject({ items: [{ name: '6' }, { name: '5' }], nextCursor: null });
  });
});

describe('parseLocalPageQuery', () => {
  it(`takes ${defaultLocalPageSize} when no limit is named, and a cursor as a page answered it`, () => {
    // Act
    const none = parseLocalPageQuery(new URLSearchParams(''));
    const given = parseLocalPageQuery(new URLSearchParams({ limit: '7', cursor: encodeLocalCursor({ seq: 2 }) }));

    // Assess
    expect(none).toEqual({ limit: defaultLocalPageSize });
    expect(given).toEqual({ limit: 7, after: { seq: 2 } });
  });

  it.each([
    ['abc', 'must be a number'],
    ['0', 'must be at least 1'],
    ['2.5', 'must be a whole number'],
    [String(maxLocalPageSize + 1), `must be at most ${maxLocalPageSize}`],
    // Blank, hexadecimal, an exponent or a sign are no decimal number (Number() would read 0, 16, 100, 5).
    ['', 'must be a number'],
    ['0x10', 'must be a number'],
    ['1e2', 'must be a number'],
    ['+5', 'must be a number'],
  ])('refuses limit=%j naming limit: %s', (limit, message) => {
    // Act
    const details = validationDetails(() => parseLocalPageQuery(new URLSearchParams({ limit })));

    // Assess
    expect(details).toEqual([{ field: 'limit', message }]);
  });

  it.each([
    ['not base64 JSON', 'xyz'],
    ['JSON of another shape', Buffer.from('{"olderThan":"ntf_1"}').toString('base64url')],
    ['a negative sequence', Buffer.from('{"seq":-1}').toString('base64url')],
    ['one too long', 'a'.repeat(1025)],
  ])('refuses a cursor that is %s, naming cursor', (_, cursor) => {
    // Act
    const details = validationDetails(() => parseLocalPageQuery(new URLSearchParams({ cursor })));

    // Assess
    expect(details).toEqual([{ field: 'cursor', message: expect.stringMatching(/^is not a cursor of this list/) }]);
  });

  it('refuses a parameter the endpoint does not take, naming it and those it takes, and leaves the named others to the caller', () => {
    // Act
    const details = validationDetails(() => parseLocalPageQuery(new URLSearchParams({ before: '5', channel: 'sms' }), ['channel']));
    const withChannel = parseLocalPageQuery(new URLSearchParams({ channel: 'sms', limit: '3' }), ['channel']);

    // Assess
    expect(details).toEqual([{ field: 'before', message: 'is not a parameter of this endpoint (it takes limit, cursor, channel)' }]);
    expect(withChannel).toEqual({ limit: 3 });
  });

  it('reads a repeated limit as API Gateway passes it, its values joined with commas, and refuses it naming limit', () => {
    // Act: the API's own routes get `?limit=5&limit=10` as "5,10"
    const details = validationDetails(() => parseLocalPageQuery(new URLSearchParams('limit=5&limit=10')));

    // Assess
    expect(details).toEqual([{ field: 'limit', message: expect.any(String) }]);
  });
});

describe('queryParameters', () => {
  it('joins the values of a repeated parameter with commas, in order, and keeps the others as they are', () => {
    expect(queryParameters(new URLSearchParams('channel=sms&limit=3&channel=push&__proto__=x'))).toEqual(
      Object.assign(Object.create(null) as object, { channel: 'sms,push', limit: '3', ['__proto__']: 'x' }),
    );
  });
});
