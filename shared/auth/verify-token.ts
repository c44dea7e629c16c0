/**
 * Verifies a bearer token exactly as API Gateway's HTTP API JWT authorizer does, for the place that
 * authorizer does not guard: the WebSocket `$connect` authorizer. So a token works on both APIs or
 * on neither (test/unit/shared/auth/token-corpus.test.ts runs one corpus of tokens through this and
 * through the local HTTP gateway with `callerFrom`).
 *
 * The authorizer's rules ("Control access to HTTP APIs with JWT authorizers"): a `kid` header that
 * names a key of the issuer's JWKS, the RS256 signature, `iss`, `aud`, `exp` present and not
 * passed, `nbf` passed, and `iat` not in the future. The claims are then read as the authorizer
 * presents them to the function (strings; `presentClaims`), through the same `callerFromClaims`.
 */
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import type { TokenConfig } from '../config.ts';
import type { Caller } from '../domain/caller.ts';
import { callerFromClaims, presentClaims } from './claims.ts';

export type TokenVerifier = (token: string) => Promise<Caller | undefined>;

type KeySet = ReturnType<typeof createRemoteJWKSet>;

/** The caller a token names when it passes every rule of the JWT authorizer; `undefined` otherwise. */
export async function verifyBearerToken(token: string, keys: KeySet, config: Pick<TokenConfig, 'issuer' | 'audience'>): Promise<Caller | undefined> {
  try {
    if (typeof decodeProtectedHeader(token).kid !== 'string') return undefined;
    const { payload } = await jwtVerify(token, keys, {
      issuer: config.issuer,
      audience: config.audience,
      algorithms: ['RS256'],
      requiredClaims: ['exp'],
    });
    if (typeof payload.iat === 'number' && payload.iat > Math.floor(Date.now() / 1000)) return undefined;
    return callerFromClaims(presentClaims(payload));
  } catch {
    // Expired, tampered, wrongly issued, malformed: all the same to a caller, "unauthorized".
    return undefined;
  }
}

/** A verifier bound to one issuer; the JWKS is fetched once and cached by jose. */
export function tokenVerifier(config: TokenConfig): TokenVerifier {
  const keys = createRemoteJWKSet(new URL(config.jwksUrl));
  return (token) => verifyBearerToken(token, keys, config);
}
