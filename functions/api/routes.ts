/**
 * The route table of the `api` function, keyed by the described route (`METHOD /path`), which is
 * API Gateway's `routeKey` but for paths ending in `/` (lib/http-gateway-routes.ts).
 * test/unit/functions/api-routes.test.ts proves it serves exactly the routes of the app
 * description.
 */
import { json, noBody, noQueryParameters } from '../../shared/http/request.ts';
import type { HttpEvent, HttpRouteHandler } from '../../shared/http/request.ts';

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

/** `GET /health`: up, whatever else is. */
const healthRoute: RouteHandler = async () => json(200, { status: 'ok' });

// Each route group's module, imported on the first request for one of its routes. In the bundle
// each is a chunk of its own (lib/constructs/herald-function.ts), so a cold start loads none of
// them and the first request loads only its group's (and what that group alone uses: the SES v2
// client for /v1/metrics, liquidjs for the templates, croner for the recurring notifications).
const broadcastsRoutes = () => import('./routes/broadcasts.ts');
const celerySchedulerRoutes = () => import('./routes/celery-scheduler.ts');
const deadLettersRoutes = () => import('./routes/dead-letters.ts');
const metricsRoutes = () => import('./routes/metrics.ts');
const suppressionsRoutes = () => import('./routes/suppressions.ts');
const recurringRoutes = () => import('./routes/recurring.ts');
const settingsRoutes = () => import('./routes/settings.ts');
const openapiRoutes = () => import('./routes/openapi.ts');
const notificationsRoutes = () => import('./routes/notifications.ts');
const meRoutes = () => import('./routes/me.ts');
const pushTargetsRoutes = () => import('./routes/push-targets.ts');
const templatesRoutes = () => import('./routes/templates.ts');
const recipientsRoutes = () => import('./routes/recipients.ts');

/**
 * The handler of each described route (`METHOD /path`), loaded with its group's module on the
 * first request that reaches it; later requests find the module loaded. Rejects only if the module
 * cannot be loaded.
 */
export const routeLoaders: Readonly<Record<string, () => Promise<RouteHandler>>> = {
  'GET /health': async () => healthRoute,
  'GET /openapi.json': async () => (await openapiRoutes()).getOpenApiRoute,
  'GET /docs': async () => (await openapiRoutes()).getDocsRoute,
  'PUT /v1/recipients/{id}': async () => (await recipientsRoutes()).putRecipientRoute,
  'GET /v1/recipients/{id}': async () => (await recipientsRoutes()).getRecipientRoute,
  'DELETE /v1/recipients/{id}': async () => (await recipientsRoutes()).eraseRecipientRoute,
  'GET /v1/recipients': async () => (await recipientsRoutes()).listRecipientsRoute,
  'POST /v1/recipients/batch': async () => (await recipientsRoutes()).batchRecipientsRoute,
  'GET /v1/me': async () => (await meRoutes()).getMeRoute,
  'PATCH /v1/me': async () => (await meRoutes()).updateMeRoute,
  'POST /v1/me/verify': async () => (await meRoutes()).verifyMeRoute,
  'POST /v1/me/push-subscriptions': async () => (await pushTargetsRoutes()).addPushSubscriptionRoute,
  'GET /v1/me/push-subscriptions': async () => (await pushTargetsRoutes()).listPushSubscriptionsRoute,
  'DELETE /v1/me/push-subscriptions/{id}': async () => (await pushTargetsRoutes()).removePushSubscriptionRoute,
  'POST /v1/me/devices': async () => (await pushTargetsRoutes()).addDeviceRoute,
  'GET /v1/me/devices': async () => (await pushTargetsRoutes()).listDevicesRoute,
  'DELETE /v1/me/devices/{id}': async () => (await pushTargetsRoutes()).removeDeviceRoute,
  'GET /v1/me/push/vapid-public-key': async () => (await pushTargetsRoutes()).vapidPublicKeyRoute,
  'GET /v1/me/inbox': async () => (await meRoutes()).listInboxRoute,
  'GET /v1/me/inbox/unread-count': async () => (await meRoutes()).unreadCountRoute,
  'POST /v1/me/inbox/{id}/read': async () => (await meRoutes()).markInboxItemReadRoute,
  'POST /v1/me/inbox/read-all': async () => (await meRoutes()).markAllInboxReadRoute,
  'GET /v1/settings': async () => (await settingsRoutes()).getSettingsRoute,
  'PUT /v1/settings': async () => (await settingsRoutes()).putSettingsRoute,
  'POST /v1/recurring-notifications': async () => (await recurringRoutes()).createRecurringRoute,
  'GET /v1/recurring-notifications': async () => (await recurringRoutes()).listRecurringRoute,
  'GET /v1/recurring-notifications/{id}': async () => (await recurringRoutes()).getRecurringRoute,
  'PATCH /v1/recurring-notifications/{id}': async () => (await recurringRoutes()).patchRecurringRoute,
  'DELETE /v1/recurring-notifications/{id}': async () => (await recurringRoutes()).deleteRecurringRoute,
  'POST /v1/notifications': async () => (await notificationsRoutes()).createNotificationsRoute,
  'GET /v1/notifications': async () => (await notificationsRoutes()).listNotificationsRoute,
  'GET /v1/notifications/{id}': async () => (await notificationsRoutes()).getNotificationRoute,
  'PATCH /v1/notifications/{id}': async () => (await notificationsRoutes()).rescheduleNotificationRoute,
  'DELETE /v1/notifications/{id}': async () => (await notificationsRoutes()).cancelNotificationRoute,
  'POST /v1/notifications/{id}/send-now': async () => (await notificationsRoutes()).sendNotificationNowRoute,
  'POST /v1/notifications/{id}/retry': async () => (await notificationsRoutes()).retryNotificationRoute,
  'GET /v1/metrics': async () => (await metricsRoutes()).getMetricsRoute,
  'GET /v1/suppressions': async () => (await suppressionsRoutes()).listSuppressionsRoute,
  'DELETE /v1/suppressions/{recipientId}': async () => (await suppressionsRoutes()).liftSuppressionRoute,
  'GET /v1/settings/webhook-secret': async () => (await settingsRoutes()).getWebhookSecretRoute,
  'POST /v1/settings/webhook-secret/rotate': async () => (await settingsRoutes()).rotateWebhookSecretRoute,
  'POST /v1/broadcasts': async () => (await broadcastsRoutes()).createBroadcastRoute,
  'GET /v1/broadcasts': async () => (await broadcastsRoutes()).listBroadcastsRoute,
  'GET /v1/broadcasts/{id}': async () => (await broadcastsRoutes()).getBroadcastRoute,
  'DELETE /v1/broadcasts/{id}': async () => (await broadcastsRoutes()).cancelBroadcastRoute,
  'POST /v1/broadcasts/{id}/schedule': async () => (await broadcastsRoutes()).scheduleBroadcastRoute,
  'POST /v1/broadcasts/{id}/retry': async () => (await broadcastsRoutes()).retryBroadcastRoute,
  'GET /v1/broadcasts/{id}/recipients': async () => (await broadcastsRoutes()).listBroadcastRecipientsRoute,
  'GET /v1/admin/dead-letters': async () => (await deadLettersRoutes()).listDeadLettersRoute,
  'POST /v1/admin/dead-letters/{queue}/redrive': async () => (await deadLettersRoutes()).redriveDeadLettersRoute,
  'PUT /v1/templates/{id}': async () => (await templatesRoutes()).putTemplateRoute,
  'GET /v1/templates': async () => (await templatesRoutes()).listTemplatesRoute,
  'GET /v1/templates/{id}': async () => (await templatesRoutes()).getTemplateRoute,
  'DELETE /v1/templates/{id}': async () => (await templatesRoutes()).deleteTemplateRoute,
  'GET /v1/templates/{id}/versions/{version}': async () => (await templatesRoutes()).getTemplateVersionRoute,
  'POST /v1/templates/{id}/preview': async () => (await templatesRoutes()).previewTemplateRoute,
  'POST /api/notifications/schedule/': async () => (await celerySchedulerRoutes()).celeryScheduleRoute,
  'DELETE /api/notifications/{id}/cancel_scheduled/': async () => (await celerySchedulerRoutes()).celeryCancelScheduledRoute,
  'GET /api/notifications/{id}/schedule_status/': async () => (await celerySchedulerRoutes()).celeryScheduleStatusRoute,
};
