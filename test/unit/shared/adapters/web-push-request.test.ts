/**
 * The Web Push request Herald makes without the library's request and VAPID code
 * (shared/adapters/web-push-request.ts), held to what `web-push` itself makes for the same
 * subscription, payload and options: the same headers, a JWT with the same header and claims that
 * verifies with the stage's public key, a body the subscription decrypts, the same refusals.
 */
import { createECDH, createPublicKey, randomBytes, verify } from 'node:crypto';
import * as ece from 'http_ece';
import webPush from 'web-push';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { vapidKeysFromSecret } from '../../../../shared/adapters/vapid-keys.ts';
import { vapidAuthorization, vapidTokenSeconds, webPushRequest } from '../../../../shared/adapters/web-push-request.ts';
import type { WebPushRequestOptions } from '../../../../shared/adapters/web-push-request.ts';
import type { WebPushSubscription } from '../../../../shared/domain/push-targets.ts';

const keys = vapidKeysFromSecret('a-test-seed-of-more-than-thirty-two-characters');
const subject = 'mailto:ops@herald.test';
const now = new Date('2030-01-01T12:00:00.000Z');

function subscriber(endpoint = 'https://push.example.com:8443/push/abc?x=1'): { ecdh: ReturnType<typeof createECDH>; auth: Buffer; subscription: WebPushSubscription } {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  const auth = randomBytes(16);
  return { ecdh, auth, subscription: { id: 'ps_x', endpoint, keys: { p256dh: ecdh.getPublicKey('base64url'), auth: auth.toString('base64url') }, createdAt: '' } };
}

const options: WebPushRequestOptions = { vapid: { subject, keys }, ttlSeconds: 86_400, urgency: 'high', nowMs: now.getTime() };

/** The library's request for the same push, at the same (fake) time. */
function libraryRequest(subscription: WebPushSubscription, payload: string): ReturnType<typeof webPush.generateRequestDetails> {
  return webPush.generateRequestDetails({ endpoint: subscription.endpoint, keys: subscription.keys }, payload, {
    vapidDetails: { subject, publicKey: keys.publicKey, privateKey: keys.privateKey },
    TTL: 86_400,
    contentEncoding: 'aes128gcm',
    urgency: 'high',
  });
}

/** The JWT of a `vapid t=..., k=...` authorization: its header and claims, decoded, and whether `k` verifies its signature. */
function readVapid(authorization: string): { header: unknown; claims: unknown; k: string; verified: boolean } {
  const match = /^vapid t=([^.]+)\.([^.]+)\.([^,]+), k=(.+)$/.exec(authorization);
  if (!match) throw new Error(`not a VAPID authorization: ${authorization}`);
  const [, header = '', claims = '', signature = '', k = ''] = match;
  const point = Buffer.from(k, 'base64url');
  const publicKey = createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: point.subarray(1, 33).toString('base64url'), y: point.subarray(33).toString('base64url') }, format: 'jwk' });
  const verified = verify('sha256', Buffer.from(`${header}.${claims}`), { key: publicKey, dsaEncoding: 'ieee-p1363' }, Buffer.from(signature, 'base64url'));
  return { header: JSON.parse(Buffer.from(header, 'base64url').toString()), claims: JSON.parse(Buffer.from(claims, 'base64url').toString()), k, verified };
}

describe('a Web Push request', () => {
  beforeEach(() => {
    // The library reads the clock for the JWT's expiry; both sides then count from the same instant.
    vi.useFakeTimers({ toFake: ['Date'], now });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("carries the headers web-push makes for the same push, and a JWT with the library's header and claims, signed by the stage's key", async () => {
    // Prepare
    const { subscription } = subscriber();
    const library = libraryRequest(subscription, '{"hello":"world"}');

    // Act
    const request = await webPushRequest(subscription, '{"hello":"world"}', options);

    // Assess
    const { Authorization: ours, ...headers } = request.headers;
    const { Authorization: theirs, ...libraryHeaders } = library.headers;
    expect(headers).toEqual(Object.fromEntries(Object.entries(libraryHeaders).map(([name, value]) => [name, String(value)])));
    const vapid = readVapid(ours ?? '');
    const expected = readVapid(String(theirs));
    expect(vapid).toEqual(expected);
    expect(vapid).toEqual({
      header: { typ: 'JWT', alg: 'ES256' },
      claims: { aud: 'https://push.example.com:8443', exp: now.getTime() / 1000 + vapidTokenSeconds, sub: subject },
      k: keys.publicKey,
      verified: true,
    });
  });

  it('encrypts the payload so that only the subscription decrypts it (aes128gcm)', async () => {
    const { ecdh, auth, subscription } = subscriber();

    const request = await webPushRequest(subscription, '{"hello":"world"}', options);

    const decrypted = ece.decrypt(Buffer.from(request.body ?? new Uint8Array()), { version: 'aes128gcm', privateKey: ecdh, authSecret: auth });
    expect(decrypted.toString()).toBe('{"hello":"world"}');
    expect(request.headers['Content-Length']).toBe(String(request.body?.length));
  });

  it('sends an empty payload as no body, as the library does', async () => {
    const { subscription } = subscriber();

    const request = await webPushRequest(subscription, '', options);

    expect(request.body).toBeUndefined();
    const { Authorization: _ours, ...headers } = request.headers;
    const { Authorization: _theirs, ...libraryHeaders } = libraryRequest(subscription, '').headers;
    expect(headers).toEqual(Object.fromEntries(Object.entries(libraryHeaders).map(([name, value]) => [name, String(value)])));
  });

  it('names the audience by the origin of the endpoint, path and query apart', async () => {
    const authorization = await vapidAuthorization('https://fcm.googleapis.com/fcm/send/abc?x=1', subject, keys, now.getTime());

    expect(readVapid(authorization).claims).toMatchObject({ aud: 'https://fcm.googleapis.com' });
  });

  it.each([
    ['a subscription key that is not a P-256 point', { p256dh: Buffer.alloc(33, 1).toString('base64url') }, 'The subscription p256dh value should be 65 bytes long.'],
    ['an auth secret under 16 bytes', { auth: Buffer.alloc(8, 1).toString('base64url') }, 'The subscription auth key should be at least 16 bytes long'],
  ])('refuses %s, with the library\'s message', async (_case, changed, message) => {
    const { subscription } = subscriber();
    const broken = { ...subscription, keys: { ...subscription.keys, ...changed } };

    await expect(webPushRequest(broken, 'x', options)).rejects.toThrow(message);
    expect(() => libraryRequest(broken, 'x')).toThrow(message);
  });

  it.each([
    ['a subject that is not https: or mailto:', 'http://ops.herald.test', keys, 'Vapid subject is not an https: or mailto: URL.'],
    ['a subject that is no URL', 'ops@herald.test', keys, 'Vapid subject is not an https: or mailto: URL.'],
    ['a public key that is not 65 bytes', subject, { ...keys, publicKey: Buffer.alloc(64, 1).toString('base64url') }, 'Vapid public key should be 65 bytes long when decoded.'],
    ['a private key that is not 32 bytes', subject, { ...keys, privateKey: Buffer.alloc(31, 1).toString('base64url') }, 'Vapid private key should be 32 bytes long when decoded.'],
    ['a key that is not base64url', subject, { ...keys, privateKey: `${keys.privateKey}=` }, 'Vapid private key must be a URL safe Base 64 (without "=")'],
  ])('refuses to sign with %s, as the library does', async (_case, badSubject, badKeys, message) => {
    await expect(vapidAuthorization('https://push.example.com/x', badSubject, badKeys, now.getTime())).rejects.toThrow(message);
    expect(() => webPush.getVapidHeaders('https://push.example.com', badSubject, badKeys.publicKey, badKeys.privateKey, 'aes128gcm')).toThrow();
  });
});
