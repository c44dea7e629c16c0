import { DynamoDBClient, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { failedCondition, transactConflictRetries, transactWrite } from '../../../../shared/adapters/dynamo-transact.ts';

const dbMock = mockClient(DynamoDBDocumentClient);
const db = (): DynamoDBDocumentClient => DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1' }));
const items = [{ Put: { TableName: 't', Item: { pk: 'a' } } }, { Put: { TableName: 't', Item: { pk: 'b' } } }];

function cancelled(...codes: string[]): TransactionCanceledException {
  return new TransactionCanceledException({
    message: 'Transaction cancelled',
    $metadata: { httpStatusCode: 400 },
    CancellationReasons: codes.map((Code) => ({ Code })),
  });
}

beforeEach(() => {
  dbMock.reset();
});

describe('transactWrite', () => {
  it('says which actions failed their condition', async () => {
    // Prepare
    dbMock.on(TransactWriteCommand).rejects(cancelled('None', 'ConditionalCheckFailed'));

    // Act
    const result = await transactWrite(db(), items);

    // Assess
    expect(result).toEqual({ ok: false, reasons: [{ code: 'None' }, { code: 'ConditionalCheckFailed' }] });
    expect([failedCondition(result, 0), failedCondition(result, 1)]).toEqual([false, true]);
    expect(dbMock).toHaveReceivedCommandTimes(TransactWriteCommand, 1);
  });

  it('keeps the item a refused action returned with its reason (ReturnValuesOnConditionCheckFailure)', async () => {
    // Prepare
    dbMock.on(TransactWriteCommand).rejects(
      new TransactionCanceledException({
        message: 'Transaction cancelled',
        $metadata: { httpStatusCode: 400 },
        CancellationReasons: [{ Code: 'ConditionalCheckFailed', Item: { pk: { S: 'a' }, count: { N: '3' } } }, { Code: 'None' }],
      }),
    );

    // Act
    const result = await transactWrite(db(), items);

    // Assess
    expect(result).toEqual({ ok: false, reasons: [{ code: 'ConditionalCheckFailed', item: { pk: { S: 'a' }, count: { N: '3' } } }, { code: 'None' }] });
  });

  it('tries again when another transaction held the same item', async () => {
    // Prepare
    dbMock.on(TransactWriteCommand).rejectsOnce(cancelled('TransactionConflict', 'None')).resolves({});

    // Act
    const result = await transactWrite(db(), items);

    // Assess
    expect(result).toEqual({ ok: true });
    expect(dbMock).toHaveReceivedCommandTimes(TransactWriteCommand, 2);
  });

  it('gives up on conflicts after its retries, throwing the cancellation', async () => {
    // Prepare
    dbMock.on(TransactWriteCommand).rejects(cancelled('TransactionConflict'));

    // Act
    const result = transactWrite(db(), items);

    // Assess
    await expect(result).rejects.toBeInstanceOf(TransactionCanceledException);
    expect(dbMock).toHaveReceivedCommandTimes(TransactWriteCommand, transactConflictRetries + 1);
  });

  it('throws any other failure', async () => {
    // Prepare
    dbMock.on(TransactWriteCommand).rejects(new Error('throttled'));

    // Act
    const result = transactWrite(db(), items);

    // Assess
    await expect(result).rejects.toThrow('throttled');
  });
});
