/**
 * The in-memory store keeps each key and value in a Buffer of its own, not in a slice of Node's
 * shared Buffer pool, whose 64 KB slab one stored slice would keep alive (local/dynamodb/dynalite.ts,
 * keepStoredBuffersUnpooled).
 */
import { BatchWriteItemCommand, DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynaliteStore } from '../../../../local/dynamodb/dynalite.ts';
import type { DynaliteStore } from '../../../../local/dynamodb/dynalite.ts';
import { startDynamoDbEndpoint } from '../../../../local/dynamodb/endpoint.ts';
import type { DynamoDbEndpoint } from '../../../../local/dynamodb/endpoint.ts';
import { createPkTable } from '../../support/local-dynamo.ts';

const table = 'store-buffers';

/** The root database's entries as it stores them (the `buffer` encoding hands them over as they are). */
async function storedEntries(store: DynaliteStore): Promise<{ key: Buffer; value: Buffer }[]> {
  const db = store.db as unknown as { iterator(options: object): AsyncIterable<[Buffer, Buffer]> };
  const entries: { key: Buffer; value: Buffer }[] = [];
  for await (const [key, value] of db.iterator({ keyEncoding: 'buffer', valueEncoding: 'buffer' })) entries.push({ key, value });
  return entries;
}

describe('the in-memory store', () => {
  let store: DynaliteStore;
  let dynamo: DynamoDbEndpoint;
  let client: DynamoDBClient;

  beforeAll(async () => {
    store = createDynaliteStore({ createTableMs: 0 });
    dynamo = await startDynamoDbEndpoint({ store });
    client = new DynamoDBClient({ endpoint: dynamo.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
    await createPkTable(client, table);
  });

  afterAll(async () => {
    client.destroy();
    await dynamo.stop();
    await new Promise<void>((resolve) => store.db.close(() => resolve()));
  });

  it('keeps every key and value it stores, by put and by batch, in a Buffer of its own', async () => {
    // Prepare: small items, which Buffer.from would slice out of the shared pool.
    await client.send(new PutItemCommand({ TableName: table, Item: { pk: { S: 'single' }, note: { S: 'put' } } }));
    await client.send(
      new BatchWriteItemCommand({
        RequestItems: { [table]: Array.from({ length: 25 }, (_, i) => ({ PutRequest: { Item: { pk: { S: `batch-${i}` }, note: { S: 'batch' } } } })) },
      }),
    );

    // Act
    const entries = await storedEntries(store);

    // Assert: the table's description and the 26 items, none of them sharing an ArrayBuffer.
    expect(entries.length).toBeGreaterThanOrEqual(27);
    const pooled = entries.filter(({ key, value }) => key.buffer.byteLength !== key.length || value.buffer.byteLength !== value.length);
    expect(pooled.map(({ key }) => key.toString())).toEqual([]);
  });

  it('stores copies: the values read back are the values written, after the request Buffers are reused', async () => {
    // Prepare
    const notes = Array.from({ length: 50 }, (_, i) => `note ${i} ${'x'.repeat(i * 7)}`);
    for (const [i, note] of notes.entries()) await client.send(new PutItemCommand({ TableName: table, Item: { pk: { S: `copy-${i}` }, note: { S: note } } }));

    // Act
    const read = await Promise.all(notes.map(async (_, i) => (await client.send(new GetItemCommand({ TableName: table, Key: { pk: { S: `copy-${i}` } } }))).Item?.note?.S));

    // Assert
    expect(read).toEqual(notes);
  });
});
