import { CreateTableCommand, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeyLocks } from '../../../../local/dynamodb/key-locks.ts';
import { startLocalDynamo } from '../../support/local-dynamo.ts';
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

beforeAll(async () => {
  dynamo = await startLocalDynamo();
  await dynamo.client.send(
    new CreateTableCommand({
      TableName: table,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
    }),
  );
});

afterAll(async () => {
  await dynamo?.stop();
});

describe('TransactWriteItems in front of dynalite', () => {
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
    await Promise.all([...increments, ...cancelled]);

    // Assess
    expect(await read(pk, 'count')).toEqual({ pk, sk: 'count', n: 10 });
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
