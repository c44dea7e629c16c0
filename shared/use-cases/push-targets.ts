/**
 * A user's own push targets: browser subscriptions (Web Push) and mobile devices (SNS platform
 * endpoints), on their directory record. Registering is idempotent (the same endpoint or token is
 * the same target); a user keeps at most 10 of each, the oldest going first. The delivery engine
 * forgets a target its service calls gone through {@link forgetPushTargets}.
 */
import type { Caller } from '../domain/caller.ts';
import { deviceId, maxDevicesPerUser, maxPushSubscriptionsPerUser, pushSubscriptionId, withTarget } from '../domain/push-targets.ts';
import type { PushDevice, WebPushSubscription } from '../domain/push-targets.ts';
import { applyRecipientChanges } from '../domain/recipient.ts';
import type { Recipient, RecipientChanges } from '../domain/recipient.ts';
import type { DeviceBody, PushSubscriptionBody } from '../domain/schemas.ts';
import { ConflictError, NotFoundError, ServiceUnavailableError, ValidationError } from '../errors.ts';
import type { Clock, MobilePush, RecipientStore } from '../ports.ts';
import { getMe } from './me.ts';

export interface PushTargetDeps {
  readonly recipients: RecipientStore;
  readonly clock: Clock;
  readonly mobile: MobilePush;
  /** The stage's VAPID public key (base64url), what a browser subscribes with. */
  readonly vapidPublicKey: () => Promise<string>;
}

const saveAttempts = 5;

/** Applies `change` to the recipient's record, re-reading after a race; `undefined` from `change` writes nothing. */
async function changeTargets(
  deps: Pick<PushTargetDeps, 'recipients' | 'clock'>,
  tenantId: string,
  id: string,
  change: (current: Recipient) => RecipientChanges | undefined,
): Promise<Recipient | undefined> {
  for (let attempt = 0; attempt < saveAttempts; attempt++) {
    const current = await deps.recipients.get(tenantId, id);
    if (!current) return undefined;
    const changes = change(current);
    if (!changes) return current;
    const next = applyRecipientChanges(tenantId, id, current, changes, deps.clock.now());
    if (await deps.recipients.save(next, current)) return next;
  }
  throw new ConflictError('Your record kept changing while it was being updated; try again');
}

/** Registers (or refreshes) a browser subscription of the caller. */
export async function addPushSubscription(deps: PushTargetDeps, caller: Caller, body: PushSubscriptionBody): Promise<WebPushSubscription> {
  await getMe(deps, caller);
  const subscription: WebPushSubscription = {
    id: pushSubscriptionId(body.endpoint),
    endpoint: body.endpoint,
    keys: { p256dh: body.keys.p256dh, auth: body.keys.auth },
    createdAt: deps.clock.now().toISOString(),
  };
  await changeTargets(deps, caller.tenantId, caller.sub, (current) => ({
    pushSubscriptions: withTarget(current.pushSubscriptions, subscription, maxPushSubscriptionsPerUser),
  }));
  return subscription;
}

/** Registers (or refreshes) a mobile device of the caller: an SNS platform endpoint for its token. */
export async function addDevice(deps: PushTargetDeps, caller: Caller, body: DeviceBody): Promise<PushDevice> {
  await getMe(deps, caller);
  let endpointArn: string;
  try {
    endpointArn = await deps.mobile.register(body.platform, body.token, JSON.stringify({ tenantId: caller.tenantId, userId: caller.sub }));
  } catch (error) {
    if ((error as Error).name === 'PlatformNotConfiguredError') {
      throw new ValidationError(`platform ${body.platform} is not configured on this deployment`, {
        details: [{ field: 'platform', message: `has no SNS platform application on this deployment` }],
      });
    }
    if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 400) {
      throw new ValidationError('token was refused by the platform', { details: [{ field: 'token', message: 'was refused by SNS for this platform' }] });
    }
    throw new ServiceUnavailableError('The device could not be registered with the push provider; try again', { cause: error });
  }
  const device: PushDevice = { id: deviceId(body.platform, body.token), platform: body.platform, token: body.token, endpointArn, createdAt: deps.clock.now().toISOString() };
  let dropped: PushDevice[] = [];
  await changeTargets(deps, caller.tenantId, caller.sub, (current) => {
    const devices = withTarget(current.devices, device, maxDevicesPerUser);
    dropped = (current.devices ?? []).filter((d) => !devices.some((kept) => kept.endpointArn === d.endpointArn));
    return { devices };
  });
  // The oldest device pushed out by the limit leaves SNS too; a leftover endpoint only costs nothing.
  await Promise.all(dropped.map((d) => deps.mobile.unregister(d.endpointArn).catch(() => undefined)));
  return device;
}

/** The caller's browser subscriptions and devices. */
export async function listPushTargets(deps: Pick<PushTargetDeps, 'recipients'>, caller: Caller): Promise<{ subscriptions: readonly WebPushSubscription[]; devices: readonly PushDevice[] }> {
  const me = await getMe(deps, caller);
  return { subscriptions: me.pushSubscriptions ?? [], devices: me.devices ?? [] };
}

/** Removes one of the caller's subscriptions; 404 when they have none of that id. */
export async function removePushSubscription(deps: PushTargetDeps, caller: Caller, id: string): Promise<void> {
  await getMe(deps, caller);
  let found = false;
  await changeTargets(deps, caller.tenantId, caller.sub, (current) => {
    const kept = (current.pushSubscriptions ?? []).filter((s) => s.id !== id);
    found = kept.length !== (current.pushSubscriptions ?? []).length;
    return found ? { pushSubscriptions: kept } : undefined;
  });
  if (!found) throw new NotFoundError(`Push subscription ${id} not found`);
}

/** Removes one of the caller's devices and its SNS endpoint; 404 when they have none of that id. */
export async function removeDevice(deps: PushTargetDeps, caller: Caller, id: string): Promise<void> {
  await getMe(deps, caller);
  let removed: PushDevice | undefined;
  await changeTargets(deps, caller.tenantId, caller.sub, (current) => {
    removed = (current.devices ?? []).find((d) => d.id === id);
    return removed ? { devices: (current.devices ?? []).filter((d) => d.id !== id) } : undefined;
  });
  if (!removed) throw new NotFoundError(`Device ${id} not found`);
  await deps.mobile.unregister(removed.endpointArn).catch(() => undefined);
}

/** Forgets targets their services called gone (the push channel's cleaner); a recipient already gone is fine. */
export async function forgetPushTargets(
  deps: Pick<PushTargetDeps, 'recipients' | 'clock'>,
  tenantId: string,
  recipientId: string,
  gone: { readonly subscriptionIds: readonly string[]; readonly deviceIds: readonly string[] },
): Promise<void> {
  await changeTargets(deps, tenantId, recipientId, (current) => {
    const pushSubscriptions = (current.pushSubscriptions ?? []).filter((s) => !gone.subscriptionIds.includes(s.id));
    const devices = (current.devices ?? []).filter((d) => !gone.deviceIds.includes(d.id));
    const changed = pushSubscriptions.length !== (current.pushSubscriptions ?? []).length || devices.length !== (current.devices ?? []).length;
    return changed ? { pushSubscriptions, devices } : undefined;
  });
}
