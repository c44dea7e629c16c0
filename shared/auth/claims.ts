/**
 * From token claims to a Caller. The claims are `sub` and two whose names the deployment sets
 * (`herald:tenantClaim`, `herald:roleClaim`: `tenant` and `role` by default, `custom:tenant` and
 * `cognito:groups` for Cognito, namespaced URLs for Auth0). A token without a tenant is refused
 * unless the deployment is single-tenant (`herald:singleTenant`), where it belongs to `default`.
 * API Gateway presents claims as strings and arrays as `[a b]`, so `admin`, `[admin sender]`
 * and a real array all grant their roles.
 */
import type { ClaimsConfig } from '../config.ts';
import { roles } from '../domain/caller.ts';
import type { Caller, Role } from '../domain/caller.ts';
import { isSubjectId, isTenantId } from '../domain/subject-ids.ts';

/** A claim as API Gateway's JWT authorizer hands it to the function: always a string. */
export type ClaimValue = string;

/** Claim values nested deeper than this are presented as `...` (a token's size bounds them anyway). */
const maxPresentedDepth = 64;

/**
 * Presents one claim value the way the HTTP API JWT authorizer does: every value becomes a
 * string; numbers keep their JSON text (`"1612061676"`), booleans become `"true"`/`"false"`, and
 * arrays and objects are printed in Go's `fmt` style, `[a b]` and `map[key:value]` (keys sorted).
 * Observed on AWS: awsdocs/amazon-api-gateway-developer-guide#113 (numbers as strings),
 * aws-solutions-library-samples/guidance-for-claude-code-with-amazon-bedrock#803 (`[id1 id2]`),
 * aws/aws-lambda-go#570 (`map[key:value]`). The local HTTP gateway presents claims with it, and the
 * WebSocket authorizer reads claims through it, so both paths judge a token by the same values.
 */
export function presentClaim(value: unknown, depth = 0): ClaimValue {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value === null || value === undefined) return '<nil>';
  if (depth >= maxPresentedDepth) return '...';
  if (Array.isArray(value)) return `[${value.map((item: unknown) => presentClaim(item, depth + 1)).join(' ')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `map[${entries.map(([key, item]) => `${key}:${presentClaim(item, depth + 1)}`).join(' ')}]`;
  }
  return String(value);
}

/** Presents a verified payload's claims as `requestContext.authorizer.jwt.claims`. */
export function presentClaims(payload: Readonly<Record<string, unknown>>): Record<string, ClaimValue> {
  const claims: Record<string, ClaimValue> = {};
  for (const [name, value] of Object.entries(payload)) claims[name] = presentClaim(value);
  return claims;
}

/** The tenant of tokens that carry none, in a single-tenant deployment. */
export const defaultTenant = 'default';

/** Herald's own claim names, multi-tenant: what the local issuer signs and the WebSocket authorizer hands on. */
export const heraldClaims: ClaimsConfig = { tenantClaim: 'tenant', roleClaim: 'role', singleTenant: false };

/** Who the claims name, or why they name nobody (a sentence for the 401's message). */
export type CallerReading = { readonly caller: Caller } | { readonly refusal: string };

/**
 * The roles a role claim grants: a JSON array of names, or a string of names apart by spaces or
 * commas, or an array as API Gateway's JWT authorizer flattens it (`[admin sender]`). Only its
 * own string elements count: an object (`map[a:[admin]]` once flattened, Go's map format) or a
 * nested array grants nothing.
 */
function rolesFrom(claim: unknown): Role[] {
  let words: string[] = [];
  if (Array.isArray(claim)) words = claim.filter((word): word is string => typeof word === 'string');
  else if (typeof claim === 'string') {
    const flattened = claim.startsWith('[') && claim.endsWith(']');
    // A word with a bracket belongs to a nested array or an object (`map[a:[admin]]`): not a role name.
    words = (flattened ? claim.slice(1, -1) : claim).split(/[\s,]+/).filter((word) => !/[[\]]/.test(word));
  }
  return roles.filter((role) => words.includes(role));
}

/**
 * The caller the claims describe, or the reason they describe none: no valid subject, no tenant
 * claim (in a multi-tenant deployment), or a tenant that is not a Herald id. The subject is any
 * one-line text of 1-255 characters, as identity providers issue it (`isSubjectId`, the rule of
 * `idSchema`); the tenant is one of Herald's ids (`isTenantId`, the rule of `tenantIdSchema`).
 */
export function readCaller(claims: Readonly<Record<string, unknown>> | undefined, settings: ClaimsConfig = heraldClaims): CallerReading {
  if (!claims) return { refusal: 'The request carries no verified token claims' };
  const sub = claims.sub;
  if (!isSubjectId(sub)) return { refusal: 'The token names no valid subject (sub)' };
  const tenantClaim = claims[settings.tenantClaim];
  const missing = tenantClaim === undefined || tenantClaim === '';
  if (missing && !settings.singleTenant) {
    return { refusal: `The token names no tenant: it carries no ${settings.tenantClaim} claim, the claim this deployment reads the tenant from (herald:tenantClaim)` };
  }
  const tenant = missing ? defaultTenant : tenantClaim;
  if (!isTenantId(tenant)) return { refusal: `The token's ${settings.tenantClaim} claim is not a valid tenant id` };
  return { caller: { sub, tenantId: tenant, roles: rolesFrom(claims[settings.roleClaim]) } };
}

/** The caller the claims describe; `undefined` when `readCaller` refuses them. */
export function callerFromClaims(claims: Readonly<Record<string, unknown>> | undefined, settings: ClaimsConfig = heraldClaims): Caller | undefined {
  const reading = readCaller(claims, settings);
  return 'caller' in reading ? reading.caller : undefined;
}
