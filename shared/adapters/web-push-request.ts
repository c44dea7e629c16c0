/**
 * One Web Push request, as `web-push`'s `generateRequestDetails` makes it for Herald's options
 * (aes128gcm, VAPID, a TTL and an urgency), without the parts of the library Herald never runs.
 *
 * The payload is encrypted by the library itself (`encrypt`, RFC 8291 over http_ece's RFC 8188),
 * imported from its own module. The VAPID JWT (RFC 8292) is signed here with node:crypto: the
 * library turns the raw private key into a PEM through asn1.js and bn.js and signs it with jws, and
 * its index also loads its request code with an HTTPS proxy agent and debug; together ~100 KB of
 * every delivering bundle for what Node's crypto does from a JWK. The request itself is
 * guarded-post.ts's, never the library's.
 */
import { createECDH, createPrivateKey, sign } from 'node:crypto';
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

/**
 * The `Authorization` of a push to `endpoint` (RFC 8292, 3): `vapid t=<JWT>, k=<public key>`, the
 * JWT ES256 (JWS with the P1363 signature, RFC 7518, 3.4) for the endpoint's origin, expiring
 * {@link vapidTokenSeconds} after `nowMs`, naming `subject`. Throws for a subject that is not
 * https: or mailto:, or a key that is not a P-256 key in base64url.
 */
export function vapidAuthorization(endpoint: string, subject: string, keys: VapidKeys, nowMs: number): string {
  const subjectUrl = URL.parse(subject);
  if (subjectUrl === null || !['https:', 'mailto:'].includes(subjectUrl.protocol)) throw new Error(`Vapid subject is not an https: or mailto: URL. ${subject}`);
  vapidKey(keys.publicKey, 'public', 65);
  const privateKey = vapidKey(keys.privateKey, 'private', 32);
  // The JWK needs the public point; it is derived from the private scalar, which alone signs (as
  // the library's PEM carries the scalar alone).
  const ecdh = createECDH('prime256v1');
  ecdh.setPrivateKey(privateKey);
  const point = ecdh.getPublicKey();
  const key = createPrivateKey({
    key: { kty: 'EC', crv: 'P-256', d: privateKey.toString('base64url'), x: point.subarray(1, 33).toString('base64url'), y: point.subarray(33).toString('base64url') },
    format: 'jwk',
  });
  const { protocol, host } = new URL(endpoint);
  const header = Buffer.from(JSON.stringify({ typ: 'JWT', alg: 'ES256' })).toString('base64url');
  const claims = Buffer.from(JSON.stringify({ aud: `${protocol}//${host}`, exp: Math.floor(nowMs / 1000) + vapidTokenSeconds, sub: subject })).toString('base64url');
  const signature = sign('sha256', Buffer.from(`${header}.${claims}`), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url');
  return `vapid t=${header}.${claims}.${signature}, k=${keys.publicKey}`;
}

/**
 * The request of one push (RFC 8030, 5): the payload encrypted for the subscription (aes128gcm),
 * signed with the stage's VAPID keys, with its `TTL` and `Urgency`. The headers are those
 * `web-push`'s `generateRequestDetails` makes for the same options. Throws (the library's message)
 * for subscription keys nothing can be encrypted for, and as {@link vapidAuthorization} does.
 */
export function webPushRequest(subscription: WebPushSubscription, payload: string, options: WebPushRequestOptions): WebPushRequest {
  const encrypted = payload === '' ? undefined : encryptionHelper.encrypt(subscription.keys.p256dh, subscription.keys.auth, payload, 'aes128gcm');
  const headers: Record<string, string> = { TTL: String(options.ttlSeconds), 'Content-Length': String(encrypted?.cipherText.length ?? 0) };
  if (encrypted !== undefined) {
    headers['Content-Type'] = 'application/octet-stream';
    headers['Content-Encoding'] = 'aes128gcm';
  }
  headers.Authorization = vapidAuthorization(subscription.endpoint, options.vapid.subject, options.vapid.keys, options.nowMs);
  headers.Urgency = options.urgency;
  return { headers, body: encrypted === undefined ? undefined : new Uint8Array(encrypted.cipherText) };
}
