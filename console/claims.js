// Who the signed-in token names, read as the API reads it (shared/auth/claims.ts, `readCaller`):
// the tenant and the roles are in the claims whose names the deployment sets (`herald:tenantClaim`,
// `herald:roleClaim`, e.g. `custom:tenant` and `cognito:groups` for Cognito), which config.json
// carries as `claims`. The API is the authority; this only decides what the page shows.

/** Herald's own claim names, multi-tenant: what the API reads when the deployment sets none. */
export const heraldClaims = Object.freeze({ tenantClaim: 'tenant', roleClaim: 'role', singleTenant: false });

/** The roles the API grants (shared/domain/caller.ts); any other word of the role claim grants nothing. */
export const knownRoles = Object.freeze(['admin', 'sender', 'operator']);

/** The tenant of tokens that carry none, in a single-tenant deployment. */
const defaultTenant = 'default';

/**
 * The roles a role claim grants: a word, a list (`["admin", "operator"]`, Cognito's groups), or
 * API Gateway's printed list (`[admin operator]`), words split on spaces, commas and brackets.
 * @param {unknown} claim
 * @returns {string[]}
 */
export function rolesOf(claim) {
  const words = Array.isArray(claim) ? claim.map(String) : typeof claim === 'string' ? claim.split(/[\s,[\]]+/) : [];
  return knownRoles.filter((role) => words.includes(role));
}

/**
 * The subject, tenant and roles of a token's claims under the deployment's claim names. `tenant`
 * is undefined when the API would refuse the token for naming none (a multi-tenant deployment).
 * @param {Record<string, unknown>} claims
 * @param {{ tenantClaim: string, roleClaim: string, singleTenant: boolean }} [names]
 * @returns {{ sub: unknown, tenant: string | undefined, roles: string[] }}
 */
export function callerOf(claims, names = heraldClaims) {
  const tenantClaim = claims[names.tenantClaim];
  const present = typeof tenantClaim === 'string' ? tenantClaim !== '' : typeof tenantClaim === 'number' || typeof tenantClaim === 'boolean';
  const tenant = present ? String(tenantClaim) : names.singleTenant ? defaultTenant : undefined;
  return { sub: claims.sub, tenant, roles: rolesOf(claims[names.roleClaim]) };
}
