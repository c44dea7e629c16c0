/**
 * transactWrite on the local DynamoDB endpoint: a condition that fails is a real one, refused by
 * the endpoint's transactions; the conflicts with another transaction, which the endpoint cannot
 * be made to meet on cue, are answered by a front on it in DynamoDB's own wire format
 * (test/unit/support/wire-front.ts), which also records every call.
 */
import { ResourceNotFoundException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { failedCondition, transactConflictRetries, transactWrite } from '../../../../shared/adapters/dynamo-transact.ts';
import type { TransactItems } from '../../../../shared/adapters/dynamo-transact.ts';
import { startDynamoWire, transactionCancelledAnswer } from '../../support/wire-front.ts';
import { createPkTable, startLocalDynamo } from '../../support/local-dynamo.ts';

const dynamo = await startLocalDynamo();
const wire = await startDynamoWire(dynamo.endpoint);
let tables = 0;

afterEach(() => {
  wire.reset();
});

afterAll(async () => {
  await wire.stop();
  await dynamo.stop();
});

/** A table of its own for one test, keyed by `pk`. */
async function aTable(): Promise<string> {
  const name = `things-${++tables}`;
  await createPkTable(dynamo.client, name);
  return name;
}

/** Puts of items `a` and `b` to `table`, each on the condition that its item is not there yet. */
function putsOfAB(table: string, extra: { ReturnValuesOnConditionCheckFailure?: 'ALL_OLD' } = {}): TransactItems {
  return ['a', 'b'].map((pk) => ({ Put: { TableName: table, Item: { pk, count: 1 }, ConditionExpression: 'attribute_not_exists(pk)', ...extra } }));
}

async function itemsIn(table: string): Promise<Record<string, unknown>[]> {
  const items = (await dynamo.documentClient.send(new ScanCommand({ TableName: table }))).Items ?? [];
  return items.sort((x, y) => String(x.pk).localeCompare(String(y.pk)));
}

/** DynamoDB's reasons for a transaction that met another on its first action. */
const conflictOnFirst = [{ Code: 'TransactionConflict', Message: 'Transaction is ongoing for the item' }, { Code: 'None' }] as const;

describe('transactWrite', () => {
  it('says which actions failed their condition', async () => {
    // Prepare: b is there already
    const table = await aTable();
    await transactWrite(dynamo.documentClient, [{ Put: { TableName: table, Item: { pk: 'b', count: 3 } } }]);

    // Act
    const result = await transactWrite(wire.documentClient, putsOfAB(table));

    // Assess
    expect(result).toEqual({ ok: false, reasons: [{ code: 'None' }, { code: 'ConditionalCheckFailed' }] });
    expect([failedCondition(result, 0), failedCondition(result, 1)]).toEqual([false, true]);
    expect(wire.calls().map((call) => call.operation)).toEqual(['TransactWriteItems']);
    expect(await itemsIn(table)).toEqual([{ pk: 'b', count: 3 }]);
  });

  it('keeps the item a refused action returned with its reason (ReturnValuesOnConditionCheckFailure)', async () => {
    // Prepare: a is there already
    const table = await aTable();
    await transactWrite(dynamo.documentClient, [{ Put: { TableName: table, Item: { pk: 'a', count: 3 } } }]);

    // Act
    const result = await transactWrite(wire.documentClient, putsOfAB(table, { ReturnValuesOnConditionCheckFailure: 'ALL_OLD' }));

    // Assess: the item in DynamoDB's wire format, as the document client leaves an exception
    expect(result).toEqual({ ok: false, reasons: [{ code: 'ConditionalCheckFailed', item: { pk: { S: 'a' }, count: { N: '3' } } }, { code: 'None' }] });
  });

  it('tries again when another transaction held the same item', async () => {
    // Prepare: the first attempt meets another transaction
    const table = await aTable();
    wire.intercept('TransactWriteItems', () => transactionCancelledAnswer(conflictOnFirst));

    // Act
    const result = await transactWrite(wire.documentClient, putsOfAB(table));

    // Assess
    expect(result).toEqual({ ok: true });
    expect(wire.calls('TransactWriteItems')).toHaveLength(2);
    expect(await itemsIn(table)).toEqual([{ pk: 'a', count: 1 }, { pk: 'b', count: 1 }]);
  });

  it('gives up on conflicts after its retries, throwing the cancellation', async () => {
    // Prepare: every attempt meets another transaction
    const table = await aTable();
    wire.intercept('TransactWriteItems', () => transactionCancelledAnswer(conflictOnFirst), Number.POSITIVE_INFINITY);

    // Act
    const result = transactWrite(wire.documentClient, putsOfAB(table));

    // Assess
    await expect(result).rejects.toBeInstanceOf(TransactionCanceledException);
    expect(wire.calls('TransactWriteItems')).toHaveLength(transactConflictRetries + 1);
    expect(await itemsIn(table)).toEqual([]);
  });

  it('throws any other failure, once', async () => {
    // Prepare: a table that is not there
    const items = putsOfAB('no-such-table');

    // Act
    const result = transactWrite(wire.documentClient, items);

    // Assess
    await expect(result).rejects.toBeInstanceOf(ResourceNotFoundException);
    expect(wire.calls().map((call) => call.operation)).toEqual(['TransactWriteItems']);
  });
});
