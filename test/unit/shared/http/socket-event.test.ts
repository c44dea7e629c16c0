import { describe, expect, it } from 'vitest';
import { socketAction, socketCaller } from '../../../../shared/http/socket-event.ts';
import type { SocketEvent } from '../../../../shared/http/socket-event.ts';

function aSocketEvent(body: string | undefined, authorizer?: Record<string, unknown>): SocketEvent {
  return {
    body,
    isBase64Encoded: false,
    requestContext: {
      apiId: 'ws',
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
      routeKey: '$default',
      stage: 'prod',
      ...(authorizer ? { authorizer } : {}),
    },
  } as SocketEvent;
}

describe('reading WebSocket events', () => {
  it('reads the caller the authorizer passed on', () => {
    // Prepare
    const event = aSocketEvent(undefined, { sub: 'bob', tenantId: 'acme', roles: 'admin sender', principalId: 'bob' });

    // Act
    const caller = socketCaller(event);

    // Assess
    expect(caller).toEqual({ sub: 'bob', tenantId: 'acme', roles: ['admin', 'sender'] });
  });

  it('names no caller without an authorizer context', () => {
    // Prepare
    const event = aSocketEvent(undefined);

    // Act
    const caller = socketCaller(event);

    // Assess
    expect(caller).toBeUndefined();
  });

  it.each([
    ['{"action":"ping"}', 'ping'],
    ['{"action":42}', undefined],
    ['not json', undefined],
    [undefined, undefined],
  ])('reads the action of %j as %j', (body, expected) => {
    // Prepare
    const event = aSocketEvent(body);

    // Act
    const action = socketAction(event);

    // Assess
    expect(action).toBe(expected);
  });
});
