/**
 * The API documentation of every route of the `api` function, keyed like its route table
 * (functions/api/routes.ts) by `METHOD /path`, naming the very zod schemas its handler parses with.
 * `/openapi.json` and `/docs` are made from it.
 *
 * A route of the app description without an entry here fails test/unit/functions/openapi-document.test.ts
 * (and the document cannot be built): add the entry with the route.
 */
import * as z from 'zod';
import {
  batchUpsertResponseSchema,
  deviceListSchema,
  deviceViewSchema,
  pushSubscriptionListSchema,
  pushSubscriptionViewSchema,
  removedPushTargetSchema,
  vapidPublicKeySchema,
  broadcastPageSchema,
  broadcastRecipientPageSchema,
  broadcastViewSchema,
  cancelledBroadcastResponseSchema,
  cancelledNotificationResponseSchema,
  celeryCancelledResponseSchema,
  celeryScheduledResponseSchema,
  celeryScheduleStatusResponseSchema,
  createdBroadcastResponseSchema,
  erasureReportSchema,
  errorResponseSchema,
  gatewayErrorSchema,
  healthResponseSchema,
  inboxItemReadResponseSchema,
  inboxItemViewSchema,
  inboxPageSchema,
  inboxReadAllResponseSchema,
  metricsReportSchema,
  notificationPageSchema,
  notificationViewSchema,
  openApiDocumentResponseSchema,
  recipientPageSchema,
  recipientViewSchema,
  retriedBroadcastResponseSchema,
  scheduledBroadcastResponseSchema,
  scheduledNotificationsResponseSchema,
  templatePageSchema,
  templatePreviewSchema,
  templateViewSchema,
  unreadCountResponseSchema,
} from '../../shared/domain/response-schemas.ts';
import {
  batchRecipientEntrySchema,
  batchRecipientsBodySchema,
  deviceBodySchema,
  pushSubscriptionBodySchema,
  pushTargetIdSchema,
  broadcastIdSchema,
  celeryScheduleBodySchema,
  createBroadcastBodySchema,
  createNotificationsBodySchema,
  idSchema,
  inboxItemIdSchema,
  listBroadcastRecipientsQuerySchema,
  listBroadcastsQuerySchema,
  listInboxQuerySchema,
  listNotificationsQuerySchema,
  listRecipientsQuerySchema,
  listTemplatesQuerySchema,
  previewTemplateBodySchema,
  putTemplateBodySchema,
  templateIdSchema,
  templateVersionSchema,
  metricsQuerySchema,
  notificationIdSchema,
  putRecipientBodySchema,
  rescheduleNotificationBodySchema,
  retryNotificationBodySchema,
  scheduleBroadcastBodySchema,
  sendNowBodySchema,
  updateMeBodySchema,
  verifyContactBodySchema,
} from '../../shared/domain/schemas.ts';
import type { ApiDescription, RouteDoc } from '../../shared/http/openapi.ts';

const notificationId = { id: notificationIdSchema };
const recipientId = { id: idSchema };
const broadcastId = { id: broadcastIdSchema };

const invisibleNotification = 'No such notification, or the caller may not see it (its recipient, its creator and tenant admins may): never "it exists".';
const managedNotification = 'Only its creator or a tenant admin may change it (its recipient gets 403).';
const managersOnly = 'The caller is neither an admin nor a sender.';
const templateManagersOnly = managersOnly;
const invisibleBroadcast = 'No such broadcast, or another sender created it.';
const scheduleUnavailable = 'The scheduler could not be reached; nothing was changed, repeat the request.';

/** Who the API is, for the document's `info` and `components`. */
export const apiDescription: ApiDescription = {
  title: 'Herald',
  version: '1.0.0',
  description:
    'Schedules notifications and delivers them on time (in-app inbox, WebSocket, email, push, SMS). The tenant always comes from the token. ' +
    'Errors are `{ "error": { "code", "message", "details"? } }`; the gateway answers `{ "message" }` by itself for a missing or invalid token.',
  tags: [
    { name: 'Notifications', description: 'One notification per recipient: schedule, read, list, reschedule, cancel, send now, retry.' },
    { name: 'Broadcasts', description: 'One message to many recipients (a group, the whole tenant, a list), with progress.' },
    { name: 'Recipients', description: "The tenant's directory of recipients (admins and senders)." },
    {
      name: 'Templates',
      description:
        'One message per kind, written once per channel and language in Liquid, rendered at delivery in the recipient\'s locale (admins and senders). A notification or broadcast names one as `template: { id, version?, payload }` instead of `title`/`message`.',
    },
    { name: 'Me', description: "The caller's own record and in-app inbox." },
    { name: 'Metrics', description: 'Counts of notifications and deliveries (admins).' },
    {
      name: 'Celery scheduler compatibility',
      description:
        'The routes of the Celery-based scheduler Herald replaces, answering in its words, so that its clients only change their base URL and token. Their paths end in `/`, as its clients call them (they answer without it too).',
    },
    { name: 'Service', description: 'Health and this documentation (public).' },
  ],
  bearerDescription:
    'A JWT the API Gateway authorizer verifies (issuer, audience, expiry, RS256 signature). Claims: `sub` (the caller), `tenant` (default `default`), `role` (`admin`, `sender`, or none for a plain user). Locally: `npm run token -- --sub <sub> [--role admin|sender] [--tenant <tenant>]`.',
  namedSchemas: {
    Notification: notificationViewSchema,
    NotificationPage: notificationPageSchema,
    Recipient: recipientViewSchema,
    RecipientPage: recipientPageSchema,
    InboxItem: inboxItemViewSchema,
    InboxPage: inboxPageSchema,
    Broadcast: broadcastViewSchema,
    BroadcastPage: broadcastPageSchema,
    BroadcastRecipientPage: broadcastRecipientPageSchema,
    BatchRecipientEntry: batchRecipientEntrySchema,
    Template: templateViewSchema,
    TemplatePreview: templatePreviewSchema,
  },
  errorSchema: errorResponseSchema,
  gatewayErrorSchema,
};

export const routeDocs: Readonly<Record<string, RouteDoc>> = {
  'GET /health': {
    operationId: 'health',
    summary: 'Says the API is up',
    tag: 'Service',
    responses: { 200: { description: 'Up.', schema: healthResponseSchema } },
  },
  'GET /openapi.json': {
    operationId: 'getOpenApiDocument',
    summary: 'This API as an OpenAPI 3.1 document',
    tag: 'Service',
    responses: { 200: { description: 'The document, made from the schemas the API validates with.', schema: openApiDocumentResponseSchema } },
  },
  'GET /docs': {
    operationId: 'getDocsPage',
    summary: 'This API documented for people (HTML)',
    tag: 'Service',
    responses: { 200: { description: 'A self-contained HTML page.', schema: z.string(), contentType: 'text/html' } },
  },

  // ---- Recipients ----
  'PUT /v1/recipients/{id}': {
    operationId: 'putRecipient',
    summary: 'Registers or replaces a recipient',
    description: "Email, time zone and groups become what the body says; the recipient's own channel switches are kept. Admins and senders.",
    tag: 'Recipients',
    pathParameters: recipientId,
    body: putRecipientBodySchema,
    responses: { 200: { description: 'Replaced.', schema: recipientViewSchema }, 201: { description: 'Created.', schema: recipientViewSchema } },
    errors: { 403: managersOnly, 409: 'The recipient kept changing while it was being written; repeat the request.' },
  },
  'GET /v1/recipients/{id}': {
    operationId: 'getRecipient',
    summary: 'Reads a recipient',
    description: 'Admins and senders read anyone of their tenant; a plain user only themself.',
    tag: 'Recipients',
    pathParameters: recipientId,
    responses: { 200: { description: 'The recipient.', schema: recipientViewSchema } },
    errors: { 404: 'No such recipient, or a plain user asked for someone else.' },
  },
  'DELETE /v1/recipients/{id}': {
    operationId: 'eraseRecipient',
    summary: 'Erases a recipient',
    description:
      'Removes the record, group memberships, inbox and connections, and cancels their pending notifications. Repeating it finishes an erasure cut short. Admins and senders.',
    tag: 'Recipients',
    pathParameters: recipientId,
    responses: { 200: { description: 'What was removed.', schema: erasureReportSchema } },
    errors: { 403: managersOnly, 404: 'Nothing of this recipient to erase.', 409: 'The recipient kept changing while it was being erased; repeat the request.' },
  },
  'GET /v1/recipients': {
    operationId: 'listRecipients',
    summary: 'Lists the directory, or one group, in id order',
    description: 'Admins and senders.',
    tag: 'Recipients',
    query: listRecipientsQuerySchema,
    responses: { 200: { description: 'One page.', schema: recipientPageSchema } },
    errors: { 403: managersOnly },
  },
  'POST /v1/recipients/batch': {
    operationId: 'upsertRecipients',
    summary: 'Upserts up to 1,000 recipients',
    description:
      'Each entry (a `BatchRecipientEntry`) stands alone: given fields are set, `null` clears, absent ones are kept; it succeeds or fails by itself. Admins and senders.',
    tag: 'Recipients',
    body: batchRecipientsBodySchema,
    idempotent: true,
    responses: {
      200: { description: 'Every entry was applied.', schema: batchUpsertResponseSchema },
      207: { description: 'Some entries were not applied; `failed` says which and why.', schema: batchUpsertResponseSchema },
    },
    errors: { 403: managersOnly },
  },

  // ---- Templates ----
  'PUT /v1/templates/{id}': {
    operationId: 'putTemplate',
    summary: 'Stores a new version of a template',
    description:
      'Every PUT makes the next version (1 for a new template); older versions stay readable. Each Liquid source is parsed: a syntax error or an unknown filter is a 400 naming its field (`channels.email.html`). Admins and senders.',
    tag: 'Templates',
    pathParameters: { id: templateIdSchema },
    body: putTemplateBodySchema,
    responses: { 201: { description: 'The version stored.', schema: templateViewSchema } },
    errors: { 403: templateManagersOnly, 409: 'The template has the most versions one may keep; delete it and store it again.' },
  },
  'GET /v1/templates': {
    operationId: 'listTemplates',
    summary: "Lists the tenant's templates in id order",
    description: 'Admins and senders.',
    tag: 'Templates',
    query: listTemplatesQuerySchema,
    responses: { 200: { description: 'One page.', schema: templatePageSchema } },
    errors: { 403: templateManagersOnly },
  },
  'GET /v1/templates/{id}': {
    operationId: 'getTemplate',
    summary: 'Reads the latest version of a template',
    description: 'Admins and senders.',
    tag: 'Templates',
    pathParameters: { id: templateIdSchema },
    responses: { 200: { description: 'The latest version.', schema: templateViewSchema } },
    errors: { 403: templateManagersOnly, 404: 'No such template.' },
  },
  'DELETE /v1/templates/{id}': {
    operationId: 'deleteTemplate',
    summary: 'Deletes a template and every version',
    description:
      'Notifications still to be delivered from it fail their channels ("template … no longer exists"). Its version numbers are never reused: stored again, it goes on from the next. Admins and senders.',
    tag: 'Templates',
    pathParameters: { id: templateIdSchema },
    responses: { 200: { description: 'Deleted.', schema: z.strictObject({ id: z.string(), deleted: z.literal(true) }) } },
    errors: { 403: templateManagersOnly, 404: 'No such template.' },
  },
  'GET /v1/templates/{id}/versions/{version}': {
    operationId: 'getTemplateVersion',
    summary: 'Reads one version of a template',
    description: 'Admins and senders.',
    tag: 'Templates',
    pathParameters: { id: templateIdSchema, version: templateVersionSchema },
    responses: { 200: { description: 'That version.', schema: templateViewSchema } },
    errors: { 403: templateManagersOnly, 404: 'No such template, or no such version of it.' },
  },
  'POST /v1/templates/{id}/preview': {
    operationId: 'previewTemplate',
    summary: 'Renders every section of a template without sending',
    description:
      "In `locale`, else the recipient's (`recipientId` also fills `recipient.*`), else the template's default. A section that cannot be rendered is in `failures` with the reason (a missing variable by name); `missingVariables` lists what the payload lacks for any section of any locale; SMS text comes with its segments. Admins and senders.",
    tag: 'Templates',
    pathParameters: { id: templateIdSchema },
    body: previewTemplateBodySchema,
    responses: { 200: { description: 'Every section, rendered.', schema: templatePreviewSchema } },
    errors: { 403: templateManagersOnly, 404: 'No such template (or version), or no such recipient.' },
  },

  // ---- Me ----
  'GET /v1/me': {
    operationId: 'getMe',
    summary: "Reads the caller's own record",
    tag: 'Me',
    responses: { 200: { description: 'The record.', schema: recipientViewSchema } },
    errors: { 404: 'The caller is not in the directory (an admin or sender registers recipients).' },
  },
  'PATCH /v1/me': {
    operationId: 'updateMe',
    summary: "Sets the caller's email, time zone and channel switches",
    description:
      'What the body leaves out is kept; `null` clears. Channel switches are honoured at delivery time. A new `email` is stored unconfirmed (`awaitingVerification`) and sent a code; it receives nothing else until `POST /v1/me/verify` confirms it. Each code counts against the hourly limit of what the caller may send themself.',
    tag: 'Me',
    body: updateMeBodySchema,
    responses: { 200: { description: 'The record as it now is.', schema: recipientViewSchema } },
    errors: {
      404: 'The caller is not in the directory.',
      409: 'The record kept changing while it was being updated; repeat the request.',
      429: 'A new address sends a code, and the codes count against the hourly limit of what the caller may send themself.',
      503: 'The address is saved but its code could not be sent; set it again for a new code.',
    },
  },
  'POST /v1/me/verify': {
    operationId: 'verifyMe',
    summary: 'Confirms an address the caller set, with the code sent there',
    description:
      'An address set with `PATCH /v1/me` receives nothing but a code until it is confirmed here (`awaitingVerification` lists it meanwhile). A code lasts 24 hours and allows 5 wrong tries; each wrong try is recorded.',
    tag: 'Me',
    body: verifyContactBodySchema,
    responses: { 200: { description: 'Confirmed: the record as it now is.', schema: recipientViewSchema } },
    errors: {
      404: 'The caller is not in the directory.',
      409: '`channel` has no address awaiting confirmation.',
    },
  },
  'POST /v1/me/push-subscriptions': {
    operationId: 'addPushSubscription',
    summary: "Registers a browser's push subscription",
    description:
      "The JSON of the browser's `PushSubscription` (W3C Push API), subscribed with the key of `GET /v1/me/push/vapid-public-key`. The `push` channel then sends Web Push (RFC 8030/8291/8292) straight to its push service; a subscription the service calls gone (404, 410) is removed. Registering the same endpoint again replaces it; a user keeps at most 10, the oldest going first.",
    tag: 'Me',
    body: pushSubscriptionBodySchema,
    responses: { 201: { description: 'Registered.', schema: pushSubscriptionViewSchema } },
    errors: { 404: 'The caller is not in the directory.', 409: 'The record kept changing while it was being updated; repeat the request.' },
  },
  'GET /v1/me/push-subscriptions': {
    operationId: 'listPushSubscriptions',
    summary: "Lists the caller's browser push subscriptions",
    tag: 'Me',
    responses: { 200: { description: 'Oldest first.', schema: pushSubscriptionListSchema } },
    errors: { 404: 'The caller is not in the directory.' },
  },
  'DELETE /v1/me/push-subscriptions/{id}': {
    operationId: 'removePushSubscription',
    summary: 'Removes a browser push subscription',
    tag: 'Me',
    pathParameters: { id: pushTargetIdSchema },
    responses: { 200: { description: 'Removed.', schema: removedPushTargetSchema } },
    errors: { 404: 'The caller is not in the directory, or has no subscription of that id.', 409: 'The record kept changing while it was being updated; repeat the request.' },
  },
  'POST /v1/me/devices': {
    operationId: 'addDevice',
    summary: "Registers a mobile device's push token",
    description:
      "An FCM or APNs token, registered as an SNS platform endpoint of the deployment's platform application (CDK context `herald:snsPlatformApplicationArnFcm`, `herald:snsPlatformApplicationArnApns`). A device SNS reports disabled is removed. At most 10 per user, the oldest going first.",
    tag: 'Me',
    body: deviceBodySchema,
    responses: { 201: { description: 'Registered.', schema: deviceViewSchema } },
    errors: {
      404: 'The caller is not in the directory.',
      409: 'The record kept changing while it was being updated; repeat the request.',
      503: 'SNS could not be reached; nothing was registered, repeat the request.',
    },
  },
  'GET /v1/me/devices': {
    operationId: 'listDevices',
    summary: "Lists the caller's mobile devices",
    tag: 'Me',
    responses: { 200: { description: 'Oldest first.', schema: deviceListSchema } },
    errors: { 404: 'The caller is not in the directory.' },
  },
  'DELETE /v1/me/devices/{id}': {
    operationId: 'removeDevice',
    summary: 'Removes a mobile device (and its SNS endpoint)',
    tag: 'Me',
    pathParameters: { id: pushTargetIdSchema },
    responses: { 200: { description: 'Removed.', schema: removedPushTargetSchema } },
    errors: { 404: 'The caller is not in the directory, or has no device of that id.', 409: 'The record kept changing while it was being updated; repeat the request.' },
  },
  'GET /v1/me/push/vapid-public-key': {
    operationId: 'getVapidPublicKey',
    summary: 'The VAPID public key browsers subscribe with',
    tag: 'Me',
    responses: { 200: { description: "The stage's key.", schema: vapidPublicKeySchema } },
  },
  'GET /v1/me/inbox': {
    operationId: 'listInbox',
    summary: "Lists the caller's inbox, newest arrival first",
    tag: 'Me',
    query: listInboxQuerySchema,
    responses: { 200: { description: 'One page.', schema: inboxPageSchema } },
  },
  'GET /v1/me/inbox/unread-count': {
    operationId: 'countUnread',
    summary: "The caller's unread count",
    tag: 'Me',
    responses: { 200: { description: 'The exact count.', schema: unreadCountResponseSchema } },
  },
  'POST /v1/me/inbox/{id}/read': {
    operationId: 'markInboxItemRead',
    summary: 'Marks one inbox item read',
    description: "Again is fine. Every open WebSocket connection of the caller hears `{ \"type\": \"inboxChanged\", \"unread\" }`.",
    tag: 'Me',
    pathParameters: { id: inboxItemIdSchema },
    responses: { 200: { description: 'Read.', schema: inboxItemReadResponseSchema } },
    errors: { 404: "No such item in the caller's inbox." },
  },
  'POST /v1/me/inbox/read-all': {
    operationId: 'markAllInboxRead',
    summary: "Marks every item of the caller's inbox read",
    tag: 'Me',
    responses: { 200: { description: 'How many were marked.', schema: inboxReadAllResponseSchema } },
  },

  // ---- Notifications ----
  'POST /v1/notifications': {
    operationId: 'createNotifications',
    summary: 'Schedules a notification for each recipient',
    description:
      '`scheduledAt` may be up to 5 s in the past (taken as now; omit it to send now) and at most 2 years ahead. A plain user may only notify themself.',
    tag: 'Notifications',
    body: createNotificationsBodySchema,
    idempotent: true,
    responses: { 201: { description: 'Scheduled.', schema: scheduledNotificationsResponseSchema } },
    errors: {
      403: 'A plain user named someone else.',
      404: 'Some recipients are not in the directory (`details.missing`).',
      429: 'A plain user reached the hourly limit of notifications to themself (per user, and per tenant).',
      503: 'The scheduler could not be reached; nothing was created, repeat the request.',
    },
  },
  'GET /v1/notifications': {
    operationId: 'listNotifications',
    summary: 'Lists notifications, newest first',
    description:
      'An admin sees the whole tenant, a sender the ones it created, anyone else the ones addressed to them. `from`/`to` bound the creation time. A page may hold fewer than `limit` items and still have a `nextCursor`.',
    tag: 'Notifications',
    query: listNotificationsQuerySchema,
    responses: { 200: { description: 'One page.', schema: notificationPageSchema } },
  },
  'GET /v1/notifications/{id}': {
    operationId: 'getNotification',
    summary: 'Reads a notification, with each channel’s delivery',
    tag: 'Notifications',
    pathParameters: notificationId,
    responses: { 200: { description: 'The notification.', schema: notificationViewSchema } },
    errors: { 404: invisibleNotification },
  },
  'PATCH /v1/notifications/{id}': {
    operationId: 'rescheduleNotification',
    summary: 'Reschedules a pending notification',
    description: 'Only `scheduledAt` may change; its schedule moves with it. Fields the server owns are refused by name.',
    tag: 'Notifications',
    pathParameters: notificationId,
    body: rescheduleNotificationBodySchema,
    responses: { 200: { description: 'Moved.', schema: notificationViewSchema } },
    errors: { 403: managedNotification, 404: invisibleNotification, 409: 'It is no longer pending.', 503: scheduleUnavailable },
  },
  'DELETE /v1/notifications/{id}': {
    operationId: 'cancelNotification',
    summary: 'Cancels a pending notification',
    description: 'Once this answers, it is never delivered on any channel.',
    tag: 'Notifications',
    pathParameters: notificationId,
    responses: { 200: { description: 'Cancelled.', schema: cancelledNotificationResponseSchema } },
    errors: { 403: managedNotification, 404: invisibleNotification, 409: 'It is no longer pending.' },
  },
  'POST /v1/notifications/{id}/send-now': {
    operationId: 'sendNotificationNow',
    summary: 'Delivers a pending notification now',
    description: 'Its schedule gives way to immediate delivery.',
    tag: 'Notifications',
    pathParameters: notificationId,
    body: sendNowBodySchema,
    bodyOptional: true,
    idempotent: true,
    responses: { 202: { description: 'On its way.', schema: notificationViewSchema } },
    errors: { 403: managedNotification, 404: invisibleNotification, 409: 'It is no longer pending.', 503: scheduleUnavailable },
  },
  'POST /v1/notifications/{id}/retry': {
    operationId: 'retryNotification',
    summary: 'Puts a failed notification back to pending',
    description: 'Delivered after `delayMinutes`; only the channels that failed are tried again.',
    tag: 'Notifications',
    pathParameters: notificationId,
    body: retryNotificationBodySchema,
    bodyOptional: true,
    idempotent: true,
    responses: { 202: { description: 'Pending again.', schema: notificationViewSchema } },
    errors: { 403: managedNotification, 404: invisibleNotification, 409: 'It has not failed.', 503: 'It is pending again but its delivery could not be queued; send-now queues it.' },
  },

  // ---- Metrics ----
  'GET /v1/metrics': {
    operationId: 'getMetrics',
    summary: "Counts of the tenant's notifications and deliveries over the last `period` seconds",
    description: 'Counters are kept per UTC hour: the window starts at the beginning of the hour that holds `now - period`. Admins.',
    tag: 'Metrics',
    query: metricsQuerySchema,
    responses: { 200: { description: 'The counts.', schema: metricsReportSchema } },
    errors: { 403: 'The caller is not an admin.' },
  },

  // ---- Broadcasts ----
  'POST /v1/broadcasts': {
    operationId: 'createBroadcast',
    summary: 'Creates a broadcast: a draft, or scheduled (now when `scheduledAt` is left out)',
    description: 'Admins and senders.',
    tag: 'Broadcasts',
    body: createBroadcastBodySchema,
    idempotent: true,
    responses: { 201: { description: 'Created.', schema: createdBroadcastResponseSchema } },
    errors: { 403: managersOnly, 503: 'The scheduler could not be reached; nothing was created, repeat the request.' },
  },
  'GET /v1/broadcasts': {
    operationId: 'listBroadcasts',
    summary: 'Lists broadcasts, newest first',
    description: 'An admin sees the tenant’s, a sender its own.',
    tag: 'Broadcasts',
    query: listBroadcastsQuerySchema,
    responses: { 200: { description: 'One page (without each message).', schema: broadcastPageSchema } },
    errors: { 403: managersOnly },
  },
  'GET /v1/broadcasts/{id}': {
    operationId: 'getBroadcast',
    summary: 'Reads a broadcast, with its message and progress',
    tag: 'Broadcasts',
    pathParameters: broadcastId,
    responses: { 200: { description: 'The broadcast.', schema: broadcastViewSchema } },
    errors: { 403: managersOnly, 404: invisibleBroadcast },
  },
  'DELETE /v1/broadcasts/{id}': {
    operationId: 'cancelBroadcast',
    summary: 'Cancels a broadcast that has not finished',
    description: 'Nothing more is fanned out or delivered; recipients not yet delivered end `cancelled`.',
    tag: 'Broadcasts',
    pathParameters: broadcastId,
    responses: { 200: { description: 'Cancelled.', schema: cancelledBroadcastResponseSchema } },
    errors: { 403: managersOnly, 404: invisibleBroadcast, 409: 'It has finished, or was cancelled.' },
  },
  'POST /v1/broadcasts/{id}/schedule': {
    operationId: 'scheduleBroadcast',
    summary: 'Schedules a draft',
    description: 'At `scheduledAt`, else at its planned time if still ahead, else now.',
    tag: 'Broadcasts',
    pathParameters: broadcastId,
    body: scheduleBroadcastBodySchema,
    bodyOptional: true,
    responses: { 200: { description: 'Scheduled.', schema: scheduledBroadcastResponseSchema } },
    errors: { 403: managersOnly, 404: invisibleBroadcast, 409: 'It is not a draft.', 503: 'The scheduler could not be reached; it is still a draft.' },
  },
  'POST /v1/broadcasts/{id}/retry': {
    operationId: 'retryBroadcast',
    summary: 'Puts the failed recipients of a finished broadcast back through delivery',
    tag: 'Broadcasts',
    pathParameters: broadcastId,
    responses: { 202: { description: 'Retrying.', schema: retriedBroadcastResponseSchema } },
    errors: { 403: managersOnly, 404: invisibleBroadcast, 409: 'It has not finished, or no recipient failed.' },
  },
  'GET /v1/broadcasts/{id}/recipients': {
    operationId: 'listBroadcastRecipients',
    summary: "Lists a broadcast's recipients and their outcome",
    tag: 'Broadcasts',
    pathParameters: broadcastId,
    query: listBroadcastRecipientsQuerySchema,
    responses: { 200: { description: 'One page.', schema: broadcastRecipientPageSchema } },
    errors: { 403: managersOnly, 404: invisibleBroadcast },
  },

  // ---- Celery scheduler compatibility ----
  'POST /api/notifications/schedule/': {
    operationId: 'celeryScheduleNotifications',
    summary: 'Schedules a notification for each recipient',
    description:
      'As `POST /v1/notifications`, in the Celery scheduler’s words: recipient ids may be numbers, optional fields may be `null`. `scheduled_at` needs an offset (`Z` or `+02:00`).',
    tag: 'Celery scheduler compatibility',
    body: celeryScheduleBodySchema,
    idempotent: true,
    responses: { 201: { description: 'Scheduled.', schema: celeryScheduledResponseSchema } },
    errors: {
      400: '`scheduled_at` is in the past, or `recipients` is empty.',
      403: 'A plain user named someone else.',
      404: 'Some recipients are not in the directory (`details.missing`).',
      429: 'A plain user reached the hourly limit of notifications to themself (per user, and per tenant).',
      503: 'The scheduler could not be reached; nothing was created, repeat the request.',
    },
  },
  'DELETE /api/notifications/{id}/cancel_scheduled/': {
    operationId: 'celeryCancelScheduled',
    summary: 'Cancels a pending notification',
    tag: 'Celery scheduler compatibility',
    pathParameters: { id: z.string().meta({ description: 'A Herald notification id (`ntf_...`); any other id is 404.' }) },
    responses: { 200: { description: 'Cancelled.', schema: celeryCancelledResponseSchema } },
    errors: { 400: '`NOT_PENDING`: it is no longer pending (the Celery scheduler’s 400, where `/v1` says 409).', 403: managedNotification, 404: invisibleNotification },
  },
  'GET /api/notifications/{id}/schedule_status/': {
    operationId: 'celeryScheduleStatus',
    summary: 'Where a notification stands',
    tag: 'Celery scheduler compatibility',
    pathParameters: { id: z.string().meta({ description: 'A Herald notification id (`ntf_...`); any other id is 404.' }) },
    responses: { 200: { description: 'Its status.', schema: celeryScheduleStatusResponseSchema } },
    errors: { 404: invisibleNotification },
  },
};
