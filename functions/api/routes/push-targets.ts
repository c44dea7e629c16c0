/** Routes of the caller's push targets: browser subscriptions, devices and the VAPID key they subscribe with. */
import { once, pushConfig } from '../../../shared/config.ts';
import { systemClock } from '../../../shared/adapters/dependencies/clock.ts';
import { recipientStore } from '../../../shared/adapters/dependencies/directory.ts';
import { deviceEndpoints, pushSubscriptionOwners, pushTargetStore, vapidKeys } from '../../../shared/adapters/dependencies/messaging.ts';
import { toDeviceView, toPushSubscriptionView } from '../../../shared/domain/push-targets.ts';
import { deviceBodySchema, pushSubscriptionBodySchema, pushTargetIdSchema } from '../../../shared/domain/schemas.ts';
import { callerFrom, json, parseBody, pathParameter } from '../../../shared/http/request.ts';
import type { HttpEvent, HttpResult } from '../../../shared/http/request.ts';
import { addDevice, addPushSubscription, listPushTargets, removePushTarget } from '../../../shared/use-cases/push-targets.ts';
import type { PushTargetDeps } from '../../../shared/use-cases/push-targets.ts';

const deps = once(
  (): PushTargetDeps => ({
    recipients: recipientStore(),
    targets: pushTargetStore(),
    clock: systemClock,
    mobile: deviceEndpoints(),
    owners: pushSubscriptionOwners(),
    allowHttpLoopback: pushConfig().allowHttpLoopback,
  }),
);

/** `POST /v1/me/push-subscriptions`: registers a browser's PushSubscription. */
export async function addPushSubscriptionRoute(event: HttpEvent): Promise<HttpResult> {
  const caller = callerFrom(event);
  const body = parseBody(event, pushSubscriptionBodySchema);
  return json(201, toPushSubscriptionView(await addPushSubscription(deps(), caller, body)));
}

/** `GET /v1/me/push-subscriptions` */
export async function listPushSubscriptionsRoute(event: HttpEvent): Promise<HttpResult> {
  const { subscriptions } = await listPushTargets(deps(), callerFrom(event));
  return json(200, { items: subscriptions.map(toPushSubscriptionView) });
}

/** `DELETE /v1/me/push-subscriptions/{id}` */
export async function removePushSubscriptionRoute(event: HttpEvent): Promise<HttpResult> {
  const caller = callerFrom(event);
  const id = pathParameter(event, 'id', pushTargetIdSchema);
  await removePushTarget(deps(), caller, 'subscription', id);
  return json(200, { id, removed: true });
}

/** `POST /v1/me/devices`: registers a mobile device's FCM or APNs token. */
export async function addDeviceRoute(event: HttpEvent): Promise<HttpResult> {
  const caller = callerFrom(event);
  const body = parseBody(event, deviceBodySchema);
  return json(201, toDeviceView(await addDevice(deps(), caller, body)));
}

/** `GET /v1/me/devices` */
export async function listDevicesRoute(event: HttpEvent): Promise<HttpResult> {
  const { devices } = await listPushTargets(deps(), callerFrom(event));
  return json(200, { items: devices.map(toDeviceView) });
}

/** `DELETE /v1/me/devices/{id}` */
export async function removeDeviceRoute(event: HttpEvent): Promise<HttpResult> {
  const caller = callerFrom(event);
  const id = pathParameter(event, 'id', pushTargetIdSchema);
  await removePushTarget(deps(), caller, 'device', id);
  return json(200, { id, removed: true });
}

/** `GET /v1/me/push/vapid-public-key`: the key a browser passes to `pushManager.subscribe` as `applicationServerKey`. */
export async function vapidPublicKeyRoute(event: HttpEvent): Promise<HttpResult> {
  callerFrom(event);
  return json(200, { publicKey: (await vapidKeys()()).publicKey });
}
