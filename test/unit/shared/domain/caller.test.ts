import { describe, expect, it } from 'vitest';
import { canManageTenant, isAdmin } from '../../../../shared/domain/caller.ts';
import type { Role } from '../../../../shared/domain/caller.ts';

describe('caller roles', () => {
  it.each<[Role[], boolean, boolean]>([
    [['admin'], true, true],
    [['sender'], true, false],
    [['admin', 'sender'], true, true],
    [[], false, false],
  ])('with roles %j: manages the tenant %s, is admin %s', (roles, manages, admin) => {
    // Prepare
    const caller = { sub: 'u', tenantId: 't', roles };

    // Act
    const result = [canManageTenant(caller), isAdmin(caller)];

    // Assess
    expect(result).toEqual([manages, admin]);
  });
});
