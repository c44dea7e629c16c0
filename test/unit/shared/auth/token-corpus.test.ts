/**
 * One corpus of tokens, run against both doors: the HTTP API (the JWT authorizer, as the local
 * gateway plays it, then `callerFrom` in the function) and the WebSocket `$connect` authorizer.
 * Each token must be accepted by both or refused by both, as the corpus says.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import type { CryptoKey, JWK, JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { handler as AuthorizerHandlerValue } from '../../../../functions/ws-authorizer/handler.ts';
import { startHttpGateway } from '../../../../local/http-gateway.ts';
import type { RunningHttpGateway } from '../../../../local/http-gateway.ts';
import { callerFrom } from '../../../../shared/http/request.ts';
import type { HttpEvent } from '../../../../shared/http/request.ts';
import { aLambdaContext } from '../../fakes/lambda.ts';

const issuer = 'https://issuer.herald-tests.dev/';
const audience = 'herald-tests';
const keyId = 'corpus-key';
const now = (): number => Math.floor(Date.now() / 1000);

interface TokenSpec {
  readonly claims?: JWTPayload;
  /** Claims to leave out of the defaults (`sub`, `exp`, ...). */
  readonly without?: readonly string[];
  readonly header?: Record<string, unknown>;
  readonly key?: 'stranger' | 'hmac';
}

/** The corpus: what each token is, whether both doors let it in. */
const corpus: readonly (readonly [string, TokenSpec | string, boolean])[] = [
  ['a valid token', {}, true],
  ['an expired token', { claims: { exp: now() - 60 } }, false],
  ['a token not yet valid (nbf ahead)', { claims: { nbf: now() + 600 } }, false],
  ['a token without exp', { without: ['exp'] }, false],
  ['a token without sub', { without: ['sub'] }, false],
  ['a token of another issuer', { claims: { iss: 'https://elsewhere.example/' } }, false],
  ['a token for another audience', { claims: { aud: 'someone-else' } }, false],
  ['a token signed with HS256', { key: 'hmac' }, false],
  ['a token naming an unknown key', { header: { kid: 'no-such-key' } }, false],
  ['a token without kid', { header: { kid: undefined } }, false],
  ['a token signed by a stranger under our kid', { key: 'stranger' }, false],
  ['a token issued in the future (iat ahead)', { claims: { iat: now() + 600 } }, false],
  ['an Auth0 subject', { claims: { sub: 'auth0|64f1c2d3e4' } }, true],
  ['a Google numeric subject', { claims: { sub: '104578923456789012345' } }, true],
  ['a Cognito UUID subject', { claims: { sub: '8a5f3c2e-9d41-4b7a-a6c3-1f2e3d4c5b6a' } }, true],
  ['an e-mail subject', { claims: { sub: 'alice+herald@example.com' } }, true],
  ['a subject with # and %', { claims: { sub: 'a#b%c' } }, true],
  ['a subject of 255 characters', { claims: { sub: 's'.repeat(255) } }, true],
  ['a subject of 256 characters', { claims: { sub: 's'.repeat(256) } }, false],
  ['a subject with a line break', { claims: { sub: 'bob\nadmin' } }, false],
  ['a blank subject', { claims: { sub: '   ' } }, false],
  ['an empty subject', { claims: { sub: '' } }, false],
  ['a subject with half an emoji', { claims: { sub: 'bob\ud83d' } }, false],
  ['a numeric subject (presented as its digits)', { claims: { sub: 12345 as unknown as string } }, true],
  ['a tenant that is not a Herald id', { claims: { tenant: 'acme#2' } }, false],
  ['a token without a tenant (multi-tenant)', { without: ['tenant'] }, false],
  ['a token with an empty tenant', { claims: { tenant: '' } }, false],
  ['roles as a list', { claims: { role: ['admin', 'sender'] } }, true],
  ['text that is no token', 'not-a-token', false],
  ['a token cut short', 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJib2IifQ', false],
];

let privateKey: CryptoKey;
let strangerKey: CryptoKey;
let publicJwk: JWK;
let gateway: RunningHttpGateway;
let authorizer: typeof AuthorizerHandlerValue;
const jwksServer = createServer((_request, response) => {
  response.writeHead(200, { 'content-type': 'application/json' });
  response.end(JSON.stringify({ keys: [publicJwk] }));
});

beforeAll(async () => {
  const pair = await generateKeyPair('RS256');
  privateKey = pair.privateKey;
  strangerKey = (await generateKeyPair('RS256')).privateKey;
  publicJwk = { ...(await exportJWK(pair.publicKey)), kid: keyId, alg: 'RS256', use: 'sig' };
  await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
  const jwksUrl = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/.well-known/jwks.json`;
  gateway = await startHttpGateway({
    port: 0,
    routes: [{ method: 'GET', path: '/v1/me', auth: 'jwt' }],
    jwt: { issuer, audience, jwks: new URL(jwksUrl) },
    // The function's side of the HTTP door: who is calling, from the claims the authorizer presents.
    invoke: async (event) => {
      try {
        return { statusCode: 200, body: JSON.stringify(callerFrom(event as HttpEvent)) };
      } catch {
        return { statusCode: 401, body: '{}' };
      }
    },
    log: () => undefined,
  });
  Object.assign(process.env, { POWERTOOLS_LOG_LEVEL: 'SILENT', HERALD_JWT_ISSUER: issuer, HERALD_JWT_AUDIENCE: audience, HERALD_JWKS_URL: jwksUrl });
  ({ handler: authorizer } = await import('../../../../functions/ws-authorizer/handler.ts'));
});

afterAll(async () => {
  await gateway.stop();
  await new Promise<void>((resolve) => jwksServer.close(() => resolve()));
});

async function tokenOf(spec: TokenSpec | string): Promise<string> {
  if (typeof spec === 'string') return spec;
  const defaults: JWTPayload = { sub: 'bob', tenant: 'acme', iss: issuer, aud: audience, iat: now() - 5, exp: now() + 300, ...spec.claims };
  const payload = Object.fromEntries(Object.entries(defaults).filter(([name]) => !(spec.without ?? []).includes(name)));
  const header = { alg: spec.key === 'hmac' ? 'HS256' : 'RS256', kid: keyId, typ: 'JWT', ...spec.header };
  if (header.kid === undefined) delete (header as { kid?: string }).kid;
  const key = spec.key === 'hmac' ? new TextEncoder().encode('a shared secret of at least 32 bytes!!') : spec.key === 'stranger' ? strangerKey : privateKey;
  return new SignJWT(payload).setProtectedHeader(header as { alg: string }).sign(key);
}

async function httpAccepts(token: string): Promise<boolean> {
  const response = await fetch(`${gateway.url}/v1/me`, { headers: { authorization: `Bearer ${token}` } });
  await response.text();
  return response.status === 200;
}

async function socketAccepts(token: string): Promise<boolean> {
  const event = {
    type: 'REQUEST',
    methodArn: 'arn:aws:execute-api:eu-west-1:111122223333:ws123/prod/$connect',
    headers: {},
    queryStringParameters: { token },
    requestContext: { routeKey: '$connect', eventType: 'CONNECT', connectionId: 'conn-1', stage: 'prod' },
  } as unknown as APIGatewayRequestAuthorizerEvent;
  try {
    await authorizer(event, aLambdaContext('herald-test-ws-authorizer'));
    return true;
  } catch {
    return false;
  }
}

describe('the HTTP and WebSocket doors', () => {
  it.each(corpus)('judge %s alike', async (_name, spec, accepted) => {
    // Prepare
    const token = await tokenOf(spec);

    // Act
    const [http, socket] = await Promise.all([httpAccepts(token), socketAccepts(token)]);

    // Assess
    expect({ http, socket }).toEqual({ http: accepted, socket: accepted });
  });
});
