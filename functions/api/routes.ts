/**
 * The route table of the `api` function, keyed by API Gateway's `routeKey` (`METHOD /path`).
 * test/unit/functions/api-routes.test.ts proves it serves exactly the routes of the app
 * description.
 */
import { json } from '../../shared/http/request.ts';
import type { HttpEvent, HttpResult } from '../../shared/http/request.ts';
import { cancelNotificationRoute, createNotificationsRoute, getNotificationRoute } from './routes/notifications.ts';
import { getRecipientRoute, putRecipientRoute } from './routes/recipients.ts';

export type RouteHandler = (event: HttpEvent) => Promise<HttpResult>;

export const routeHandlers: Readonly<Record<string, RouteHandler>> = {
  'GET /health': async () => json(200, { status: 'ok' }),
  'PUT /v1/recipients/{id}': putRecipientRoute,
  'GET /v1/recipients/{id}': getRecipientRoute,
  'POST /v1/notifications': createNotificationsRoute,
  'GET /v1/notifications/{id}': getNotificationRoute,
  'DELETE /v1/notifications/{id}': cancelNotificationRoute,
};
