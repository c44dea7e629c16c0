import { ApiGatewayManagementApiClient, GoneException, PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import type { SocketEvent } from '../../../shared/http/socket-event.ts';
import { aLambdaContext } from '../fakes/lambda.ts';

// Config and clients are read once per process: set the environment before the handler loads.
Object.assign(process.env, {
  AWS_REGION: 'eu-west-1',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
  HERALD_TABLE_INBOX: 'test-inbox',
  HERALD_WS_CALLBACK_URL: 'https://ws.example.com/test',
  HERALD_READ_INBOX_RETENTION_DAYS: '7',
});
const { handler } = await import('../../../functions/ws-mark-read/handler.ts');

const dbMock = mockClient(DynamoDBDocumentClient);
const gatewayMock = mockClient(ApiGatewayManagementApiClient);
const context = aLambdaContext('herald-test-ws-mark-read');
const itemId = 'ntf_01JABCDEFGHJKMNPQRSTVWXYZ0';

beforeEach(() => {
  dbMock.reset();
  gatewayMock.reset();
});

function aMarkRead(body: string, authorizer: Record<string, unknown> | null = { principalId: 'bob', sub: 'bob', tenantId: 'acme', roles: '' }): SocketEvent {
  return {
    body,
    isBase64Encoded: false,
    requestContext: {
      apiId: 'ws123',
      connectedAt: 1_893_499_200_000,
      connectionId: 'conn-1',
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

function framesPosted(): { connection?: string; frame: unknown }[] {
  return gatewayMock.commandCalls(PostToConnectionCommand).map((call) => ({
    connection: call.args[0].input.ConnectionId,
    frame: JSON.parse(new TextDecoder().decode(call.args[0].input.Data as Uint8Array)) as unknown,
  }));
}

describe('the markRead WebSocket handler', () => {
  it('reads the item with a 7-day expiry and tells every connection of the user the new count', async () => {
    // Prepare
    // The count and the open connections come from one read of the user's live item.
    const connectedAt = new Date(Date.now() - 60_000).toISOString();
    dbMock.on(TransactWriteCommand).resolves({});
    dbMock.on(GetCommand).resolves({ Item: { pk: 'acme#bob', notificationId: '#unread', unread: 2, unreadVersion: 7, 'conn:conn-1': connectedAt, 'conn:conn-2': connectedAt } });
    dbMock.on(GetCommand, { Key: { pk: 'acme#bob', notificationId: itemId } }).resolves({ Item: { pk: 'acme#bob', unreadKey: 'acme#bob' } });
    gatewayMock.on(PostToConnectionCommand).resolves({});
    const before = Date.now();

    // Act
    const result = await handler(aMarkRead(JSON.stringify({ action: 'markRead', id: itemId })), context);

    // Assess
    expect(result).toEqual({ statusCode: 200 });
    const flip = dbMock.commandCalls(TransactWriteCommand)[0]?.args[0].input.TransactItems?.[0]?.Update;
    expect(flip).toMatchObject({ TableName: 'test-inbox', Key: { pk: 'acme#bob', notificationId: itemId }, ConditionExpression: 'attribute_exists(unreadKey)' });
    const expiresAt = Number(flip?.ExpressionAttributeValues?.[':expiresAt']);
    expect(expiresAt).toBeGreaterThanOrEqual(Math.floor(before / 1000) + 7 * 24 * 3600);
    expect(expiresAt).toBeLessThanOrEqual(Math.floor(Date.now() / 1000) + 7 * 24 * 3600);
    expect(framesPosted()).toEqual([
      { connection: 'conn-1', frame: { type: 'inboxChanged', unread: 2, unreadVersion: 7 } },
      { connection: 'conn-2', frame: { type: 'inboxChanged', unread: 2, unreadVersion: 7 } },
    ]);
    expect(dbMock).toHaveReceivedCommandWith(GetCommand, { TableName: 'test-inbox', Key: { pk: 'acme#bob', notificationId: '#unread' }, ConsistentRead: true });
    expect(dbMock).not.toHaveReceivedCommand(QueryCommand);
  });

  it('forgets a connection the gateway says is gone while telling the count', async () => {
    // Prepare
    const connectedAt = new Date(Date.now() - 60_000).toISOString();
    dbMock.on(TransactWriteCommand).resolves({});
    dbMock.on(GetCommand).resolves({ Item: { unread: 0, 'conn:gone': connectedAt } });
    dbMock.on(GetCommand, { Key: { pk: 'acme#bob', notificationId: itemId } }).resolves({ Item: { pk: 'acme#bob', unreadKey: 'acme#bob' } });
    dbMock.on(UpdateCommand).resolves({});
    gatewayMock.on(PostToConnectionCommand).rejects(new GoneException({ message: 'gone', $metadata: { httpStatusCode: 410 } }));

    // Act
    const result = await handler(aMarkRead(JSON.stringify({ action: 'markRead', id: itemId })), context);

    // Assess
    expect(result).toEqual({ statusCode: 200 });
    expect(dbMock).toHaveReceivedCommandWith(UpdateCommand, { Key: { pk: 'acme#bob', notificationId: '#unread' }, ExpressionAttributeNames: { '#c0': 'conn:gone', '#count': 'connectionCount' } });
  });

  it('answers an unknown id on this connection only', async () => {
    // Prepare
    dbMock.on(TransactWriteCommand).rejects(
      new TransactionCanceledException({ message: 'cancelled', $metadata: {}, CancellationReasons: [{ Code: 'ConditionalCheckFailed' }, { Code: 'None' }] }),
    );
    dbMock.on(GetCommand).resolves({});
    gatewayMock.on(PostToConnectionCommand).resolves({});

    // Act
    const result = await handler(aMarkRead(JSON.stringify({ action: 'markRead', id: itemId })), context);

    // Assess
    expect(result).toEqual({ statusCode: 200 });
    expect(framesPosted()).toEqual([
      { connection: 'conn-1', frame: { type: 'error', action: 'markRead', code: 'NOT_FOUND', message: `Inbox item ${itemId} not found` } },
    ]);
  });

  it.each([
    ['no id', JSON.stringify({ action: 'markRead' })],
    ['an id with a line break', JSON.stringify({ action: 'markRead', id: 'a\nb' })],
    ['a body that is not JSON', 'markRead please'],
  ])('answers a message with %s with a validation error, writing nothing', async (_, body) => {
    // Prepare
    gatewayMock.on(PostToConnectionCommand).resolves({});

    // Act
    await handler(aMarkRead(body), context);

    // Assess
    expect(dbMock).not.toHaveReceivedAnyCommand();
    expect(framesPosted()).toEqual([{ connection: 'conn-1', frame: expect.objectContaining({ type: 'error', action: 'markRead', code: 'VALIDATION_ERROR' }) }]);
  });

  it('refuses a message that reached it without an authorizer context', async () => {
    // Act
    const result = await handler(aMarkRead(JSON.stringify({ action: 'markRead', id: itemId }), null), context);

    // Assess
    expect(result).toMatchObject({ statusCode: 401 });
    expect(dbMock).not.toHaveReceivedAnyCommand();
  });

  it('fails the invocation when the store fails, rather than answering a client error', async () => {
    // Prepare
    dbMock.on(TransactWriteCommand).rejects(new ConditionalCheckFailedException({ message: 'odd', $metadata: {} }));

    // Act
    const result = handler(aMarkRead(JSON.stringify({ action: 'markRead', id: itemId })), context);

    // Assess
    await expect(result).rejects.toThrow();
    expect(gatewayMock).not.toHaveReceivedAnyCommand();
  });
});
