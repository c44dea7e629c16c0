/**
 * The route table of the `api` function, keyed by the described route (`METHOD /path`), which is
 * API Gateway's `routeKey` but for paths ending in `/` (lib/http-gateway-routes.ts).
 * test/unit/functions/api-routes.test.ts proves it serves exactly the routes of the app
 * description.
 */
import { json, noBody, noQueryParameters } from '../../shared/http/request.ts';
import type { HttpEvent, HttpRouteHandler } from '../../shared/http/request.ts';
import {
  cancelBroadcastRoute,
  createBroadcastRoute,
  getBroadcastRoute,
  listBroadcastRecipientsRoute,
  listBroadcastsRoute,
  retryBroadcastRoute,
  scheduleBroadcastRoute,
} from './routes/broadcasts.ts';
import { celeryCancelScheduledRoute, celeryScheduleRoute, celeryScheduleStatusRoute } from './routes/celery-scheduler.ts';
import { listDeadLettersRoute, redriveDeadLettersRoute } from './routes/dead-letters.ts';
import { getMetricsRoute } from './routes/metrics.ts';
import { liftSuppressionRoute, listSuppressionsRoute } from './routes/suppressions.ts';
import { createRecurringRoute, deleteRecurringRoute, getRecurringRoute, listRecurringRoute, patchRecurringRoute } from './routes/recurring.ts';
import { getSettingsRoute, getWebhookSecretRoute, putSettingsRoute, rotateWebhookSecretRoute } from './routes/settings.ts';
import { getDocsRoute, getOpenApiRoute } from './routes/openapi.ts';
import {
  cancelNotificationRoute,
  createNotificationsRoute,
  getNotificationRoute,
  listNotificationsRoute,
  rescheduleNotificationRoute,
  retryNotificationRoute,
  sendNotificationNowRoute,
} from './routes/notifications.ts';
import {
  getMeRoute,
  listInboxRoute,
  markAllInboxReadRoute,
  markInboxItemReadRoute,
  unreadCountRoute,
  updateMeRoute,
  verifyMeRoute,
} from './routes/me.ts';
import {
  addDeviceRoute,
  addPushSubscriptionRoute,
  listDevicesRoute,
  listPushSubscriptionsRoute,
  removeDeviceRoute,
  removePushSubscriptionRoute,
  vapidPublicKeyRoute,
} from './routes/push-targets.ts';
import {
  deleteTemplateRoute,
  getTemplateRoute,
  getTemplateVersionRoute,
  listTemplatesRoute,
  previewTemplateRoute,
  putTemplateRoute,
} from './routes/templates.ts';
import {
  batchRecipientsRoute,
  eraseRecipientRoute,
  getRecipientRoute,
  listRecipientsRoute,
  putRecipientRoute,
} from './routes/recipients.ts';

/** A route gets the event and the Lambda context (for what needs the time left, e.g. idempotency locks). */
export type RouteHandler = HttpRouteHandler;

/**
 * The writes of /v1 that read no body: a body other than `{}` is refused with a 400 naming it,
 * rather than ignored while the write goes ahead (test/unit/functions/api-unread-input.test.ts
 * checks this list against the route docs).
 */
export const bodilessWrites: ReadonlySet<string> = new Set([
  'DELETE /v1/recipients/{id}',
  'DELETE /v1/me/push-subscriptions/{id}',
  'DELETE /v1/me/devices/{id}',
  'POST /v1/me/inbox/{id}/read',
  'POST /v1/me/inbox/read-all',
  'DELETE /v1/recurring-notifications/{id}',
  'DELETE /v1/notifications/{id}',
  'DELETE /v1/suppressions/{recipientId}',
  'DELETE /v1/broadcasts/{id}',
  'POST /v1/broadcasts/{id}/retry',
  'POST /v1/admin/dead-letters/{queue}/redrive',
  'DELETE /v1/templates/{id}',
  'POST /v1/settings/webhook-secret/rotate',
]);

/**
 * Refuses what a write of /v1 is sent but does not read: any query string, and the body of one of
 * {@link bodilessWrites} unless it is none or `{}`. Each is a 400 naming it, and nothing is written
 * (`DELETE /v1/recipients/alice?dryRun=true`, `read-all` with `{ "before": ... }`). Reads keep
 * ignoring what they do not read (a browser's cache-busting `?_=`), and the Celery-compatible routes
 * answer as the scheduler they replace did. The api handler runs it before the route.
 */
export function refuseUnreadInput(routeKey: string, event: HttpEvent): void {
  const [method = '', path = ''] = routeKey.split(' ');
  if (method === 'GET' || !path.startsWith('/v1/')) return;
  noQueryParameters(event);
  if (bodilessWrites.has(routeKey)) noBody(event);
}

export const routeHandlers: Readonly<Record<string, RouteHandler>> = {
  'GET /health': async () => json(200, { status: 'ok' }),
  'GET /openapi.json': getOpenApiRoute,
  'GET /docs': getDocsRoute,
  'PUT /v1/recipients/{id}': putRecipientRoute,
  'GET /v1/recipients/{id}': getRecipientRoute,
  'DELETE /v1/recipients/{id}': eraseRecipientRoute,
  'GET /v1/recipients': listRecipientsRoute,
  'POST /v1/recipients/batch': batchRecipientsRoute,
  'GET /v1/me': getMeRoute,
  'PATCH /v1/me': updateMeRoute,
  'POST /v1/me/verify': verifyMeRoute,
  'POST /v1/me/push-subscriptions': addPushSubscriptionRoute,
  'GET /v1/me/push-subscriptions': listPushSubscriptionsRoute,
  'DELETE /v1/me/push-subscriptions/{id}': removePushSubscriptionRoute,
  'POST /v1/me/devices': addDeviceRoute,
  'GET /v1/me/devices': listDevicesRoute,
  'DELETE /v1/me/devices/{id}': removeDeviceRoute,
  'GET /v1/me/push/vapid-public-key': vapidPublicKeyRoute,
  'GET /v1/me/inbox': listInboxRoute,
  'GET /v1/me/inbox/unread-count': unreadCountRoute,
  'POST /v1/me/inbox/{id}/read': markInboxItemReadRoute,
  'POST /v1/me/inbox/read-all': markAllInboxReadRoute,
  'GET /v1/settings': getSettingsRoute,
  'PUT /v1/settings': putSettingsRoute,
  'POST /v1/recurring-notifications': createRecurringRoute,
  'GET /v1/recurring-notifications': listRecurringRoute,
  'GET /v1/recurring-notifications/{id}': getRecurringRoute,
  'PATCH /v1/recurring-notifications/{id}': patchRecurringRoute,
  'DELETE /v1/recurring-notifications/{id}': deleteRecurringRoute,
  'POST /v1/notifications': createNotificationsRoute,
  'GET /v1/notifications': listNotificationsRoute,
  'GET /v1/notifications/{id}': getNotificationRoute,
  'PATCH /v1/notifications/{id}': rescheduleNotificationRoute,
  'DELETE /v1/notifications/{id}': cancelNotificationRoute,
  'POST /v1/notifications/{id}/send-now': sendNotificationNowRoute,
  'POST /v1/notifications/{id}/retry': retryNotificationRoute,
  'GET /v1/metrics': getMetricsRoute,
  'GET /v1/suppressions': listSuppressionsRoute,
  'DELETE /v1/suppressions/{recipientId}': liftSuppressionRoute,
  'GET /v1/settings/webhook-secret': getWebhookSecretRoute,
  'POST /v1/settings/webhook-secret/rotate': rotateWebhookSecretRoute,
  'POST /v1/broadcasts': createBroadcastRoute,
  'GET /v1/broadcasts': listBroadcastsRoute,
  'GET /v1/broadcasts/{id}': getBroadcastRoute,
  'DELETE /v1/broadcasts/{id}': cancelBroadcastRoute,
  'POST /v1/broadcasts/{id}/schedule': scheduleBroadcastRoute,
  'POST /v1/broadcasts/{id}/retry': retryBroadcastRoute,
  'GET /v1/broadcasts/{id}/recipients': listBroadcastRecipientsRoute,
  'GET /v1/admin/dead-letters': listDeadLettersRoute,
  'POST /v1/admin/dead-letters/{queue}/redrive': redriveDeadLettersRoute,
  'PUT /v1/templates/{id}': putTemplateRoute,
  'GET /v1/templates': listTemplatesRoute,
  'GET /v1/templates/{id}': getTemplateRoute,
  'DELETE /v1/templates/{id}': deleteTemplateRoute,
  'GET /v1/templates/{id}/versions/{version}': getTemplateVersionRoute,
  'POST /v1/templates/{id}/preview': previewTemplateRoute,
  'POST /api/notifications/schedule/': celeryScheduleRoute,
  'DELETE /api/notifications/{id}/cancel_scheduled/': celeryCancelScheduledRoute,
  'GET /api/notifications/{id}/schedule_status/': celeryScheduleStatusRoute,
};
