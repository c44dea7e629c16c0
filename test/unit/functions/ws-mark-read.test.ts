/**
 * The markRead WebSocket handler as API Gateway invokes it, on the local DynamoDB and the local
 * gateway's `@connections` (their faultable endpoints, as the function calls them): the inbox item
 * read, and what the user's connections, real ones through the gateway, receive.
 */
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DynamoInboxStore } from '../../../shared/adapters/dynamo-inbox-store.ts';
import { DynamoRecipientStore } from '../../../shared/adapters/dynamo-recipient-store.ts';
import type { SocketEvent } from '../../../shared/http/socket-event.ts';
import { aLambdaContext } from '../fakes/lambda.ts';
import { aRecipient } from '../fakes/fixtures.ts';
import { startLocalAws } from '../support/local-aws.ts';
import type { OpenSocket } from '../support/local-aws.ts';

// Config and clients are read once per process: set the environment before the handler loads.
const aws = await startLocalAws({ websocket: true, extra: { HERALD_READ_INBOX_RETENTION_DAYS: '7' } });
Object.assign(process.env, aws.env);
const { handler } = await import('../../../functions/ws-mark-read/handler.ts');

const inbox = new DynamoInboxStore(aws.dynamo.documentClient, 'inbox', () => 'recipients');
const recipients = new DynamoRecipientStore(aws.dynamo.documentClient, 'recipients', () => 'memberships');
const context = aLambdaContext('herald-test-ws-mark-read');
const itemId = 'ntf_01JABCDEFGHJKMNPQRSTVWXYZ0';
const bobsLiveKey = { pk: 'acme#bob', notificationId: '#unread' };
let sockets: OpenSocket[] = [];

afterAll(async () => {
  await aws.stop();
});

beforeEach(async () => {
  await aws.clearTables('inbox');
  await recipients.put(aRecipient({ tenantId: 'acme', id: 'bob' }));
  aws.calls.reset();
});

afterEach(async () => {
  for (const socket of sockets) await socket.close();
  sockets = [];
});

function aMarkRead(body: string, connectionId: string, authorizer: Record<string, unknown> | null = { principalId: 'bob', sub: 'bob', tenantId: 'acme', roles: '' }): SocketEvent {
  return {
    body,
    isBase64Encoded: false,
    requestContext: {
      apiId: 'ws123',
      connectedAt: 1_893_499_200_000,
      connectionId,
      domainName: 'ws.example.com',
      eventType: 'MESSAGE',
      extendedRequestId: 'x',
      messageDirection: 'IN',
      messageId: 'm1',
      requestId: 'r1',
      requestTime: '01/Jan/2030:12:00:00 +0000',
      requestTimeEpoch: 1_893_499_200_000,
      routeKey: 'markRead',
      stage: 'test',
      ...(authorizer ? { authorizer } : {}),
    },
  } as SocketEvent;
}

/** An unread inbox item of bob's. */
async function unread(notificationId: string): Promise<void> {
  const at = new Date().toISOString();
  await inbox.add({ tenantId: 'acme', recipientId: 'bob', notificationId, title: 'Standup', message: 'Soon', type: 'reminder', priority: 'normal', createdAt: at, deliveredAt: at });
}

/** Connections recorded on bob's live item, as $connect records them; open ones through the gateway, the others' ids as given. */
async function bobConnected(open: number, closedIds: readonly string[] = []): Promise<OpenSocket[]> {
  const opened: OpenSocket[] = [];
  for (let i = 0; i < open; i += 1) opened.push(await aws.openSocket());
  sockets.push(...opened);
  const ids = [...opened.map((s) => s.connectionId), ...closedIds];
  const connectedAt = new Date(Date.now() - 60_000).toISOString();
  await aws.dynamo.documentClient.send(
    new UpdateCommand({
      TableName: 'inbox',
      Key: bobsLiveKey,
      UpdateExpression: `SET ${ids.map((_, i) => `#c${i} = :at`).join(', ')} ADD connectionCount :n`,
      ExpressionAttributeNames: Object.fromEntries(ids.map((id, i) => [`#c${i}`, `conn:${id}`])),
      ExpressionAttributeValues: { ':at': connectedAt, ':n': ids.length },
    }),
  );
  return opened;
}

async function item(notificationId: string): Promise<Record<string, unknown> | undefined> {
  return (await aws.dynamo.documentClient.send(new GetCommand({ TableName: 'inbox', Key: { pk: 'acme#bob', notificationId }, ConsistentRead: true }))).Item;
}

describe('the markRead WebSocket handler', () => {
  it('reads the item with a 7-day expiry and tells every connection of the user the new count', async () => {
    // Prepare: three unread, two connections open
    await unread(itemId);
    await unread('ntf_01JABCDEFGHJKMNPQRSTVWXYZ1');
    await unread('ntf_01JABCDEFGHJKMNPQRSTVWXYZ2');
    const [first, second] = await bobConnected(2);
    const before = Date.now();

    // Act
    const result = await handler(aMarkRead(JSON.stringify({ action: 'markRead', id: itemId }), first?.connectionId ?? ''), context);

    // Assess
    expect(result).toEqual({ statusCode: 200 });
    const read = await item(itemId);
    expect(read?.readAt).toBeDefined();
    expect(read?.unreadKey).toBeUndefined();
    const expiresAt = Number(read?.expiresAt);
    expect(expiresAt).toBeGreaterThanOrEqual(Math.floor(before / 1000) + 7 * 24 * 3600);
    expect(expiresAt).toBeLessThanOrEqual(Math.floor(Date.now() / 1000) + 7 * 24 * 3600);
    const live = await item('#unread');
    expect(live?.unread).toBe(2);
    const changed = { type: 'inboxChanged', unread: 2, unreadVersion: live?.unreadVersion };
    expect(await first?.frames()).toEqual([changed]);
    expect(await second?.frames()).toEqual([changed]);
    // The count and the open connections come from one read of the user's live item.
    expect(aws.calls.calls('dynamodb')).not.toContain('Query');
  });

  it('forgets a connection the gateway says is gone while telling the count', async () => {
    // Prepare: one connection open, one recorded that the gateway no longer has
    await unread(itemId);
    const [open] = await bobConnected(1, ['gone-connection']);

    // Act
    const result = await handler(aMarkRead(JSON.stringify({ action: 'markRead', id: itemId }), open?.connectionId ?? ''), context);

    // Assess
    expect(result).toEqual({ statusCode: 200 });
    const live = await item('#unread');
    expect(live).not.toHaveProperty('conn:gone-connection');
    expect(live).toHaveProperty(`conn:${open?.connectionId ?? ''}`);
    expect(live?.connectionCount).toBe(1);
    expect(await open?.frames()).toEqual([{ type: 'inboxChanged', unread: 0, unreadVersion: live?.unreadVersion }]);
  });

  it('answers an unknown id on this connection only', async () => {
    // Prepare
    const [asking, other] = await bobConnected(2);

    // Act
    const result = await handler(aMarkRead(JSON.stringify({ action: 'markRead', id: itemId }), asking?.connectionId ?? ''), context);

    // Assess
    expect(result).toEqual({ statusCode: 200 });
    expect(await asking?.frames()).toEqual([{ type: 'error', action: 'markRead', code: 'NOT_FOUND', message: `Inbox item ${itemId} not found` }]);
    expect(await other?.frames()).toEqual([]);
  });

  it.each([
    ['no id', JSON.stringify({ action: 'markRead' })],
    ['an id with a line break', JSON.stringify({ action: 'markRead', id: 'a\nb' })],
    ['a body that is not JSON', 'markRead please'],
  ])('answers a message with %s with a validation error, writing nothing', async (_, body) => {
    // Prepare
    const [socket] = await bobConnected(1);
    aws.calls.reset();

    // Act
    await handler(aMarkRead(body, socket?.connectionId ?? ''), context);

    // Assess
    expect(aws.calls.calls('dynamodb')).toEqual([]);
    expect(await socket?.frames()).toEqual([expect.objectContaining({ type: 'error', action: 'markRead', code: 'VALIDATION_ERROR' })]);
  });

  it('refuses a message that reached it without an authorizer context', async () => {
    // Act
    const result = await handler(aMarkRead(JSON.stringify({ action: 'markRead', id: itemId }), 'conn-1', null), context);

    // Assess
    expect(result).toMatchObject({ statusCode: 401 });
    expect(aws.calls.calls()).toEqual([]);
  });

  it('fails the invocation when the store fails, rather than answering a client error', async () => {
    // Prepare
    await unread(itemId);
    const [socket] = await bobConnected(1);
    aws.calls.fail('dynamodb', 'TransactWriteItems', { statusCode: 500, code: 'InternalServerError', message: 'Internal server error' });

    // Act
    const result = handler(aMarkRead(JSON.stringify({ action: 'markRead', id: itemId }), socket?.connectionId ?? ''), context);

    // Assess
    await expect(result).rejects.toThrow();
    expect(aws.calls.calls('apigatewaymanagementapi')).toEqual([]);
    expect(await socket?.frames()).toEqual([]);
  });
});
