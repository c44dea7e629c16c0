import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  LOCAL_JWT_AUDIENCE,
  LOCAL_JWT_ISSUER,
  loadOrCreateSigningKey,
  parseDuration,
  publicJwks,
  signToken,
  SigningKeyError,
  tokenHint,
} from '../../../local/jwt-keys.ts';

describe('local token issuer', () => {
  let directory: string;
  let keyFile: string;

  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'herald-jwt-keys-'));
    keyFile = join(directory, 'nested', 'jwt-signing-key.json');
  });

  afterEach(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('signs a token that verifies against its own JWKS with the Herald claims', async () => {
    // Prepare
    const before = Math.floor(Date.now() / 1000);

    // Act
    const token = await signToken(
      { sub: 'alice', role: 'admin', tenant: 'acme', issuer: LOCAL_JWT_ISSUER, audience: LOCAL_JWT_AUDIENCE },
      { keyFile },
    );
    const jwks = await publicJwks({ keyFile });

    // Assess
    const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(jwks), {
      issuer: LOCAL_JWT_ISSUER,
      audience: LOCAL_JWT_AUDIENCE,
      algorithms: ['RS256'],
    });
    expect(protectedHeader).toMatchObject({ alg: 'RS256', kid: jwks.keys[0]?.kid });
    expect(payload).toMatchObject({ sub: 'alice', role: 'admin', tenant: 'acme' });
    expect(payload.iat).toBeGreaterThanOrEqual(before);
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(3600);
  });

  it('defaults the tenant and leaves the role out when none is given', async () => {
    // Act
    const token = await signToken({ sub: 'bob', expiresIn: '15m', issuer: 'iss', audience: 'aud' }, { keyFile });

    // Assess
    const { payload } = await jwtVerify(token, createLocalJWKSet(await publicJwks({ keyFile })));
    expect(payload.tenant).toBe('default');
    expect(payload).not.toHaveProperty('role');
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(900);
  });

  it('publishes only the public half of the key', async () => {
    // Act
    const jwks = await publicJwks({ keyFile });

    // Assess
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig', e: 'AQAB' });
    for (const privateMember of ['d', 'p', 'q', 'dp', 'dq', 'qi']) expect(jwks.keys[0]).not.toHaveProperty(privateMember);
  });

  it('gives two racing first callers the same key', async () => {
    // Act
    const [first, second, third] = await Promise.all([
      loadOrCreateSigningKey({ keyFile }),
      loadOrCreateSigningKey({ keyFile }),
      loadOrCreateSigningKey({ keyFile }),
    ]);

    // Assess
    const stored = JSON.parse(await readFile(keyFile, 'utf8')) as { kid: string; n: string };
    expect(first.kid).toBe(stored.kid);
    expect(second.kid).toBe(stored.kid);
    expect(third.kid).toBe(stored.kid);
    expect(second.publicJwk.n).toBe(first.publicJwk.n);
  });

  it('keeps using the stored key on later loads', async () => {
    // Prepare
    const token = await signToken({ sub: 'carol', issuer: 'iss', audience: 'aud' }, { keyFile });

    // Act
    const reloaded = await loadOrCreateSigningKey({ keyFile });

    // Assess
    expect(decodeProtectedHeader(token).kid).toBe(reloaded.kid);
  });

  it('refuses a key file that does not hold a private RSA key', async () => {
    // Prepare
    const brokenFile = join(directory, 'broken.json');
    await writeFile(brokenFile, JSON.stringify({ kty: 'oct', k: 'c2VjcmV0' }));

    // Act
    const loading = loadOrCreateSigningKey({ keyFile: brokenFile });

    // Assess
    await expect(loading).rejects.toBeInstanceOf(SigningKeyError);
  });
});

describe('parseDuration', () => {
  it.each([
    ['90s', 90],
    ['15m', 900],
    ['1h', 3600],
    ['7d', 604_800],
    ['120', 120],
  ])('reads %s as %i seconds', (text, seconds) => {
    expect(parseDuration(text)).toBe(seconds);
  });

  it.each(['', '1y', '-5m', '1.5h', '0s', 'soon'])('rejects "%s"', (text) => {
    expect(() => parseDuration(text)).toThrow(/duration|longer than 0/);
  });
});

describe('tokenHint (the ready line of npm start)', () => {
  const url = 'http://127.0.0.1:3000';

  it.each([
    ['the default names', { tenantClaim: 'tenant', roleClaim: 'role' }, 'npm run token -- --sub ops --role admin'],
    ['Cognito names', { tenantClaim: 'custom:tenant', roleClaim: 'cognito:groups' }, 'npm run token -- --sub ops --role admin --shape cognito'],
    ['Auth0 names in the default namespace', { tenantClaim: 'https://herald.example.com/tenant', roleClaim: 'https://herald.example.com/roles' }, 'npm run token -- --sub ops --role admin --shape auth0'],
    [
      'Auth0 names in another namespace',
      { tenantClaim: 'https://acme.example/tenant', roleClaim: 'https://acme.example/roles' },
      'npm run token -- --sub ops --role admin --shape auth0 --namespace https://acme.example/',
    ],
  ])('names the token command whose claims a stack reading %s accepts', (_, names, command) => {
    expect(tokenHint(names, url)).toBe(`Get a token with: ${command}`);
  });

  it('points at the stack\'s own sign-in when no shape has its claim names', () => {
    // Act
    const hint = tokenHint({ tenantClaim: 'custom:tenant', roleClaim: 'roles' }, url);

    // Assess
    expect(hint).toContain(`curl -s -X POST ${url}/_local/token -d '{"sub":"ops","roles":["admin"]}'`);
    expect(hint).toContain('the tenant custom:tenant and the roles roles');
  });

  it('gives the claims the stack reads when its token command is run', async () => {
    // Prepare: the options of the hint for Cognito names, as the token CLI reads them
    const names = { tenantClaim: 'custom:tenant', roleClaim: 'cognito:groups' };
    const directory = await mkdtemp(join(tmpdir(), 'herald-token-hint-'));
    const token = await signToken({ sub: 'ops', role: ['admin'], shape: 'cognito', issuer: LOCAL_JWT_ISSUER, audience: LOCAL_JWT_AUDIENCE }, { keyFile: join(directory, 'key.json') });
    await rm(directory, { recursive: true, force: true });

    // Act
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;

    // Assess
    expect(tokenHint(names, url)).toContain('--shape cognito');
    expect(claims[names.tenantClaim]).toBe('default');
    expect(claims[names.roleClaim]).toEqual(['admin']);
  });
});
