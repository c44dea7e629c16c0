/**
 * Batch reads and writes in chunks: every item gets its call, and the chunks of one call go out
 * side by side (a few at a time), so a large write waits for its slowest chunk, not their sum.
 * Against the local DynamoDB endpoint, through a front that holds the calls to count them and records
 * what it asked (test/unit/support/wire-front.ts).
 */
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { batchGetAcross, batchPut, chunkConcurrency } from '../../../../shared/adapters/dynamo-batch.ts';
import { startDynamoWire } from '../../support/wire-front.ts';
import { createPkTable, startLocalDynamo } from '../../support/local-dynamo.ts';

const dynamo = await startLocalDynamo();
for (const table of ['things', 'alpha', 'beta']) await createPkTable(dynamo.client, table);
const wire = await startDynamoWire(dynamo.endpoint);

afterEach(() => {
  wire.reset();
});

afterAll(async () => {
  await wire.stop();
  await dynamo.stop();
});

/**
 * Holds the calls until `expected` of them are held (or, at the end, all of the `total` left), and
 * none more has come for `quietMs`; then lets them be served. With correct code the peak is then
 * exactly how many calls it had in flight at once, on any machine: it cannot send another before
 * the held ones are answered, and the wait only lets code that sends too many show it.
 */
function inFlight(expected: number, total: number, quietMs = 30): { readonly peak: () => number; readonly enter: () => Promise<undefined> } {
  let held: (() => void)[] = [];
  let released = 0;
  let peak = 0;
  let quiet: NodeJS.Timeout | undefined;
  const release = (): void => {
    released += held.length;
    for (const resolve of held) resolve();
    held = [];
  };
  return {
    peak: () => peak,
    enter: async () => {
      await new Promise<void>((resolve) => {
        held.push(resolve);
        peak = Math.max(peak, held.length);
        clearTimeout(quiet);
        if (held.length >= expected || released + held.length === total) quiet = setTimeout(release, quietMs);
      });
      return undefined;
    },
  };
}

/** The keys of the items of `table`, sorted. */
async function keysIn(table: string): Promise<string[]> {
  const items = (await dynamo.documentClient.send(new ScanCommand({ TableName: table }))).Items ?? [];
  return items.map((item) => String(item.pk)).sort();
}

describe('batch writes and reads', () => {
  it('writes every item of a large put, its chunks side by side but never more than the limit at once', async () => {
    // Prepare: 500 items are 20 chunks of 25.
    const calls = inFlight(chunkConcurrency, 20);
    wire.intercept('BatchWriteItem', () => calls.enter(), Number.POSITIVE_INFINITY);
    const items = Array.from({ length: 500 }, (_, i) => ({ pk: `item-${String(i).padStart(3, '0')}` }));

    // Act
    await batchPut(wire.documentClient, 'things', items);

    // Assess
    expect(await keysIn('things')).toEqual(items.map((item) => item.pk));
    const writes = wire.calls('BatchWriteItem');
    expect(writes.map((call) => (call.input.RequestItems as Record<string, unknown[]>).things?.length)).toEqual(Array<number>(20).fill(25));
    expect(calls.peak()).toBe(chunkConcurrency);
  });

  it('reads every key of a large read across tables, its chunks side by side', async () => {
    // Prepare: 450 keys are 5 chunks of 100.
    const keys = Array.from({ length: 450 }, (_, i) => ({ table: i % 2 === 0 ? 'alpha' : 'beta', key: { pk: `item-${String(i).padStart(3, '0')}` } }));
    for (const table of ['alpha', 'beta']) {
      await batchPut(dynamo.documentClient, table, keys.filter((k) => k.table === table).map((k) => ({ ...k.key, found: `in ${table}` })));
    }
    const calls = inFlight(5, 5);
    wire.intercept('BatchGetItem', () => calls.enter(), Number.POSITIVE_INFINITY);

    // Act
    const found = await batchGetAcross(wire.documentClient, keys);

    // Assess
    for (const table of ['alpha', 'beta']) {
      const expected = keys.filter((k) => k.table === table).map((k) => ({ ...k.key, found: `in ${table}` }));
      expect((found.get(table) ?? []).slice().sort((x, y) => String(x.pk).localeCompare(String(y.pk)))).toEqual(expected);
    }
    expect(wire.calls('BatchGetItem')).toHaveLength(5);
    expect(calls.peak()).toBe(5);
  });
});
