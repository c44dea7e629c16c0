// Types of console/claims.js, for the tests that import it (the browser loads the .js as is).
export interface ClaimNames {
  readonly tenantClaim: string;
  readonly roleClaim: string;
  readonly singleTenant: boolean;
}
export const heraldClaims: ClaimNames;
export const knownRoles: readonly string[];
export function rolesOf(claim: unknown): string[];
export function callerOf(claims: Readonly<Record<string, unknown>>, names?: ClaimNames): { sub: unknown; tenant: string | undefined; roles: string[] };
