import { request as httpRequest } from 'node:http';
import type { OutgoingHttpHeaders } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import type { JSONWebKeySet, JWTPayload } from 'jose';
import type { APIGatewayProxyEventV2, APIGatewayProxyEventV2WithJWTAuthorizer } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { httpRoutes } from '../../../lib/app-description.ts';
import { gatewayRoutes } from '../../../lib/http-gateway-routes.ts';
import type { HttpRoute } from '../../../lib/app-description.ts';
import { presentClaim, startHttpGateway } from '../../../local/http-gateway.ts';
import { rawBody } from '../../../shared/http/request.ts';
import type { HttpEvent } from '../../../shared/http/request.ts';
import type { RunningHttpGateway } from '../../../local/http-gateway.ts';
import { loadOrCreateSigningKey, publicJwks, signToken } from '../../../local/jwt-keys.ts';
import type { LocalSigningKey } from '../../../local/jwt-keys.ts';

const issuer = 'https://herald.test';
const audience = 'herald-test';

type GatewayEvent = APIGatewayProxyEventV2WithJWTAuthorizer | APIGatewayProxyEventV2;

interface Reply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** A raw node:http request, so tests control repeated headers and exact bytes. */
async function send(
  baseUrl: string,
  method: string,
  path: string,
  options: { headers?: OutgoingHttpHeaders; body?: string | Buffer } = {},
): Promise<Reply> {
  const url = new URL(path, baseUrl);
  return new Promise<Reply>((resolve, reject) => {
    const req = httpRequest(url, { method, headers: options.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

// The description's routes as they are deployed (paths ending in `/` on greedy routes), as the local stack wires them.
const testRoutes: readonly HttpRoute[] = [
  ...gatewayRoutes(httpRoutes),
  { method: 'GET', path: '/v1/recipients/me', auth: 'jwt' },
  { method: 'GET', path: '/files/{proxy+}', auth: 'none' },
  { method: 'POST', path: '/echo', auth: 'none' },
];

describe('HTTP API gateway', () => {
  let directory: string;
  let key: LocalSigningKey;
  let jwks: JSONWebKeySet;
  let gateway: RunningHttpGateway;
  let events: GatewayEvent[];
  let respond: (event: GatewayEvent) => Promise<unknown>;
  let logged: string[];

  async function tokenWith(payload: JWTPayload, header: { kid?: string } = { kid: key.kid }): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ iss: issuer, aud: audience, sub: 'alice', iat: now, exp: now + 600, ...payload })
      .setProtectedHeader({ alg: 'RS256', ...header })
      .sign(key.privateKey);
  }

  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'herald-http-gateway-'));
    const keyFile = join(directory, 'key.json');
    key = await loadOrCreateSigningKey({ keyFile });
    jwks = await publicJwks({ keyFile });
    gateway = await startHttpGateway({
      port: 0,
      routes: testRoutes,
      jwt: { issuer, audience, jwks },
      log: (line) => logged.push(line),
      invoke: async (event) => {
        events.push(event);
        return respond(event);
      },
      extraHandlers: async (req, res) => {
        if (req.url !== '/.well-known/jwks.json') return false;
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwks));
        return true;
      },
    });
  });

  afterAll(async () => {
    await gateway.stop();
    await rm(directory, { recursive: true, force: true });
  });

  beforeEach(() => {
    events = [];
    logged = [];
    respond = async () => ({ statusCode: 200, body: 'ok' });
  });

  describe('routing', () => {
    it('matches a route with a path parameter and hands over the decoded value', async () => {
      // Prepare
      const token = await signToken({ sub: 'alice', issuer, audience }, { keyFile: join(directory, 'key.json') });

      // Act
      const reply = await send(gateway.url, 'GET', '/v1/notifications/ntf%2001', { headers: { authorization: `Bearer ${token}` } });

      // Assess
      expect(reply.status).toBe(200);
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({
        routeKey: 'GET /v1/notifications/{id}',
        rawPath: '/v1/notifications/ntf%2001',
        pathParameters: { id: 'ntf 01' },
      });
    });

    it('prefers a literal route over a parameter route for the same path', async () => {
      // Prepare
      const token = await tokenWith({});

      // Act
      await send(gateway.url, 'GET', '/v1/recipients/me', { headers: { authorization: `Bearer ${token}` } });
      await send(gateway.url, 'GET', '/v1/recipients/r1', { headers: { authorization: `Bearer ${token}` } });

      // Assess
      expect(events.map((event) => event.routeKey)).toEqual(['GET /v1/recipients/me', 'GET /v1/recipients/{id}']);
      expect(events[0]?.pathParameters).toBeUndefined();
    });

    it('gives a greedy path variable the whole rest of the path', async () => {
      // Act
      await send(gateway.url, 'GET', '/files/a/b/c.txt');

      // Assess
      expect(events[0]).toMatchObject({ routeKey: 'GET /files/{proxy+}', pathParameters: { proxy: 'a/b/c.txt' } });
    });

    it.each([
      ['an unknown path', 'GET', '/v2/nothing'],
      ['a known path with another method', 'PUT', '/v1/notifications/ntf_1'],
    ])('answers 404 Not Found exactly as AWS does for %s', async (_case, method, path) => {
      // Act
      const reply = await send(gateway.url, method, path);

      // Assess
      expect(reply.status).toBe(404);
      expect(reply.body).toBe('{"message":"Not Found"}');
      expect(events).toHaveLength(0);
    });

    it('lets local-only endpoints answer before routing', async () => {
      // Act
      const reply = await send(gateway.url, 'GET', '/.well-known/jwks.json');

      // Assess
      expect(reply.status).toBe(200);
      expect(JSON.parse(reply.body)).toEqual(jwks);
      expect(events).toHaveLength(0);
    });
  });

  describe('JWT authorizer', () => {
    it('lets a public route through without a token and without an authorizer context', async () => {
      // Act
      const reply = await send(gateway.url, 'GET', '/health');

      // Assess
      expect(reply.status).toBe(200);
      expect(events[0]?.requestContext).not.toHaveProperty('authorizer');
    });

    it('answers a missing token with 401 and a bare Bearer challenge', async () => {
      // Act
      const reply = await send(gateway.url, 'POST', '/v1/notifications', { body: '{}', headers: { 'content-type': 'application/json' } });

      // Assess
      expect(reply.status).toBe(401);
      expect(reply.body).toBe('{"message":"Unauthorized"}');
      expect(reply.headers['www-authenticate']).toBe('Bearer');
      expect(events).toHaveLength(0);
    });

    it('names the audience problem in the words AWS documents', async () => {
      // Prepare
      const token = await tokenWith({ aud: 'someone-else' });

      // Act
      const reply = await send(gateway.url, 'GET', '/v1/recipients/r1', { headers: { authorization: `Bearer ${token}` } });

      // Assess
      expect(reply.status).toBe(401);
      expect(reply.headers['www-authenticate']).toBe(
        'Bearer scope="" error="invalid_token" error_description="the token does not have a valid audience"',
      );
    });

    it.each<[string, () => Promise<string>, string]>([
      ['an expired token', async () => tokenWith({ exp: Math.floor(Date.now() / 1000) - 10 }), 'the token has expired'],
      ['a token from another issuer', async () => tokenWith({ iss: 'https://evil.example' }), 'the token does not have a valid issuer'],
      ['a token for another audience', async () => tokenWith({ aud: 'other' }), 'the token does not have a valid audience'],
      ['a token not valid yet', async () => tokenWith({ nbf: Math.floor(Date.now() / 1000) + 300 }), 'the token is not valid yet'],
      ['a token issued in the future', async () => tokenWith({ iat: Math.floor(Date.now() / 1000) + 300 }), 'the token was issued in the future'],
      ['a token without exp', async () => tokenWith({ exp: undefined }), 'the token has an invalid exp claim'],
      ['a token without kid', async () => tokenWith({}, {}), 'the token has no kid header'],
      [
        'a tampered token',
        async () => {
          const [header, , signature] = (await tokenWith({ role: 'sender' })).split('.');
          const forged = Buffer.from(JSON.stringify({ iss: issuer, aud: audience, sub: 'alice', role: 'admin', exp: 9_999_999_999 })).toString('base64url');
          return `${header}.${forged}.${signature}`;
        },
        'the token has an invalid signature',
      ],
      ['a token that is not a JWT', async () => 'not-a-token', 'token contains an invalid number of segments'],
    ])('refuses %s with 401 and an invalid_token challenge', async (_case, makeToken, description) => {
      // Prepare
      const token = await makeToken();

      // Act
      const reply = await send(gateway.url, 'GET', '/v1/recipients/r1', { headers: { authorization: `Bearer ${token}` } });

      // Assess
      expect(reply.status).toBe(401);
      expect(reply.body).toBe('{"message":"Unauthorized"}');
      expect(reply.headers['www-authenticate']).toBe(`Bearer scope="" error="invalid_token" error_description="${description}"`);
      expect(events).toHaveLength(0);
    });

    it('refuses a token it accepted once it has expired', async () => {
      // Prepare: a token that is valid for another second and a half.
      const token = await tokenWith({ exp: Math.floor((Date.now() + 1_500) / 1000) + 1 });
      const before = await send(gateway.url, 'GET', '/v1/recipients/r1', { headers: { authorization: `Bearer ${token}` } });

      // Act
      await new Promise((resolve) => setTimeout(resolve, 2_600));
      const after = await send(gateway.url, 'GET', '/v1/recipients/r1', { headers: { authorization: `Bearer ${token}` } });

      // Assess
      expect(before.status).toBe(200);
      expect(after.status).toBe(401);
      expect(after.headers['www-authenticate']).toBe('Bearer scope="" error="invalid_token" error_description="the token has expired"');
    });

    it('accepts the token without the Bearer prefix, as the identity source allows', async () => {
      // Prepare
      const token = await tokenWith({});

      // Act
      const reply = await send(gateway.url, 'GET', '/v1/recipients/r1', { headers: { authorization: token } });

      // Assess
      expect(reply.status).toBe(200);
    });
  });

  describe('event', () => {
    it('is a payload format 2.0 event with claims presented as AWS presents them', async () => {
      // Prepare
      const token = await tokenWith({
        sub: 'alice',
        tenant: 'acme',
        groups: ['admins', 'ops'],
        level: 42,
        verified: true,
        address: { street: 'Main', city: 'Seattle' },
      });

      // Act
      await send(gateway.url, 'POST', '/v1/notifications?tag=a&tag=b&q=hello%20world', {
        headers: {
          authorization: `Bearer ${token}`,
          'Content-Type': 'application/json',
          'X-Multi': ['one', 'two'],
          cookie: 'session=abc; theme=dark',
          'user-agent': 'vitest-agent',
        },
        body: '{"hello":"world"}',
      });

      // Assess
      const event = events[0] as APIGatewayProxyEventV2WithJWTAuthorizer;
      expect(event).toMatchObject({
        version: '2.0',
        routeKey: 'POST /v1/notifications',
        rawPath: '/v1/notifications',
        rawQueryString: 'tag=a&tag=b&q=hello%20world',
        cookies: ['session=abc', 'theme=dark'],
        queryStringParameters: { tag: 'a,b', q: 'hello world' },
        body: '{"hello":"world"}',
        isBase64Encoded: false,
      });
      expect(event.headers).toMatchObject({ 'content-type': 'application/json', 'x-multi': 'one,two', 'user-agent': 'vitest-agent' });
      expect(event.headers).not.toHaveProperty('cookie');
      expect(event.pathParameters).toBeUndefined();
      expect(event.requestContext).toMatchObject({
        accountId: expect.any(String),
        apiId: expect.any(String),
        domainName: `127.0.0.1:${gateway.port}`,
        http: { method: 'POST', path: '/v1/notifications', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'vitest-agent' },
        requestId: expect.stringMatching(/^[A-Za-z0-9]{15}=$/),
        routeKey: 'POST /v1/notifications',
        stage: '$default',
        time: expect.stringMatching(/^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/),
        timeEpoch: expect.any(Number),
      });
      const claims = event.requestContext.authorizer.jwt.claims;
      expect(claims).toMatchObject({
        sub: 'alice',
        tenant: 'acme',
        iss: issuer,
        aud: audience,
        groups: '[admins ops]',
        level: '42',
        verified: 'true',
        address: 'map[city:Seattle street:Main]',
      });
      expect(claims.exp).toMatch(/^\d{10}$/);
      expect(event.requestContext.authorizer.jwt.scopes).toBeNull();
    });

    it('keeps query parameters and headers named like inherited members as their own keys, joined as others are', async () => {
      // Act
      await send(gateway.url, 'GET', '/health?constructor=1&constructor=2&__proto__=3&toString=4', { headers: { constructor: 'x', hasownproperty: 'y' } });

      // Assess
      const event = events[0] as APIGatewayProxyEventV2;
      expect(Object.entries(event.queryStringParameters ?? {})).toEqual([['constructor', '1,2'], ['__proto__', '3'], ['toString', '4']]);
      expect(Object.entries(event.headers)).toEqual(expect.arrayContaining([['constructor', 'x'], ['hasownproperty', 'y']]));
    });

    it('passes a binary body base64-encoded', async () => {
      // Prepare
      const bytes = Buffer.from([0, 1, 2, 250, 251, 252]);

      // Act
      await send(gateway.url, 'POST', '/echo', { headers: { 'content-type': 'application/octet-stream' }, body: bytes });

      // Assess
      expect(events[0]).toMatchObject({ body: bytes.toString('base64'), isBase64Encoded: true });
    });

    it.each(['application/json', 'application/json; charset=iso-8859-1', 'text/plain'])(
      'passes a body that is not UTF-8, sent as %s, base64-encoded byte for byte, for the function to refuse',
      async (contentType) => {
        // Prepare: "café" in ISO-8859-1, whose 0xe9 begins no UTF-8 sequence; and a surrogate encoded as bytes
        const latin1 = Buffer.from('{"recipients":["alice"],"title":"caf\xe9","message":"m"}', 'latin1');
        const surrogate = Buffer.concat([Buffer.from('{"title":"'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"}')]);

        // Act
        await send(gateway.url, 'POST', '/echo', { headers: { 'content-type': contentType }, body: latin1 });
        await send(gateway.url, 'POST', '/echo', { headers: { 'content-type': contentType }, body: surrogate });

        // Assess
        expect(events.map((event) => [event.body, event.isBase64Encoded])).toEqual([
          [latin1.toString('base64'), true],
          [surrogate.toString('base64'), true],
        ]);
        // A JSON body that is not UTF-8 is a 400; a type that is not JSON (or not UTF-8) is refused first, 415.
        const refusal =
          contentType === 'application/json'
            ? { code: 'VALIDATION_ERROR', details: [{ field: 'body', message: 'must be UTF-8 text' }] }
            : { code: 'UNSUPPORTED_MEDIA_TYPE', details: [{ field: 'content-type', message: expect.any(String) as string }] };
        for (const event of events) {
          expect(() => rawBody(event as HttpEvent)).toThrow(expect.objectContaining(refusal));
        }
      },
    );

    it('passes a UTF-8 body of a text type as the same text, multi-byte characters and escapes included', async () => {
      // Prepare: é (2 bytes), an emoji (4 bytes) and a lone surrogate written as a JSON escape (ASCII)
      const text = '{"title":"café 🎉","message":"\\ud800"}';

      // Act
      await send(gateway.url, 'POST', '/echo', { headers: { 'content-type': 'application/json' }, body: Buffer.from(text, 'utf8') });

      // Assess
      expect(events[0]).toMatchObject({ body: text, isBase64Encoded: false });
      expect(rawBody(events[0] as HttpEvent)).toBe(text);
    });

    it('leaves the body out when the request has none', async () => {
      // Act
      await send(gateway.url, 'GET', '/health');

      // Assess
      expect(events[0]).not.toHaveProperty('body');
      expect(events[0]?.isBase64Encoded).toBe(false);
    });

    it('refuses a payload above 10 MB with 413 without invoking the function', async () => {
      // Prepare
      const body = Buffer.alloc(10 * 1024 * 1024 + 1, 'a');

      // Act
      const reply = await send(gateway.url, 'POST', '/echo', { headers: { 'content-type': 'text/plain' }, body });

      // Assess
      expect(reply.status).toBe(413);
      expect(JSON.parse(reply.body)).toEqual({ message: 'Request Entity Too Large' });
      expect(events).toHaveLength(0);
    });
  });

  describe('response mapping', () => {
    it('uses the status, headers, cookies and body of a structured result', async () => {
      // Prepare
      respond = async () => ({
        statusCode: 201,
        headers: { 'Content-Type': 'application/json', 'X-Count': 3 },
        cookies: ['a=1; Path=/', 'b=2'],
        body: '{"id":"ntf_1"}',
      });

      // Act
      const reply = await send(gateway.url, 'GET', '/health');

      // Assess
      expect(reply.status).toBe(201);
      expect(reply.headers['content-type']).toBe('application/json');
      expect(reply.headers['x-count']).toBe('3');
      expect(reply.headers['set-cookie']).toEqual(['a=1; Path=/', 'b=2']);
      expect(reply.body).toBe('{"id":"ntf_1"}');
    });

    it('decodes a base64 body the function marked as such', async () => {
      // Prepare
      respond = async () => ({ statusCode: 200, body: Buffer.from('binary!').toString('base64'), isBase64Encoded: true });

      // Act
      const reply = await send(gateway.url, 'GET', '/health');

      // Assess
      expect(reply.body).toBe('binary!');
    });

    it('answers any other result as a 200 JSON body', async () => {
      // Prepare
      respond = async () => ({ status: 'ok', checks: [1, 2] });

      // Act
      const reply = await send(gateway.url, 'GET', '/health');

      // Assess
      expect(reply.status).toBe(200);
      expect(reply.headers['content-type']).toBe('application/json');
      expect(JSON.parse(reply.body)).toEqual({ status: 'ok', checks: [1, 2] });
    });

    it('hides a failing function behind 500 Internal Server Error', async () => {
      // Prepare
      respond = async () => {
        throw new Error('database password is hunter2');
      };

      // Act
      const reply = await send(gateway.url, 'GET', '/health');

      // Assess
      expect(reply.status).toBe(500);
      expect(reply.body).toBe('{"message":"Internal Server Error"}');
      expect(logged.join('\n')).toContain('hunter2');
    });
  });

  describe('the Host a request names (DNS rebinding)', () => {
    it('serves neither the local endpoints nor the API to a name that could be a stranger\'s page resolved to this machine', async () => {
      // Act
      const replies = await Promise.all(
        ['attacker.example', 'attacker.example:3000', 'localhost.attacker.example', '127.0.0.1.nip.io:3000'].map(async (host) => ({
          host,
          local: await send(gateway.url, 'GET', '/.well-known/jwks.json', { headers: { host } }),
          api: await send(gateway.url, 'GET', '/health', { headers: { host } }),
        })),
      );

      // Assess
      for (const { host, local, api } of replies) {
        expect(local.status, host).toBe(403);
        expect(api.status, host).toBe(403);
        expect(JSON.parse(local.body).message, host).toMatch(/not a name of this local stack/);
      }
      expect(events).toEqual([]);
    });

    it('serves an address as written, localhost and its subdomains', async () => {
      for (const host of ['127.0.0.1', `127.0.0.1:${gateway.port}`, `[::1]:${gateway.port}`, 'localhost', `LOCALHOST:${gateway.port}`, 'console.localhost', '192.168.1.20:3000']) {
        expect((await send(gateway.url, 'GET', '/.well-known/jwks.json', { headers: { host } })).status, host).toBe(200);
        expect((await send(gateway.url, 'GET', '/health', { headers: { host } })).status, host).toBe(200);
      }
    });
  });
});

describe('presentClaim', () => {
  it.each<[unknown, string]>([
    ['text', 'text'],
    [1612061676, '1612061676'],
    [false, 'false'],
    [['a', 'b'], '[a b]'],
    [[1, ['x']], '[1 [x]]'],
    [{ b: 1, a: 'z' }, 'map[a:z b:1]'],
  ])('presents %j as %s', (value, presented) => {
    expect(presentClaim(value)).toBe(presented);
  });
});

describe('HTTP API gateway lifecycle', () => {
  it('stops listening when stopped', async () => {
    // Prepare
    const gateway = await startHttpGateway({
      port: 0,
      routes: gatewayRoutes(httpRoutes),
      jwt: { issuer, audience, jwks: { keys: [] } },
      invoke: async () => ({ statusCode: 204 }),
    });
    const before = await send(gateway.url, 'GET', '/health');

    // Act
    await gateway.stop();

    // Assess
    expect(before.status).toBe(204);
    await expect(send(gateway.url, 'GET', '/health')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});
