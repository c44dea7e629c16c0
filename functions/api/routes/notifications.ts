/** Routes of `/v1/notifications`: parse, call the use case, shape the response. */
import { once } from '../../../shared/config.ts';
import { systemClock } from '../../../shared/adapters/dependencies/clock.ts';
import { recipientStore, tenantSettingsStore } from '../../../shared/adapters/dependencies/directory.ts';
import { templateStore } from '../../../shared/adapters/dependencies/templates.ts';
import { createRecords, idempotencyStore } from '../../../shared/adapters/dependencies/idempotency.ts';
import { deliveryScheduler } from '../../../shared/adapters/dependencies/notification-queue.ts';
import { notificationListing, notificationStore } from '../../../shared/adapters/dependencies/notifications.ts';
import { selfSendLimits } from '../../../shared/adapters/dependencies/self-send.ts';
import { deliveryAudienceOf } from '../../../shared/domain/delivery-views.ts';
import { toNotificationView } from '../../../shared/domain/notification.ts';
import type { Notification } from '../../../shared/domain/notification.ts';
import type { Caller } from '../../../shared/domain/caller.ts';
import {
  createNotificationsBodySchema,
  listNotificationsQuerySchema,
  notificationIdSchema,
  rescheduleNotificationBodySchema,
  retryNotificationBodySchema,
  sendNowBodySchema,
} from '../../../shared/domain/schemas.ts';
import { idempotencyKeyOf, idempotent } from '../../../shared/http/idempotency.ts';
import { callerFrom, json, parseBody, pathParameter, queryParameters } from '../../../shared/http/request.ts';
import type { HttpEvent, HttpResult } from '../../../shared/http/request.ts';
import {
  cancelNotification,
  checkManageable,
  checkScheduleNotifications,
  getNotification,
  listNotifications,
  rescheduleNotification,
  retryNotification,
  scheduleNotifications,
  sendNotificationNow,
} from '../../../shared/use-cases/notifications.ts';
import type { NotificationDeps, NotificationListDeps } from '../../../shared/use-cases/notifications.ts';

const deps = once(
  (): NotificationDeps => ({
    notifications: notificationStore(),
    recipients: recipientStore(),
    scheduler: deliveryScheduler(),
    clock: systemClock,
    selfSend: selfSendLimits(),
    tenantSettings: tenantSettingsStore(),
    // Made on first use: only a create naming a template reads it.
    templates: { get: (...args) => templateStore().get(...args) },
    createRecords: createRecords(),
  }),
);
const listDeps = once((): NotificationListDeps => ({ listing: notificationListing() }));

/**
 * How every route here shows a notification to its caller: delivery errors as the provider wrote
 * them for those who run the tenant, as categories for a plain user (shared/domain/delivery-views.ts).
 */
function viewFor(caller: Caller): (n: Notification) => Record<string, unknown> {
  const audience = deliveryAudienceOf(caller);
  return (n) => toNotificationView(n, audience);
}

/** `POST /v1/notifications` (honours `Idempotency-Key`) */
export const createNotificationsRoute = idempotent(
  async (event: HttpEvent): Promise<HttpResult> => {
    const caller = callerFrom(event);
    const body = parseBody(event, createNotificationsBodySchema);
    return json(201, await scheduleNotifications(deps(), caller, body, { idempotency: idempotencyKeyOf(event) }));
  },
  idempotencyStore,
  { precheck: (event) => checkScheduleNotifications(deps(), callerFrom(event), parseBody(event, createNotificationsBodySchema)) },
);

/** `GET /v1/notifications`: newest first, one page at a time. */
export async function listNotificationsRoute(event: HttpEvent): Promise<HttpResult> {
  const caller = callerFrom(event);
  const query = queryParameters(event, listNotificationsQuerySchema);
  const page = await listNotifications(listDeps(), caller, query);
  return json(200, { items: page.items.map(viewFor(caller)), nextCursor: page.nextCursor });
}

/** `GET /v1/notifications/{id}` */
export async function getNotificationRoute(event: HttpEvent): Promise<HttpResult> {
  const caller = callerFrom(event);
  const id = pathParameter(event, 'id', notificationIdSchema);
  return json(200, viewFor(caller)(await getNotification(deps(), caller, id)));
}

/** `PATCH /v1/notifications/{id}`: `{ scheduledAt }` reschedules a pending notification. */
export async function rescheduleNotificationRoute(event: HttpEvent): Promise<HttpResult> {
  const caller = callerFrom(event);
  const id = pathParameter(event, 'id', notificationIdSchema);
  const body = parseBody(event, rescheduleNotificationBodySchema);
  return json(200, viewFor(caller)(await rescheduleNotification(deps(), caller, id, body)));
}

/** `DELETE /v1/notifications/{id}` */
export async function cancelNotificationRoute(event: HttpEvent): Promise<HttpResult> {
  const caller = callerFrom(event);
  const id = pathParameter(event, 'id', notificationIdSchema);
  const cancelled = await cancelNotification(deps(), caller, id);
  return json(200, { notificationId: cancelled.id, status: cancelled.status });
}

/** `POST /v1/notifications/{id}/send-now`: 202, delivery follows at once. */
export const sendNotificationNowRoute = idempotent(
  async (event: HttpEvent): Promise<HttpResult> => {
    const caller = callerFrom(event);
    const id = pathParameter(event, 'id', notificationIdSchema);
    parseBody(event, sendNowBodySchema, { optional: true });
    return json(202, viewFor(caller)(await sendNotificationNow(deps(), caller, id)));
  },
  idempotencyStore,
  {
    precheck: async (event) => {
      const id = pathParameter(event, 'id', notificationIdSchema);
      parseBody(event, sendNowBodySchema, { optional: true });
      await checkManageable(deps(), callerFrom(event), id, 'pending');
    },
  },
);

/** `POST /v1/notifications/{id}/retry`: `{ delayMinutes? }`, 202, delivery follows after the delay. */
export const retryNotificationRoute = idempotent(
  async (event: HttpEvent): Promise<HttpResult> => {
    const caller = callerFrom(event);
    const id = pathParameter(event, 'id', notificationIdSchema);
    const body = parseBody(event, retryNotificationBodySchema, { optional: true });
    return json(202, viewFor(caller)(await retryNotification(deps(), caller, id, body)));
  },
  idempotencyStore,
  {
    precheck: async (event) => {
      const id = pathParameter(event, 'id', notificationIdSchema);
      parseBody(event, retryNotificationBodySchema, { optional: true });
      await checkManageable(deps(), callerFrom(event), id, 'failed');
    },
  },
);
