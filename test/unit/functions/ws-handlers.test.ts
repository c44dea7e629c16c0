import { ApiGatewayManagementApiClient, PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { maxOpenConnectionsPerUser } from '../../../shared/domain/delivery.ts';
import type { SocketEvent } from '../../../shared/http/socket-event.ts';
import { aLambdaContext } from '../fakes/lambda.ts';

// Config and clients are read once per process: set the environment before the handlers load.
Object.assign(process.env, {
  AWS_REGION: 'eu-west-1',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
  HERALD_TABLE_INBOX: 'test-inbox',
  HERALD_WS_CALLBACK_URL: 'https://ws.example.com/test',
});
const { handler: connect } = await import('../../../functions/ws-connect/handler.ts');
const { handler: disconnect } = await import('../../../functions/ws-disconnect/handler.ts');
const { handler: answer } = await import('../../../functions/ws-default/handler.ts');

const dbMock = mockClient(DynamoDBDocumentClient);
const gatewayMock = mockClient(ApiGatewayManagementApiClient);
const context = aLambdaContext('herald-test-ws');

beforeEach(() => {
  dbMock.reset();
  gatewayMock.reset();
});

function aSocketEvent(routeKey: string, options: { body?: string; authorizer?: Record<string, unknown> } = {}): SocketEvent {
  return {
    ...(options.body !== undefined ? { body: options.body } : {}),
    isBase64Encoded: false,
    requestContext: {
      apiId: 'ws123',
      connectedAt: 1_893_499_200_000,
      connectionId: 'conn-1',
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

describe('the WebSocket handlers', () => {
  it('records the connection of the caller the authorizer verified on their live item, beside the unread count', async () => {
    // Prepare: a connection is an attribute of the user's counter item now, with no TTL of its
    // own (deliveries skip one older than API Gateway's two hours)
    dbMock.on(UpdateCommand).resolves({});
    const event = aSocketEvent('$connect', { authorizer: { principalId: 'bob', sub: 'bob', tenantId: 'acme', roles: '' } });
    const before = Date.now();

    // Act
    const result = await connect(event, context);

    // Assess
    expect(result).toEqual({ statusCode: 200 });
    const input = dbMock.commandCalls(UpdateCommand)[0]?.args[0].input;
    expect(input).toMatchObject({
      TableName: 'test-inbox',
      Key: { pk: 'acme#bob', notificationId: '#unread' },
      UpdateExpression: 'SET #connection = :connectedAt ADD #count :one',
      ConditionExpression: 'attribute_not_exists(#count) OR #count < :max',
      ExpressionAttributeNames: { '#connection': 'conn:conn-1', '#count': 'connectionCount' },
      ExpressionAttributeValues: { ':one': 1, ':max': maxOpenConnectionsPerUser },
    });
    const connectedAt = Date.parse(String(input?.ExpressionAttributeValues?.[':connectedAt']));
    expect(connectedAt).toBeGreaterThanOrEqual(before);
    expect(connectedAt).toBeLessThanOrEqual(Date.now());
  });

  it('refuses the handshake with 429, saying why, when the user has the most connections allowed open', async () => {
    // Prepare: the conditioned write is refused; the item read then lists connections all made a minute ago
    dbMock.on(UpdateCommand).rejects(new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }));
    const connectedAt = new Date(Date.now() - 60_000).toISOString();
    const item: Record<string, unknown> = { pk: 'acme#bob', notificationId: '#unread', connectionCount: maxOpenConnectionsPerUser };
    for (let i = 0; i < maxOpenConnectionsPerUser; i += 1) item[`conn:c${i}`] = connectedAt;
    dbMock.on(GetCommand).resolves({ Item: item });
    const event = aSocketEvent('$connect', { authorizer: { principalId: 'bob', sub: 'bob', tenantId: 'acme', roles: '' } });

    // Act
    const result = await connect(event, context);

    // Assess: a non-2xx answer is what makes API Gateway refuse the handshake
    expect(result).toMatchObject({ statusCode: 429, headers: { 'retry-after': '60' } });
    const body = JSON.parse(String((result as { body?: string }).body)) as { error: { code: string; message: string; details: unknown } };
    expect(body.error).toMatchObject({ code: 'TOO_MANY_REQUESTS', details: { maxConnections: maxOpenConnectionsPerUser, retryAfterSeconds: 60 } });
    expect(body.error.message).toContain(`${maxOpenConnectionsPerUser} WebSocket connections open`);
    expect(dbMock).toHaveReceivedCommandTimes(UpdateCommand, 1);
  });

  it('refuses a connection that reached $connect without an authorizer context', async () => {
    // Prepare
    const event = aSocketEvent('$connect');

    // Act
    const result = await connect(event, context);

    // Assess
    expect(result).toMatchObject({ statusCode: 401 });
    expect(dbMock).not.toHaveReceivedAnyCommand();
  });

  it('forgets the connection on $disconnect, from the live item of the user the authorizer named', async () => {
    // Prepare
    dbMock.on(UpdateCommand).resolves({});
    const event = aSocketEvent('$disconnect', { authorizer: { principalId: 'bob', sub: 'bob', tenantId: 'acme', roles: '' } });

    // Act
    const result = await disconnect(event, context);

    // Assess
    expect(result).toEqual({ statusCode: 200 });
    expect(dbMock).toHaveReceivedCommandExactlyOnceWith(UpdateCommand, {
      TableName: 'test-inbox',
      Key: { pk: 'acme#bob', notificationId: '#unread' },
      UpdateExpression: 'REMOVE #c0 ADD #count :minus',
      ExpressionAttributeNames: { '#c0': 'conn:conn-1', '#count': 'connectionCount' },
      ExpressionAttributeValues: { ':minus': -1 },
      // Only while it is there: the count moves by what was removed, and an erased item stays gone.
      ConditionExpression: 'attribute_exists(#c0)',
    });
  });

  it('forgets nothing on a $disconnect without an authorizer context: nobody was recorded for it', async () => {
    // Act
    const result = await disconnect(aSocketEvent('$disconnect'), context);

    // Assess
    expect(result).toEqual({ statusCode: 200 });
    expect(dbMock).not.toHaveReceivedAnyCommand();
  });

  it('does not fail a $disconnect for a user whose live item is already gone (erased)', async () => {
    // Prepare
    dbMock.on(UpdateCommand).rejects(new ConditionalCheckFailedException({ message: 'no item', $metadata: {} }));
    const event = aSocketEvent('$disconnect', { authorizer: { principalId: 'bob', sub: 'bob', tenantId: 'acme', roles: '' } });

    // Act
    const result = await disconnect(event, context);

    // Assess
    expect(result).toEqual({ statusCode: 200 });
  });

  it('answers a ping with a pong on the same connection', async () => {
    // Prepare
    gatewayMock.on(PostToConnectionCommand).resolves({});

    // Act
    const result = await answer(aSocketEvent('$default', { body: '{"action":"ping"}' }), context);

    // Assess
    expect(result).toEqual({ statusCode: 200 });
    const input = gatewayMock.commandCalls(PostToConnectionCommand)[0]?.args[0].input;
    expect(input?.ConnectionId).toBe('conn-1');
    expect(JSON.parse(new TextDecoder().decode(input?.Data as Uint8Array))).toEqual({ type: 'pong' });
  });
});
