/**
 * Where a user receives push notifications: browser subscriptions (Web Push, RFC 8030) and mobile
 * devices (FCM or APNs tokens behind Amazon SNS platform endpoints). Each user registers their own
 * (`POST /v1/me/push-subscriptions`, `POST /v1/me/devices`); they live beside the user's live
 * state, a handful each, and a target its push service calls gone is removed. No AWS here.
 */
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { hasSpaceOrControl, writtenAuthority } from './url-text.ts';
import { isPublicAddress } from './webhook-targets.ts';

/** A browser's push subscription (the W3C Push API's `PushSubscription.toJSON()`), as stored. */
export interface WebPushSubscription {
  /** Stable id: derived from the endpoint, so registering the same subscription again changes nothing. */
  readonly id: string;
  /** The push service URL (RFC 8030 "push resource"). */
  readonly endpoint: string;
  /** The subscriber's P-256 public key and 16-byte auth secret (RFC 8291), base64url. */
  readonly keys: { readonly p256dh: string; readonly auth: string };
  readonly createdAt: string;
}

export const devicePlatforms = ['fcm', 'apns'] as const;
export type DevicePlatform = (typeof devicePlatforms)[number];

/** A mobile device, registered with SNS as a platform endpoint. */
export interface PushDevice {
  /** Stable id: derived from the platform and token. */
  readonly id: string;
  readonly platform: DevicePlatform;
  /** The device token FCM or APNs gave the app. */
  readonly token: string;
  /** The SNS platform endpoint that delivers to it (CreatePlatformEndpoint). */
  readonly endpointArn: string;
  readonly createdAt: string;
}

/** The most browser subscriptions one user keeps; registering another drops the oldest. */
export const maxPushSubscriptionsPerUser = 10;
/** The most devices one user keeps; registering another drops the oldest. */
export const maxDevicesPerUser = 10;

function shortHash(...parts: readonly string[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('base64url').slice(0, 22);
}

/** The id of the subscription at `endpoint`. */
export function pushSubscriptionId(endpoint: string): string {
  return `ps_${shortHash(endpoint)}`;
}

/** The id of the device with `token` on `platform`. */
export function deviceId(platform: DevicePlatform, token: string): string {
  return `dv_${shortHash(platform, token)}`;
}

/** The public view of a subscription: its keys stay with Herald. */
export function toPushSubscriptionView(s: WebPushSubscription): Record<string, unknown> {
  return { id: s.id, endpoint: s.endpoint, createdAt: s.createdAt };
}

/** The public view of a device: the token is the user's own, the endpoint ARN is Herald's. */
export function toDeviceView(d: PushDevice): Record<string, unknown> {
  return { id: d.id, platform: d.platform, token: d.token, createdAt: d.createdAt };
}

/** What is wrong with a push endpoint Herald may not post to: each rule's message, as a 400 names it. */
export const pushEndpointRules = {
  url: 'must be a URL',
  text: 'must not contain spaces or control characters',
  https: 'must be an https URL',
  host: 'must name a host after https://',
  credentials: 'must not carry a user name or password',
  address: 'must not name a private, loopback, link-local or otherwise non-public address',
} as const;
export type PushEndpointProblem = (typeof pushEndpointRules)[keyof typeof pushEndpointRules];

/** The loopback hosts a local push service may listen on over plain http. */
const loopbackHosts = ['127.0.0.1', 'localhost', '[::1]'];

/**
 * Why Herald may not post to `endpoint`, or `undefined` when it may: an https URL (or, when
 * `allowHttpLoopback`, the local stack only, plain http on a loopback address) that names a host,
 * carries no user name or password, and (off the local stack) is no literal non-public address. The host is judged as written, not as the WHATWG parser
 * repairs it: `new URL('https:///x')` reads the path's `x` as the host, while web-push (Node's
 * legacy `url.parse`) finds none and fails every push ("VAPID audience is not a url"). RFC 8030
 * and RFC 8292 give a push resource as an https origin with a path; credentials have no place in
 * it (RFC 9110, 4.2.4: userinfo is deprecated in http(s) URIs).
 */
export function pushEndpointProblem(endpoint: string, allowHttpLoopback: boolean): PushEndpointProblem | undefined {
  if (!URL.canParse(endpoint)) return pushEndpointRules.url;
  if (hasSpaceOrControl(endpoint)) return pushEndpointRules.text;
  const url = new URL(endpoint);
  const plainLoopback = allowHttpLoopback && url.protocol === 'http:' && loopbackHosts.includes(url.hostname);
  if (url.protocol !== 'https:' && !plainLoopback) return pushEndpointRules.https;
  const authority = writtenAuthority(endpoint);
  if (!authority) return pushEndpointRules.host;
  if (authority.includes('@') || url.username !== '' || url.password !== '') return pushEndpointRules.credentials;
  // Off the local stack, as for webhooks: a literal address must be public (a name is judged at
  // each send, against every address DNS gives).
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (!allowHttpLoopback && isIP(host) !== 0 && !isPublicAddress(host)) return pushEndpointRules.address;
  return undefined;
}

/** True when Herald may post to `endpoint` (see {@link pushEndpointProblem}). */
export function isAllowedPushEndpoint(endpoint: string, allowHttpLoopback: boolean): boolean {
  return pushEndpointProblem(endpoint, allowHttpLoopback) === undefined;
}
