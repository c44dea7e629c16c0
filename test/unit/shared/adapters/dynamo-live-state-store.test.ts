/**
 * The live state of a recipient on the real DynamoDB protocol (dynalite behind the local
 * transactions front): open connections are `conn:<id>` attributes of the recipient's unread
 * counter item in the inbox table, so one read gives a delivery the count and the connections.
 * (Replaces the tests of the connections table, which is gone.)
 */
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { awsStyleId } from '../../../../local/http-gateway.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectionCountAttribute, DynamoLiveStateStore, liveKey } from '../../../../shared/adapters/dynamo-live-state-store.ts';
import { maxOpenConnectionsPerUser } from '../../../../shared/domain/delivery.ts';
import { failingClient, startLocalDynamo } from '../../support/local-dynamo.ts';
import type { LocalDynamo } from '../../support/local-dynamo.ts';

let dynamo: LocalDynamo;
let store: DynamoLiveStateStore;
let users = 0;
/** A limit no test but those about it reaches. */
const limit = maxOpenConnectionsPerUser;

beforeAll(async () => {
  dynamo = await startLocalDynamo({ withTables: true });
  store = new DynamoLiveStateStore(dynamo.documentClient, 'inbox');
});

afterAll(async () => {
  await dynamo?.stop();
});

/** A user nobody else in this file uses. */
function aUser(): string {
  return `user-${++users}`;
}

/** The user's live item as the former connect wrote it, listing `connections` (old1, old2...) and keeping no count. */
async function putItemWithoutCount(user: string, connections: number): Promise<void> {
  const listed = Object.fromEntries(Array.from({ length: connections }, (_, i) => [`conn:old${i + 1}`, '2030-01-01T11:00:00.000Z']));
  await dynamo.documentClient.send(new PutCommand({ TableName: 'inbox', Item: { ...liveKey('acme', user), unread: 1, ...listed } }));
}

describe('DynamoLiveStateStore', () => {
  it('reads nothing unread and no connection for a user it keeps nothing for', async () => {
    // Prepare
    const user = aUser();

    // Act
    const state = await store.get('acme', user);

    // Assess
    expect(state).toEqual({ unread: 0, unreadVersion: 0, connections: [] });
  });

  it('answers a connect with the live state as written, every recorded connection in it', async () => {
    // Prepare
    const user = aUser();
    await store.connect('acme', user, { connectionId: 'c1', connectedAt: '2030-01-01T09:00:00.000Z' }, limit);

    // Act
    const { live: state } = await store.connect('acme', user, { connectionId: 'c2', connectedAt: '2030-01-01T12:00:00.000Z' }, limit);

    // Assess
    expect([...state.connections].sort((a, b) => a.connectionId.localeCompare(b.connectionId))).toEqual([
      { connectionId: 'c1', connectedAt: '2030-01-01T09:00:00.000Z' },
      { connectionId: 'c2', connectedAt: '2030-01-01T12:00:00.000Z' },
    ]);
  });

  it('records connections on the unread counter item, read back in one go with the count', async () => {
    // Prepare
    const user = aUser();
    await dynamo.documentClient.send(new UpdateCommand({ TableName: 'inbox', Key: liveKey('acme', user), UpdateExpression: 'ADD unread :n', ExpressionAttributeValues: { ':n': 4 } }));

    // Act
    await store.connect('acme', user, { connectionId: 'c1', connectedAt: '2030-01-01T12:00:00.000Z' }, limit);
    await store.connect('acme', user, { connectionId: 'c2', connectedAt: '2030-01-01T12:01:00.000Z' }, limit);
    const state = await store.get('acme', user);

    // Assess
    expect(state.unread).toBe(4);
    expect([...state.connections].sort((a, b) => a.connectionId.localeCompare(b.connectionId))).toEqual([
      { connectionId: 'c1', connectedAt: '2030-01-01T12:00:00.000Z' },
      { connectionId: 'c2', connectedAt: '2030-01-01T12:01:00.000Z' },
    ]);
    const { Item } = await dynamo.documentClient.send(new GetCommand({ TableName: 'inbox', Key: liveKey('acme', user) }));
    expect(Item).toMatchObject({ unread: 4, 'conn:c1': '2030-01-01T12:00:00.000Z', 'conn:c2': '2030-01-01T12:01:00.000Z' });
  });

  it('keeps the connections of one user apart from those of another user and another tenant', async () => {
    // Prepare
    const user = aUser();
    await store.connect('acme', user, { connectionId: 'mine', connectedAt: '2030-01-01T12:00:00.000Z' }, limit);
    await store.connect('acme', aUser(), { connectionId: 'theirs', connectedAt: '2030-01-01T12:00:00.000Z' }, limit);
    await store.connect('globex', user, { connectionId: 'other-tenant', connectedAt: '2030-01-01T12:00:00.000Z' }, limit);

    // Act
    const state = await store.get('acme', user);

    // Assess
    expect(state.connections.map((c) => c.connectionId)).toEqual(['mine']);
  });

  it('forgets only the connections named, and forgetting one twice is no error', async () => {
    // Prepare
    const user = aUser();
    for (const connectionId of ['c1', 'c2', 'c3']) await store.connect('acme', user, { connectionId, connectedAt: '2030-01-01T12:00:00.000Z' }, limit);

    // Act
    await store.forgetConnections('acme', user, ['c1', 'c3']);
    await store.forgetConnections('acme', user, ['c1']);
    await store.forgetConnections('acme', user, []);

    // Assess
    expect((await store.get('acme', user)).connections.map((c) => c.connectionId)).toEqual(['c2']);
  });

  it('does not bring back the item of an erased recipient when forgetting their connections', async () => {
    // Prepare: the erasure deleted the counter item, connections and all
    const user = aUser();

    // Act
    await store.forgetConnections('acme', user, ['c1']);

    // Assess
    const { Item } = await dynamo.documentClient.send(new GetCommand({ TableName: 'inbox', Key: liveKey('acme', user), ConsistentRead: true }));
    expect(Item).toBeUndefined();
  });

  it('refuses a connect once the user has the most connections allowed, and records nothing for it', async () => {
    // Prepare
    const user = aUser();
    for (const connectionId of ['c1', 'c2', 'c3']) await store.connect('acme', user, { connectionId, connectedAt: '2030-01-01T12:00:00.000Z' }, 3);

    // Act
    const outcome = await store.connect('acme', user, { connectionId: 'c4', connectedAt: '2030-01-01T12:01:00.000Z' }, 3);

    // Assess: refused, with the state as found so the caller can see what is recorded
    expect(outcome.recorded).toBe(false);
    expect(outcome.live.connections.map((c) => c.connectionId).sort()).toEqual(['c1', 'c2', 'c3']);
    const { Item } = await dynamo.documentClient.send(new GetCommand({ TableName: 'inbox', Key: liveKey('acme', user), ConsistentRead: true }));
    expect(Item).not.toHaveProperty('conn:c4');
    expect(Item?.[connectionCountAttribute]).toBe(3);
  });

  it('lets exactly one of two connects made at once take the last place', async () => {
    // Prepare: one place left
    const user = aUser();
    for (const connectionId of ['c1', 'c2']) await store.connect('acme', user, { connectionId, connectedAt: '2030-01-01T12:00:00.000Z' }, 3);

    // Act
    const outcomes = await Promise.all(
      ['a', 'b'].map((connectionId) => store.connect('acme', user, { connectionId, connectedAt: '2030-01-01T12:01:00.000Z' }, 3)),
    );

    // Assess
    expect(outcomes.map((o) => o.recorded).sort()).toEqual([false, true]);
    expect((await store.get('acme', user)).connections).toHaveLength(3);
  });

  it('frees a place with each connection forgotten, and forgetting one twice frees only one', async () => {
    // Prepare: full at 3
    const user = aUser();
    for (const connectionId of ['c1', 'c2', 'c3']) await store.connect('acme', user, { connectionId, connectedAt: '2030-01-01T12:00:00.000Z' }, 3);

    // Act
    await store.forgetConnections('acme', user, ['c1']);
    await store.forgetConnections('acme', user, ['c1']);
    await store.forgetConnections('acme', user, ['c1', 'c2']);
    const first = await store.connect('acme', user, { connectionId: 'c4', connectedAt: '2030-01-01T12:01:00.000Z' }, 3);
    const second = await store.connect('acme', user, { connectionId: 'c5', connectedAt: '2030-01-01T12:01:00.000Z' }, 3);
    const third = await store.connect('acme', user, { connectionId: 'c6', connectedAt: '2030-01-01T12:01:00.000Z' }, 3);

    // Assess: c1 and c2 went (the second forgetting of c1 took nothing off), so two places came free
    expect([first.recorded, second.recorded, third.recorded]).toEqual([true, true, false]);
    expect((await store.get('acme', user)).connections.map((c) => c.connectionId).sort()).toEqual(['c3', 'c4', 'c5']);
  });

  it('counts the connections of an item written before the count existed at its next connect', async () => {
    // Prepare: two connections recorded by the former connect, which kept no count
    const user = aUser();
    await putItemWithoutCount(user, 2);

    // Act
    await store.connect('acme', user, { connectionId: 'c1', connectedAt: '2030-01-01T12:00:00.000Z' }, 3);
    const refused = await store.connect('acme', user, { connectionId: 'c2', connectedAt: '2030-01-01T12:00:00.000Z' }, 3);

    // Assess
    expect(refused.recorded).toBe(false);
    const { Item } = await dynamo.documentClient.send(new GetCommand({ TableName: 'inbox', Key: liveKey('acme', user), ConsistentRead: true }));
    expect(Item?.[connectionCountAttribute]).toBe(3);
  });

  it.each([
    ['one at a time', false],
    ['two at once', true],
  ])('holds the limit on an item written before the count existed, with connects %s: the one past it is refused and not kept', async (_case, together) => {
    // Prepare: two connections recorded by the former connect, which kept no count; the limit is 3
    const user = aUser();
    await putItemWithoutCount(user, 2);
    const connect = (connectionId: string) => store.connect('acme', user, { connectionId, connectedAt: '2030-01-01T12:00:00.000Z' }, 3);

    // Act
    const outcomes = together ? await Promise.all([connect('c1'), connect('c2')]) : [await connect('c1'), await connect('c2')];

    // Assess: one of them took the last place, and the item lists and counts 3
    expect(outcomes.filter((o) => o.recorded)).toHaveLength(1);
    const refused = outcomes.find((o) => !o.recorded);
    expect(refused?.live.connections.length).toBeLessThanOrEqual(3);
    const { Item } = await dynamo.documentClient.send(new GetCommand({ TableName: 'inbox', Key: liveKey('acme', user), ConsistentRead: true }));
    expect(Object.keys(Item ?? {}).filter((name) => name.startsWith('conn:'))).toHaveLength(3);
    expect(Item?.[connectionCountAttribute]).toBe(3);
  });

  it('refuses a connect to an item already at the limit before the count existed, and keeps nothing of it', async () => {
    // Prepare: three connections, no count, a limit of 3
    const user = aUser();
    await putItemWithoutCount(user, 3);

    // Act
    const outcome = await store.connect('acme', user, { connectionId: 'c1', connectedAt: '2030-01-01T12:00:00.000Z' }, 3);

    // Assess
    expect(outcome.recorded).toBe(false);
    expect(outcome.live.connections.map((c) => c.connectionId).sort()).toEqual(['old1', 'old2', 'old3']);
    const { Item } = await dynamo.documentClient.send(new GetCommand({ TableName: 'inbox', Key: liveKey('acme', user), ConsistentRead: true }));
    expect(Item?.['conn:c1']).toBeUndefined();
    expect(Item?.[connectionCountAttribute]).toBe(3);
  });

  it('still refuses such a connect when forgetting it fails: the place it holds is left to expire, and nothing is thrown', async () => {
    // Prepare: three connections, no count, a limit of 3; the third UpdateItem (the forget, after the write and the recount) is throttled
    const user = aUser();
    await putItemWithoutCount(user, 3);
    const { client, calls } = failingClient(dynamo, 'UpdateItemCommand', { call: 3 });
    const throttled = new DynamoLiveStateStore(client, 'inbox');

    // Act
    const outcome = await throttled.connect('acme', user, { connectionId: 'c1', connectedAt: '2030-01-01T12:00:00.000Z' }, 3);

    // Assess
    expect(calls()).toBe(3);
    expect(outcome.recorded).toBe(false);
    expect(outcome.live.connections.map((c) => c.connectionId).sort()).toEqual(['old1', 'old2', 'old3']);
  });

  it('keeps a live item at the limit, with connection ids as long as API Gateway\'s, within 5 write units a connect', async () => {
    // Prepare: a `conn:` attribute is 5 + 16 bytes of name and a 24-byte ISO instant, 45 bytes
    const user = aUser();
    const ids = Array.from({ length: maxOpenConnectionsPerUser - 1 }, () => awsStyleId());
    expect(ids[0]).toHaveLength(16);
    for (const connectionId of ids) await store.connect('acme', user, { connectionId, connectedAt: '2030-01-01T12:00:00.000Z' }, limit);

    // Act: the last place, measured by what DynamoDB charges for it (one unit per KB of the item)
    const last = await dynamo.documentClient.send(
      new UpdateCommand({
        TableName: 'inbox',
        Key: liveKey('acme', user),
        UpdateExpression: 'SET #c = :at ADD connectionCount :one',
        ExpressionAttributeNames: { '#c': `conn:${awsStyleId()}` },
        ExpressionAttributeValues: { ':at': '2030-01-01T12:00:00.000Z', ':one': 1 },
        ReturnConsumedCapacity: 'TOTAL',
      }),
    );

    // Assess
    expect(last.ConsumedCapacity?.CapacityUnits).toBe(5);
  });
});
