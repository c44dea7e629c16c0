/**
 * The index-write rule (local/dynamodb/index-writes.ts) on its own, over index stores that can be
 * made to fail: what it leaves out must never leave an entry out of step with the item.
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import type { Callback, DynaliteStore, SubDb } from '../../../../local/dynamodb/dynalite.ts';
import { installIndexWriteRule } from '../../../../local/dynamodb/index-writes.ts';
import type { IndexWriting } from '../../../../local/dynamodb/index-writes.ts';

const require = createRequire(import.meta.url);
/** dynalite's own plan of an item's index puts and deletes. */
const { getIndexActions } = require('dynalite/db') as Pick<IndexWriting, 'getIndexActions'>;

const table = {
  TableName: 'items',
  KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
  AttributeDefinitions: [
    { AttributeName: 'pk', AttributeType: 'S' },
    { AttributeName: 'group', AttributeType: 'S' },
  ],
  GlobalSecondaryIndexes: ['first', 'second'].map((IndexName) => ({
    IndexName,
    KeySchema: [{ AttributeName: 'group', KeyType: 'HASH' }],
    Projection: { ProjectionType: 'ALL' },
  })),
};

/** Index stores in memory; `failNextPut` makes the next put into that index fail. */
function indexStores(): { store: DynaliteStore; entries: Map<string, Map<string, unknown>>; failNextPut: Set<string>; puts: string[] } {
  const entries = new Map<string, Map<string, unknown>>();
  const failNextPut = new Set<string>();
  const puts: string[] = [];
  const subDb = (index: string): SubDb => {
    const map = entries.get(index) ?? new Map<string, unknown>();
    entries.set(index, map);
    return {
      get: (key: string, callback: Callback) =>
        map.has(key) ? callback(null, structuredClone(map.get(key))) : callback(Object.assign(new Error('NotFound'), { notFound: true })),
      put: (key: string, value: unknown, callback: Callback) => {
        if (failNextPut.delete(index)) return callback(new Error(`${index}: disk full`));
        puts.push(index);
        map.set(key, structuredClone(value));
        callback();
      },
      del: (key: string, callback: Callback) => {
        map.delete(key);
        callback();
      },
    } as unknown as SubDb;
  };
  return { store: { getIndexDb: (_type: string, _table: string, index: string) => subDb(index) } as unknown as DynaliteStore, entries, failNextPut, puts };
}

describe('the index-write rule', () => {
  const db: IndexWriting = { getIndexActions, updateIndexes: () => undefined };
  installIndexWriteRule(db);
  const write = (store: DynaliteStore, before: Record<string, unknown> | undefined, after: Record<string, unknown> | undefined) =>
    new Promise<Error | undefined>((resolve) => db.updateIndexes(store, table, before as never, after as never, (error) => resolve(error ?? undefined)));
  const v1 = { pk: { S: 'a' }, group: { S: 'g' }, n: { N: '1' } };
  const v2 = { pk: { S: 'a' }, group: { S: 'g' }, n: { N: '2' } };

  it('writes no entry an unchanged item already has', async () => {
    const { store, puts } = indexStores();
    await write(store, undefined, v1);
    puts.length = 0;

    expect(await write(store, v1, structuredClone(v1))).toBeUndefined();
    expect(puts).toEqual([]);
  });

  it('puts right an entry a write that failed part-way left out of step with the item', async () => {
    // Prepare: v1 everywhere; then v2 reaches the first index and fails on the second, so the
    // table (whose put never came) still holds v1
    const { store, entries, failNextPut } = indexStores();
    await write(store, undefined, v1);
    failNextPut.add('second');
    expect(await write(store, v1, v2)).toBeInstanceOf(Error);
    expect([...(entries.get('first')?.values() ?? [])]).toEqual([v2]);

    // Act: v1 written again over the v1 the table holds
    expect(await write(store, v1, structuredClone(v1))).toBeUndefined();

    // Assess: both indexes hold v1
    expect([...(entries.get('first')?.values() ?? [])]).toEqual([v1]);
    expect([...(entries.get('second')?.values() ?? [])]).toEqual([v1]);
  });
});
