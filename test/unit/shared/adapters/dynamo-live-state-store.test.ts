/**
 * The live state of a recipient on the real DynamoDB protocol (dynalite behind the local
 * transactions front): open connections are `conn:<id>` attributes of the recipient's unread
 * counter item in the inbox table, so one read gives a delivery the count and the connections.
 * (Replaces the tests of the connections table, which is gone.)
 */
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { liveKey } from '../../../../shared/adapters/dynamo-live-state-store.ts';
import { DynamoLiveStateStore } from '../../../../shared/adapters/dynamo-live-state-store.ts';
import { startLocalDynamo } from '../../support/local-dynamo.ts';
import type { LocalDynamo } from '../../support/local-dynamo.ts';

let dynamo: LocalDynamo;
let store: DynamoLiveStateStore;
let users = 0;

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
    await store.connect('acme', user, { connectionId: 'c1', connectedAt: '2030-01-01T09:00:00.000Z' });

    // Act
    const state = await store.connect('acme', user, { connectionId: 'c2', connectedAt: '2030-01-01T12:00:00.000Z' });

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
    await store.connect('acme', user, { connectionId: 'c1', connectedAt: '2030-01-01T12:00:00.000Z' });
    await store.connect('acme', user, { connectionId: 'c2', connectedAt: '2030-01-01T12:01:00.000Z' });
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
    await store.connect('acme', user, { connectionId: 'mine', connectedAt: '2030-01-01T12:00:00.000Z' });
    await store.connect('acme', aUser(), { connectionId: 'theirs', connectedAt: '2030-01-01T12:00:00.000Z' });
    await store.connect('globex', user, { connectionId: 'other-tenant', connectedAt: '2030-01-01T12:00:00.000Z' });

    // Act
    const state = await store.get('acme', user);

    // Assess
    expect(state.connections.map((c) => c.connectionId)).toEqual(['mine']);
  });

  it('forgets only the connections named, and forgetting one twice is no error', async () => {
    // Prepare
    const user = aUser();
    for (const connectionId of ['c1', 'c2', 'c3']) await store.connect('acme', user, { connectionId, connectedAt: '2030-01-01T12:00:00.000Z' });

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
});
