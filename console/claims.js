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
 * A claim as API Gateway's JWT authorizer presents it to the API (`presentClaim` of
 * shared/auth/claims.ts): a string as it is, a number or boolean as its text, null as `<nil>`, a
 * list as `[a b]`, an object as `map[key:value]` (keys sorted).
 * @param {unknown} value
 * @param {number} [depth]
 * @returns {string}
 */
function presented(value, depth = 0) {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value === null || value === undefined) return '<nil>';
  if (depth >= 64) return '...';
  if (Array.isArray(value)) return `[${value.map((item) => presented(item, depth + 1)).join(' ')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `map[${entries.map(([key, item]) => `${key}:${presented(item, depth + 1)}`).join(' ')}]`;
  }
  return String(value);
}

/** The API's tenant ids (`nameLikeId`, shared/domain/subject-ids.ts). */
const tenantIdPattern = /^[A-Za-z0-9][A-Za-z0-9_.@:+-]{0,127}$/;

/**
 * True when `sub` is an id the API takes (`isSubjectId`): 1-255 characters of one line of
 * well-formed text, not blank.
 * @param {string} sub
 */
function isSubjectId(sub) {
  return sub.length >= 1 && sub.length <= 255 && sub.isWellFormed() && !/[\p{Cc}\u2028\u2029]/u.test(sub) && sub.trim() !== '';
}

/**
 * The subject, tenant and roles of a token's claims under the deployment's claim names, read as the
 * API reads them (`readCaller`: claims as API Gateway presents them). `tenant` is undefined when
 * the API would refuse the token: no valid subject, no tenant in a multi-tenant deployment, or a
 * tenant that is no tenant id.
 * @param {Record<string, unknown>} claims
 * @param {{ tenantClaim: string, roleClaim: string, singleTenant: boolean }} [names]
 * @returns {{ sub: unknown, tenant: string | undefined, roles: string[] }}
 */
export function callerOf(claims, names = heraldClaims) {
  const sub = claims.sub === undefined ? undefined : presented(claims.sub);
  const raw = claims[names.tenantClaim];
  const missing = raw === undefined || raw === '';
  const tenant = missing ? (names.singleTenant ? defaultTenant : undefined) : presented(raw);
  const accepted = sub !== undefined && isSubjectId(sub) && tenant !== undefined && tenantIdPattern.test(tenant);
  const roleClaim = claims[names.roleClaim];
  return { sub: claims.sub, tenant: accepted ? tenant : undefined, roles: rolesOf(Array.isArray(roleClaim) ? roleClaim : roleClaim === undefined ? undefined : presented(roleClaim)) };
}
