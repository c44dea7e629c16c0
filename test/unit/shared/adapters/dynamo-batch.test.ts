/**
 * Batch reads and writes in chunks: every item gets its call, and the chunks of one call go out
 * side by side (a few at a time), so a large write waits for its slowest chunk, not their sum.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, BatchWriteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { BatchGetCommandInput, BatchWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { batchGetAcross, batchPut, chunkConcurrency } from '../../../../shared/adapters/dynamo-batch.ts';

const db = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } }));
const dynamo = mockClient(DynamoDBDocumentClient);

afterEach(() => {
  dynamo.reset();
});

/** Counts the calls in flight at once while each takes `ms`. */
function inFlight(ms: number): { readonly peak: () => number; readonly enter: () => Promise<void> } {
  let current = 0;
  let peak = 0;
  return {
    peak: () => peak,
    enter: async () => {
      current++;
      peak = Math.max(peak, current);
      await new Promise((resolve) => setTimeout(resolve, ms));
      current--;
    },
  };
}

describe('batch writes and reads', () => {
  it('writes every item of a large put, its chunks side by side but never more than the limit at once', async () => {
    // Prepare: 500 items are 20 chunks of 25.
    const calls = inFlight(20);
    const written: unknown[] = [];
    dynamo.on(BatchWriteCommand).callsFake(async (input: BatchWriteCommandInput) => {
      await calls.enter();
      written.push(...(input.RequestItems?.t ?? []));
      return { UnprocessedItems: {} };
    });
    const items = Array.from({ length: 500 }, (_, i) => ({ pk: `item-${i}` }));

    // Act
    await batchPut(db, 't', items);

    // Assess
    expect(written).toHaveLength(500);
    expect(calls.peak()).toBe(chunkConcurrency);
  });

  it('reads every key of a large read across tables, its chunks side by side', async () => {
    // Prepare: 450 keys are 5 chunks of 100.
    const calls = inFlight(20);
    dynamo.on(BatchGetCommand).callsFake(async (input: BatchGetCommandInput) => {
      await calls.enter();
      return { Responses: Object.fromEntries(Object.entries(input.RequestItems ?? {}).map(([table, { Keys }]) => [table, Keys ?? []])) };
    });
    const keys = Array.from({ length: 450 }, (_, i) => ({ table: i % 2 === 0 ? 'a' : 'b', key: { pk: `item-${i}` } }));

    // Act
    const found = await batchGetAcross(db, keys);

    // Assess
    expect((found.get('a')?.length ?? 0) + (found.get('b')?.length ?? 0)).toBe(450);
    expect(calls.peak()).toBe(5);
  });
});
