/**
 * Verifies a bearer token the way API Gateway's JWT authorizer does (RS256 signature against
 * the issuer's JWKS, `iss`, `aud`, `exp`, `nbf`), for the places that gateway does not guard:
 * the WebSocket `$connect` authorizer.
 */
import { createRemoteJWKSet, jwtVerify } from 'jose';
import type { TokenConfig } from '../config.ts';
import type { Caller } from '../domain/caller.ts';
import { callerFromClaims } from './claims.ts';

export type TokenVerifier = (token: string) => Promise<Caller | undefined>;

/** A verifier bound to one issuer; the JWKS is fetched once and cached by jose. */
export function tokenVerifier(config: TokenConfig): TokenVerifier {
  const jwks = createRemoteJWKSet(new URL(config.jwksUrl));
  return async (token) => {
    try {
      const { payload } = await jwtVerify(token, jwks, {
        issuer: config.issuer,
        audience: config.audience,
        algorithms: ['RS256'],
      });
      return callerFromClaims(payload);
    } catch {
      // Expired, tampered, wrongly issued: all the same to a caller, "unauthorized".
      return undefined;
    }
  };
}
