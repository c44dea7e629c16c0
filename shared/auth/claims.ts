/**
 * From token claims to a Caller. The claims are `sub`, `tenant` (default `default`) and `role`;
 * API Gateway presents claims as strings and arrays as `[a b]`, so `admin`, `[admin sender]`
 * and a real array all grant their roles.
 */
import { roles } from '../domain/caller.ts';
import type { Caller, Role } from '../domain/caller.ts';
import { idSchema } from '../domain/schemas.ts';

/** The tenant of tokens that carry none. */
export const defaultTenant = 'default';

function rolesFrom(claim: unknown): Role[] {
  const words = Array.isArray(claim) ? claim.map(String) : typeof claim === 'string' ? claim.split(/[\s,[\]]+/) : [];
  return roles.filter((role) => words.includes(role));
}

/** The caller the claims describe; `undefined` when they name no valid subject or tenant. */
export function callerFromClaims(claims: Readonly<Record<string, unknown>> | undefined): Caller | undefined {
  if (!claims) return undefined;
  const sub = idSchema.safeParse(claims.sub);
  const tenant = idSchema.safeParse(claims.tenant ?? defaultTenant);
  if (!sub.success || !tenant.success) return undefined;
  return { sub: sub.data, tenantId: tenant.data, roles: rolesFrom(claims.role) };
}
