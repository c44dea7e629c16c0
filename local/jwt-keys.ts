/**
 * The local token issuer: one RS256 key pair, kept as a JWK in a file, that signs the bearer
 * tokens the local stack accepts and publishes the matching JWKS.
 *
 * On AWS an identity provider (Cognito, Auth0, ...) plays this part; locally `npm start` serves
 * the public half at `/.well-known/jwks.json` and `npm run token` signs with the private half.
 * Both processes may be the first to need the key, so it is created with an exclusive,
 * atomic create and whichever process loses the race reads the winner's key.
 */
import { randomBytes } from 'node:crypto';
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, SignJWT } from 'jose';
import type { CryptoKey, JSONWebKeySet, JWK } from 'jose';

/** Issuer of local tokens; the local stack configures its JWT authorizer with it. */
export const LOCAL_JWT_ISSUER = 'https://herald.local';
/** Audience of local tokens. */
export const LOCAL_JWT_AUDIENCE = 'herald';
/** Where the signing key lives unless told otherwise (`.herald/` is gitignored). */
export const DEFAULT_SIGNING_KEY_FILE = resolve(import.meta.dirname, '..', '.herald', 'jwt-signing-key.json');

const algorithm = 'RS256';

/** The roles a Herald token may carry. */
export const tokenRoles = ['admin', 'sender', 'operator'] as const;
export type TokenRole = (typeof tokenRoles)[number];

/** The loaded key pair: the private key signs, the public JWK is what the JWKS publishes. */
export interface LocalSigningKey {
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly publicJwk: JWK;
}

/** Where to find (or create) the key file. */
export interface SigningKeyOptions {
  /** @default DEFAULT_SIGNING_KEY_FILE */
  readonly keyFile?: string;
}

/**
 * How an identity provider lays out the tenant and roles in its tokens:
 * - `herald`: `tenant` and `role`, as the local issuer does.
 * - `cognito`: a Cognito user pool ID token (`token_use: id`): the tenant in the custom attribute
 *   `custom:tenant`, the roles as groups in `cognito:groups` (a list), `cognito:username`.
 * - `auth0`: custom claims under a namespace URL (Auth0 requires one for non-OIDC claims):
 *   `<namespace>tenant` and `<namespace>roles` (a list), with `azp` and `scope`.
 */
export const tokenShapes = ['herald', 'cognito', 'auth0'] as const;
export type TokenShape = (typeof tokenShapes)[number];

/** The namespace of Auth0-shaped custom claims unless told otherwise. */
export const DEFAULT_AUTH0_NAMESPACE = 'https://herald.example.com/';

/**
 * The `npm run token` options whose token a stack reading `names` accepts: the shape with those
 * claim names (auth0's with its namespace), or undefined when no shape has them (then only the
 * stack's `POST /_local/token` mints under them).
 */
function tokenShapeOptions(names: { readonly tenantClaim: string; readonly roleClaim: string }): string | undefined {
  const same = (other: { readonly tenantClaim: string; readonly roleClaim: string }): boolean =>
    other.tenantClaim === names.tenantClaim && other.roleClaim === names.roleClaim;
  if (same(claimNamesOf('herald'))) return '';
  if (same(claimNamesOf('cognito'))) return ' --shape cognito';
  const namespace = names.tenantClaim.endsWith('tenant') ? names.tenantClaim.slice(0, -'tenant'.length) : undefined;
  if (namespace !== undefined && /^https?:\/\/\S+\/$/.test(namespace) && same(claimNamesOf('auth0', namespace))) {
    return namespace === DEFAULT_AUTH0_NAMESPACE ? ' --shape auth0' : ` --shape auth0 --namespace ${namespace}`;
  }
  return undefined;
}

/**
 * The ready line's hint: the `npm run token` command whose token a stack reading `names` accepts,
 * or, when no shape has those names, the stack's own sign-in at `httpUrl` (`POST /_local/token`).
 */
export function tokenHint(names: { readonly tenantClaim: string; readonly roleClaim: string }, httpUrl: string): string {
  const shape = tokenShapeOptions(names);
  if (shape !== undefined) return `Get a token with: npm run token -- --sub ops --role admin${shape}`;
  return (
    `Get a token with: curl -s -X POST ${httpUrl}/_local/token -d '{"sub":"ops","roles":["admin"]}' ` +
    `(no shape of npm run token names the tenant ${names.tenantClaim} and the roles ${names.roleClaim})`
  );
}

/**
 * The claim names a deployment sets (`herald:tenantClaim`, `herald:roleClaim`) to read tokens of
 * `shape`: what the docs tell operators and the tests configure the stack with.
 */
export function claimNamesOf(shape: TokenShape, namespace = DEFAULT_AUTH0_NAMESPACE): { readonly tenantClaim: string; readonly roleClaim: string } {
  switch (shape) {
    case 'herald':
      return { tenantClaim: 'tenant', roleClaim: 'role' };
    case 'cognito':
      return { tenantClaim: 'custom:tenant', roleClaim: 'cognito:groups' };
    case 'auth0':
      return { tenantClaim: `${namespace}tenant`, roleClaim: `${namespace}roles` };
  }
}

/** What a token says about its bearer, and for whom it is meant. */
export interface TokenRequest {
  readonly sub: string;
  /** One role, or several (the claim is then an array, as identity providers issue groups). */
  readonly role?: TokenRole | readonly TokenRole[];
  /** `null`: the token carries no tenant claim (a multi-tenant deployment refuses it). @default 'default' */
  readonly tenant?: string | null;
  /** How the claims are laid out. @default 'herald' */
  readonly shape?: TokenShape;
  /** The namespace of an `auth0` token's custom claims. @default DEFAULT_AUTH0_NAMESPACE */
  readonly namespace?: string;
  /** The tenant and role claims' names, in place of the shape's (a deployment's `herald:tenantClaim` and `herald:roleClaim`). */
  readonly claimNames?: { readonly tenantClaim: string; readonly roleClaim: string };
  /**
   * Lifetime: a duration such as `90s`, `15m`, `1h`, `7d`, or a number of seconds (negative numbers
   * make an already expired token, which tests need).
   * @default '1h'
   */
  readonly expiresIn?: string | number;
  readonly issuer: string;
  readonly audience: string;
}

/** Thrown when the key file exists but does not hold a usable key. */
export class SigningKeyError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SigningKeyError';
  }
}

/** Thrown for a lifetime that is not a duration this issuer understands. */
export class InvalidDurationError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'InvalidDurationError';
  }
}

const secondsPerUnit: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** Parses a lifetime (`90s`, `15m`, `1h`, `7d`, bare seconds) into seconds. */
export function parseDuration(text: string): number {
  const match = /^(\d+)\s*([smhd]?)$/.exec(text.trim());
  const unit = match?.[2] === '' ? 's' : match?.[2];
  const perUnit = unit === undefined ? undefined : secondsPerUnit[unit];
  if (!match?.[1] || perUnit === undefined) {
    throw new InvalidDurationError(`Not a duration: "${text}" (use e.g. 90s, 15m, 1h, 7d)`);
  }
  const seconds = Number(match[1]) * perUnit;
  if (seconds <= 0) throw new InvalidDurationError(`A token must live longer than 0 s, not "${text}"`);
  return seconds;
}

function publicPart(privateJwk: JWK): JWK {
  const { kty, n, e, kid, alg, use } = privateJwk;
  return { kty, n, e, kid, alg, use };
}

async function importStoredKey(privateJwk: JWK, keyFile: string): Promise<LocalSigningKey> {
  if (privateJwk.kty !== 'RSA' || typeof privateJwk.kid !== 'string' || typeof privateJwk.d !== 'string') {
    throw new SigningKeyError(`${keyFile} does not hold an RSA private JWK with a kid; delete it to get a new key`);
  }
  try {
    const privateKey = await importJWK(privateJwk, algorithm);
    if (privateKey instanceof Uint8Array) throw new SigningKeyError(`${keyFile} holds a symmetric key`);
    return { kid: privateJwk.kid, privateKey, publicJwk: publicPart(privateJwk) };
  } catch (error) {
    if (error instanceof SigningKeyError) throw error;
    throw new SigningKeyError(`${keyFile} holds a key that cannot be imported`, { cause: error });
  }
}

async function readKeyFile(keyFile: string): Promise<JWK | undefined> {
  let text: string;
  try {
    text = await readFile(keyFile, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new SigningKeyError(`Cannot read the signing key ${keyFile}`, { cause: error });
  }
  try {
    return JSON.parse(text) as JWK;
  } catch (error) {
    throw new SigningKeyError(`${keyFile} is not JSON; delete it to get a new key`, { cause: error });
  }
}

async function generatePrivateJwk(): Promise<JWK> {
  const { privateKey } = await generateKeyPair(algorithm, { extractable: true });
  const jwk = await exportJWK(privateKey);
  // RFC 7638 thumbprint: a stable kid that names exactly this key.
  const kid = await calculateJwkThumbprint(jwk);
  return { ...jwk, kid, alg: algorithm, use: 'sig' };
}

/**
 * Writes the key only if no key file exists yet. The content goes to a private temporary file
 * first and is then hard-linked into place: link(2) fails with EEXIST when the name is taken and
 * publishes a complete file when it is not, so a racing reader never sees half a key.
 */
async function createKeyFileExclusively(keyFile: string, privateJwk: JWK): Promise<boolean> {
  await mkdir(dirname(keyFile), { recursive: true, mode: 0o700 });
  const temporary = join(dirname(keyFile), `.jwt-signing-key.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  await writeFile(temporary, `${JSON.stringify(privateJwk, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  try {
    await link(temporary, keyFile);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new SigningKeyError(`Cannot create the signing key ${keyFile}`, { cause: error });
  } finally {
    await unlink(temporary).catch(() => undefined);
  }
}

/** Loads the signing key from its file, creating it on first use; racing callers get one key. */
export async function loadOrCreateSigningKey(options: SigningKeyOptions = {}): Promise<LocalSigningKey> {
  const keyFile = options.keyFile ?? DEFAULT_SIGNING_KEY_FILE;
  const stored = await readKeyFile(keyFile);
  if (stored) return importStoredKey(stored, keyFile);

  const fresh = await generatePrivateJwk();
  const created = await createKeyFileExclusively(keyFile, fresh);
  if (created) return importStoredKey(fresh, keyFile);

  // Another process (or call) created the file between our read and our link: use its key.
  const winner = await readKeyFile(keyFile);
  if (!winner) throw new SigningKeyError(`${keyFile} vanished while the signing key was being created`);
  return importStoredKey(winner, keyFile);
}

/** The public JWKS document that verifies tokens signed by the local issuer. */
export async function publicJwks(options: SigningKeyOptions = {}): Promise<JSONWebKeySet> {
  const key = await loadOrCreateSigningKey(options);
  return { keys: [key.publicJwk] };
}

function lifetimeSeconds(expiresIn: string | number | undefined): number {
  if (expiresIn === undefined) return 3600;
  if (typeof expiresIn === 'number') {
    if (!Number.isInteger(expiresIn)) throw new InvalidDurationError(`Not a whole number of seconds: ${expiresIn}`);
    return expiresIn;
  }
  return parseDuration(expiresIn);
}

/** The tenant and role claims of `request`, laid out as its shape's provider does, with that provider's usual extras. */
function shapedClaims(request: TokenRequest, issuedAt: number): Record<string, unknown> {
  const shape = request.shape ?? 'herald';
  const names = request.claimNames ?? claimNamesOf(shape, request.namespace);
  const tenant = request.tenant === null ? {} : { [names.tenantClaim]: request.tenant ?? 'default' };
  const roles: string[] = request.role === undefined ? [] : typeof request.role === 'string' ? [request.role] : [...request.role];
  switch (shape) {
    case 'herald':
      // One role as a string, several as an array (as identity providers issue groups).
      return { ...tenant, ...(request.role !== undefined ? { [names.roleClaim]: typeof request.role === 'string' ? request.role : roles } : {}) };
    case 'cognito':
      // A user without groups has no cognito:groups claim at all.
      return { ...tenant, ...(roles.length > 0 ? { [names.roleClaim]: roles } : {}), token_use: 'id', 'cognito:username': request.sub, auth_time: issuedAt, email_verified: false };
    case 'auth0':
      return { ...tenant, [names.roleClaim]: roles, azp: 'herald-local-client', scope: 'openid profile email' };
  }
}

/** Signs a Herald bearer token (RS256, with the key's kid) for the given subject. */
export async function signToken(request: TokenRequest, options: SigningKeyOptions = {}): Promise<string> {
  const key = await loadOrCreateSigningKey(options);
  const issuedAt = Math.floor(Date.now() / 1000);
  return new SignJWT(shapedClaims(request, issuedAt))
    .setProtectedHeader({ alg: algorithm, kid: key.kid, typ: 'JWT' })
    .setSubject(request.sub)
    .setIssuer(request.issuer)
    .setAudience(request.audience)
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + lifetimeSeconds(request.expiresIn))
    .sign(key.privateKey);
}
