import {
  ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  GetConnectionCommand,
  GoneException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { once } from 'node:events';
import { createConnection } from 'node:net';
import type { Socket } from 'node:net';
import { WebSocket } from 'ws';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { startWebSocketGateway, WEBSOCKET_IDLE_TIMEOUT_MS } from '../../../local/websocket-gateway.ts';
import type {
  RunningWebSocketGateway,
  WebSocketAuthorizerEvent,
  WebSocketRouteEvent,
} from '../../../local/websocket-gateway.ts';

const waitLimitMs = 3000;

/** Records route events and lets a test wait for an event of one route and connection. */
class EventRecorder {
  readonly events: WebSocketRouteEvent[] = [];
  private waiters: { matches: (event: WebSocketRouteEvent) => boolean; resolve: (event: WebSocketRouteEvent) => void }[] = [];

  record(event: WebSocketRouteEvent): void {
    this.events.push(event);
    for (const waiter of this.waiters.filter((w) => w.matches(event))) {
      this.waiters = this.waiters.filter((w) => w !== waiter);
      waiter.resolve(event);
    }
  }

  of(routeKey: string, connectionId?: string): WebSocketRouteEvent[] {
    return this.events.filter(
      (event) =>
        event.requestContext.routeKey === routeKey &&
        (connectionId === undefined || event.requestContext.connectionId === connectionId),
    );
  }

  /** The first event of a route (for one connection, if given), now or when it arrives. */
  async first(routeKey: string, connectionId?: string): Promise<WebSocketRouteEvent> {
    const existing = this.of(routeKey, connectionId)[0];
    if (existing) return existing;
    const matches = (event: WebSocketRouteEvent): boolean => this.of(routeKey, connectionId).includes(event);
    return withTimeout(
      new Promise<WebSocketRouteEvent>((resolve) => this.waiters.push({ matches, resolve })),
      `${routeKey} of ${connectionId ?? 'any connection'}`,
    );
  }

  reset(): void {
    this.events.length = 0;
    this.waiters = [];
  }
}

async function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Timed out waiting for ${what}`)), waitLimitMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function connect(url: string, headers: Record<string, string> = {}): Promise<WebSocket> {
  const socket = new WebSocket(url, { headers });
  return withTimeout(
    new Promise<WebSocket>((resolve, reject) => {
      socket.once('open', () => resolve(socket));
      socket.once('unexpected-response', (_req, res) => reject(new Error(`Handshake refused with ${res.statusCode}`)));
      socket.once('error', reject);
    }),
    'the handshake',
  );
}

/** The status a refused handshake answered with. */
async function refusal(url: string): Promise<number> {
  const socket = new WebSocket(url);
  return withTimeout(
    new Promise<number>((resolve, reject) => {
      socket.once('open', () => reject(new Error('The handshake was accepted')));
      socket.once('unexpected-response', (_req, res) => {
        resolve(res.statusCode ?? 0);
        res.resume();
        socket.terminate();
      });
      socket.once('error', reject);
    }),
    'the refusal',
  );
}

async function nextMessage(socket: WebSocket): Promise<string> {
  return withTimeout(
    new Promise<string>((resolve) => socket.once('message', (data: Buffer) => resolve(data.toString('utf8')))),
    'a message',
  );
}

async function closed(socket: WebSocket): Promise<{ code: number; reason: string }> {
  if (socket.readyState === WebSocket.CLOSED) throw new Error('Already closed: listen before acting');
  return withTimeout(
    new Promise((resolve) => socket.once('close', (code: number, reason: Buffer) => resolve({ code, reason: reason.toString() }))),
    'the close',
  );
}

function allowOrDeny(event: WebSocketAuthorizerEvent): unknown {
  const token = event.queryStringParameters.token;
  if (token === 'expired') throw new Error('Unauthorized');
  if (token === 'broken') throw new Error('authorizer crashed');
  return {
    principalId: 'alice',
    policyDocument: {
      Version: '2012-10-17',
      Statement: [{ Action: 'execute-api:Invoke', Effect: token === 'good' ? 'Allow' : 'Deny', Resource: event.methodArn }],
    },
    context: { userKey: 'acme#alice', admin: true, level: 3 },
  };
}

describe('WebSocket gateway', () => {
  const recorder = new EventRecorder();
  const authorizerEvents: WebSocketAuthorizerEvent[] = [];
  const logged: string[] = [];
  const clients: WebSocket[] = [];
  let gateway: RunningWebSocketGateway;
  let management: ApiGatewayManagementApiClient;

  async function open(token = 'good', query = ''): Promise<{ socket: WebSocket; connectionId: string }> {
    const connectsBefore = recorder.of('$connect').length;
    const socket = await connect(`${gateway.url}/?token=${token}${query}`, { 'User-Agent': 'vitest-client' });
    clients.push(socket);
    // $connect completes before the handshake does, so its event is already recorded.
    const connectEvent = recorder.of('$connect')[connectsBefore];
    if (!connectEvent) throw new Error('$connect did not run before the handshake completed');
    return { socket, connectionId: connectEvent.requestContext.connectionId };
  }

  beforeAll(async () => {
    gateway = await startWebSocketGateway({
      port: 0,
      authorizer: async (event) => {
        authorizerEvents.push(event);
        return allowOrDeny(event);
      },
      authorizerIdentitySource: 'route.request.querystring.token',
      routeSelectionExpression: '$request.body.action',
      log: (line) => logged.push(line),
      routes: {
        $connect: async (event) => {
          recorder.record(event);
          return event.queryStringParameters?.refuse ? { statusCode: 403 } : { statusCode: 200 };
        },
        $disconnect: async (event) => recorder.record(event),
        $default: async (event) => recorder.record(event),
        subscribe: async (event) => {
          recorder.record(event);
          return { statusCode: 200, body: 'ignored' };
        },
      },
    });
    management = new ApiGatewayManagementApiClient({
      endpoint: gateway.callbackUrl,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
  });

  afterAll(async () => {
    management.destroy();
    await gateway.stop();
  });

  beforeEach(() => {
    recorder.reset();
    authorizerEvents.length = 0;
    logged.length = 0;
  });

  afterEach(() => {
    for (const client of clients.splice(0)) client.terminate();
  });

  describe('$connect', () => {
    it.each([
      ['a Deny policy', 403, 'bad'],
      ['an Unauthorized error', 401, 'expired'],
      ['a failing authorizer', 500, 'broken'],
    ])('refuses the handshake on %s with %i', async (_case, status, token) => {
      // Act
      const answered = await refusal(`${gateway.url}/?token=${token}`);

      // Assess
      expect(answered).toBe(status);
      expect(authorizerEvents).toHaveLength(1);
      expect(recorder.of('$connect')).toHaveLength(0);
    });

    it('refuses with 401 without asking the authorizer when the identity source is missing', async () => {
      // Act
      const answered = await refusal(gateway.url);

      // Assess
      expect(answered).toBe(401);
      expect(authorizerEvents).toHaveLength(0);
    });

    it('gives the authorizer a REQUEST event for the $connect route', async () => {
      // Act
      await open('good', '&lang=en&lang=fr');

      // Assess
      expect(authorizerEvents[0]).toMatchObject({
        type: 'REQUEST',
        methodArn: 'arn:aws:execute-api:us-east-1:000000000000:local/local/$connect',
        headers: { 'User-Agent': 'vitest-client', Upgrade: 'websocket' },
        multiValueHeaders: { 'User-Agent': ['vitest-client'] },
        queryStringParameters: { token: 'good', lang: 'fr' },
        multiValueQueryStringParameters: { token: ['good'], lang: ['en', 'fr'] },
        stageVariables: {},
        requestContext: { routeKey: '$connect', eventType: 'CONNECT', stage: 'local', apiId: 'local', messageDirection: 'IN' },
      });
    });

    it('takes query parameters and headers named like the members every object inherits, each as its own key', async () => {
      // Act
      const socket = await connect(`${gateway.url}/?token=good&constructor=1&__proto__=2&toString=3`, { constructor: 'a', __proto__: 'b' } as Record<string, string>);
      clients.push(socket);

      // Assess
      const [event] = authorizerEvents;
      expect(Object.entries(event?.queryStringParameters ?? {})).toEqual(expect.arrayContaining([['constructor', '1'], ['__proto__', '2'], ['toString', '3']]));
      expect(Object.entries(event?.multiValueQueryStringParameters ?? {})).toEqual(expect.arrayContaining([['constructor', ['1']], ['__proto__', ['2']]]));
      expect(Object.entries(event?.headers ?? {})).toEqual(expect.arrayContaining([['constructor', 'a']]));
      expect(logged).toEqual([]);
    });

    it('passes the allowed principal and stringified context to $connect', async () => {
      // Act
      const { connectionId } = await open();

      // Assess
      const connectEvent = recorder.of('$connect')[0];
      expect(connectEvent).toMatchObject({
        queryStringParameters: { token: 'good' },
        isBase64Encoded: false,
        requestContext: {
          routeKey: '$connect',
          eventType: 'CONNECT',
          connectionId,
          authorizer: { principalId: 'alice', userKey: 'acme#alice', admin: 'true', level: '3', integrationLatency: expect.any(Number) },
          identity: { sourceIp: '127.0.0.1', userAgent: 'vitest-client' },
          domainName: `127.0.0.1:${gateway.port}`,
          connectedAt: expect.any(Number),
        },
      });
      expect(connectionId).toMatch(/^[A-Za-z0-9]{15}=$/);
      expect(gateway.connectionIds()).toContain(connectionId);
    });

    it('refuses the handshake when $connect answers with a non-2xx status', async () => {
      // Act
      const answered = await refusal(`${gateway.url}/?token=good&refuse=1`);

      // Assess
      expect(answered).toBe(403);
      expect(recorder.of('$connect')).toHaveLength(1);
      expect(gateway.connectionIds()).toHaveLength(0);
    });
  });

  describe('messages', () => {
    it('routes by the action in the body and keeps the authorizer context', async () => {
      // Prepare
      const { socket, connectionId } = await open();

      // Act
      socket.send(JSON.stringify({ action: 'subscribe', topic: 'news' }));

      // Assess
      const event = await recorder.first('subscribe', connectionId);
      expect(event).toEqual({
        requestContext: expect.objectContaining({
          routeKey: 'subscribe',
          eventType: 'MESSAGE',
          messageId: expect.stringMatching(/=$/),
          connectionId,
          authorizer: expect.objectContaining({ principalId: 'alice', userKey: 'acme#alice' }),
          identity: { sourceIp: '127.0.0.1', userAgent: 'vitest-client' },
          requestTimeEpoch: expect.any(Number),
        }),
        body: '{"action":"subscribe","topic":"news"}',
        isBase64Encoded: false,
      });
    });

    it.each([
      ['an unknown action', '{"action":"dance"}'],
      ['a JSON body without action', '{"hello":1}'],
      ['a body that is not JSON', 'ping'],
      // A message never runs a lifecycle route: only a handshake or a close does.
      ['the action $connect', '{"action":"$connect"}'],
      ['the action $disconnect', '{"action":"$disconnect"}'],
      // Nor a member every object inherits, which names no route.
      ['the action constructor', '{"action":"constructor"}'],
      ['the action __proto__', '{"action":"__proto__"}'],
      ['the action toString', '{"action":"toString"}'],
    ])('falls back to $default for %s', async (_case, body) => {
      // Prepare
      const { socket, connectionId } = await open();

      // Act
      socket.send(body);

      // Assess
      const event = await recorder.first('$default', connectionId);
      expect(event.body).toBe(body);
      expect(event.requestContext.routeKey).toBe('$default');
      expect(recorder.of('$connect').filter((e) => e.requestContext.connectionId === connectionId)).toHaveLength(1);
      expect(recorder.of('$disconnect').filter((e) => e.requestContext.connectionId === connectionId)).toEqual([]);
      expect(logged).toEqual([]);
    });

    it('closes with 1009 a message above 128 KB', async () => {
      // Prepare
      const { socket, connectionId } = await open();
      const closing = closed(socket);

      // Act
      socket.send('x'.repeat(128 * 1024 + 1));

      // Assess
      expect((await closing).code).toBe(1009);
      const disconnect = await recorder.first('$disconnect', connectionId);
      expect(disconnect.requestContext.disconnectStatusCode).toBe(1009);
      expect(recorder.of('$default')).toHaveLength(0);
    });
  });

  describe('@connections through the AWS SDK', () => {
    it('delivers a PostToConnection to the client as a text frame', async () => {
      // Prepare
      const { socket, connectionId } = await open();
      const received = nextMessage(socket);

      // Act
      await management.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: '{"kind":"notification"}' }));

      // Assess
      expect(await received).toBe('{"kind":"notification"}');
    });

    it('describes a connection with GetConnection', async () => {
      // Prepare
      const { connectionId } = await open();

      // Act
      const described = await management.send(new GetConnectionCommand({ ConnectionId: connectionId }));

      // Assess
      expect(described.ConnectedAt).toBeInstanceOf(Date);
      expect(described.LastActiveAt).toBeInstanceOf(Date);
      expect(described.Identity).toEqual({ SourceIp: '127.0.0.1', UserAgent: 'vitest-client' });
      expect(Math.abs((described.ConnectedAt?.getTime() ?? 0) - Date.now())).toBeLessThan(5000);
    });

    it('closes the socket on DeleteConnection and reports it to $disconnect', async () => {
      // Prepare
      const { socket, connectionId } = await open();
      const closing = closed(socket);

      // Act
      await management.send(new DeleteConnectionCommand({ ConnectionId: connectionId }));

      // Assess
      expect((await closing).code).toBe(1000);
      const disconnect = await recorder.first('$disconnect', connectionId);
      expect(disconnect.requestContext).toMatchObject({
        routeKey: '$disconnect',
        eventType: 'DISCONNECT',
        connectionId,
        disconnectStatusCode: 1000,
        disconnectReason: 'Connection Closed Normally',
        authorizer: expect.objectContaining({ principalId: 'alice' }),
      });
      expect(gateway.connectionIds()).not.toContain(connectionId);
    });

    it('answers a closed connection with the SDK GoneException', async () => {
      // Prepare
      const { socket, connectionId } = await open();
      const closing = closed(socket);
      socket.close(1000);
      await closing;
      await recorder.first('$disconnect', connectionId);

      // Act
      const posting = management.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: 'late' }));

      // Assess
      await expect(posting).rejects.toBeInstanceOf(GoneException);
      await expect(management.send(new GetConnectionCommand({ ConnectionId: connectionId }))).rejects.toBeInstanceOf(GoneException);
      await expect(management.send(new DeleteConnectionCommand({ ConnectionId: connectionId }))).rejects.toBeInstanceOf(GoneException);
    });

    it('answers an id it never issued with GoneException', async () => {
      // Act
      const posting = management.send(new PostToConnectionCommand({ ConnectionId: 'NeverIssued1234=', Data: 'x' }));

      // Assess
      await expect(posting).rejects.toMatchObject({ name: 'GoneException', $metadata: { httpStatusCode: 410 } });
    });
  });

  describe('$disconnect', () => {
    it('fires with the close code the client sent', async () => {
      // Prepare
      const { socket, connectionId } = await open();

      // Act
      socket.close(4000, 'bye');

      // Assess
      const disconnect = await recorder.first('$disconnect', connectionId);
      expect(disconnect).toMatchObject({
        headers: { Host: `127.0.0.1:${gateway.port}` },
        isBase64Encoded: false,
        requestContext: { connectionId, disconnectStatusCode: 4000, disconnectReason: 'bye', eventType: 'DISCONNECT' },
      });
    });

    it('says the status was not set when the close frame carries none', async () => {
      // Prepare
      const { socket, connectionId } = await open();

      // Act
      socket.close();

      // Assess
      const disconnect = await recorder.first('$disconnect', connectionId);
      expect(disconnect.requestContext).toMatchObject({
        disconnectStatusCode: 1005,
        disconnectReason: 'Client-side close frame status not set',
      });
    });
  });
});

describe('WebSocket gateway without $default', () => {
  it('answers an unroutable message with the AWS Forbidden error frame', async () => {
    // Prepare
    const connects: WebSocketRouteEvent[] = [];
    const gateway = await startWebSocketGateway({
      port: 0,
      routes: { $connect: async (event) => connects.push(event), subscribe: async () => undefined },
    });
    const socket = await connect(gateway.url);
    const reply = nextMessage(socket);

    // Act
    socket.send('{"action":"dance"}');

    // Assess
    const frame = JSON.parse(await reply) as Record<string, unknown>;
    expect(frame).toEqual({ message: 'Forbidden', connectionId: connects[0]?.requestContext.connectionId, requestId: expect.any(String) });
    socket.terminate();
    await gateway.stop();
  });
});

describe('WebSocket gateway lifecycle', () => {
  it('closes idle connections with 1001 when an idle timeout is set', async () => {
    // Prepare
    const disconnects: WebSocketRouteEvent[] = [];
    const gateway = await startWebSocketGateway({
      port: 0,
      idleTimeoutMs: 150,
      routes: { $disconnect: async (event) => void disconnects.push(event) },
    });
    const socket = await connect(gateway.url);

    // Act
    const { code } = await closed(socket);

    // Assess
    expect(code).toBe(1001);
    await gateway.stop();
    expect(disconnects[0]?.requestContext).toMatchObject({ disconnectStatusCode: 1001, disconnectReason: 'Going away' });
  });

  it('closes a connection at its maximum duration with 1001 even while it is active', async () => {
    // Prepare
    const disconnects: WebSocketRouteEvent[] = [];
    const gateway = await startWebSocketGateway({
      port: 0,
      maxConnectionMs: 400,
      routes: { $default: async () => undefined, $disconnect: async (event) => void disconnects.push(event) },
    });
    const socket = await connect(gateway.url);
    const keepBusy = setInterval(() => socket.send('{"action":"ping"}'), 50);

    // Act
    const { code } = await closed(socket);
    clearInterval(keepBusy);

    // Assess
    expect(code).toBe(1001);
    await gateway.stop();
    expect(disconnects[0]?.requestContext).toMatchObject({ disconnectStatusCode: 1001, disconnectReason: 'Going away' });
  });

  it('closes a connection idle for AWS\'s 10 minutes unless told otherwise', async () => {
    // Prepare: only the gateway's timers are faked; the socket's I/O stays real.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const gateway = await startWebSocketGateway({ port: 0, routes: {} });
      const socket = await connect(gateway.url);
      let closeCode: number | undefined;
      socket.once('close', (code) => (closeCode = code));

      // Act
      vi.advanceTimersByTime(WEBSOCKET_IDLE_TIMEOUT_MS - 1);
      const openBefore = socket.readyState === WebSocket.OPEN;
      vi.advanceTimersByTime(1);

      // Assess
      // The close handshake is real I/O: let it run (a bounded number of turns, as timers are faked).
      for (let turn = 0; turn < 10_000 && closeCode === undefined; turn++) await new Promise((resolve) => setImmediate(resolve));
      expect(openBefore).toBe(true);
      expect(closeCode).toBe(1001);
      vi.useRealTimers();
      await gateway.stop();
    } finally {
      vi.useRealTimers();
    }
  });

  it('closes every socket with 1001 and runs their $disconnect before stop resolves', async () => {
    // Prepare
    const disconnects: WebSocketRouteEvent[] = [];
    const gateway = await startWebSocketGateway({
      port: 0,
      routes: {
        $disconnect: async (event) => {
          await new Promise((resolve) => setTimeout(resolve, 50));
          disconnects.push(event);
        },
      },
    });
    const sockets = await Promise.all([connect(gateway.url), connect(gateway.url)]);
    const closings = sockets.map(closed);

    // Act
    await gateway.stop();

    // Assess
    expect(disconnects).toHaveLength(2);
    expect(disconnects.map((event) => event.requestContext.disconnectStatusCode)).toEqual([1001, 1001]);
    expect((await Promise.all(closings)).map((close) => close.code)).toEqual([1001, 1001]);
    expect(gateway.connectionIds()).toEqual([]);
  });

  it.each([
    ['closes', (client: Socket) => client.end()],
    ['drops', (client: Socket) => client.destroy()],
  ])('runs $disconnect for a client that sends its handshake and %s the socket while $connect runs, so no connection is left counted', async (_case, leave) => {
    // Prepare: a $connect that takes a while, as a function does; the handshake written by hand
    const calls: string[] = [];
    let disconnected: () => void = () => undefined;
    const gone = new Promise<void>((resolve) => (disconnected = resolve));
    const gateway = await startWebSocketGateway({
      port: 0,
      routes: {
        $connect: async () => {
          await new Promise((resolve) => setTimeout(resolve, 100));
          calls.push('$connect');
          return { statusCode: 200 };
        },
        $disconnect: async (event) => {
          calls.push(`$disconnect ${event.requestContext.disconnectStatusCode ?? ''}`);
          disconnected();
        },
      },
    });
    const { port } = new URL(gateway.url);
    const client = createConnection({ host: '127.0.0.1', port: Number(port) });
    await once(client, 'connect');
    client.write(
      `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );

    // Act: gone before $connect answers (a half-closed socket `ws` destroys without a word)
    leave(client);
    await withTimeout(gone, 'the $disconnect');
    await withTimeout(new Promise<void>((resolve) => (client.closed ? resolve() : client.once('close', () => resolve()))), 'the gateway to close its side');
    await gateway.stop();

    // Assess: the $connect that ran has its $disconnect, once, and the socket is not left half open
    expect(calls).toEqual(['$connect', '$disconnect 1006']);
  });

  it('waits on stop for a handshake whose $connect is still running, and for its $disconnect', async () => {
    // Prepare
    const calls: string[] = [];
    let connectStarted: () => void = () => undefined;
    const started = new Promise<void>((resolve) => (connectStarted = resolve));
    const gateway = await startWebSocketGateway({
      port: 0,
      routes: {
        $connect: async () => {
          connectStarted();
          await new Promise((resolve) => setTimeout(resolve, 100));
          calls.push('$connect');
          return { statusCode: 200 };
        },
        $disconnect: async () => void calls.push('$disconnect'),
      },
    });
    const socket = new WebSocket(gateway.url);
    socket.on('error', () => undefined);
    await withTimeout(started, 'the $connect to start');

    // Act
    await gateway.closeSockets();
    const afterClosing = [...calls];
    await gateway.stop();

    // Assess: nothing runs a function once the sockets are closed
    expect(afterClosing).toEqual(['$connect', '$disconnect']);
    expect(calls).toEqual(['$connect', '$disconnect']);
  });

  it('keeps @connections answering after closing the sockets, with GoneException for the closed ones', async () => {
    // Prepare
    const gateway = await startWebSocketGateway({ port: 0, routes: {} });
    const socket = await connect(gateway.url);
    const [connectionId] = gateway.connectionIds();
    const closing = closed(socket);
    const management = new ApiGatewayManagementApiClient({ endpoint: gateway.callbackUrl, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });

    // Act
    await gateway.closeSockets();
    const post = management.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: Buffer.from('late') }));

    // Assess
    await expect(post).rejects.toBeInstanceOf(GoneException);
    expect((await closing).code).toBe(1001);
    management.destroy();
    await gateway.stop();
  });

  it('waits on stop for the $disconnect of a socket its client had just closed', async () => {
    // Prepare
    const disconnects: WebSocketRouteEvent[] = [];
    let disconnectStarted: () => void = () => undefined;
    const started = new Promise<void>((resolve) => (disconnectStarted = resolve));
    const gateway = await startWebSocketGateway({
      port: 0,
      routes: {
        $disconnect: async (event) => {
          disconnectStarted();
          await new Promise((resolve) => setTimeout(resolve, 50));
          disconnects.push(event);
        },
      },
    });
    const socket = await connect(gateway.url);
    socket.close(1000, 'bye');
    await withTimeout(started, 'the $disconnect to start');

    // Act
    await gateway.stop();

    // Assess
    expect(disconnects.map((event) => event.requestContext.disconnectStatusCode)).toEqual([1000]);
  });
});
