/**
 * The records of idempotent creates, and the writes of a retry that must never overwrite, on the
 * local stack's DynamoDB endpoint (dynalite's store, plus the `ReturnValuesOnConditionCheckFailure`
 * that dynalite alone lacks), with the tables of lib/app-description.ts.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createRecordId, DynamoCreateRecords } from '../../../../shared/adapters/dynamo-create-records.ts';
import { DynamoNotificationStore } from '../../../../shared/adapters/dynamo-notification-store.ts';
import type { CreateRecord } from '../../../../shared/ports.ts';
import { aNotification, tenantId } from '../../fakes/fixtures.ts';
import { startLocalDynamo } from '../../support/local-dynamo.ts';
import type { LocalDynamo } from '../../support/local-dynamo.ts';

let dynamo: LocalDynamo;
let db: LocalDynamo['documentClient'];
const tableName = (name: 'idempotency' | 'notifications'): string => name;

beforeAll(async () => {
  dynamo = await startLocalDynamo({ withTables: true });
  db = dynamo.documentClient;
});

afterAll(async () => {
  await dynamo?.stop();
});

const day = 24 * 60 * 60;
const now = new Date('2030-01-01T12:00:00.000Z');

function aRecord(overrides: Partial<CreateRecord> = {}): CreateRecord {
  return {
    key: JSON.stringify([tenantId, 'sam', 'POST /v1/notifications', '/v1/notifications', `k-${Math.random()}`]),
    fingerprint: 'body-1',
    ids: ['ntf_01A', 'ntf_01B'],
    createdAt: now.toISOString(),
    state: 'creating',
    ...overrides,
  };
}

/** The commands a client sends while `act` runs, by name. */
async function commandsDuring(act: () => Promise<unknown>): Promise<string[]> {
  const spy = vi.spyOn(db, 'send');
  try {
    await act();
    return spy.mock.calls.map(([command]) => command.constructor.name);
  } finally {
    spy.mockRestore();
  }
}

describe('DynamoCreateRecords', () => {
  it('writes a new record in one conditional PutItem, living as long as an idempotency key', async () => {
    // Prepare
    const records = new DynamoCreateRecords(db, tableName('idempotency'), day);
    const record = aRecord();

    // Act
    const commands = await commandsDuring(async () => expect(await records.put(record, now)).toBeUndefined());

    // Assess
    expect(commands).toEqual(['PutCommand']);
    const item = (await db.send(new GetCommand({ TableName: tableName('idempotency'), Key: { id: createRecordId(record.key) } }))).Item;
    expect(item).toMatchObject({ ids: record.ids, fingerprint: 'body-1', state: 'creating', expiration: now.getTime() / 1000 + day });
    expect(item?.id).not.toContain(tenantId);
  });

  it('answers the record already there from the refused write itself, with no read', async () => {
    // Prepare
    const records = new DynamoCreateRecords(db, tableName('idempotency'), day);
    const first = aRecord();
    await records.put(first, now);

    // Act
    let found: CreateRecord | undefined;
    const commands = await commandsDuring(async () => {
      found = await records.put({ ...first, ids: ['ntf_02A', 'ntf_02B'], createdAt: '2030-01-01T12:00:40.000Z' }, new Date('2030-01-01T12:00:40.000Z'));
    });

    // Assess
    expect(commands).toEqual(['PutCommand']);
    expect(found).toEqual(first);
  });

  it('treats a record past its life as absent, as DynamoDB deletes expired items only lazily', async () => {
    // Prepare
    const records = new DynamoCreateRecords(db, tableName('idempotency'), day);
    const old = aRecord();
    await records.put(old, now);

    // Act
    const found = await records.put({ ...old, ids: ['ntf_03A', 'ntf_03B'] }, new Date(now.getTime() + (day + 1) * 1000));

    // Assess
    expect(found).toBeUndefined();
  });

  it('replaces and removes a record only while it is still the one given', async () => {
    // Prepare
    const records = new DynamoCreateRecords(db, tableName('idempotency'), day);
    const first = aRecord();
    await records.put(first, now);
    const rolledBack: CreateRecord = { ...first, state: 'rolledBack' };

    // Act
    const replaced = await records.replace(first, rolledBack, now);
    const replacedAgain = await records.replace(first, { ...first, ids: ['ntf_04A', 'ntf_04B'] }, now);
    await records.remove(first);
    const afterStaleRemove = await records.put(aRecord({ key: first.key, ids: ['ntf_05A', 'ntf_05B'] }), now);
    await records.remove(rolledBack);
    const afterRemove = await records.put(aRecord({ key: first.key, ids: ['ntf_06A', 'ntf_06B'] }), now);

    // Assess
    expect(replaced).toBe(true);
    expect(replacedAgain).toBe(false);
    expect(afterStaleRemove).toEqual(rolledBack);
    expect(afterRemove).toBeUndefined();
  });
});

describe('DynamoNotificationStore.createMissing', () => {
  it('writes the missing notifications and leaves the existing ones exactly as they are', async () => {
    // Prepare: one of two was written, then cancelled
    const store = new DynamoNotificationStore(db, tableName('notifications'));
    const written = aNotification({ id: 'ntf_01J0000000000000000000MIS1', status: 'pending' });
    const missing = aNotification({ id: 'ntf_01J0000000000000000000MIS2', status: 'pending' });
    await store.createMany([written]);
    await store.cancel(tenantId, written.id, now);

    // Act
    const commands = await commandsDuring(() => store.createMissing([written, missing]));

    // Assess
    expect(commands).toEqual(['BatchGetCommand', 'PutCommand']);
    expect((await store.get(tenantId, written.id))?.status).toBe('cancelled');
    expect(await store.get(tenantId, missing.id)).toEqual(missing);
  });

  it('reads and writes nothing more when every notification exists', async () => {
    // Prepare
    const store = new DynamoNotificationStore(db, tableName('notifications'));
    const all = [aNotification({ id: 'ntf_01J0000000000000000000ALL1' }), aNotification({ id: 'ntf_01J0000000000000000000ALL2' })];
    await store.createMany(all);

    // Act
    const commands = await commandsDuring(() => store.createMissing(all));

    // Assess
    expect(commands).toEqual(['BatchGetCommand']);
  });
});
