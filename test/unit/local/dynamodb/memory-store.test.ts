/**
 * The in-memory store under dynalite's tables (local/dynamodb/memory-store.ts): what dynalite
 * relies on from `memory-level`, and, through the endpoint, what DynamoDB promises on top of it.
 */
import {
  DeleteTableCommand,
  DynamoDBClient,
  ListTablesCommand,
  ListTagsOfResourceCommand,
  PutItemCommand,
  QueryCommand,
  TagResourceCommand,
} from '@aws-sdk/client-dynamodb';
import type { Tag } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynaliteStore } from '../../../../local/dynamodb/dynalite.ts';
import type { DynaliteStore } from '../../../../local/dynamodb/dynalite.ts';
import { startDynamoDbEndpoint } from '../../../../local/dynamodb/endpoint.ts';
import type { DynamoDbEndpoint } from '../../../../local/dynamodb/endpoint.ts';
import { compareKeys, DatabaseClosedError, InvalidEntryError, MemoryStore } from '../../../../local/dynamodb/memory-store.ts';
import type { RootDatabase } from '../../../../local/dynamodb/memory-store.ts';
import { createPkTable } from '../../support/local-dynamo.ts';

/** Reads a stream to its end. */
async function drain(stream: NodeJS.ReadableStream): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const chunk of stream) out.push(chunk);
  return out;
}

/** DynamoDB's order of strings: "DynamoDB collates and compares strings using the bytes of the underlying UTF-8 string encoding." */
const utf8Order = (a: string, b: string): number => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

describe('compareKeys', () => {
  it('orders keys as their UTF-8 bytes order, surrogate pairs and U+E000-U+FFFF included', () => {
    // Prepare: by code unit, 😀 (D83D DE00) and 𝄞 (D834 DD1E) would come before U+E000 and U+FF01.
    const keys = ['a', 'ab', 'b', '', 'é', '\u00ff', '\ue000', '\uff01', '😀', 'x😀', 'x\ue000', 'x', '\u07ff', '\u0800', '𝄞'];

    // Act
    const sorted = [...keys].sort(compareKeys);

    // Assert
    expect(sorted).toEqual([...keys].sort(utf8Order));
  });

  it('answers alike whichever of the two keys holds the high units', () => {
    for (const [a, b] of [
      ['plain', '😀'],
      ['\uff01', '😀'],
      ['😀', '\uff01'],
      ['😀', '😀'],
      ['x', 'x\ue000'],
    ]) {
      expect(Math.sign(compareKeys(a as string, b as string))).toBe(Math.sign(utf8Order(a as string, b as string)));
    }
  });
});

describe('MemoryStore', () => {
  const filled = (): MemoryStore => {
    const store = new MemoryStore();
    store.batch(['c', 'a', 'e', 'b', 'd'].map((key) => ({ type: 'put' as const, key, value: { key } })));
    return store;
  };
  const keys = (store: MemoryStore, options: Parameters<MemoryStore['keys']>[0]): string[] => [...store.keys(options)];

  it('stores values as JSON: a read is a fresh copy, and changing it changes nothing stored', () => {
    // Prepare
    const store = new MemoryStore();
    const value = { M: { n: { N: '1' } } };
    store.put('k', value);
    value.M.n.N = '2';

    // Act
    const read = store.get('k') as typeof value;
    read.M.n.N = '3';

    // Assert
    expect(store.get('k')).toEqual({ M: { n: { N: '1' } } });
    expect(store.get('missing')).toBeUndefined();
  });

  it('stores one object written under several keys as it was at each write, changed in between or not', () => {
    // Prepare: dynalite writes one item object to each index and then to its table, and the store
    // keeps one string for the copies: a change between writes must still show in the later ones.
    const store = new MemoryStore();
    const item = { id: { S: 'a' }, n: { N: '1' } };

    // Act
    store.put('index-1', item);
    store.put('table', item);
    item.n.N = '2';
    store.batch([{ type: 'put', key: 'index-2', value: item }]);
    item.n.N = '3';
    store.batch([
      { type: 'put', key: 'index-3', value: item },
      { type: 'put', key: 'table-2', value: item },
    ]);
    item.n.N = '1';
    store.put('index-4', item);

    // Assert
    const n = (key: string): string => (store.get(key) as typeof item).n.N;
    expect(['index-1', 'table', 'index-2', 'index-3', 'table-2', 'index-4'].map(n)).toEqual(['1', '1', '2', '3', '3', '1']);
  });

  it('replaces the value of a key written twice, and deletes a key (a missing one too)', () => {
    const store = new MemoryStore();
    store.put('k', 1);
    store.put('k', 2);
    store.del('k2');
    expect([store.get('k'), keys(store, {})]).toEqual([2, ['k']]);
    store.del('k');
    expect([store.get('k'), keys(store, {})]).toEqual([undefined, []]);
  });

  it('reads a lone surrogate in a key as U+FFFD, as the UTF-8 of memory-level\'s Buffers did', () => {
    const store = new MemoryStore();
    store.put('tag\ud800', 1);
    store.put('tag\ud801', 2);
    expect([keys(store, {}), [...store.values({})]]).toEqual([['tag\ufffd'], [2]]);
  });

  it('reads ranges as abstract-level does: gt, gte, lt, lte, reverse and limit', () => {
    const store = filled();
    expect(keys(store, {})).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(keys(store, { gt: 'b', lt: 'e' })).toEqual(['c', 'd']);
    expect(keys(store, { gte: 'b', lte: 'd' })).toEqual(['b', 'c', 'd']);
    expect(keys(store, { gte: 'bb', lt: 'd' })).toEqual(['c']);
    expect(keys(store, { reverse: true })).toEqual(['e', 'd', 'c', 'b', 'a']);
    expect(keys(store, { gt: 'a', lte: 'd', reverse: true })).toEqual(['d', 'c', 'b']);
    expect(keys(store, { gte: 'b', lt: 'e', reverse: true, limit: 2 })).toEqual(['d', 'c']);
    expect(keys(store, { limit: 0 })).toEqual([]);
    expect(keys(store, { limit: -1 })).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(keys(store, { gt: 'e' })).toEqual([]);
    expect(keys(store, { lt: 'a', reverse: true })).toEqual([]);
  });

  it('reads the entries as they were when the read began: later writes do not show', () => {
    // Prepare
    const store = filled();
    const reading = store.values({});
    const first = reading.next().value as { key: string };

    // Act
    store.put('aa', { key: 'aa' });
    store.put('b', { key: 'b changed' });
    store.del('c');

    // Assert
    expect([first, ...reading]).toEqual(['a', 'b', 'c', 'd', 'e'].map((key) => ({ key })));
    expect(keys(store, {})).toEqual(['a', 'aa', 'b', 'd', 'e']);
  });

  it('applies a batch whole or not at all: a value JSON cannot encode fails it with nothing written', () => {
    // Prepare
    const store = filled();

    // Act
    const error = (() => {
      try {
        store.batch([
          { type: 'del', key: 'a' },
          { type: 'put', key: 'f', value: { ok: true } },
          { type: 'put', key: 'g', value: { n: 1n } },
        ]);
        return undefined;
      } catch (caught) {
        return caught;
      }
    })();

    // Assert
    expect(error).toBeInstanceOf(TypeError);
    expect(keys(store, {})).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('refuses every call once closed', () => {
    const store = filled();
    store.close();
    expect(() => store.get('a')).toThrow(DatabaseClosedError);
    expect(() => store.put('a', 1)).toThrow('Database is closed');
    expect(() => store.del('a')).toThrow('Database is closed');
    expect(() => store.batch([])).toThrow('Database is closed');
    expect(() => store.keys({})).toThrow('Database is closed');
    expect(() => store.values({})).toThrow('Database is closed');
  });
});

describe('installMemoryStore on dynalite\'s root database', () => {
  it('answers callbacks on a later turn, promises without one, and streams keys and values in order', async () => {
    // Prepare
    const store = createDynaliteStore({ createTableMs: 0 });
    const db = store.db as unknown as RootDatabase;
    let answered = false;

    // Act
    db.put('b', { v: 2 }, () => {
      answered = true;
    });
    const synchronously = answered;
    await db.batch([
      { type: 'put', key: 'a', value: { v: 1 } },
      { type: 'put', key: 'c', value: { v: 3 } },
    ]);
    const value = await new Promise((resolve, reject) => db.get('c', (error, found) => (error ? reject(error) : resolve(found))));

    // Assert
    expect(synchronously).toBe(false);
    expect(value).toEqual({ v: 3 });
    expect(await drain(db.createKeyStream({ gte: 'a', lt: 'c' }))).toEqual(['a', 'b']);
    expect(await drain(db.createValueStream({ reverse: true }))).toEqual([{ v: 3 }, { v: 2 }, { v: 1 }]);
    await new Promise<void>((resolve) => store.db.close(() => resolve()));
  });

  it('fails the calls made after close with dynalite\'s "Database is closed", by callback, promise and stream', async () => {
    // Prepare
    const store = createDynaliteStore({ createTableMs: 0 });
    const db = store.db as unknown as RootDatabase;
    await db.put('a', 1);
    await new Promise<void>((resolve) => store.db.close(() => resolve()));

    // Act
    const byCallback = await new Promise((resolve) => db.get('a', (error) => resolve(error)));
    const byPromise = await (db.put('b', 2) as Promise<void>).catch((error: unknown) => error);
    const opening = (open: () => unknown): unknown => {
      try {
        open();
        return undefined;
      } catch (error) {
        return error;
      }
    };

    // Assert: a stream is refused as it is opened, as abstract-level's keys() and values() refuse it.
    for (const error of [byCallback, byPromise, opening(() => db.createValueStream()), opening(() => db.createKeyStream())]) {
      expect(error).toBeInstanceOf(DatabaseClosedError);
    }
  });

  it('lets a stream opened before close finish from its snapshot', async () => {
    // Prepare
    const store = createDynaliteStore({ createTableMs: 0 });
    const db = store.db as unknown as RootDatabase;
    await db.batch(['a', 'b', 'c'].map((key) => ({ type: 'put' as const, key, value: key })));
    const keys = db.createKeyStream();

    // Act
    await new Promise<void>((resolve) => store.db.close(() => resolve()));

    // Assert
    expect(await drain(keys)).toEqual(['a', 'b', 'c']);
  });

  it('refuses a null or undefined value or key, as abstract-level does, a value with no JSON too, and writes nothing of such a batch', async () => {
    // Prepare
    const store = createDynaliteStore({ createTableMs: 0 });
    const db = store.db as unknown as RootDatabase;

    // Act
    const refusals = await Promise.all([
      (db.put('a', undefined) as Promise<void>).catch((error: unknown) => error),
      (db.put('a', null) as Promise<void>).catch((error: unknown) => error),
      (db.put(undefined, 1) as Promise<void>).catch((error: unknown) => error),
      // Values JSON has no text for: stored, they would read as missing while their key is listed.
      (db.put('a', { toJSON: () => undefined }) as Promise<void>).catch((error: unknown) => error),
      (db.put('a', () => 1) as Promise<void>).catch((error: unknown) => error),
      (db.batch([
        { type: 'put', key: 'b', value: 'kept?' },
        { type: 'put', key: 'c' },
      ]) as Promise<void>).catch((error: unknown) => error),
    ]);

    // Assert
    for (const error of refusals) expect(error).toBeInstanceOf(InvalidEntryError);
    expect(refusals.map((error) => (error as InvalidEntryError).code)).toEqual([
      'LEVEL_INVALID_VALUE',
      'LEVEL_INVALID_VALUE',
      'LEVEL_INVALID_KEY',
      'LEVEL_INVALID_VALUE',
      'LEVEL_INVALID_VALUE',
      'LEVEL_INVALID_VALUE',
    ]);
    expect(await drain(db.createKeyStream())).toEqual([]);
    await new Promise<void>((resolve) => store.db.close(() => resolve()));
  });

  it('gives each in-memory dynalite store entries of its own', async () => {
    // Prepare
    const first = createDynaliteStore({}).db as unknown as RootDatabase;
    const second = createDynaliteStore({}).db as unknown as RootDatabase;

    // Act
    await first.put('shared', 1);

    // Assert
    expect([await first.get('shared'), await second.get('shared')]).toEqual([1, undefined]);
  });
});

describe('the endpoint on the in-memory store', () => {
  const table = 'memory-store-order';
  let store: DynaliteStore;
  let dynamo: DynamoDbEndpoint;
  let client: DynamoDBClient;

  beforeAll(async () => {
    store = createDynaliteStore({ createTableMs: 0, deleteTableMs: 0 });
    dynamo = await startDynamoDbEndpoint({ store });
    client = new DynamoDBClient({ endpoint: dynamo.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
    await createPkTable(client, table, { sortKey: 'sk' });
  });

  afterAll(async () => {
    client.destroy();
    await dynamo.stop();
    await new Promise<void>((resolve) => store.db.close(() => resolve()));
  });

  it('returns a Query in UTF-8 byte order of the sort key, as DynamoDB orders strings, both ways', async () => {
    // Prepare: by UTF-16 code unit, 😀 (D83D DE00) and 𝄞 would come before U+E000 and U+FFEF.
    const sortKeys = ['z', '😀', '\ue000', 'A', 'é', '\uffef', '𝄞'];
    for (const sk of sortKeys) await client.send(new PutItemCommand({ TableName: table, Item: { pk: { S: 'p' }, sk: { S: sk } } }));

    // Act
    const forward = await client.send(new QueryCommand({ TableName: table, KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': { S: 'p' } } }));
    const backward = await client.send(
      new QueryCommand({ TableName: table, KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': { S: 'p' } }, ScanIndexForward: false }),
    );

    // Assert
    const expected = [...sortKeys].sort(utf8Order);
    expect(forward.Items?.map((item) => item.sk?.S)).toEqual(expected);
    expect(backward.Items?.map((item) => item.sk?.S)).toEqual([...expected].reverse());
  });

  it('answers a key condition range (BETWEEN) across sort keys beyond U+FFFF as DynamoDB would', async () => {
    // dynalite checks BETWEEN's bounds by code unit, so the range starts below U+D800 (docs/architecture.md).
    const result = await client.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: 'pk = :p AND sk BETWEEN :from AND :to',
        ExpressionAttributeValues: { ':p': { S: 'p' }, ':from': { S: 'é' }, ':to': { S: '𝄞' } },
      }),
    );
    expect(result.Items?.map((item) => item.sk?.S)).toEqual(['é', '\ue000', '\uffef', '𝄞']);
  });

  it('refuses tags without a value or key as AWS does, writes none of them, and lists and deletes tables after', async () => {
    // Prepare: dynalite's validation lets a Tag without Value through; it once reached the store.
    const other = 'memory-store-other';
    await createPkTable(client, other);
    const arn = `arn:aws:dynamodb:us-east-1:000000000000:table/${table}`;

    // Act
    const refused = await client
      .send(new TagResourceCommand({ ResourceArn: arn, Tags: [{ Key: 'env', Value: 'prod' }, { Key: 'owner' } as Tag, { Value: 'x' } as Tag] }))
      .catch((error: unknown) => error);

    // Assert
    expect(refused).toMatchObject({
      name: 'ValidationException',
      message:
        "2 validation errors detected: Value null at 'tags.2.member.value' failed to satisfy constraint: Member must not be null; " +
        "Value null at 'tags.3.member.key' failed to satisfy constraint: Member must not be null",
      $metadata: { httpStatusCode: 400 },
    });
    expect((await client.send(new ListTagsOfResourceCommand({ ResourceArn: arn }))).Tags).toEqual([]);
    expect((await client.send(new ListTablesCommand({}))).TableNames).toEqual([table, other].sort());
    await client.send(new DeleteTableCommand({ TableName: other }));
    // The table's items and description go after deleteTableMs (0 here), on a later turn.
    const deadline = Date.now() + 10_000;
    let listed = (await client.send(new ListTablesCommand({}))).TableNames;
    while (listed?.includes(other) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      listed = (await client.send(new ListTablesCommand({}))).TableNames;
    }
    expect(listed).toEqual([table]);
  });
});
