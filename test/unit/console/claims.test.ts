/**
 * The console reads the signed-in token's tenant and roles as the API does: under the claim names
 * the deployment sets (config.json's `claims`), with the API's rules for role lists. Each token is
 * minted as `npm run token -- --shape …` mints it; the API's reading is `readCaller` over the
 * claims as the HTTP API's JWT authorizer presents them, the console's `callerOf` over the raw
 * payload, as the page decodes it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callerOf, heraldClaims as consoleDefaults, knownRoles } from '../../../console/claims.js';
import { claimNamesOf, signToken } from '../../../local/jwt-keys.ts';
import type { TokenRequest, TokenShape } from '../../../local/jwt-keys.ts';
import { heraldClaims, presentClaims, readCaller } from '../../../shared/auth/claims.ts';
import type { ClaimsConfig } from '../../../shared/config.ts';
import { roles } from '../../../shared/domain/caller.ts';

let scratch: string;
let keyFile: string;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'herald-console-claims-'));
  keyFile = join(scratch, 'key.json');
});

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

async function payloadOf(request: Omit<TokenRequest, 'issuer' | 'audience'>): Promise<Record<string, unknown>> {
  return decodeJwt(await signToken({ ...request, issuer: 'https://herald.local', audience: 'herald' }, { keyFile }));
}

/** The tenant and roles the API grants, or `undefined` for the tenant when it refuses the token. */
function apiReading(payload: Record<string, unknown>, names: ClaimsConfig): { tenant: string | undefined; roles: readonly string[] } {
  const reading = readCaller(presentClaims(payload), names);
  return 'caller' in reading ? { tenant: reading.caller.tenantId, roles: reading.caller.roles } : { tenant: undefined, roles: [] };
}

function consoleReading(payload: Record<string, unknown>, names: ClaimsConfig): { tenant: string | undefined; roles: readonly string[] } {
  const caller = callerOf(payload, names);
  return { tenant: caller.tenant, roles: caller.tenant === undefined ? [] : caller.roles };
}

const cognito: ClaimsConfig = { ...claimNamesOf('cognito'), singleTenant: false };

describe("the console's reading of the signed-in token", () => {
  it("shows a Cognito token's tenant and operator role under the deployment's claim names", async () => {
    // Prepare: `npm run token -- --sub cop --role operator --tenant acme --shape cognito`
    const payload = await payloadOf({ sub: 'cop', role: 'operator', tenant: 'acme', shape: 'cognito' });

    // Act
    const caller = callerOf(payload, cognito);

    // Assess
    expect(caller).toEqual({ sub: 'cop', tenant: 'acme', roles: ['operator'] });
  });

  const shapes: readonly TokenShape[] = ['herald', 'cognito', 'auth0'];
  const requests: readonly Omit<TokenRequest, 'issuer' | 'audience' | 'shape'>[] = [
    { sub: 'one', tenant: 'acme', role: 'admin' },
    { sub: 'several', tenant: 'acme', role: ['sender', 'operator'] },
    { sub: 'none', tenant: 'globex' },
    { sub: 'tenantless', tenant: null, role: 'operator' },
  ];
  for (const shape of shapes) {
    for (const singleTenant of [false, true]) {
      it(`reads ${shape} tokens as the API does (${singleTenant ? 'single' : 'multi'}-tenant)`, async () => {
        const names: ClaimsConfig = { ...claimNamesOf(shape), singleTenant };
        for (const request of requests) {
          const payload = await payloadOf({ ...request, shape });
          expect(consoleReading(payload, names), `${shape} ${request.sub}`).toEqual(apiReading(payload, names));
        }
      });
    }
  }

  it('grants the roles the API grants from a word, a list, a printed list, or groups that are no role', () => {
    const claims = [
      'operator',
      'admin,operator',
      'admin sender',
      '[admin operator]',
      ['Admins', 'operator'],
      ['admin', 'sender', 'operator', 'root'],
      'superoperator',
      '',
      [],
      42,
    ];
    for (const role of claims) {
      const payload = { sub: 'someone', tenant: 'acme', role };
      expect(consoleReading(payload, heraldClaims), JSON.stringify(role)).toEqual(apiReading(payload, heraldClaims));
    }
  });

  it('refuses, as the API does, the tokens whose subject or tenant is no id, and takes those the API takes', () => {
    const payloads: Record<string, unknown>[] = [
      { sub: 'cop', tenant: null, role: 'admin' },
      { sub: 'cop', tenant: 'Acme Corp', role: 'admin' },
      { sub: 'cop', tenant: ['acme', 'globex'], role: 'admin' },
      { sub: 'cop', tenant: { id: 'acme' }, role: 'admin' },
      { sub: 'cop', tenant: 123, role: 'admin' },
      { sub: 'cop', tenant: true, role: 'admin' },
      { sub: '', tenant: 'acme', role: 'admin' },
      { sub: '   ', tenant: 'acme', role: 'admin' },
      { sub: 'line\nbreak', tenant: 'acme', role: 'admin' },
      { sub: 42, tenant: 'acme', role: 'admin' },
      { tenant: 'acme', role: 'admin' },
      { sub: 'cop', tenant: '', role: 'admin' },
    ];
    for (const singleTenant of [false, true]) {
      const names = { ...heraldClaims, singleTenant };
      for (const payload of payloads) {
        expect(consoleReading(payload, names), `${JSON.stringify(payload)} ${singleTenant ? 'single' : 'multi'}`).toEqual(apiReading(payload, names));
      }
    }
  });

  it("ignores Herald's own claim names when the deployment names others", () => {
    const payload = { sub: 'someone', tenant: 'other', role: 'operator', 'custom:tenant': 'acme', 'cognito:groups': ['sender'] };
    expect(callerOf(payload, cognito)).toEqual({ sub: 'someone', tenant: 'acme', roles: ['sender'] });
  });

  it("defaults to the API's defaults and knows the API's roles", () => {
    expect(consoleDefaults).toEqual(heraldClaims);
    expect(knownRoles).toEqual(roles);
  });
});
