/**
 * BatchWriteItem and BatchGetItem in chunks, retrying what DynamoDB leaves unprocessed with
 * exponential backoff (AWS's advice: unprocessed items mean throttling, so back off). The chunks
 * of one call go out side by side, a few at a time: a 100-recipient create or a 1,000-row fan-out
 * page waits for the slowest chunk rather than for the sum of them all.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { BatchGetCommand, BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mapLimited } from '../use-cases/map-limited.ts';

const writeChunk = 25;
const readChunk = 100;
const maxRounds = 8;
/** Chunks of one call in flight at once. */
export const chunkConcurrency = 8;

type Item = Record<string, unknown>;
type WriteRequest = { PutRequest: { Item: Item } } | { DeleteRequest: { Key: Item } };

function chunks<T>(list: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}

async function batchWrite(db: DynamoDBDocumentClient, tableName: string, requests: WriteRequest[]): Promise<void> {
  await mapLimited(chunks(requests, writeChunk), chunkConcurrency, async (chunk) => {
    let pending: WriteRequest[] = chunk;
    for (let round = 0; pending.length > 0; round++) {
      if (round === maxRounds) throw new Error(`DynamoDB left ${pending.length} writes to ${tableName} unprocessed`);
      if (round > 0) await sleep(50 * 2 ** round);
      const result = await db.send(new BatchWriteCommand({ RequestItems: { [tableName]: pending } }));
      pending = (result.UnprocessedItems?.[tableName] ?? []) as WriteRequest[];
    }
  });
}

/** Puts every item, 25 at a time. */
export async function batchPut(db: DynamoDBDocumentClient, tableName: string, items: readonly Item[]): Promise<void> {
  await batchWrite(db, tableName, items.map((Item) => ({ PutRequest: { Item } })));
}

/** Deletes every key, 25 at a time. */
export async function batchDelete(db: DynamoDBDocumentClient, tableName: string, keys: readonly Item[]): Promise<void> {
  await batchWrite(db, tableName, keys.map((Key) => ({ DeleteRequest: { Key } })));
}

/** Reads every key (strongly consistent), 100 at a time; missing items are simply absent. */
export async function batchGet(db: DynamoDBDocumentClient, tableName: string, keys: readonly Item[]): Promise<Item[]> {
  const found: Item[] = [];
  await mapLimited(chunks(keys, readChunk), chunkConcurrency, async (chunk) => {
    let pending: Item[] = chunk;
    for (let round = 0; pending.length > 0; round++) {
      if (round === maxRounds) throw new Error(`DynamoDB left ${pending.length} reads of ${tableName} unprocessed`);
      if (round > 0) await sleep(50 * 2 ** round);
      const result = await db.send(
        new BatchGetCommand({ RequestItems: { [tableName]: { Keys: pending, ConsistentRead: true } } }),
      );
      found.push(...(result.Responses?.[tableName] ?? []));
      pending = (result.UnprocessedKeys?.[tableName]?.Keys ?? []) as Item[];
    }
  });
  return found;
}

/** One key of one table, for a read across tables. */
export interface TableKey {
  readonly table: string;
  readonly key: Item;
}

/**
 * Reads keys of several tables with as few BatchGetItem calls as AWS allows (100 keys each),
 * strongly consistent, retrying unprocessed keys; repeated keys are read once. The items found,
 * by table (missing items are simply absent).
 */
export async function batchGetAcross(db: DynamoDBDocumentClient, keys: readonly TableKey[]): Promise<Map<string, Item[]>> {
  const found = new Map<string, Item[]>();
  const unique = [...new Map(keys.map((k) => [`${k.table}\u0000${JSON.stringify(k.key)}`, k])).values()];
  await mapLimited(chunks(unique, readChunk), chunkConcurrency, async (part) => {
    let pending: Record<string, { Keys: Item[]; ConsistentRead: true }> = {};
    for (const { table, key } of part) (pending[table] ??= { Keys: [], ConsistentRead: true }).Keys.push(key);
    for (let round = 0; Object.keys(pending).length > 0; round++) {
      if (round === maxRounds) throw new Error('DynamoDB left reads unprocessed after every retry');
      if (round > 0) await sleep(50 * 2 ** round);
      const result = await db.send(new BatchGetCommand({ RequestItems: pending }));
      for (const [table, items] of Object.entries(result.Responses ?? {})) {
        const list = found.get(table) ?? [];
        list.push(...items);
        found.set(table, list);
      }
      pending = {};
      for (const [table, left] of Object.entries(result.UnprocessedKeys ?? {})) {
        if (left.Keys && left.Keys.length > 0) pending[table] = { Keys: left.Keys as Item[], ConsistentRead: true };
      }
    }
  });
  return found;
}
