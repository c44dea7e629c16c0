/**
 * From token claims to a Caller. The claims are `sub`, `tenant` (default `default`) and `role`;
 * API Gateway presents claims as strings and arrays as `[a b]`, so `admin`, `[admin sender]`
 * and a real array all grant their roles.
 */
import { roles } from '../domain/caller.ts';
import type { Caller, Role } from '../domain/caller.ts';
import { idSchema, tenantIdSchema } from '../domain/schemas.ts';

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

/** The tenant of tokens that carry none. */
export const defaultTenant = 'default';

function rolesFrom(claim: unknown): Role[] {
  const words = Array.isArray(claim) ? claim.map(String) : typeof claim === 'string' ? claim.split(/[\s,[\]]+/) : [];
  return roles.filter((role) => words.includes(role));
}

/**
 * The caller the claims describe; `undefined` when they name no valid subject or tenant. The
 * subject is any one-line text of 1-255 characters, as identity providers issue it (`idSchema`);
 * the tenant is one of Herald's ids (`tenantIdSchema`).
 */
export function callerFromClaims(claims: Readonly<Record<string, unknown>> | undefined): Caller | undefined {
  if (!claims) return undefined;
  const sub = idSchema.safeParse(claims.sub);
  const tenant = tenantIdSchema.safeParse(claims.tenant ?? defaultTenant);
  if (!sub.success || !tenant.success) return undefined;
  return { sub: sub.data, tenantId: tenant.data, roles: rolesFrom(claims.role) };
}
