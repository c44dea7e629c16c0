/**
 * Both doors (the HTTP API, as the local gateway plays its JWT authorizer, then `callerFrom`; the
 * WebSocket `$connect` authorizer) configured for Auth0's namespaced claims read the same caller
 * from an Auth0-shaped token, and refuse alike a token whose tenant is not under the namespace.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { handler as AuthorizerHandlerValue } from '../../../../functions/ws-authorizer/handler.ts';
import { startHttpGateway } from '../../../../local/http-gateway.ts';
import type { RunningHttpGateway } from '../../../../local/http-gateway.ts';
import { claimNamesOf, publicJwks, signToken } from '../../../../local/jwt-keys.ts';
import type { TokenRequest } from '../../../../local/jwt-keys.ts';
import type { callerFrom as CallerFromValue } from '../../../../shared/http/request.ts';
import type { HttpEvent } from '../../../../shared/http/request.ts';
import { aLambdaContext } from '../../fakes/lambda.ts';

const issuer = 'https://tenant.eu.auth0.example/';
const audience = 'https://herald.example.com/api';
const namespace = 'https://acme.example/';

let scratch: string;
let keyFile: string;
let gateway: RunningHttpGateway;
let authorizer: typeof AuthorizerHandlerValue;
let callerFrom: typeof CallerFromValue;
const jwksServer = createServer((_request, response) => {
  void publicJwks({ keyFile }).then((jwks) => {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify(jwks));
  });
});

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'herald-shapes-'));
  keyFile = join(scratch, 'key.json');
  await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
  const jwksUrl = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/.well-known/jwks.json`;
  const names = claimNamesOf('auth0', namespace);
  // Config is read once per process: the deployment's claim names are set before the doors load.
  Object.assign(process.env, {
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    HERALD_JWT_ISSUER: issuer,
    HERALD_JWT_AUDIENCE: audience,
    HERALD_JWKS_URL: jwksUrl,
    HERALD_TENANT_CLAIM: names.tenantClaim,
    HERALD_ROLE_CLAIM: names.roleClaim,
    HERALD_SINGLE_TENANT: 'false',
  });
  ({ handler: authorizer } = await import('../../../../functions/ws-authorizer/handler.ts'));
  ({ callerFrom } = await import('../../../../shared/http/request.ts'));
  gateway = await startHttpGateway({
    port: 0,
    routes: [{ method: 'GET', path: '/v1/me', auth: 'jwt' }],
    jwt: { issuer, audience, jwks: new URL(jwksUrl) },
    invoke: async (event) => {
      try {
        return { statusCode: 200, body: JSON.stringify(callerFrom(event as HttpEvent)) };
      } catch (error) {
        return { statusCode: 401, body: JSON.stringify({ message: (error as Error).message }) };
      }
    },
    log: () => undefined,
  });
});

afterAll(async () => {
  await gateway.stop();
  await new Promise<void>((resolve) => jwksServer.close(() => resolve()));
  await rm(scratch, { recursive: true, force: true });
});

async function httpDoor(token: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${gateway.url}/v1/me`, { headers: { authorization: `Bearer ${token}` } });
  return { status: response.status, body: (await response.json()) as unknown };
}

async function socketDoor(token: string): Promise<APIGatewayAuthorizerResult['context'] | 'refused'> {
  const event = {
    type: 'REQUEST',
    methodArn: 'arn:aws:execute-api:eu-west-1:111122223333:ws123/prod/$connect',
    headers: {},
    queryStringParameters: { token },
    requestContext: { routeKey: '$connect', eventType: 'CONNECT', connectionId: 'conn-1', stage: 'prod' },
  } as unknown as APIGatewayRequestAuthorizerEvent;
  try {
    return (await authorizer(event, aLambdaContext('herald-test-ws-authorizer'))).context;
  } catch {
    return 'refused';
  }
}

function aToken(request: Partial<TokenRequest>): Promise<string> {
  return signToken({ sub: 'auth0|64f1c2d3e4', issuer, audience, shape: 'auth0', namespace, ...request }, { keyFile });
}

describe('a deployment that reads Auth0 namespaced claims', () => {
  it('reads the same tenant and roles through the HTTP and the WebSocket doors', async () => {
    // Prepare
    const token = await aToken({ tenant: 'acme', role: 'sender' });

    // Act
    const [http, socket] = await Promise.all([httpDoor(token), socketDoor(token)]);

    // Assess
    expect(http).toEqual({ status: 200, body: { sub: 'auth0|64f1c2d3e4', tenantId: 'acme', roles: ['sender'] } });
    expect(socket).toEqual({ sub: 'auth0|64f1c2d3e4', tenantId: 'acme', roles: 'sender' });
  });

  it.each<[string, Partial<TokenRequest>]>([
    ['no tenant at all', { tenant: null }],
    ['its tenant under another namespace', { namespace: 'https://other.example/', tenant: 'acme' }],
    ['its tenant under Herald’s own claim name', { shape: 'herald', tenant: 'acme' }],
  ])('refuses on both doors a token with %s, saying which claim is missing', async (_case, request) => {
    // Prepare
    const token = await aToken(request);

    // Act
    const [http, socket] = await Promise.all([httpDoor(token), socketDoor(token)]);

    // Assess
    expect(http).toEqual({ status: 401, body: { message: `The token names no tenant: it carries no ${namespace}tenant claim, the claim this deployment reads the tenant from (herald:tenantClaim)` } });
    expect(socket).toBe('refused');
  });
});
