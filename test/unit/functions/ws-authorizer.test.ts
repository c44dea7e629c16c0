import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import type { CryptoKey, JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { handler as AuthorizerHandlerValue } from '../../../functions/ws-authorizer/handler.ts';
import { aLambdaContext } from '../fakes/lambda.ts';

type AuthorizerHandler = typeof AuthorizerHandlerValue;

const issuer = 'https://issuer.herald-tests.dev/';
const audience = 'herald-tests';
const keyId = 'test-key-1';
const context = aLambdaContext('herald-test-ws-authorizer');

let privateKey: CryptoKey;
let strangerKey: CryptoKey;
let jwksRequests = 0;
const server = createServer((_request, response) => {
  jwksRequests++;
  response.writeHead(200, { 'content-type': 'application/json' });
  response.end(JSON.stringify({ keys: [publicJwk] }));
});
let publicJwk: Record<string, unknown>;
let handler: AuthorizerHandler;

beforeAll(async () => {
  const pair = await generateKeyPair('RS256');
  privateKey = pair.privateKey;
  strangerKey = (await generateKeyPair('RS256')).privateKey;
  publicJwk = { ...(await exportJWK(pair.publicKey)), kid: keyId, alg: 'RS256', use: 'sig' };
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  // Config is read once per process: set the environment before the handler loads.
  Object.assign(process.env, {
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    HERALD_JWT_ISSUER: issuer,
    HERALD_JWT_AUDIENCE: audience,
    HERALD_JWKS_URL: `http://127.0.0.1:${port}/.well-known/jwks.json`,
  });
  ({ handler } = await import('../../../functions/ws-authorizer/handler.ts'));
});

afterAll(async () => {
  await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
});

async function aToken(
  claims: JWTPayload = {},
  options: { key?: CryptoKey; subject?: string; issuer?: string; audience?: string; expiresIn?: string | number } = {},
): Promise<string> {
  return new SignJWT({ tenant: 'acme', role: ['admin', 'sender'], ...claims })
    .setProtectedHeader({ alg: 'RS256', kid: keyId })
    .setSubject(options.subject ?? 'bob')
    .setIssuer(options.issuer ?? issuer)
    .setAudience(options.audience ?? audience)
    .setIssuedAt()
    .setExpirationTime(options.expiresIn ?? '5m')
    .sign(options.key ?? privateKey);
}

const methodArn = 'arn:aws:execute-api:eu-west-1:111122223333:ws123/prod/$connect';

function aConnectEvent(token: string | undefined): APIGatewayRequestAuthorizerEvent {
  return {
    type: 'REQUEST',
    methodArn,
    resource: '$connect',
    path: '/',
    httpMethod: 'GET',
    headers: {},
    multiValueHeaders: {},
    pathParameters: null,
    queryStringParameters: token === undefined ? null : { token },
    multiValueQueryStringParameters: token === undefined ? null : { token: [token] },
    stageVariables: null,
    requestContext: { routeKey: '$connect', eventType: 'CONNECT', connectionId: 'conn-1', stage: 'prod' },
  } as unknown as APIGatewayRequestAuthorizerEvent;
}

/** Swaps the payload of a signed token for another, keeping the signature. */
function tampered(token: string): string {
  const [header, payload, signature] = token.split('.');
  const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
  const forged = Buffer.from(JSON.stringify({ ...claims, sub: 'mallory' })).toString('base64url');
  return `${header}.${forged}.${signature}`;
}

describe('the WebSocket authorizer', () => {
  it('allows a valid token and hands the caller to the connection', async () => {
    // Prepare
    const token = await aToken();

    // Act
    const result = await handler(aConnectEvent(token), context);

    // Assess
    expect(result).toEqual({
      principalId: 'bob',
      policyDocument: {
        Version: '2012-10-17',
        Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: methodArn }],
      },
      context: { sub: 'bob', tenantId: 'acme', roles: 'admin sender' },
    });
    expect(jwksRequests).toBeGreaterThan(0);
  });

  it('refuses a connection without a token', async () => {
    // Prepare
    const event = aConnectEvent(undefined);

    // Act
    const result = handler(event, context);

    // Assess
    await expect(result).rejects.toThrow('Unauthorized');
  });

  it.each<[string, () => Promise<string>]>([
    ['an expired token', () => aToken({}, { expiresIn: Math.floor(Date.now() / 1000) - 60 })],
    ['a tampered token', async () => tampered(await aToken())],
    ['a token from another issuer', () => aToken({}, { issuer: 'https://evil.example.com/' })],
    ['a token for another audience', () => aToken({}, { audience: 'someone-else' })],
    ['a token signed with another key', () => aToken({}, { key: strangerKey })],
    ['a token whose subject carries a line break', () => aToken({}, { subject: 'bob\nadmin' })],
    ['something that is not a token', async () => 'not.a.jwt'],
  ])('refuses %s as Unauthorized', async (_, makeToken) => {
    // Prepare
    const token = await makeToken();

    // Act
    const result = handler(aConnectEvent(token), context);

    // Assess
    await expect(result).rejects.toThrow('Unauthorized');
  });
});
