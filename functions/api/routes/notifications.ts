/** Routes of `/v1/notifications`: parse, call the use case, shape the response. */
import { once } from '../../../shared/config.ts';
import { notificationStore, recipientStore, deliveryScheduler, systemClock } from '../../../shared/adapters/dependencies.ts';
import { toNotificationView } from '../../../shared/domain/notification.ts';
import { createNotificationsBodySchema, notificationIdSchema } from '../../../shared/domain/schemas.ts';
import { callerFrom, json, parseBody, pathParameter } from '../../../shared/http/request.ts';
import type { HttpEvent, HttpResult } from '../../../shared/http/request.ts';
import { cancelNotification, getNotification, scheduleNotifications } from '../../../shared/use-cases/notifications.ts';
import type { NotificationDeps } from '../../../shared/use-cases/notifications.ts';

const deps = once(
  (): NotificationDeps => ({
    notifications: notificationStore(),
    recipients: recipientStore(),
    scheduler: deliveryScheduler(),
    clock: systemClock,
  }),
);

/** `POST /v1/notifications` */
export async function createNotificationsRoute(event: HttpEvent): Promise<HttpResult> {
  const caller = callerFrom(event);
  const body = parseBody(event, createNotificationsBodySchema);
  return json(201, await scheduleNotifications(deps(), caller, body));
}

/** `GET /v1/notifications/{id}` */
export async function getNotificationRoute(event: HttpEvent): Promise<HttpResult> {
  const caller = callerFrom(event);
  const id = pathParameter(event, 'id', notificationIdSchema);
  return json(200, toNotificationView(await getNotification(deps(), caller, id)));
}

/** `DELETE /v1/notifications/{id}` */
export async function cancelNotificationRoute(event: HttpEvent): Promise<HttpResult> {
  const caller = callerFrom(event);
  const id = pathParameter(event, 'id', notificationIdSchema);
  const cancelled = await cancelNotification(deps(), caller, id);
  return json(200, { notificationId: cancelled.id, status: cancelled.status });
}
