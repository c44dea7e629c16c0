/**
 * End to end on a local stack configured for Cognito's claims (`herald:tenantClaim`
 * `custom:tenant`, `herald:roleClaim` `cognito:groups`, multi-tenant): Cognito-shaped tokens are
 * read through both doors (the HTTP API's JWT authorizer, the WebSocket `$connect` authorizer),
 * tenants stay apart, and a token that names no tenant is refused on both, never put in `default`;
 * the console's config.json names the same claims.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimNamesOf } from '../../local/jwt-keys.ts';
import { connectSocket, HandshakeRefusedError, startHarness } from './support/harness.ts';
import type { Harness, SocketClient } from './support/harness.ts';

let h: Harness;
const sockets: SocketClient[] = [];

beforeAll(async () => {
  const names = claimNamesOf('cognito');
  h = await startHarness({ environment: { HERALD_TENANT_CLAIM: names.tenantClaim, HERALD_ROLE_CLAIM: names.roleClaim, HERALD_SINGLE_TENANT: 'false' } });
});

afterAll(async () => {
  await Promise.all(sockets.map((socket) => socket.close()));
  await h?.close();
});

describe('a deployment that reads Cognito claims', () => {
  it('takes the tenant from custom:tenant and the roles from cognito:groups, over HTTP and the WebSocket', async () => {
    // Prepare
    const admin = await h.token('ops', { role: 'admin', tenant: 'acme', shape: 'cognito' });
    const otherAdmin = await h.token('ops', { role: 'admin', tenant: 'globex', shape: 'cognito' });
    const bob = await h.token('bob', { tenant: 'acme', shape: 'cognito' });
    const upsert = await h.api('PUT', '/v1/recipients/bob', { token: admin, body: { email: 'bob@example.com' } });
    expect(upsert.status).toBe(201);
    const socket = await connectSocket(h.stack.wsUrl, bob);
    sockets.push(socket);

    // Act
    const created = await h.api('POST', '/v1/notifications', { token: admin, body: { recipients: ['bob'], title: 'Hi', message: 'From acme', channels: ['websocket'] } });

    // Assess
    expect(created.status).toBe(201);
    await socket.waitFor((frame) => frame.type === 'notification');
    expect((await h.api('GET', '/v1/recipients/bob', { token: admin })).status).toBe(200);
    expect((await h.api('GET', '/v1/recipients/bob', { token: otherAdmin })).status).toBe(404);
    // A plain user of acme (no groups) is no admin there.
    expect((await h.api('PUT', '/v1/recipients/dave', { token: bob, body: { email: 'dave@example.com' } })).status).toBe(403);
  });

  it('refuses a token without custom:tenant with 401 naming the claim, and its WebSocket handshake', async () => {
    // Prepare
    const noTenant = await h.token('mallory', { role: 'admin', tenant: null, shape: 'cognito' });

    // Act
    const http = await h.api('GET', '/v1/me', { token: noTenant });
    const socket = await connectSocket(h.stack.wsUrl, noTenant).then(
      (opened) => (sockets.push(opened), 'opened'),
      (error: unknown) => error,
    );

    // Assess
    expect(http.status).toBe(401);
    expect(http.body.error?.message).toMatch(/no tenant.*custom:tenant/);
    expect(socket).toBeInstanceOf(HandshakeRefusedError);
    expect((socket as HandshakeRefusedError).status).toBe(401);
  });

  it('refuses a token that carries its tenant under Herald’s own claim name', async () => {
    // Prepare
    const heraldShaped = await h.token('ops', { role: 'admin', tenant: 'acme' });

    // Act
    const http = await h.api('GET', '/v1/me', { token: heraldShaped });

    // Assess
    expect(http.status).toBe(401);
  });

  it("tells the console the claim names the API reads, so the page shows a Cognito operator's tenant and role", async () => {
    // Act
    const answer = await fetch(`${h.stack.httpUrl}/config.json`);

    // Assess
    expect(answer.status).toBe(200);
    expect(((await answer.json()) as { claims: unknown }).claims).toEqual({ ...claimNamesOf('cognito'), singleTenant: false });
  });
});
