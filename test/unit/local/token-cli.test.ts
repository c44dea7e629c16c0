import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LOCAL_JWT_AUDIENCE, LOCAL_JWT_ISSUER, publicJwks } from '../../../local/jwt-keys.ts';
import { runInRepo } from '../support/processes.ts';
import type { Run } from '../support/processes.ts';

/** Runs the CLI as `npm run token` would, with its key in `keyFile`. */
function runTokenCli(args: readonly string[], keyFile: string): Promise<Run> {
  return runInRepo(['node', 'local/token-cli.ts', ...args], { HERALD_JWT_KEY_FILE: keyFile });
}

describe('npm run token', () => {
  let directory: string;
  let keyFile: string;

  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'herald-token-cli-'));
    keyFile = join(directory, 'jwt-signing-key.json');
  });

  afterEach(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('says with --help what each option does and its default', async () => {
    // Act
    const run = await runTokenCli(['--help'], keyFile);

    // Assess
    expect(run.code).toBe(0);
    const options = ['--sub', '--role', '--tenant', '--no-tenant', '--shape', '--namespace', '--expires-in', '--issuer', '--audience', '--key-file', '--help'];
    for (const option of options) expect(run.stdout).toMatch(new RegExp(`^  ${option} `, 'm'));
    for (const fallback of ['(default: default)', '(default: 1h)', '(default: herald)', `(default: ${LOCAL_JWT_ISSUER})`, '(default: .herald/jwt-signing-key.json']) {
      expect(run.stdout).toContain(fallback);
    }
    expect(run.stderr).toBe('');
  });

  it('prints only a JWT that the local JWKS verifies', async () => {
    // Act
    const run = await runTokenCli(['--sub', 'alice', '--role', 'sender', '--tenant', 'acme', '--expires-in', '2h'], keyFile);

    // Assess
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    const { payload } = await jwtVerify(run.stdout.trim(), createLocalJWKSet(await publicJwks({ keyFile })), {
      issuer: LOCAL_JWT_ISSUER,
      audience: LOCAL_JWT_AUDIENCE,
    });
    expect(payload).toMatchObject({ sub: 'alice', role: 'sender', tenant: 'acme' });
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(7200);
  });

  it.each([
    ['cognito', [], { 'custom:tenant': 'acme', 'cognito:groups': ['admin'], token_use: 'id', 'cognito:username': 'alice' }],
    ['auth0', [], { 'https://herald.example.com/tenant': 'acme', 'https://herald.example.com/roles': ['admin'], azp: expect.any(String) }],
    ['auth0', ['--namespace', 'https://acme.example/'], { 'https://acme.example/tenant': 'acme', 'https://acme.example/roles': ['admin'] }],
  ])('mints a %s-shaped token %j', async (shape, extra, expected) => {
    // Act
    const run = await runTokenCli(['--sub', 'alice', '--role', 'admin', '--tenant', 'acme', '--shape', shape, ...extra], keyFile);

    // Assess
    expect(run.code).toBe(0);
    const { payload } = await jwtVerify(run.stdout.trim(), createLocalJWKSet(await publicJwks({ keyFile })));
    expect(payload).toMatchObject({ sub: 'alice', ...expected });
    expect(payload).not.toHaveProperty('tenant');
    expect(payload).not.toHaveProperty('role');
  });

  it.each([
    [['--role', 'admin', '--role', 'operator']],
    [['--role', 'admin,operator']],
  ])('mints a token with several roles from %j, which the API reads as both', async (roles) => {
    // Act
    const run = await runTokenCli(['--sub', 'ops', '--tenant', 'acme', ...roles], keyFile);

    // Assess
    expect(run.code).toBe(0);
    const { payload } = await jwtVerify(run.stdout.trim(), createLocalJWKSet(await publicJwks({ keyFile })));
    expect(payload).toMatchObject({ sub: 'ops', tenant: 'acme', role: ['admin', 'operator'] });
  });

  it('leaves the tenant claim out with --no-tenant', async () => {
    // Act
    const run = await runTokenCli(['--sub', 'alice', '--shape', 'cognito', '--no-tenant'], keyFile);

    // Assess
    expect(run.code).toBe(0);
    const { payload } = await jwtVerify(run.stdout.trim(), createLocalJWKSet(await publicJwks({ keyFile })));
    expect(payload).not.toHaveProperty('custom:tenant');
    expect(payload).not.toHaveProperty('cognito:groups');
  });

  it('exits with 2 and prints nothing on stdout for an unknown role', async () => {
    // Act
    const run = await runTokenCli(['--sub', 'alice', '--role', 'superuser'], keyFile);

    // Assess
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/Unknown role "superuser"/);
  });

  it.each([
    ['no subject', ['--role', 'admin']],
    ['an unknown option', ['--sub', 'alice', '--scope', 'all']],
    ['an unreadable lifetime', ['--sub', 'alice', '--expires-in', 'forever']],
    ['an unknown shape', ['--sub', 'alice', '--shape', 'okta']],
    ['a tenant and no tenant', ['--sub', 'alice', '--tenant', 'acme', '--no-tenant']],
    ['a namespace without the auth0 shape', ['--sub', 'alice', '--namespace', 'https://acme.example/']],
    ['a namespace that is no URL', ['--sub', 'alice', '--shape', 'auth0', '--namespace', 'acme']],
  ])('exits with 2 on %s', async (_case, args) => {
    // Act
    const run = await runTokenCli(args, keyFile);

    // Assess
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/Usage:/);
  });

  it('signs with one key when two runs create the key file at the same time', async () => {
    // Act
    const [first, second] = await Promise.all([
      runTokenCli(['--sub', 'alice'], keyFile),
      runTokenCli(['--sub', 'bob'], keyFile),
    ]);

    // Assess
    expect([first.code, second.code]).toEqual([0, 0]);
    const jwks = createLocalJWKSet(await publicJwks({ keyFile }));
    await expect(jwtVerify(first.stdout.trim(), jwks)).resolves.toBeDefined();
    await expect(jwtVerify(second.stdout.trim(), jwks)).resolves.toBeDefined();
    expect(decodeProtectedHeader(first.stdout.trim()).kid).toBe(decodeProtectedHeader(second.stdout.trim()).kid);
  });
});
