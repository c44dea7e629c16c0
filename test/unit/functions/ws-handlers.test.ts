/**
 * The WebSocket route handlers as API Gateway invokes them, on the local DynamoDB and the local
 * gateway's `@connections` (their faultable endpoints, as the functions call them): what each
 * leaves on the user's live item, and what a connection receives.
 */
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { maxOpenConnectionsPerUser } from '../../../shared/domain/delivery.ts';
import type { SocketEvent } from '../../../shared/http/socket-event.ts';
import { aLambdaContext } from '../fakes/lambda.ts';
import { startLocalAws } from '../support/local-aws.ts';

// Config and clients are read once per process: set the environment before the handlers load.
const aws = await startLocalAws({ websocket: true });
Object.assign(process.env, aws.env);
const { handler: connect } = await import('../../../functions/ws-connect/handler.ts');
const { handler: disconnect } = await import('../../../functions/ws-disconnect/handler.ts');
const { handler: answer } = await import('../../../functions/ws-default/handler.ts');

const context = aLambdaContext('herald-test-ws');
const bob = { principalId: 'bob', sub: 'bob', tenantId: 'acme', roles: '' };
const bobsLiveKey = { pk: 'acme#bob', notificationId: '#unread' };

afterAll(async () => {
  await aws.stop();
});

beforeEach(async () => {
  await aws.clearTables('inbox');
  aws.calls.reset();
});

function aSocketEvent(routeKey: string, options: { body?: string; authorizer?: Record<string, unknown>; connectionId?: string } = {}): SocketEvent {
  return {
    ...(options.body !== undefined ? { body: options.body } : {}),
    isBase64Encoded: false,
    requestContext: {
      apiId: 'ws123',
      connectedAt: 1_893_499_200_000,
      connectionId: options.connectionId ?? 'conn-1',
      domainName: 'ws.example.com',
      eventType: routeKey === '$connect' ? 'CONNECT' : routeKey === '$disconnect' ? 'DISCONNECT' : 'MESSAGE',
      extendedRequestId: 'x',
      messageDirection: 'IN',
      messageId: 'm1',
      requestId: 'r1',
      requestTime: '01/Jan/2030:12:00:00 +0000',
      requestTimeEpoch: 1_893_499_200_000,
      routeKey,
      stage: 'test',
      ...(options.authorizer ? { authorizer: options.authorizer } : {}),
    },
  } as SocketEvent;
}

async function bobsLiveItem(): Promise<Record<string, unknown> | undefined> {
  return (await aws.dynamo.documentClient.send(new GetCommand({ TableName: 'inbox', Key: bobsLiveKey, ConsistentRead: true }))).Item;
}

describe('the WebSocket handlers', () => {
  it('records the connection of the caller the authorizer verified on their live item, beside the unread count', async () => {
    // Prepare: a connection is an attribute of the user's counter item now, with no TTL of its
    // own (deliveries skip one older than API Gateway's two hours)
    await aws.dynamo.documentClient.send(new PutCommand({ TableName: 'inbox', Item: { ...bobsLiveKey, unread: 3 } }));
    const event = aSocketEvent('$connect', { authorizer: bob });
    const before = Date.now();

    // Act
    const result = await connect(event, context);

    // Assess
    expect(result).toEqual({ statusCode: 200 });
    const item = await bobsLiveItem();
    expect(item).toEqual({ ...bobsLiveKey, unread: 3, 'conn:conn-1': expect.any(String), connectionCount: 1 });
    const connectedAt = Date.parse(String(item?.['conn:conn-1']));
    expect(connectedAt).toBeGreaterThanOrEqual(before);
    expect(connectedAt).toBeLessThanOrEqual(Date.now());
  });

  it('refuses the handshake with 429, saying why, when the user has the most connections allowed open', async () => {
    // Prepare: bob's live item lists the most connections allowed, all made a minute ago
    const connectedAt = new Date(Date.now() - 60_000).toISOString();
    const item: Record<string, unknown> = { ...bobsLiveKey, connectionCount: maxOpenConnectionsPerUser };
    for (let i = 0; i < maxOpenConnectionsPerUser; i += 1) item[`conn:c${i}`] = connectedAt;
    await aws.dynamo.documentClient.send(new PutCommand({ TableName: 'inbox', Item: item }));
    const event = aSocketEvent('$connect', { authorizer: bob });

    // Act
    const result = await connect(event, context);

    // Assess: a non-2xx answer is what makes API Gateway refuse the handshake
    expect(result).toMatchObject({ statusCode: 429, headers: { 'retry-after': '60' } });
    const body = JSON.parse(String((result as { body?: string }).body)) as { error: { code: string; message: string; details: unknown } };
    expect(body.error).toMatchObject({ code: 'TOO_MANY_REQUESTS', details: { maxConnections: maxOpenConnectionsPerUser, retryAfterSeconds: 60 } });
    expect(body.error.message).toContain(`${maxOpenConnectionsPerUser} WebSocket connections open`);
    expect(aws.calls.calls('dynamodb').filter((operation) => operation === 'UpdateItem')).toHaveLength(1);
    expect(await bobsLiveItem()).toEqual(item);
  });

  it('refuses a connection that reached $connect without an authorizer context', async () => {
    // Prepare
    const event = aSocketEvent('$connect');

    // Act
    const result = await connect(event, context);

    // Assess
    expect(result).toMatchObject({ statusCode: 401 });
    expect(aws.calls.calls()).toEqual([]);
  });

  it('forgets the connection on $disconnect, from the live item of the user the authorizer named', async () => {
    // Prepare: bob has two connections open
    const connectedAt = new Date(Date.now() - 60_000).toISOString();
    await aws.dynamo.documentClient.send(new PutCommand({ TableName: 'inbox', Item: { ...bobsLiveKey, unread: 2, 'conn:conn-1': connectedAt, 'conn:conn-2': connectedAt, connectionCount: 2 } }));
    const event = aSocketEvent('$disconnect', { authorizer: bob });

    // Act
    const result = await disconnect(event, context);

    // Assess
    expect(result).toEqual({ statusCode: 200 });
    expect(await bobsLiveItem()).toEqual({ ...bobsLiveKey, unread: 2, 'conn:conn-2': connectedAt, connectionCount: 1 });
  });

  it('forgets nothing on a $disconnect without an authorizer context: nobody was recorded for it', async () => {
    // Act
    const result = await disconnect(aSocketEvent('$disconnect'), context);

    // Assess
    expect(result).toEqual({ statusCode: 200 });
    expect(aws.calls.calls()).toEqual([]);
  });

  it('does not fail a $disconnect for a user whose live item is already gone (erased), nor bring it back', async () => {
    // Prepare: bob has no live item
    const event = aSocketEvent('$disconnect', { authorizer: bob });

    // Act
    const result = await disconnect(event, context);

    // Assess
    expect(result).toEqual({ statusCode: 200 });
    expect(await bobsLiveItem()).toBeUndefined();
  });

  it('answers a ping with a pong on the same connection', async () => {
    // Prepare
    const socket = await aws.openSocket();

    // Act
    const result = await answer(aSocketEvent('$default', { body: '{"action":"ping"}', connectionId: socket.connectionId }), context);

    // Assess
    expect(result).toEqual({ statusCode: 200 });
    expect(await socket.frames()).toEqual([{ type: 'pong' }]);
    await socket.close();
  });
});
