import { describe, expect, it } from 'vitest';
import { defaultLocalPageSize, encodeLocalCursor, maxLocalPageSize, newestFirstPage, parseLocalPageQuery } from '../../../local/newest-first-page.ts';
import type { StorePosition } from '../../../local/newest-first-page.ts';
import { ValidationError } from '../../../shared/errors.ts';

interface Item {
  readonly name: string;
  readonly at: number;
  readonly seq: number;
}
const positionOf = (item: Item): StorePosition => item;

/** Every page of `items`, `limit` at a time, following each nextCursor. */
function allPages(items: readonly Item[], limit: number): string[][] {
  const pages: string[][] = [];
  let cursor: string | null = null;
  do {
    const query = parseLocalPageQuery(new URLSearchParams({ limit: String(limit), ...(cursor ? { cursor } : {}) }));
    const page = newestFirstPage(items, positionOf, query);
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
  it('pages a store newest first, the later recorded first within one millisecond, none skipped nor repeated', () => {
    // Prepare: recorded out of time order, and five in the same millisecond
    const items: Item[] = [
      { name: 'a', at: 1_000, seq: 0 },
      { name: 'd', at: 3_000, seq: 1 },
      { name: 'b', at: 2_000, seq: 2 },
      ...[3, 4, 5, 6, 7].map((seq) => ({ name: `s${seq}`, at: 2_500, seq })),
    ];

    // Act
    const pages = allPages(items, 3);

    // Assess
    expect(pages).toEqual([['d', 's7', 's6'], ['s5', 's4', 's3'], ['b', 'a']]);
  });

  it('answers the total of the store on every page, and no cursor on the page that holds the oldest', () => {
    // Prepare
    const items = Array.from({ length: 4 }, (_, i) => ({ name: String(i), at: i, seq: i }));

    // Act
    const first = newestFirstPage(items, positionOf, { limit: 2 });
    const exact = newestFirstPage(items, positionOf, { limit: 4 });

    // Assess
    expect(first).toMatchObject({ total: 4, nextCursor: expect.any(String) });
    expect(exact).toMatchObject({ total: 4, nextCursor: null });
    expect(exact.items).toHaveLength(4);
  });

  it('goes on from where a cursor stood when its entry has been forgotten meanwhile', () => {
    // Prepare
    const items = Array.from({ length: 5 }, (_, i) => ({ name: String(i), at: i * 10, seq: i }));
    const cursor = encodeLocalCursor({ at: 30, seq: 3 });

    // Act: the entry at 30 is gone
    const page = newestFirstPage(
      items.filter((item) => item.seq !== 3),
      positionOf,
      parseLocalPageQuery(new URLSearchParams({ cursor })),
    );

    // Assess
    expect(page.items.map((item) => item.name)).toEqual(['2', '1', '0']);
  });
});

describe('parseLocalPageQuery', () => {
  it(`takes ${defaultLocalPageSize} when no limit is named, and a cursor as a page answered it`, () => {
    // Act
    const none = parseLocalPageQuery(new URLSearchParams(''));
    const given = parseLocalPageQuery(new URLSearchParams({ limit: '7', cursor: encodeLocalCursor({ at: 5, seq: 2 }) }));

    // Assess
    expect(none).toEqual({ limit: defaultLocalPageSize });
    expect(given).toEqual({ limit: 7, after: { at: 5, seq: 2 } });
  });

  it.each([
    ['abc', 'must be a number'],
    ['0', 'must be at least 1'],
    ['2.5', 'must be a whole number'],
    [String(maxLocalPageSize + 1), `must be at most ${maxLocalPageSize}`],
    ['', 'must be at least 1'],
  ])('refuses limit=%j naming limit: %s', (limit, message) => {
    // Act
    const details = validationDetails(() => parseLocalPageQuery(new URLSearchParams({ limit })));

    // Assess
    expect(details).toEqual([{ field: 'limit', message }]);
  });

  it.each([
    ['not base64 JSON', 'xyz'],
    ['JSON of another shape', Buffer.from('{"olderThan":"ntf_1"}').toString('base64url')],
    ['a negative sequence', Buffer.from('{"at":1,"seq":-1}').toString('base64url')],
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
});
