/**
 * Where a user receives push notifications: browser subscriptions (Web Push, RFC 8030) and mobile
 * devices (FCM or APNs tokens behind Amazon SNS platform endpoints). Each user registers their own
 * (`POST /v1/me/push-subscriptions`, `POST /v1/me/devices`); they live beside the user's live
 * state, a handful each, and a target its push service calls gone is removed. No AWS here.
 */
import { createHash } from 'node:crypto';

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

/** True when Herald may post to `endpoint`: https, or (when allowed: the local stack) plain http on a loopback address. */
export function isAllowedPushEndpoint(endpoint: string, allowHttpLoopback: boolean): boolean {
  if (!URL.canParse(endpoint)) return false;
  const url = new URL(endpoint);
  if (url.protocol === 'https:') return true;
  return allowHttpLoopback && url.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
}
