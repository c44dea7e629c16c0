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
import type { ClaimsConfig, TokenConfig } from '../config.ts';
import { presentClaims, readCaller } from './claims.ts';
import type { CallerReading } from './claims.ts';

/** The caller a token names, or why it names none. */
export type TokenVerifier = (token: string) => Promise<CallerReading>;

type KeySet = ReturnType<typeof createRemoteJWKSet>;

/**
 * The caller a token names when it passes every rule of the JWT authorizer, read with the
 * deployment's claim names; otherwise why not.
 */
export async function verifyBearerToken(
  token: string,
  keys: KeySet,
  config: Pick<TokenConfig, 'issuer' | 'audience'>,
  claims: ClaimsConfig,
): Promise<CallerReading> {
  try {
    if (typeof decodeProtectedHeader(token).kid !== 'string') return { refusal: 'The token names no key (kid)' };
    const { payload } = await jwtVerify(token, keys, {
      issuer: config.issuer,
      audience: config.audience,
      algorithms: ['RS256'],
      requiredClaims: ['exp'],
    });
    if (typeof payload.iat === 'number' && payload.iat > Math.floor(Date.now() / 1000)) return { refusal: 'The token is issued in the future (iat)' };
    return readCaller(presentClaims(payload), claims);
  } catch {
    // Expired, tampered, wrongly issued, malformed: all the same to a caller, "unauthorized".
    return { refusal: 'The token is invalid' };
  }
}

/** A verifier bound to one issuer and the deployment's claim names; the JWKS is fetched once and cached by jose. */
export function tokenVerifier(config: TokenConfig, claims: ClaimsConfig): TokenVerifier {
  const keys = createRemoteJWKSet(new URL(config.jwksUrl));
  return (token) => verifyBearerToken(token, keys, config, claims);
}
