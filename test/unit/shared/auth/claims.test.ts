import { describe, expect, it } from 'vitest';
import { callerFromClaims, defaultTenant, heraldClaims, presentClaim, readCaller } from '../../../../shared/auth/claims.ts';

describe('callerFromClaims', () => {
  it.each<[unknown, string[]]>([
    ['admin', ['admin']],
    ['[admin sender]', ['admin', 'sender']],
    [['sender'], ['sender']],
    ['admin,sender', ['admin', 'sender']],
    ['superuser', []],
    [undefined, []],
    // An object or a nested array, as the JWT authorizer flattens them, grants nothing.
    [presentClaim({ a: ['admin'] }), []],
    [presentClaim({ x: 'admin' }), []],
    [presentClaim(['sender', ['admin']]), ['sender']],
    [presentClaim([{ a: 'admin' }, 'sender']), ['sender']],
    [['sender', ['admin']], ['sender']],
  ])('grants the roles of the role claim %j', (role, expected) => {
    // Prepare
    const claims = { sub: 'bob', tenant: 'acme', role };

    // Act
    const caller = callerFromClaims(claims);

    // Assess
    expect(caller).toEqual({ sub: 'bob', tenantId: 'acme', roles: expected });
  });

  it('refuses a token without a tenant in a multi-tenant deployment, naming the claim', () => {
    // Prepare
    const claims = { sub: 'bob', role: 'admin' };

    // Act
    const reading = readCaller(claims, { ...heraldClaims, tenantClaim: 'custom:tenant', singleTenant: false });

    // Assess
    expect(reading).toEqual({ refusal: 'The token names no tenant: it carries no custom:tenant claim, the claim this deployment reads the tenant from (herald:tenantClaim)' });
  });

  it.each([undefined, ''])('puts a token whose tenant is %j in the default tenant of a single-tenant deployment', (tenant) => {
    // Prepare
    const claims = { sub: 'bob', tenant };

    // Act
    const caller = callerFromClaims(claims, { ...heraldClaims, singleTenant: true });

    // Assess
    expect(caller?.tenantId).toBe(defaultTenant);
  });

  it('keeps the tenant a token names in a single-tenant deployment', () => {
    // Act
    const caller = callerFromClaims({ sub: 'bob', tenant: 'acme' }, { ...heraldClaims, singleTenant: true });

    // Assess
    expect(caller?.tenantId).toBe('acme');
  });

  it.each([
    ['Cognito', { tenantClaim: 'custom:tenant', roleClaim: 'cognito:groups' }, { 'custom:tenant': 'acme', 'cognito:groups': '[sender admin]', tenant: 'other', role: 'nobody' }],
    ['Auth0', { tenantClaim: 'https://h.example/tenant', roleClaim: 'https://h.example/roles' }, { 'https://h.example/tenant': 'acme', 'https://h.example/roles': ['admin', 'sender'] }],
  ])('reads the tenant and roles from the claims a %s deployment names', (_provider, names, claims) => {
    // Act
    const caller = callerFromClaims({ sub: 'bob', ...claims }, { ...names, singleTenant: false });

    // Assess
    expect(caller).toEqual({ sub: 'bob', tenantId: 'acme', roles: ['admin', 'sender'] });
  });

  it.each([
    ['no claims at all', undefined],
    ['no subject', { tenant: 'acme' }],
    ['no tenant', { sub: 'bob' }],
    ['a subject with a line break', { sub: 'bob\r\nadmin', tenant: 'acme' }],
    ['a subject of 256 characters', { sub: 's'.repeat(256), tenant: 'acme' }],
    ['a tenant with #', { sub: 'bob', tenant: 'acme#other' }],
  ])('names no caller for %s', (_, claims) => {
    // Prepare: the claims come from the table

    // Act
    const caller = callerFromClaims(claims);

    // Assess
    expect(caller).toBeUndefined();
  });
});
