/**
 * A user's own push targets: browser subscriptions (Web Push) and mobile devices (SNS platform
 * endpoints), kept beside their live state (the inbox table's live item), which every delivery
 * reads anyway. Registering is idempotent (the same endpoint or token is the same target); a user
 * keeps at most 10 of each, the oldest going first. Only people in the directory register targets.
 */
import type { Caller } from '../domain/caller.ts';
import { deviceId, maxDevicesPerUser, maxPushSubscriptionsPerUser, pushEndpointProblem, pushSubscriptionId } from '../domain/push-targets.ts';
import type { PushDevice, WebPushSubscription } from '../domain/push-targets.ts';
import type { DeviceBody, PushSubscriptionBody } from '../domain/schemas.ts';
import { ConflictError, NotFoundError, ServiceUnavailableError, ValidationError } from '../errors.ts';
import type { Clock, DeviceEndpoints, PushSubscriptionOwners, PushTargetList, PushTargetStore, RecipientStore, TargetOwner } from '../ports.ts';
import { logger } from '../observability/logger.ts';
import { getMe } from './me.ts';

export interface PushTargetDeps {
  readonly recipients: RecipientStore;
  readonly targets: PushTargetStore;
  readonly clock: Clock;
  /** The devices' SNS platform endpoints. */
  readonly mobile: DeviceEndpoints;
  /** Which user each browser subscription is registered to. */
  readonly owners: PushSubscriptionOwners;
  /** Whether a plain-http loopback endpoint is allowed (the local stack's push service only). */
  readonly allowHttpLoopback: boolean;
}

/** Whether two owners are the same user of the same tenant. */
function sameOwner(a: TargetOwner | undefined, b: TargetOwner): boolean {
  return a?.tenantId === b.tenantId && a.userId === b.userId;
}

/**
 * Registers (or refreshes) a browser subscription of the caller. A browser keeps its endpoint
 * across sign-outs: when the next user of the browser registers it, it leaves the record of the
 * user who had it (in any tenant), whose notifications would otherwise reach the new user's screen.
 * Its owner record moves to the caller first, in the same write as the previous user's record
 * loses it (so that no death or race between the two can leave it on both), and is read again
 * once the caller's record holds it: when two users register one endpoint at the same time, the
 * one whose owner record was written last keeps it, and the other's request is a 409 with the
 * subscription left off their record. The caller's record is read again last (an erasure racing
 * the registration). Costs 6 DynamoDB calls (3 before owner records), 7 when it takes the
 * subscription over, and one more for each subscription the limit drops.
 * @throws ValidationError (400) naming `endpoint` when it may not be posted to
 * @throws NotFoundError (404) when the caller is not in the directory, or was erased while it ran
 * @throws ConflictError (409) when another user registered the same endpoint at the same time and holds it now
 * @throws ServiceUnavailableError (503) when a lost race's subscription could not be taken off the caller's record
 */
export async function addPushSubscription(deps: PushTargetDeps, caller: Caller, body: PushSubscriptionBody): Promise<WebPushSubscription> {
  const problem = pushEndpointProblem(body.endpoint, deps.allowHttpLoopback);
  if (problem !== undefined) throw new ValidationError(`endpoint ${problem}`, { details: [{ field: 'endpoint', message: problem }] });
  await getMe(deps, caller);
  const owner: TargetOwner = { tenantId: caller.tenantId, userId: caller.sub };
  const subscription: WebPushSubscription = {
    id: pushSubscriptionId(body.endpoint),
    endpoint: body.endpoint,
    keys: { p256dh: body.keys.p256dh, auth: body.keys.auth },
    createdAt: deps.clock.now().toISOString(),
  };
  const claim = await deps.owners.claim(subscription.id, owner);
  if (!claim.claimed) throw new ConflictError('Other users kept registering the same browser subscription at the same time; repeat the request to take it over');
  if (claim.from) {
    logger.info('Browser subscription taken over from its previous user', { tenantId: caller.tenantId, subscriptionId: subscription.id, previousTenantId: claim.from.tenantId });
  }
  const dropped = await deps.targets.add(caller.tenantId, caller.sub, subscription, maxPushSubscriptionsPerUser);
  // Read back once recorded: another user who registered the same endpoint meanwhile wrote the
  // owner record after this request did, and may have cleared the caller's record before this add.
  // Lost, the request leaves the caller's record as it was: without the subscription, with the
  // oldest the limit took off it for this one (its owner record is still the caller's).
  if (!sameOwner(await deps.owners.ownerOf(subscription.id), owner)) {
    await deps.targets.forget(caller.tenantId, caller.sub, [subscription.id]).catch((error: unknown) => {
      throw new ServiceUnavailableError('The browser subscription could not be registered; try again', { cause: error });
    });
    await restoreDropped(deps, caller, dropped, maxPushSubscriptionsPerUser);
    throw new ConflictError('The browser subscription was registered by another user at the same time; repeat the request to take it over');
  }
  // The oldest subscription pushed out by the limit is no longer the caller's. A record left by a
  // failure here misleads nobody (the next to register the endpoint forgets it from a record that
  // no longer has it), but it holds the caller's ids, which their erasure would not find: logged.
  await Promise.all(
    dropped.map((d) =>
      deps.owners.release(d.id, owner).catch((error: unknown) => {
        logger.warn('Could not remove the owner record of a subscription the limit dropped; delete it by hand', { tenantId: caller.tenantId, subscriptionId: d.id, error: error as Error });
      }),
    ),
  );
  // The owner record first: one left by a failure is then still listed on the item, where a repeated erasure finds it.
  await stillInDirectory(deps, caller, async () => {
    await deps.owners.release(subscription.id, owner);
    await deps.targets.forget(caller.tenantId, caller.sub, [subscription.id]);
  });
  return subscription;
}

/**
 * Puts back on the caller's record the targets the limit took off it for a registration that then
 * lost its race (409): each as it was, created when it was, so the record reads as before the
 * request. A failure is logged, and the 409 still answered: the targets are the ones a successful
 * registration would have dropped, and registering again brings their record back in order.
 */
async function restoreDropped(deps: Pick<PushTargetDeps, 'targets'>, caller: Caller, dropped: readonly (WebPushSubscription | PushDevice)[], max: number): Promise<void> {
  for (const target of dropped) {
    await deps.targets.add(caller.tenantId, caller.sub, target, max).catch((error: unknown) => {
      logger.warn('Could not put back a push target the limit dropped for a registration that lost its race', { tenantId: caller.tenantId, targetId: target.id, error: error as Error });
    });
  }
}

/**
 * Reads the caller's record again once a target is recorded: an erasure that ran since the first
 * read (it removes the record first) has not seen the target, which the caller's record must not
 * keep, with their ids, past it. Then `undo` takes it back, and the request is the 404 it would
 * have been a moment later. An undo that fails is logged: the target is on the erased user's live
 * item, where repeating the erasure finds it and removes it.
 * @throws NotFoundError (404) when the caller was erased meanwhile
 */
async function stillInDirectory(deps: Pick<PushTargetDeps, 'recipients'>, caller: Caller, undo: () => Promise<void>): Promise<void> {
  try {
    await getMe(deps, caller);
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error;
    await undo().catch((cause: unknown) => {
      logger.error('A push target registered as its user was erased could not be taken back; repeat the erasure', { tenantId: caller.tenantId, error: cause as Error });
    });
    throw error;
  }
}

/** Whose an SNS endpoint is (its `CustomUserData`): the tenant and the user who registered it. */
function endpointOwner(caller: Caller): string {
  return JSON.stringify({ tenantId: caller.tenantId, userId: caller.sub });
}

/**
 * The user an endpoint's `CustomUserData` names when it is another than `tenantId`/`userId`;
 * undefined when it names them, or is not data Herald wrote.
 */
function otherOwner(userData: string | undefined, tenantId: string, userId: string): { readonly tenantId: string; readonly userId: string } | undefined {
  let owner: { tenantId?: unknown; userId?: unknown };
  try {
    owner = JSON.parse(userData ?? '') as typeof owner;
  } catch {
    return undefined;
  }
  if (typeof owner.tenantId !== 'string' || typeof owner.userId !== 'string') return undefined;
  return owner.tenantId === tenantId && owner.userId === userId ? undefined : { tenantId: owner.tenantId, userId: owner.userId };
}

/**
 * Deletes the SNS endpoint of a device on `tenantId`/`userId`'s record, unless it is gone or its
 * `CustomUserData` names another user: the device moved to them (a sign-in on the phone racing
 * this), and the endpoint is theirs. Resolves whether it deleted it.
 */
export async function unregisterOwnEndpoint(mobile: Pick<DeviceEndpoints, 'read' | 'unregister'>, endpointArn: string, tenantId: string, userId: string): Promise<boolean> {
  const endpoint = await mobile.read(endpointArn);
  if (!endpoint || otherOwner(endpoint.userData, tenantId, userId)) return false;
  await mobile.unregister(endpointArn);
  return true;
}

/** The 503 of a registration that SNS, or a record, did not complete: nothing is kept, and repeating it is safe. */
function notRegistered(cause: unknown): ServiceUnavailableError {
  return new ServiceUnavailableError('The device could not be registered with the push provider; try again', { cause });
}

/** The errors with which SNS refuses a parameter of CreatePlatformEndpoint (`InvalidParameter`, or the common `InvalidParameterValue`). */
const tokenRefusals: ReadonlySet<string> = new Set(['InvalidParameterException', 'InvalidParameterValue']);

/** What SNS's answer to registering a device means for the caller: 400 naming the field, or 503. */
function registrationError(error: unknown, platform: DeviceBody['platform']): Error {
  if ((error as Error).name === 'PlatformNotConfiguredError') {
    return new ValidationError(`platform ${platform} is not configured on this deployment`, {
      details: [{ field: 'platform', message: 'has no SNS platform application on this deployment' }],
    });
  }
  // SNS's refusal of a parameter (the token: malformed, or too long for the platform). Its other
  // 400s say nothing of the token: throttling (a common error, 400 in SNS's query protocol), an
  // expired request, an application whose FCM or APNs credentials were refused: worth repeating.
  if (tokenRefusals.has((error as Error).name)) {
    return new ValidationError('token was refused by the platform', { details: [{ field: 'token', message: 'was refused by SNS for this platform' }] });
  }
  return notRegistered(error);
}

/**
 * Registers (or refreshes) a mobile device of the caller: an SNS platform endpoint for its token,
 * made to deliver to it for the caller, as SNS's "Creating a platform endpoint" recommends: an
 * endpoint that existed is enabled again (an app reinstalled after FCM or APNs called the token
 * invalid) and, when another user had registered the token (one phone, a sign-out and another's
 * sign-in), taken over; that user's record loses the device first, so that their notifications
 * stop reaching it, whichever tenant they are in.
 * @throws NotFoundError (404) when the caller is not in the directory, or was erased while it ran (the device then taken back, its endpoint deleted)
 * @throws ValidationError (400) naming `platform` when it has no SNS application here, `token` when SNS refuses it
 * @throws ServiceUnavailableError (503) when SNS, or the previous owner's record, could not be reached: repeating it is safe
 * @throws ConflictError (409) when another user registered the same token at the same time and took the endpoint: it is not recorded for the caller
 */
export async function addDevice(deps: PushTargetDeps, caller: Caller, body: DeviceBody): Promise<PushDevice> {
  await getMe(deps, caller);
  const owner = endpointOwner(caller);
  const id = deviceId(body.platform, body.token);
  const endpoint = await deps.mobile.register(body.platform, body.token, owner).catch((error: unknown) => {
    throw registrationError(error, body.platform);
  });
  if (!endpoint.enabled || endpoint.token !== body.token || endpoint.userData !== owner) {
    try {
      const theirs = otherOwner(endpoint.userData, caller.tenantId, caller.sub);
      if (theirs) await deps.targets.forget(theirs.tenantId, theirs.userId, [id]);
      await deps.mobile.claim(endpoint.endpointArn, body.token, owner);
      // Again once the endpoint is the caller's: a registration of theirs racing this one, which
      // found the endpoint still theirs, may have added the device back since the first forget (it
      // reads the endpoint after its add, below, so it either sees the claim or added before now).
      if (theirs) {
        await deps.targets.forget(theirs.tenantId, theirs.userId, [id]);
        logger.info('Device taken over from its previous user', { tenantId: caller.tenantId, deviceId: id, previousTenantId: theirs.tenantId });
      }
    } catch (error) {
      throw notRegistered(error);
    }
  }
  const device: PushDevice = { id, platform: body.platform, token: body.token, endpointArn: endpoint.endpointArn, createdAt: deps.clock.now().toISOString() };
  const dropped = await deps.targets.add(caller.tenantId, caller.sub, device, maxDevicesPerUser);
  // Read back once recorded: another user who registered the same token meanwhile (the phone
  // signed out and in again) may have claimed the endpoint since it was read above. Kept then, the
  // record would send this user's notifications to that user's phone, and their erasure or removal
  // of it would delete the endpoint the other user now holds. Lost, the request leaves the caller's
  // record as it was: without the device, with the oldest the limit took off it for this one.
  const now = await deps.mobile.read(endpoint.endpointArn).catch((error: unknown) => {
    throw notRegistered(error);
  });
  if (now?.userData !== owner) {
    await deps.targets.forget(caller.tenantId, caller.sub, [id]).catch((error: unknown) => {
      throw notRegistered(error);
    });
    await restoreDropped(deps, caller, dropped, maxDevicesPerUser);
    throw new ConflictError('The device was registered by another user at the same time; repeat the request to take it over');
  }
  // The oldest device pushed out by the limit leaves SNS too, once this one is the caller's for
  // good; a leftover endpoint (a failure here) costs nothing.
  await Promise.all(dropped.map((d) => ('endpointArn' in d ? unregisterOwnEndpoint(deps.mobile, d.endpointArn, caller.tenantId, caller.sub).catch(() => undefined) : undefined)));
  // The endpoint first, as erasure deletes it: one left by a failure is still listed where a repeated erasure finds it.
  await stillInDirectory(deps, caller, async () => {
    await unregisterOwnEndpoint(deps.mobile, endpoint.endpointArn, caller.tenantId, caller.sub);
    await deps.targets.forget(caller.tenantId, caller.sub, [id]);
  });
  return device;
}

/** The caller's browser subscriptions and devices, oldest first. */
export async function listPushTargets(deps: Pick<PushTargetDeps, 'recipients' | 'targets'>, caller: Caller): Promise<PushTargetList> {
  await getMe(deps, caller);
  return deps.targets.list(caller.tenantId, caller.sub);
}

/**
 * Removes one of the caller's subscriptions (with its owner record, first) or devices (and a
 * device's SNS endpoint, unless another user holds it now); 404 when they have none of that id.
 */
export async function removePushTarget(deps: PushTargetDeps, caller: Caller, kind: 'subscription' | 'device', id: string): Promise<void> {
  await getMe(deps, caller);
  const prefix = kind === 'subscription' ? 'ps_' : 'dv_';
  // A subscription's owner record first (it names the caller): if it cannot be removed, nothing is,
  // and repeating the request is safe. Only for one the caller has: a 404 writes nothing.
  if (kind === 'subscription' && id.startsWith(prefix) && (await deps.targets.list(caller.tenantId, caller.sub)).subscriptions.some((s) => s.id === id)) {
    await deps.owners.release(id, { tenantId: caller.tenantId, userId: caller.sub });
  }
  const removed = id.startsWith(prefix) ? await deps.targets.remove(caller.tenantId, caller.sub, id) : undefined;
  if (!removed) throw new NotFoundError(`${kind === 'subscription' ? 'Push subscription' : 'Device'} ${id} not found`);
  if ('endpointArn' in removed) await unregisterOwnEndpoint(deps.mobile, removed.endpointArn, caller.tenantId, caller.sub).catch(() => undefined);
}
