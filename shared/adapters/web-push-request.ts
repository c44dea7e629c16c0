/**
 * One Web Push request, as `web-push`'s `generateRequestDetails` makes it for Herald's options
 * (aes128gcm, VAPID, a TTL and an urgency), without the parts of the library Herald never runs.
 *
 * The payload is encrypted by the library itself (`encrypt`, RFC 8291 over http_ece's RFC 8188),
 * imported from its own module. The VAPID JWT (RFC 8292) is signed with jose from a JWK of the
 * key: the library turns the raw private key into a PEM through asn1.js and bn.js and signs it with
 * jws, and its index also loads its request code with an HTTPS proxy agent and debug; together
 * ~100 KB of every delivering bundle, where jose's signing takes ~15 KB. The request itself is
 * guarded-post.ts's, never the library's.
 */
import { createECDH } from 'node:crypto';
import { importJWK, SignJWT } from 'jose';
import encryptionHelper from 'web-push/src/encryption-helper.js';
import type { WebPushSubscription } from '../domain/push-targets.ts';
import type { VapidKeys } from './vapid-keys.ts';

/** How long a VAPID JWT is valid: web-push's default, half of RFC 8292's 24-hour ceiling (seconds). */
export const vapidTokenSeconds = 12 * 60 * 60;

/** What one push needs besides the subscription and the payload. */
export interface WebPushRequestOptions {
  readonly vapid: { readonly subject: string; readonly keys: VapidKeys };
  /** How long the push service keeps the message for an offline browser (the `TTL` header, seconds). */
  readonly ttlSeconds: number;
  readonly urgency: 'very-low' | 'low' | 'normal' | 'high';
  /** The time the JWT's `exp` counts from (epoch ms). */
  readonly nowMs: number;
  /** The `Authorization` already made by {@link vapidAuthorization} for this endpoint and time; made here when absent. */
  readonly authorization?: string;
}

/** The headers and body of a push request (RFC 8030, 5), ready to post to the subscription's endpoint. */
export interface WebPushRequest {
  readonly headers: Readonly<Record<string, string>>;
  /** The aes128gcm record, or none for an empty payload. */
  readonly body: Uint8Array | undefined;
}

const base64url = /^[A-Za-z0-9\-_]+$/;

/** Decodes a VAPID key, refusing what web-push refuses: not base64url, or not `bytes` long. */
function vapidKey(value: string, name: 'public' | 'private', bytes: number): Buffer {
  if (!base64url.test(value)) throw new Error(`Vapid ${name} key must be a URL safe Base 64 (without "=")`);
  const decoded = Buffer.from(value, 'base64url');
  if (decoded.length !== bytes) throw new Error(`Vapid ${name} key should be ${bytes} bytes long when decoded.`);
  return decoded;
}

/** The last signing key imported (keys change only with a rotation): one import, not one per push. */
let signingKey: { readonly privateKey: string; readonly key: ReturnType<typeof importJWK> } | undefined;

/** The stage's VAPID private key as jose's ES256 signing key, its public point derived from the scalar. */
function vapidSigningKey(privateKey: Buffer, encoded: string): ReturnType<typeof importJWK> {
  if (signingKey?.privateKey === encoded) return signingKey.key;
  // The JWK needs the public point; it is derived from the private scalar, which alone signs (as
  // the library's PEM carries the scalar alone).
  const ecdh = createECDH('prime256v1');
  ecdh.setPrivateKey(privateKey);
  const point = ecdh.getPublicKey();
  const jwk = { kty: 'EC', crv: 'P-256', d: encoded, x: point.subarray(1, 33).toString('base64url'), y: point.subarray(33).toString('base64url') };
  const key = importJWK(jwk, 'ES256');
  signingKey = { privateKey: encoded, key };
  // A key that could not be imported is not kept: the next push tries again.
  key.catch(() => {
    if (signingKey?.key === key) signingKey = undefined;
  });
  return key;
}

/**
 * The `Authorization` of a push to `endpoint` (RFC 8292, 3): `vapid t=<JWT>, k=<public key>`, the
 * JWT ES256 (signed by jose) for the endpoint's origin, expiring {@link vapidTokenSeconds} after
 * `nowMs` (epoch ms), naming `subject`.
 * @throws Error for a subject that is not https: or mailto:, or a key that is not a P-256 key in base64url (web-push's messages)
 */
export async function vapidAuthorization(endpoint: string, subject: string, keys: VapidKeys, nowMs: number): Promise<string> {
  const subjectUrl = URL.parse(subject);
  if (subjectUrl === null || !['https:', 'mailto:'].includes(subjectUrl.protocol)) throw new Error(`Vapid subject is not an https: or mailto: URL. ${subject}`);
  vapidKey(keys.publicKey, 'public', 65);
  const key = await vapidSigningKey(vapidKey(keys.privateKey, 'private', 32), keys.privateKey);
  const { protocol, host } = new URL(endpoint);
  const token = await new SignJWT({})
    .setProtectedHeader({ typ: 'JWT', alg: 'ES256' })
    .setAudience(`${protocol}//${host}`)
    .setExpirationTime(Math.floor(nowMs / 1000) + vapidTokenSeconds)
    .setSubject(subject)
    .sign(key);
  return `vapid t=${token}, k=${keys.publicKey}`;
}

/**
 * The request of one push (RFC 8030, 5): the payload encrypted for the subscription (aes128gcm),
 * signed with the stage's VAPID keys, with its `TTL` and `Urgency`. The headers are those
 * `web-push`'s `generateRequestDetails` makes for the same options.
 * @throws Error (the library's message) for subscription keys nothing can be encrypted for, and as {@link vapidAuthorization} does
 */
export async function webPushRequest(subscription: WebPushSubscription, payload: string, options: WebPushRequestOptions): Promise<WebPushRequest> {
  const encrypted = payload === '' ? undefined : encryptionHelper.encrypt(subscription.keys.p256dh, subscription.keys.auth, payload, 'aes128gcm');
  const headers: Record<string, string> = { TTL: String(options.ttlSeconds), 'Content-Length': String(encrypted?.cipherText.length ?? 0) };
  if (encrypted !== undefined) {
    headers['Content-Type'] = 'application/octet-stream';
    headers['Content-Encoding'] = 'aes128gcm';
  }
  headers.Authorization = options.authorization ?? (await vapidAuthorization(subscription.endpoint, options.vapid.subject, options.vapid.keys, options.nowMs));
  headers.Urgency = options.urgency;
  return { headers, body: encrypted === undefined ? undefined : new Uint8Array(encrypted.cipherText) };
}
