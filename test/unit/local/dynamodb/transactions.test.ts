import { ResourceNotFoundException, TransactionCanceledException, TransactionConflictException } from '@aws-sdk/client-dynamodb';
import { GetCommand, NumberValue, PutCommand, TransactGetCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { TransactGetCommandInput, TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeyLocks } from '../../../../local/dynamodb/key-locks.ts';
import { createPkTable, startLocalDynamo } from '../../support/local-dynamo.ts';
import type { LocalDynamo } from '../../support/local-dynamo.ts';

const table = 'items';
let dynamo: LocalDynamo;
let counter = 0;

/** A fresh partition key per test, so tests share the table without seeing each other. */
function aKey(): string {
  counter += 1;
  return `k${counter}`;
}

async function read(pk: string, sk: string): Promise<Record<string, unknown> | undefined> {
  return (await dynamo.documentClient.send(new GetCommand({ TableName: table, Key: { pk, sk }, ConsistentRead: true }))).Item;
}

async function transact(items: NonNullable<TransactWriteCommandInput['TransactItems']>): Promise<unknown> {
  return dynamo.documentClient.send(new TransactWriteCommand({ TransactItems: items }));
}

async function transactGet(items: NonNullable<TransactGetCommandInput['TransactItems']>): Promise<(Record<string, unknown> | undefined)[]> {
  const { Responses } = await dynamo.documentClient.send(new TransactGetCommand({ TransactItems: items }));
  return (Responses ?? []).map((response) => response.Item);
}

/**
 * One transaction setting `v` of `first`, of 60 items between, and of `second` to `value`, in
 * that order: long enough to apply that a read slipping into it would see it half done.
 */
async function moveAll(pk: string, value: number): Promise<unknown> {
  const set = (sk: string): NonNullable<TransactWriteCommandInput['TransactItems']>[number] => ({
    Update: { TableName: table, Key: { pk, sk }, UpdateExpression: 'SET v = :v', ExpressionAttributeValues: { ':v': value } },
  });
  return transact([set('first'), ...Array.from({ length: 60 }, (_, i) => set(`between${i}`)), set('second')]);
}

/** The reasons of a cancelled transaction, as the SDK hands them over. */
async function reasonsOf(call: Promise<unknown>): Promise<{ Code?: string; Message?: string }[]> {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof TransactionCanceledException)) throw new Error(`Expected a TransactionCanceledException, got ${String(error)}`);
  return (error.CancellationReasons ?? []).map(({ Code, Message }) => ({ ...(Code ? { Code } : {}), ...(Message ? { Message } : {}) }));
}

beforeAll(async () => {
  dynamo = await startLocalDynamo();
  await createPkTable(dynamo.client, table, { sortKey: 'sk' });
});

afterAll(async () => {
  await dynamo?.stop();
});

describe('TransactWriteItems', () => {
  it('applies every action when every condition holds', async () => {
    // Prepare
    const pk = aKey();
    await dynamo.documentClient.send(new PutCommand({ TableName: table, Item: { pk, sk: 'gone', v: 1 } }));

    // Act
    await transact([
      { Put: { TableName: table, Item: { pk, sk: 'a', v: 1 }, ConditionExpression: 'attribute_not_exists(pk)' } },
      { Update: { TableName: table, Key: { pk, sk: 'count' }, UpdateExpression: 'ADD n :one', ExpressionAttributeValues: { ':one': 1 } } },
      { Delete: { TableName: table, Key: { pk, sk: 'gone' } } },
    ]);

    // Assess
    expect(await read(pk, 'a')).toEqual({ pk, sk: 'a', v: 1 });
    expect(await read(pk, 'count')).toEqual({ pk, sk: 'count', n: 1 });
    expect(await read(pk, 'gone')).toBeUndefined();
  });

  it('cancels as a whole when one condition fails, undoing the actions already applied, with a reason per action', async () => {
    // Prepare
    const pk = aKey();
    await dynamo.documentClient.send(new PutCommand({ TableName: table, Item: { pk, sk: 'existing', v: 'old' } }));
    await dynamo.documentClient.send(new PutCommand({ TableName: table, Item: { pk, sk: 'count', n: 5 } }));

    // Act
    const result = transact([
      { Update: { TableName: table, Key: { pk, sk: 'count' }, UpdateExpression: 'ADD n :one', ExpressionAttributeValues: { ':one': 1 } } },
      { Put: { TableName: table, Item: { pk, sk: 'new', v: 1 } } },
      { Put: { TableName: table, Item: { pk, sk: 'existing', v: 'new' }, ConditionExpression: 'attribute_not_exists(pk)' } },
    ]);

    // Assess
    const error = await result.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransactionCanceledException);
    expect((error as TransactionCanceledException).CancellationReasons?.map((r) => r.Code)).toEqual([
      'None',
      'None',
      'ConditionalCheckFailed',
    ]);
    expect(await read(pk, 'count')).toEqual({ pk, sk: 'count', n: 5 });
    expect(await read(pk, 'new')).toBeUndefined();
    expect(await read(pk, 'existing')).toEqual({ pk, sk: 'existing', v: 'old' });
  });

  it('returns the current item of a failed condition when asked to', async () => {
    // Prepare
    const pk = aKey();
    await dynamo.documentClient.send(new PutCommand({ TableName: table, Item: { pk, sk: 'a', v: 7 } }));

    // Act
    const error = await transact([
      {
        Update: {
          TableName: table,
          Key: { pk, sk: 'a' },
          UpdateExpression: 'SET v = :v',
          ConditionExpression: 'v = :expected',
          ExpressionAttributeValues: { ':v': 8, ':expected': 1 },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        },
      },
    ]).catch((e: unknown) => e);

    // Assess
    const reason = (error as TransactionCanceledException).CancellationReasons?.[0];
    expect(reason?.Code).toBe('ConditionalCheckFailed');
    expect(reason?.Item).toEqual({ pk: { S: pk }, sk: { S: 'a' }, v: { N: '7' } });
  });

  it('checks a condition on an item without writing it, even a missing one', async () => {
    // Prepare
    const pk = aKey();

    // Act
    await transact([
      { ConditionCheck: { TableName: table, Key: { pk, sk: 'absent' }, ConditionExpression: 'attribute_not_exists(pk)' } },
      { Put: { TableName: table, Item: { pk, sk: 'b' } } },
    ]);
    const refused = transact([
      { ConditionCheck: { TableName: table, Key: { pk, sk: 'absent' }, ConditionExpression: 'attribute_exists(pk)' } },
      { Put: { TableName: table, Item: { pk, sk: 'c' } } },
    ]);

    // Assess
    await expect(refused).rejects.toBeInstanceOf(TransactionCanceledException);
    expect(await read(pk, 'absent')).toBeUndefined();
    expect(await read(pk, 'b')).toEqual({ pk, sk: 'b' });
    expect(await read(pk, 'c')).toBeUndefined();
  });

  it('refuses two actions on one item, as AWS does', async () => {
    // Prepare
    const pk = aKey();

    // Act
    const result = transact([
      { Put: { TableName: table, Item: { pk, sk: 'a' } } },
      { Delete: { TableName: table, Key: { pk, sk: 'a' } } },
    ]);

    // Assess
    await expect(result).rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining('multiple operations on one item') });
    expect(await read(pk, 'a')).toBeUndefined();
  });

  it('refuses more than 100 actions', async () => {
    // Prepare
    const pk = aKey();
    const items = Array.from({ length: 101 }, (_, i) => ({ Put: { TableName: table, Item: { pk, sk: `i${i}` } } }));

    // Act
    const result = transact(items);

    // Assess
    await expect(result).rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining('less than or equal to 100') });
    expect(await read(pk, 'i0')).toBeUndefined();
  });

  it('counts once when the same conditional add races with itself', async () => {
    // Prepare
    const pk = aKey();
    const add = (): Promise<unknown> =>
      transact([
        { Put: { TableName: table, Item: { pk, sk: 'item' }, ConditionExpression: 'attribute_not_exists(pk)' } },
        { Update: { TableName: table, Key: { pk, sk: 'count' }, UpdateExpression: 'ADD n :one', ExpressionAttributeValues: { ':one': 1 } } },
      ]);

    // Act
    const results = await Promise.allSettled(Array.from({ length: 20 }, add));

    // Assess
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(await read(pk, 'count')).toEqual({ pk, sk: 'count', n: 1 });
  });

  it('keeps a plain write from landing between a transaction and its undoing', async () => {
    // Prepare
    const pk = aKey();
    await dynamo.documentClient.send(new PutCommand({ TableName: table, Item: { pk, sk: 'count', n: 0 } }));
    const increments = Array.from({ length: 10 }, () =>
      dynamo.documentClient.send(
        new UpdateCommand({ TableName: table, Key: { pk, sk: 'count' }, UpdateExpression: 'ADD n :one', ExpressionAttributeValues: { ':one': 1 } }),
      ),
    );
    const cancelled = Array.from({ length: 10 }, () =>
      transact([
        { Update: { TableName: table, Key: { pk, sk: 'count' }, UpdateExpression: 'ADD n :hundred', ExpressionAttributeValues: { ':hundred': 100 } } },
        { ConditionCheck: { TableName: table, Key: { pk, sk: 'never' }, ConditionExpression: 'attribute_exists(pk)' } },
      ]).catch(() => undefined),
    );

    // Act
    const results = await Promise.allSettled([...increments, ...cancelled]);

    // Assess: each increment either landed or met a transaction and was refused, writing nothing.
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(refused.every((r) => r.reason instanceof TransactionConflictException)).toBe(true);
    expect(await read(pk, 'count')).toEqual({ pk, sk: 'count', n: 10 - refused.length });
  });

  it('refuses a plain write of an item an ongoing transaction holds with TransactionConflictException, as AWS does', async () => {
    // Prepare
    const pk = aKey();
    const transaction = moveAll(pk, 1);
    const plainWrites = Array.from({ length: 20 }, () =>
      dynamo.documentClient.send(new PutCommand({ TableName: table, Item: { pk, sk: 'second', v: 2 } })).then(
        () => 'landed',
        (error: unknown) => error,
      ),
    );

    // Act
    const outcomes = await Promise.all(plainWrites);
    await transaction;

    // Assess
    const conflicts = outcomes.filter((outcome) => outcome instanceof TransactionConflictException);
    expect(conflicts.length).toBeGreaterThan(0);
    expect(outcomes.filter((outcome) => outcome !== 'landed' && !(outcome instanceof TransactionConflictException))).toEqual([]);
  });
});

describe('transactions that meet', () => {
  it('cancels a transaction that meets another in progress with TransactionConflict on that item, as AWS does', async () => {
    // Prepare: an endpoint of its own, and the same table
    const strict = await startLocalDynamo();
    try {
      await createPkTable(strict.client, table, { sortKey: 'sk' });
      const pk = aKey();
      const set = (sk: string, v: number): NonNullable<TransactWriteCommandInput['TransactItems']>[number] => ({
        Update: { TableName: table, Key: { pk, sk }, UpdateExpression: 'SET v = :v', ExpressionAttributeValues: { ':v': v } },
      });
      const long = strict.documentClient.send(new TransactWriteCommand({ TransactItems: [set('first', 1), ...Array.from({ length: 60 }, (_, i) => set(`between${i}`, 1)), set('second', 1)] }));
      const others = Array.from({ length: 20 }, (_, i) =>
        reasonsOf(strict.documentClient.send(new TransactWriteCommand({ TransactItems: [set(`own${i}`, 2), set('second', 2)] }))).then(
          (reasons) => reasons,
          () => 'landed' as const,
        ),
      );

      // Act
      const outcomes = await Promise.all(others);
      await long;

      // Assess: each either landed or was cancelled on the shared item alone
      const cancelled = outcomes.filter((outcome) => outcome !== 'landed');
      expect(cancelled.length).toBeGreaterThan(0);
      expect(new Set(cancelled.map((reasons) => JSON.stringify(reasons)))).toEqual(
        new Set([JSON.stringify([{ Code: 'None' }, { Code: 'TransactionConflict', Message: 'Transaction is ongoing for the item' }])]),
      );
    } finally {
      await strict.stop();
    }
  });
});

describe('TransactWriteItems validation and limits', () => {
  it('cancels with a ValidationError for an item that does not match the table, writing nothing', async () => {
    // Prepare
    const pk = aKey();

    // Act
    const reasons = await reasonsOf(
      transact([
        { Put: { TableName: table, Item: { pk, sk: 'fine' } } },
        { Put: { TableName: table, Item: { pk, v: 'no sort key' } } },
      ]),
    );

    // Assess
    expect(reasons).toEqual([{ Code: 'None' }, { Code: 'ValidationError', Message: 'One or more parameter values were invalid: Missing the key sk in the item' }]);
    expect(await read(pk, 'fine')).toBeUndefined();
  });

  it('answers ResourceNotFoundException for a table that does not exist, writing nothing', async () => {
    // Prepare
    const pk = aKey();

    // Act
    const result = transact([
      { Put: { TableName: table, Item: { pk, sk: 'a' } } },
      { Put: { TableName: 'no-such-table', Item: { pk, sk: 'b' } } },
    ]);

    // Assess
    await expect(result).rejects.toBeInstanceOf(ResourceNotFoundException);
    expect(await read(pk, 'a')).toBeUndefined();
  });

  it('names an invalid member by its path in the request, as AWS does', async () => {
    // Prepare
    const pk = aKey();
    const withoutTable = { Put: { Item: { pk, sk: 'a' } } } as unknown as NonNullable<TransactWriteCommandInput['TransactItems']>[number];

    // Act
    const result = transact([{ Put: { TableName: table, Item: { pk, sk: 'b' } } }, withoutTable]);

    // Assess
    await expect(result).rejects.toMatchObject({
      name: 'ValidationException',
      message: "1 validation error detected: Value null at 'transactItems.2.member.put.tableName' failed to satisfy constraint: Member must not be null",
    });
  });

  it('refuses an entry with two operations', async () => {
    // Prepare
    const pk = aKey();

    // Act
    const result = transact([{ Put: { TableName: table, Item: { pk, sk: 'a' } }, Delete: { TableName: table, Key: { pk, sk: 'b' } } }]);

    // Assess
    await expect(result).rejects.toMatchObject({ name: 'ValidationException', message: 'TransactItems can only contain one of Check, Put, Update or Delete' });
    expect(await read(pk, 'a')).toBeUndefined();
  });

  it('refuses more than 4 MB of items in all', async () => {
    // Prepare
    const pk = aKey();
    const text = 'x'.repeat(390_000);
    const items = Array.from({ length: 11 }, (_, i) => ({ Put: { TableName: table, Item: { pk, sk: `big${i}`, text } } }));

    // Act
    const result = transact(items);

    // Assess
    await expect(result).rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining('exceeding the 4MB limit') });
    expect(await read(pk, 'big0')).toBeUndefined();
  });

  it('cancels with a ValidationError when an update would overflow a number, writing nothing', async () => {
    // Prepare
    const pk = aKey();
    await dynamo.documentClient.send(new PutCommand({ TableName: table, Item: { pk, sk: 'count', n: NumberValue.from('9e125') } }));

    // Act
    const reasons = await reasonsOf(
      transact([
        { Put: { TableName: table, Item: { pk, sk: 'other' } } },
        { Update: { TableName: table, Key: { pk, sk: 'count' }, UpdateExpression: 'ADD n :v', ExpressionAttributeValues: { ':v': NumberValue.from('9e125') } } },
      ]),
    );

    // Assess
    expect(reasons).toEqual([
      { Code: 'None' },
      { Code: 'ValidationError', Message: 'Number overflow. Attempting to store a number with magnitude larger than supported range' },
    ]);
    expect(await read(pk, 'other')).toBeUndefined();
  });

  it('undoes the updates already applied when a later one fails on the item\'s data', async () => {
    // Prepare
    const pk = aKey();
    await dynamo.documentClient.send(new PutCommand({ TableName: table, Item: { pk, sk: 'first', v: 'before' } }));
    await dynamo.documentClient.send(new PutCommand({ TableName: table, Item: { pk, sk: 'second', v: 'text, not a number' } }));

    // Act
    const reasons = await reasonsOf(
      transact([
        { Update: { TableName: table, Key: { pk, sk: 'first' }, UpdateExpression: 'SET v = :after', ExpressionAttributeValues: { ':after': 'after' } } },
        { Put: { TableName: table, Item: { pk, sk: 'third' } } },
        { Update: { TableName: table, Key: { pk, sk: 'second' }, UpdateExpression: 'SET v = v + :one', ExpressionAttributeValues: { ':one': 1 } } },
      ]),
    );

    // Assess
    expect(reasons).toEqual([
      { Code: 'None' },
      { Code: 'None' },
      { Code: 'ValidationError', Message: 'An operand in the update expression has an incorrect data type' },
    ]);
    expect(await read(pk, 'first')).toEqual({ pk, sk: 'first', v: 'before' });
    expect(await read(pk, 'third')).toBeUndefined();
  });

  it('returns the current item of a failed condition check when asked to, and not otherwise', async () => {
    // Prepare
    const pk = aKey();
    await dynamo.documentClient.send(new PutCommand({ TableName: table, Item: { pk, sk: 'a', v: 1 } }));
    await dynamo.documentClient.send(new PutCommand({ TableName: table, Item: { pk, sk: 'b', v: 2 } }));

    // Act
    const error = await transact([
      { ConditionCheck: { TableName: table, Key: { pk, sk: 'a' }, ConditionExpression: 'v = :zero', ExpressionAttributeValues: { ':zero': 0 }, ReturnValuesOnConditionCheckFailure: 'ALL_OLD' } },
      { ConditionCheck: { TableName: table, Key: { pk, sk: 'b' }, ConditionExpression: 'v = :zero', ExpressionAttributeValues: { ':zero': 0 } } },
    ]).catch((e: unknown) => e);

    // Assess
    const reasons = (error as TransactionCanceledException).CancellationReasons;
    expect(reasons?.map((reason) => [reason.Code, reason.Item])).toEqual([
      ['ConditionalCheckFailed', { pk: { S: pk }, sk: { S: 'a' }, v: { N: '1' } }],
      ['ConditionalCheckFailed', undefined],
    ]);
  });
});

describe('isolation from transactions', () => {
  it('never lets a GetItem see a transaction half applied', async () => {
    // Prepare
    const pk = aKey();
    await moveAll(pk, 0);
    // One transaction after another: two at once would cancel each other (TransactionConflict).
    const writes = (async (): Promise<void> => {
      for (let i = 1; i <= 10; i += 1) await moveAll(pk, i);
    })();

    // Act: read `first`, then `second`; the second read starts after the first ended.
    const pairs = await Promise.all(
      Array.from({ length: 40 }, async () => {
        const first = (await read(pk, 'first'))?.v as number;
        const second = (await read(pk, 'second'))?.v as number;
        return { first, second };
      }),
    );
    await writes;

    // Assess
    expect(pairs.filter(({ first, second }) => second < first)).toEqual([]);
  });
});

describe('TransactGetItems', () => {
  it('reads the items in order, nothing for a missing one, and only the projected attributes when asked', async () => {
    // Prepare
    const pk = aKey();
    await dynamo.documentClient.send(new PutCommand({ TableName: table, Item: { pk, sk: 'a', v: 1, w: 'kept out' } }));
    await dynamo.documentClient.send(new PutCommand({ TableName: table, Item: { pk, sk: 'b', v: 2 } }));

    // Act
    const items = await transactGet([
      { Get: { TableName: table, Key: { pk, sk: 'b' } } },
      { Get: { TableName: table, Key: { pk, sk: 'missing' } } },
      { Get: { TableName: table, Key: { pk, sk: 'a' }, ProjectionExpression: 'v' } },
    ]);

    // Assess
    expect(items).toEqual([{ pk, sk: 'b', v: 2 }, undefined, { v: 1 }]);
  });

  it('refuses to read one item twice', async () => {
    // Prepare
    const pk = aKey();

    // Act
    const result = transactGet([
      { Get: { TableName: table, Key: { pk, sk: 'a' } } },
      { Get: { TableName: table, Key: { pk, sk: 'a' } } },
    ]);

    // Assess
    await expect(result).rejects.toMatchObject({ name: 'ValidationException', message: 'Transaction request cannot include multiple operations on one item' });
  });

  it('cancels with a ValidationError for a key that does not match the table', async () => {
    // Prepare
    const pk = aKey();

    // Act
    const reasons = await reasonsOf(
      transactGet([
        { Get: { TableName: table, Key: { pk, sk: 'a' } } },
        { Get: { TableName: table, Key: { pk } } },
      ]),
    );

    // Assess
    expect(reasons).toEqual([{ Code: 'None' }, { Code: 'ValidationError', Message: 'The provided key element does not match the schema' }]);
  });

  it('never sees a write transaction half applied', async () => {
    // Prepare
    const pk = aKey();
    await moveAll(pk, 0);
    // One transaction after another: two at once would cancel each other (TransactionConflict).
    const writes = (async (): Promise<void> => {
      for (let i = 1; i <= 10; i += 1) await moveAll(pk, i);
    })();

    // Act: readers one read after another, so that their reads spread over the writes.
    const readers = await Promise.all(
      Array.from({ length: 8 }, async () => {
        const seen: (Record<string, unknown> | undefined)[][] = [];
        for (let i = 0; i < 8; i += 1) {
          seen.push(
            await transactGet([
              { Get: { TableName: table, Key: { pk, sk: 'first' } } },
              { Get: { TableName: table, Key: { pk, sk: 'second' } } },
            ]),
          );
        }
        return seen;
      }),
    );
    await writes;
    const snapshots = readers.flat();

    // Assess
    expect(snapshots.filter(([first, second]) => first?.v !== second?.v)).toEqual([]);
  });
});

describe('KeyLocks', () => {
  it('lets one holder of a key in at a time, in arrival order, and forgets free keys', async () => {
    // Prepare
    const locks = new KeyLocks();
    const order: string[] = [];
    const releaseFirst = await locks.acquire(['a', 'b']);

    // Act
    const second = locks.acquire(['b']).then((release) => {
      order.push('second');
      release();
    });
    const third = locks.acquire(['c']).then((release) => {
      order.push('third');
      release();
    });
    await third;
    order.push('first done');
    releaseFirst();
    await second;
    await new Promise((resolve) => setImmediate(resolve));

    // Assess
    expect(order).toEqual(['third', 'first done', 'second']);
    expect(locks.size).toBe(0);
  });
});
