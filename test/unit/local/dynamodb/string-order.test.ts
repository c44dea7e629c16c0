import { QueryCommand as RawQueryCommand, ScanCommand as RawScanCommand } from '@aws-sdk/client-dynamodb';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PutCommand, QueryCommand, ScanCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareUtf8 } from '../../../../local/dynamodb/string-order.ts';
import { createPkTable, startLocalDynamo } from '../../support/local-dynamo.ts';
import type { LocalDynamo } from '../../support/local-dynamo.ts';

const TableName = 'ordered';

/** U+E000, a private-use character: EE 80 80 in UTF-8, one UTF-16 unit (0xE000). */
const privateUse = '\ue000';
/** U+1F600, an emoji: F0 9F 98 80 in UTF-8, a surrogate pair in UTF-16 (0xD83D 0xDE00). */
const emoji = '\u{1f600}';

describe('strings compared by their UTF-8 bytes on the local DynamoDB endpoint, as DynamoDB compares them', () => {
  let dynamo: LocalDynamo;
  let client: DynamoDBClient;
  let db: DynamoDBDocumentClient;

  beforeAll(async () => {
    dynamo = await startLocalDynamo();
    ({ client, documentClient: db } = dynamo);
    await createPkTable(client, TableName, { sortKey: 'sk' });
    // In UTF-8 order: 'z' < privateUse < emoji. In UTF-16 order: 'z' < emoji < privateUse.
    for (const [sk, text] of [
      ['1', 'z'],
      ['2', privateUse],
      ['3', emoji],
      ['4', ''],
    ] as const) {
      await db.send(new PutCommand({ TableName, Item: { pk: 'p', sk, text, other: `other ${sk}` } }));
      await db.send(new PutCommand({ TableName, Item: { pk: 'k', sk: text === '' ? ' ' : text, n: Number(sk) } }));
    }
  });

  afterAll(async () => {
    await dynamo.stop();
  });

  it('orders by code point, which is UTF-8 byte order, where UTF-16 order parts from it', () => {
    expect(compareUtf8(privateUse, emoji)).toBeLessThan(0);
    expect(compareUtf8(emoji, privateUse)).toBeGreaterThan(0);
    expect(privateUse < emoji).toBe(false);
    expect(compareUtf8('z', privateUse)).toBeLessThan(0);
    expect(compareUtf8(`a${emoji}`, `a${emoji}`)).toBe(0);
    expect(compareUtf8('ab', 'abc')).toBeLessThan(0);
    // Against the bytes themselves, over a spread of characters.
    const samples = ['', 'a', 'z', 'é', '\u07ff', '\u0800', '\ud7ff', privateUse, '\uffff', '\u{10000}', emoji, '\u{10ffff}', `a${emoji}`, `a${privateUse}`];
    for (const a of samples) {
      for (const b of samples) expect(Math.sign(compareUtf8(a, b))).toBe(Math.sign(Buffer.compare(Buffer.from(a), Buffer.from(b))));
    }
  });

  it('evaluates a condition on a write in UTF-8 order (<, <=, >, >=, BETWEEN)', async () => {
    const conditions: [string, Record<string, string>][] = [
      ['#t < :e', { ':e': emoji }],
      ['#t <= :e', { ':e': emoji }],
      [':e > #t', { ':e': emoji }],
      [':e >= #t', { ':e': emoji }],
      ['#t BETWEEN :z AND :e', { ':z': 'z', ':e': emoji }],
    ];
    for (const [ConditionExpression, ExpressionAttributeValues] of conditions) {
      // The item's text is the private-use character, before the emoji in UTF-8 order.
      await expect(
        db.send(new UpdateCommand({ TableName, Key: { pk: 'p', sk: '2' }, UpdateExpression: 'SET seen = :one', ConditionExpression, ExpressionAttributeNames: { '#t': 'text' }, ExpressionAttributeValues: { ...ExpressionAttributeValues, ':one': 1 } })),
      ).resolves.toBeDefined();
    }
    await expect(
      db.send(new UpdateCommand({ TableName, Key: { pk: 'p', sk: '2' }, UpdateExpression: 'SET seen = :one', ConditionExpression: '#t > :e', ExpressionAttributeNames: { '#t': 'text' }, ExpressionAttributeValues: { ':e': emoji, ':one': 1 } })),
    ).rejects.toMatchObject({ name: 'ConditionalCheckFailedException' });
  });

  it('evaluates a condition in a transaction in UTF-8 order', async () => {
    await expect(
      db.send(
        new TransactWriteCommand({
          TransactItems: [{ ConditionCheck: { TableName, Key: { pk: 'p', sk: '3' }, ConditionExpression: '#t > :u', ExpressionAttributeNames: { '#t': 'text' }, ExpressionAttributeValues: { ':u': privateUse } } }],
        }),
      ),
    ).resolves.toBeDefined();
  });

  it('filters a Query and a Scan in UTF-8 order, then projects, and counts what the filter kept', async () => {
    const query = await db.send(
      new QueryCommand({
        TableName,
        KeyConditionExpression: 'pk = :p',
        FilterExpression: '#t > :u',
        ProjectionExpression: 'sk, #o',
        ExpressionAttributeNames: { '#t': 'text', '#o': 'other' },
        ExpressionAttributeValues: { ':p': 'p', ':u': privateUse },
      }),
    );
    expect(query.Items).toEqual([{ sk: '3', other: 'other 3' }]);
    expect(query.Count).toBe(1);
    expect(query.ScannedCount).toBe(4);

    const counted = await db.send(new ScanCommand({ TableName, FilterExpression: '#t BETWEEN :z AND :e', Select: 'COUNT', ExpressionAttributeNames: { '#t': 'text' }, ExpressionAttributeValues: { ':z': 'z', ':e': emoji } }));
    expect(counted.Count).toBe(3);
    expect(counted.Items).toBeUndefined();
  });

  it('filters with the legacy QueryFilter and ScanFilter in UTF-8 order', async () => {
    const query = await client.send(
      new RawQueryCommand({
        TableName,
        KeyConditions: { pk: { ComparisonOperator: 'EQ', AttributeValueList: [{ S: 'p' }] } },
        QueryFilter: { text: { ComparisonOperator: 'LT', AttributeValueList: [{ S: emoji }] } },
        AttributesToGet: ['sk'],
      }),
    );
    expect(query.Items).toEqual([{ sk: { S: '1' } }, { sk: { S: '2' } }, { sk: { S: '4' } }]);
    const scan = await client.send(new RawScanCommand({ TableName, ScanFilter: { text: { ComparisonOperator: 'GE', AttributeValueList: [{ S: emoji }] } } }));
    expect(scan.Items?.map((item) => item.sk?.S)).toEqual(['3']);
  });

  it('takes BETWEEN bounds that are in order in UTF-8, and refuses bounds out of order with AWS message', async () => {
    const between = await db.send(
      new QueryCommand({ TableName, KeyConditionExpression: 'pk = :k AND sk BETWEEN :u AND :e', ExpressionAttributeValues: { ':k': 'k', ':u': privateUse, ':e': emoji } }),
    );
    expect(between.Items?.map((item) => item.n)).toEqual([2, 3]);
    await expect(
      db.send(new QueryCommand({ TableName, KeyConditionExpression: 'pk = :k AND sk BETWEEN :e AND :u', ExpressionAttributeValues: { ':k': 'k', ':u': privateUse, ':e': emoji } })),
    ).rejects.toThrow(/BETWEEN operator requires upper bound to be greater than or equal to lower bound/);
  });

  it('reads a Query on from an ExclusiveStartKey inside its sort-key condition', async () => {
    const page = await db.send(
      new QueryCommand({
        TableName,
        KeyConditionExpression: 'pk = :k AND sk BETWEEN :u AND :e',
        ExpressionAttributeValues: { ':k': 'k', ':u': privateUse, ':e': emoji },
        ExclusiveStartKey: { pk: 'k', sk: privateUse },
      }),
    );
    expect(page.Items?.map((item) => item.n)).toEqual([3]);
  });

  it('reads an empty String or Binary and a false Boolean as values in IN, attribute_type, contains, size() and BETWEEN, as AWS does for a non-key attribute', async () => {
    // Prepare: an item with an empty string (text) and an empty binary (bytes), and one with a multibyte string
    await db.send(new PutCommand({ TableName, Item: { pk: 'e', sk: '1', text: '', bytes: new Uint8Array(0), flag: false, words: ['a', ''] } }));
    await db.send(new PutCommand({ TableName, Item: { pk: 'e', sk: '2', text: `é${emoji}`, bytes: new Uint8Array([1]), flag: true, words: ['a'] } }));
    const matching = async (FilterExpression: string, values: Record<string, unknown> = {}): Promise<unknown[]> => {
      const names = { '#t': 'text', '#b': 'bytes', '#f': 'flag', '#w': 'words' };
      const used = Object.fromEntries(Object.entries(names).filter(([name]) => FilterExpression.includes(name)));
      const answer = await db.send(new QueryCommand({ TableName, KeyConditionExpression: 'pk = :e', FilterExpression, ExpressionAttributeNames: used, ExpressionAttributeValues: { ':e': 'e', ...values } }));
      return (answer.Items ?? []).map((item) => item.sk);
    };

    // Act / Assess
    expect(await matching('#t IN (:empty, :z)', { ':empty': '', ':z': 'z' })).toEqual(['1']);
    expect(await matching('attribute_type(#t, :s) AND attribute_type(#b, :b)', { ':s': 'S', ':b': 'B' })).toEqual(['1', '2']);
    expect(await matching('size(#t) = :zero AND size(#b) = :zero', { ':zero': 0 })).toEqual(['1']);
    // é is 2 bytes in UTF-8 and the emoji 4 (3 UTF-16 units in all): size() is in bytes.
    expect(await matching('size(#t) = :six', { ':six': 6 })).toEqual(['2']);
    expect(await matching('#b BETWEEN :none AND :one', { ':none': new Uint8Array(0), ':one': new Uint8Array([1]) })).toEqual(['1', '2']);
    expect(await matching('#b BETWEEN :one AND :one', { ':one': new Uint8Array([1]) })).toEqual(['2']);
    // A false Boolean is a value too, and a list may hold an empty string.
    expect(await matching('#f IN (:no)', { ':no': false })).toEqual(['1']);
    expect(await matching('attribute_type(#f, :bool)', { ':bool': 'BOOL' })).toEqual(['1', '2']);
    expect(await matching('contains(#w, :empty)', { ':empty': '' })).toEqual(['1']);
    expect(await matching('NOT contains(#w, :empty)', { ':empty': '' })).toEqual(['2']);
  });

  it('finds an empty string BETWEEN bounds that hold it, as AWS does for a non-key attribute', async () => {
    const query = await db.send(
      new QueryCommand({ TableName, KeyConditionExpression: 'pk = :p', FilterExpression: '#t BETWEEN :empty AND :z', ExpressionAttributeNames: { '#t': 'text' }, ExpressionAttributeValues: { ':p': 'p', ':empty': '', ':z': 'z' } }),
    );
    expect(query.Items?.map((item) => item.sk)).toEqual(['1', '4']);
  });
});
