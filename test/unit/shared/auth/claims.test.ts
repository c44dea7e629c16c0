import { describe, expect, it } from 'vitest';
import { callerFromClaims, defaultTenant } from '../../../../shared/auth/claims.ts';

describe('callerFromClaims', () => {
  it.each<[unknown, string[]]>([
    ['admin', ['admin']],
    ['[admin sender]', ['admin', 'sender']],
    [['sender'], ['sender']],
    ['admin,sender', ['admin', 'sender']],
    ['superuser', []],
    [undefined, []],
  ])('grants the roles of the role claim %j', (role, expected) => {
    // Prepare
    const claims = { sub: 'bob', tenant: 'acme', role };

    // Act
    const caller = callerFromClaims(claims);

    // Assess
    expect(caller).toEqual({ sub: 'bob', tenantId: 'acme', roles: expected });
  });

  it('puts a token without a tenant in the default tenant', () => {
    // Prepare
    const claims = { sub: 'bob' };

    // Act
    const caller = callerFromClaims(claims);

    // Assess
    expect(caller?.tenantId).toBe(defaultTenant);
  });

  it.each([
    ['no claims at all', undefined],
    ['no subject', { tenant: 'acme' }],
    ['a subject with a line break', { sub: 'bob\r\nadmin' }],
    ['a subject of 256 characters', { sub: 's'.repeat(256) }],
    ['a tenant with #', { sub: 'bob', tenant: 'acme#other' }],
  ])('names no caller for %s', (_, claims) => {
    // Prepare: the claims come from the table

    // Act
    const caller = callerFromClaims(claims);

    // Assess
    expect(caller).toBeUndefined();
  });
});
