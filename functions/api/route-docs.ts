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
  deadLetterQueuesResponseSchema,
  deadLetterRedriveResponseSchema,
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
  diagnosticNotificationViewSchema,
  recipientNotificationViewSchema,
  deliveryErrorCategorySchema,
  openApiDocumentResponseSchema,
  recipientPageSchema,
  recipientViewSchema,
  retriedBroadcastResponseSchema,
  scheduledBroadcastResponseSchema,
  scheduledNotificationsResponseSchema,
  tenantSettingsViewSchema,
  recurringPageSchema,
  recurringViewSchema,
  endedRecurringResponseSchema,
  templatePageSchema,
  templatePreviewSchema,
  templateViewSchema,
  unreadCountResponseSchema,
  webhookSecretViewSchema,
} from '../../shared/domain/response-schemas.ts';
import {
  batchRecipientEntrySchema,
  batchRecipientsBodySchema,
  deviceBodySchema,
  pushSubscriptionBodySchema,
  pushTargetIdSchema,
  maxBatchRecipients,
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
  listSuppressionsQuerySchema,
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
  tenantSettingsBodySchema,
  createRecurringBodySchema,
  listRecurringQuerySchema,
  patchRecurringBodySchema,
  recurringIdSchema,
  updateMeBodySchema,
  verifyContactBodySchema,
} from '../../shared/domain/schemas.ts';
import type { ApiDescription, RouteDoc } from '../../shared/http/openapi.ts';
import { deadLetterQueueNameSchema } from './routes/dead-letter-queue-name.ts';
import { docsQuerySchema } from './routes/openapi.ts';

/**
 * 09:00 UTC a week after this module loaded (the first docs request of a cold start): the time of
 * the examples that schedule, computed so that an example sent from the interactive docs is never
 * in the past nor beyond the two-year horizon.
 */
const nextWeekAt9Utc = new Date(Math.floor(Date.now() / 86_400_000) * 86_400_000 + 7 * 86_400_000 + 9 * 3_600_000).toISOString();

const notificationId = { id: notificationIdSchema };
const recipientId = { id: idSchema };
const recurringId = { id: recurringIdSchema };
const broadcastId = { id: broadcastIdSchema };

const invisibleNotification = 'No such notification, or the caller may not see it (its recipient, its creator and tenant admins may): never "it exists".';
const managedNotification = 'Only its creator or a tenant admin may change it (its recipient gets 403).';
const managersOnly = 'The caller is neither an admin nor a sender.';
const templateManagersOnly = managersOnly;
const invisibleBroadcast = 'No such broadcast, or another sender created it.';
const operatorsOnly = 'The caller is not an operator.';
const scheduleUnavailable = 'The scheduler could not be reached; nothing was changed, repeat the request.';
const scheduleNotificationsUnavailable =
  'The scheduler could not be reached; nothing was created, repeat the request. Unless some were already delivered or being delivered ' +
  '(`details.delivered`: `[{ notificationId, recipientId }]`): the others were withdrawn, and a repeat with the same `Idempotency-Key` completes the ' +
  'create without delivering those twice; without a key, leave their recipients out.';

/** Who the API is, for the document's `info` and `components`. */
export const apiDescription: ApiDescription = {
  title: 'Herald',
  version: '1.0.0',
  description:
    'Schedules notifications and delivers them on time (in-app inbox, WebSocket, email, push, SMS, Telegram, webhooks). The tenant always comes from the token. ' +
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
    { name: 'Suppressions', description: 'E-mail addresses SES reported bounced or complained of, which Herald no longer sends to (admins).' },
    { name: 'Recurring notifications', description: 'A notification (or a broadcast) on a cron or rate schedule in a time zone; see docs/time.md.' },
    { name: 'Settings', description: "The tenant's settings (admins): its default time zone and quiet hours (docs/time.md), and the secret its webhooks are signed with." },
    {
      name: 'Celery scheduler compatibility',
      description:
        'The routes of the Celery-based scheduler Herald replaces, answering in its words, so that its clients only change their base URL and token. Their paths end in `/`, as its clients call them (they answer without it too).',
    },
    { name: 'Operations', description: 'The deployment’s dead-letter queues, shared by every tenant (operators).' },
    { name: 'Service', description: 'Health and this documentation (public).' },
  ],
  bearerDescription:
    'A JWT the API Gateway authorizer verifies (issuer, audience, expiry, RS256 signature). Claims: `sub` (the caller), the tenant and the roles (`admin`, `sender`, `operator`, several as an array, or none for a plain user) under the claim names the deployment sets (`tenant` and `role` by default; a token without a tenant is refused unless the deployment is single-tenant). Locally: `npm run token -- --sub <sub> [--role admin|sender|operator] [--tenant <tenant>]`.',
  namedSchemas: {
    Notification: notificationViewSchema,
    NotificationWithDiagnostics: diagnosticNotificationViewSchema,
    NotificationForRecipient: recipientNotificationViewSchema,
    DeliveryErrorCategory: deliveryErrorCategorySchema,
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
    example: {},
    responses: { 200: { description: 'Up.', schema: healthResponseSchema } },
  },
  'GET /openapi.json': {
    operationId: 'getOpenApiDocument',
    summary: 'This API as an OpenAPI 3.1 document',
    tag: 'Service',
    example: {},
    responses: { 200: { description: 'The document, made from the schemas the API validates with.', schema: openApiDocumentResponseSchema } },
  },
  'GET /docs': {
    operationId: 'getDocsPage',
    summary: 'This API documented for people (HTML)',
    description: 'The plain reference loads nothing else; `view=try` is the interactive one (Scalar, from jsDelivr with Subresource Integrity), which sends requests with your token.',
    tag: 'Service',
    example: { query: { view: 'try' } },
    query: docsQuerySchema,
    responses: { 200: { description: 'An HTML page.', schema: z.string(), contentType: 'text/html' } },
  },

  // ---- Recipients ----
  'PUT /v1/recipients/{id}': {
    operationId: 'putRecipient',
    summary: 'Registers or replaces a recipient',
    description:
      "Email, Telegram chat, webhook URL, locale, time zone and groups become what the body says; the recipient's own channel and type switches are kept. Addresses set here are trusted (no confirmation). Admins and senders.",
    tag: 'Recipients',
    example: { path: { id: 'alice' }, body: { email: 'alice@example.com', timezone: 'Europe/Paris', groups: ['staff'] } },
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
    example: { path: { id: 'alice' } },
    pathParameters: recipientId,
    responses: { 200: { description: 'The recipient.', schema: recipientViewSchema } },
    errors: { 404: 'No such recipient, or a plain user asked for someone else.' },
  },
  'DELETE /v1/recipients/{id}': {
    operationId: 'eraseRecipient',
    summary: 'Erases a recipient',
    description:
      "Removes the record, group memberships, inbox, connections (closing their open WebSockets) and push targets (deleting each device's SNS platform endpoint, which holds its token and the recipient's ids), and cancels their pending notifications. Repeating it finishes an erasure cut short. Admins and senders.",
    tag: 'Recipients',
    example: { path: { id: 'alice' } },
    pathParameters: recipientId,
    responses: { 200: { description: 'What was removed.', schema: erasureReportSchema } },
    errors: {
      403: managersOnly,
      404: 'Nothing of this recipient to erase.',
      409: 'The recipient kept changing while it was being erased; repeat the request.',
      503: "SNS did not delete a device's endpoint: the inbox and the push targets are kept; repeat the request to finish.",
    },
  },
  'GET /v1/recipients': {
    operationId: 'listRecipients',
    summary: 'Lists the directory, or one group, in id order',
    description: 'Admins and senders.',
    tag: 'Recipients',
    example: { query: { group: 'staff', limit: '50' } },
    query: listRecipientsQuerySchema,
    responses: { 200: { description: 'One page.', schema: recipientPageSchema } },
    errors: { 403: managersOnly },
  },
  'POST /v1/recipients/batch': {
    operationId: 'upsertRecipients',
    summary: `Upserts up to ${maxBatchRecipients} recipients`,
    description:
      'Each entry (a `BatchRecipientEntry`) stands alone: given fields are set, `null` clears, absent ones are kept; it succeeds or fails by itself. Admins and senders.',
    tag: 'Recipients',
    example: { body: { recipients: [{ id: 'alice', email: 'alice@example.com', groups: ['staff'] }, { id: 'bob', timezone: 'America/New_York' }] } },
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
      'Every PUT makes the next version (1 for a new template); older versions stay readable, and a retry with the same `Idempotency-Key` answers with the version the first made instead of making another. Each Liquid source is parsed: a syntax error or an unknown filter is a 400 naming its field (`channels.email.html`). Admins and senders.',
    tag: 'Templates',
    pathParameters: { id: templateIdSchema },
    body: putTemplateBodySchema,
    idempotent: true,
    responses: { 201: { description: 'The version stored.', schema: templateViewSchema } },
    errors: { 403: templateManagersOnly, 409: 'The template has the most versions one may keep; delete it and store it again.' },
    example: {
      path: { id: 'invoice' },
      body: { description: 'Invoice ready', channels: { inbox: { title: 'Invoice {{ number }}', message: 'Your invoice of {{ amount }} is ready' }, email: { subject: 'Invoice {{ number }}', html: '<p>Your invoice of <b>{{ amount }}</b> is ready</p>' } }, locales: { fr: { inbox: { title: 'Facture {{ number }}', message: 'Votre facture de {{ amount }} est prête' } } }, defaultLocale: 'en' },
    },
  },
  'GET /v1/templates': {
    operationId: 'listTemplates',
    summary: "Lists the tenant's templates in id order",
    description: 'Admins and senders.',
    tag: 'Templates',
    query: listTemplatesQuerySchema,
    responses: { 200: { description: 'One page.', schema: templatePageSchema } },
    errors: { 403: templateManagersOnly },
    example: { query: { limit: '20' } },
  },
  'GET /v1/templates/{id}': {
    operationId: 'getTemplate',
    summary: 'Reads the latest version of a template',
    description: 'Admins and senders.',
    tag: 'Templates',
    pathParameters: { id: templateIdSchema },
    responses: { 200: { description: 'The latest version.', schema: templateViewSchema } },
    errors: { 403: templateManagersOnly, 404: 'No such template.' },
    example: { path: { id: 'invoice' } },
  },
  'DELETE /v1/templates/{id}': {
    operationId: 'deleteTemplate',
    summary: 'Deletes a template and every version',
    description:
      'Notifications and broadcasts still to be delivered from it fail their channels ("template … no longer exists"), also after a new template is stored under the id. Its version numbers are never reused: stored again, it goes on from the next. Admins and senders.',
    tag: 'Templates',
    pathParameters: { id: templateIdSchema },
    responses: { 200: { description: 'Deleted.', schema: z.strictObject({ id: z.string(), deleted: z.literal(true) }) } },
    errors: { 403: templateManagersOnly, 404: 'No such template.' },
    example: { path: { id: 'invoice' } },
  },
  'GET /v1/templates/{id}/versions/{version}': {
    operationId: 'getTemplateVersion',
    summary: 'Reads one version of a template',
    description: 'Admins and senders.',
    tag: 'Templates',
    pathParameters: { id: templateIdSchema, version: templateVersionSchema },
    responses: { 200: { description: 'That version.', schema: templateViewSchema } },
    errors: { 403: templateManagersOnly, 404: 'No such template, or no such version of it.' },
    example: { path: { id: 'invoice', version: '1' } },
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
    example: { path: { id: 'invoice' }, body: { payload: { number: 'F-1024', amount: '42.00 EUR' }, locale: 'fr' } },
  },

  // ---- Me ----
  'GET /v1/me': {
    operationId: 'getMe',
    summary: "Reads the caller's own record",
    tag: 'Me',
    example: {},
    responses: { 200: { description: 'The record.', schema: recipientViewSchema } },
    errors: { 404: 'The caller is not in the directory (an admin or sender registers recipients).' },
  },
  'PATCH /v1/me': {
    operationId: 'updateMe',
    summary: "Sets the caller's addresses, locale, time zone, and channel and type switches",
    description:
      'What the body leaves out is kept; `null` clears. Switches are honoured at delivery time: `channels: { telegram: false }` switches a channel off for every type, `types: { marketing: { telegram: false, email: true } }` for one type, and the type\'s switch wins; `types: { marketing: null }` forgets a type\'s switches. A new `email`, `phone`, `telegramChatId` or `webhookUrl` is stored unconfirmed (`awaitingVerification`) and sent a code (by e-mail or SMS, within the provider\'s send budget; by the Telegram bot; or in a signed webhook of type `verification`); it receives nothing else until `POST /v1/me/verify` confirms it. Each code counts against the hourly limit of what the caller may send themself. A repeat sends a new code, which replaces the one sent; a retry with the same `Idempotency-Key` gets the first answer and sends none.',
    tag: 'Me',
    example: { body: { timezone: 'Europe/Paris', channels: { email: true, websocket: true } } },
    body: updateMeBodySchema,
    idempotent: true,
    responses: { 200: { description: 'The record as it now is.', schema: recipientViewSchema } },
    errors: {
      404: 'The caller is not in the directory.',
      409: 'The record kept changing while it was being updated; repeat the request.',
      422: 'A code was refused for good, naming the field and what was said: the webhook URL\'s receiver (a 4xx but 408 and 429, a redirect, or an address webhooks may not reach), SES (`MessageRejected`, `InvalidParameterValue`), SNS (the number opted out, or `InvalidParameter`) or Telegram (400 `chat not found`, 403 the bot blocked or never started). The record is put back as it was, and a code the same request sent to another address will not confirm it; fix the address, then set it again.',
      429: 'A new address sends a code, and the codes count against the hourly limit of what the caller may send themself.',
      503: 'A code could not be sent for now: nothing was sent and nothing was kept (the record is put back as it was; repeat the request for a new code). An e-mail or SMS code waits for room in its provider\'s send budget, shared with deliveries; with none in the next few seconds, or the provider still throttling, the answer says it could not be sent yet and carries `Retry-After` (seconds); Telegram\'s 429 carries its `retry_after` the same way. Only a send that got no answer (a timeout), whose code may have gone, keeps the address saved unconfirmed: enter the code if it comes, or set the address again.',
    },
  },
  'POST /v1/me/verify': {
    operationId: 'verifyMe',
    summary: 'Confirms an address the caller set, with the code sent there',
    description:
      'An address set with `PATCH /v1/me` receives nothing but a code until it is confirmed here (`awaitingVerification` lists it meanwhile). A code lasts 24 hours and allows 5 wrong tries; each wrong try is recorded.',
    tag: 'Me',
    example: { body: { channel: 'email', code: '123456' } },
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
      "The JSON of the browser's `PushSubscription` (W3C Push API), subscribed with the key of `GET /v1/me/push/vapid-public-key`. The `push` channel then sends Web Push (RFC 8030/8291/8292) straight to its push service; a subscription the service calls gone (404, 410) is removed. Registering the same endpoint again replaces it; a user keeps at most 10, the oldest going first. A subscription has one user: an endpoint another user registered (someone else signed in on the browser before, in any tenant, and it did not unsubscribe) moves to the caller and leaves that user's subscriptions.",
    tag: 'Me',
    example: {
      body: {
        endpoint: 'https://fcm.googleapis.com/fcm/send/dGVzdC1zdWJzY3JpcHRpb24',
        expirationTime: null,
        keys: { p256dh: 'BC0rEfML76Z7WQ1pAq4v0CP9t9VVnDvMRtZXUcNHiUh56rbnTOi6Wu9kZ2EeOfJDxAMXC-EW7lwEUAL2xKHDkT4', auth: 'OKirimtN0uYr_PcNdJxRvA' },
      },
    },
    body: pushSubscriptionBodySchema,
    responses: { 201: { description: 'Registered.', schema: pushSubscriptionViewSchema } },
    errors: {
      404: 'The caller is not in the directory.',
      409: 'The record kept changing while it was being updated, or another user registered the same endpoint at the same time and holds it; repeat the request.',
    },
  },
  'GET /v1/me/push-subscriptions': {
    operationId: 'listPushSubscriptions',
    summary: "Lists the caller's browser push subscriptions",
    tag: 'Me',
    example: {},
    responses: { 200: { description: 'Oldest first.', schema: pushSubscriptionListSchema } },
    errors: { 404: 'The caller is not in the directory.' },
  },
  'DELETE /v1/me/push-subscriptions/{id}': {
    operationId: 'removePushSubscription',
    summary: 'Removes a browser push subscription',
    tag: 'Me',
    example: { path: { id: 'ps_Qm9yZGVhdXgtc3Vic2NyaX' } },
    pathParameters: { id: pushTargetIdSchema },
    responses: { 200: { description: 'Removed.', schema: removedPushTargetSchema } },
    errors: { 404: 'The caller is not in the directory, or has no subscription of that id.', 409: 'The record kept changing while it was being updated; repeat the request.' },
  },
  'POST /v1/me/devices': {
    operationId: 'addDevice',
    summary: "Registers a mobile device's push token",
    description:
      "An FCM or APNs token, registered as an SNS platform endpoint of the deployment's platform application (CDK context `herald:snsPlatformApplicationArnFcm`, `herald:snsPlatformApplicationArnApns`). A device SNS reports disabled is removed. A device has one user: a token another user registered (someone else signed in on the phone before, in any tenant) moves to the caller and leaves that user's devices, and an endpoint FCM or APNs had disabled is enabled again. At most 10 per user, the oldest going first.",
    tag: 'Me',
    example: { body: { platform: 'fcm', token: 'fMEP0vJqS0uWb3r6b5ZPqk:APA91bHqL1e7Z2x8W3' } },
    body: deviceBodySchema,
    responses: { 201: { description: 'Registered.', schema: deviceViewSchema } },
    errors: {
      404: 'The caller is not in the directory.',
      409: 'The record kept changing while it was being updated, or another user registered the same token at the same time and holds it; repeat the request.',
      503: "SNS, or the record of the device's previous user, could not be reached; nothing was registered, repeat the request.",
    },
  },
  'GET /v1/me/devices': {
    operationId: 'listDevices',
    summary: "Lists the caller's mobile devices",
    tag: 'Me',
    example: {},
    responses: { 200: { description: 'Oldest first.', schema: deviceListSchema } },
    errors: { 404: 'The caller is not in the directory.' },
  },
  'DELETE /v1/me/devices/{id}': {
    operationId: 'removeDevice',
    summary: 'Removes a mobile device (and its SNS endpoint)',
    tag: 'Me',
    example: { path: { id: 'dv_QW5kcm9pZC1waG9uZS0xMj' } },
    pathParameters: { id: pushTargetIdSchema },
    responses: { 200: { description: 'Removed.', schema: removedPushTargetSchema } },
    errors: { 404: 'The caller is not in the directory, or has no device of that id.', 409: 'The record kept changing while it was being updated; repeat the request.' },
  },
  'GET /v1/me/push/vapid-public-key': {
    operationId: 'getVapidPublicKey',
    summary: 'The VAPID public key browsers subscribe with',
    tag: 'Me',
    example: {},
    responses: { 200: { description: "The stage's key.", schema: vapidPublicKeySchema } },
  },
  'GET /v1/me/inbox': {
    operationId: 'listInbox',
    summary: "Lists the caller's inbox, newest arrival first",
    tag: 'Me',
    example: { query: { unread: 'true', limit: '20' } },
    query: listInboxQuerySchema,
    responses: { 200: { description: 'One page.', schema: inboxPageSchema } },
  },
  'GET /v1/me/inbox/unread-count': {
    operationId: 'countUnread',
    summary: "The caller's unread count",
    tag: 'Me',
    example: {},
    responses: { 200: { description: 'The exact count and its version.', schema: unreadCountResponseSchema } },
  },
  'POST /v1/me/inbox/{id}/read': {
    operationId: 'markInboxItemRead',
    summary: 'Marks one inbox item read',
    description: "Again is fine. Every open WebSocket connection of the caller hears `{ \"type\": \"inboxChanged\", \"unread\", \"unreadVersion\" }`. A read item is kept 30 days from its reading, then removed (an unread one is kept until it is read).",
    tag: 'Me',
    example: { path: { id: 'ntf_01JD6Z5V7Q3M9X2K4T8R1N0C5B' } },
    pathParameters: { id: inboxItemIdSchema },
    responses: { 200: { description: 'Read.', schema: inboxItemReadResponseSchema } },
    errors: { 404: "No such item in the caller's inbox." },
  },
  'POST /v1/me/inbox/read-all': {
    operationId: 'markAllInboxRead',
    summary: "Marks every item of the caller's inbox read",
    description: 'Each is then kept 30 days, as one read alone. Items delivered while it runs may stay unread.',
    tag: 'Me',
    example: {},
    responses: { 200: { description: 'How many were marked.', schema: inboxReadAllResponseSchema } },
  },

  // ---- Settings ----
  'GET /v1/settings': {
    operationId: 'getSettings',
    summary: "Reads the tenant's default time zone and quiet hours",
    tag: 'Settings',
    example: {},
    responses: { 200: { description: 'The settings (`null` where none are set).', schema: tenantSettingsViewSchema } },
    errors: { 403: 'The caller is not an admin.' },
  },
  'PUT /v1/settings': {
    operationId: 'putSettings',
    summary: "Sets the tenant's default time zone and quiet hours",
    description:
      'A value sets, `null` clears, absent keeps. Quiet hours hold every notification but `urgent` ones until they end, in the recipient\'s zone (a recipient\'s own `quietHours` beats these); they are read at delivery time, so a change applies to all not yet delivered.',
    tag: 'Settings',
    body: tenantSettingsBodySchema,
    example: { body: { defaultTimezone: 'Europe/Paris', quietHours: { start: '22:00', end: '08:00' } } },
    responses: { 200: { description: 'The settings as they now are.', schema: tenantSettingsViewSchema } },
    errors: { 403: 'The caller is not an admin.' },
  },

  // ---- Recurring notifications ----
  'POST /v1/recurring-notifications': {
    operationId: 'createRecurringNotification',
    summary: 'Creates a recurring notification',
    description:
      '`schedule` gives exactly one of `cron` (EventBridge Scheduler\'s six fields, or the common five: `0 9 * * MON-FRI`) and `rate` (`1 day`), read in `timezone` (DST included), within `startAt`/`endAt` (a `startAt` at most 5 s past is taken as now; occurrence times are whole seconds). ' +
      'Each occurrence creates one notification per recipient (linked by `recurringId`), or one broadcast for an `audience`; an occurrence delivered twice creates nothing twice. ' +
      'A retry with the same `Idempotency-Key` after a request that got no answer answers with that request\'s definition, never a second one (with a second schedule). Admins and senders.',
    tag: 'Recurring notifications',
    body: createRecurringBodySchema,
    idempotent: true,
    example: { body: { recipients: ['alice'], title: 'Standup', message: 'At 9', schedule: { cron: '0 9 * * MON-FRI', timezone: 'America/New_York' } } },
    responses: { 201: { description: 'Created, with its next occurrences.', schema: recurringViewSchema } },
    errors: {
      403: managersOnly,
      404: 'Some recipients are not in the directory (`details.missing`).',
      409: '`CONFLICT`: a retry with the same `Idempotency-Key` whose definition, made by the request that got no answer, was deleted since or while it ran (`details.id`, and `details.deletedAt`, when its DELETE began); it is not made again.',
      503:
        'The scheduler could not be reached; repeat the request. Nothing was kept, except for a retry with an `Idempotency-Key`: the definition an earlier attempt ' +
        'wrote, or that this one wrote before it fired the occurrence the missing schedule missed, is kept, and a repeat with the same key converges on it.',
    },
  },
  'GET /v1/recurring-notifications': {
    operationId: 'listRecurringNotifications',
    summary: 'Lists recurring notifications, oldest first',
    description: 'An admin sees the tenant\'s, a sender its own.',
    tag: 'Recurring notifications',
    query: listRecurringQuerySchema,
    example: { query: { limit: '20' } },
    responses: { 200: { description: 'A page.', schema: recurringPageSchema } },
    errors: { 403: managersOnly },
  },
  'GET /v1/recurring-notifications/{id}': {
    operationId: 'getRecurringNotification',
    summary: 'Reads a recurring notification: its definition, next five occurrences (UTC and local) and last occurrences',
    tag: 'Recurring notifications',
    pathParameters: recurringId,
    example: { path: { id: 'rec_01JD6Z5V7Q3M9X2K4T8R1N0C5B' } },
    responses: { 200: { description: 'The recurring notification.', schema: recurringViewSchema } },
    errors: { 403: managersOnly, 404: 'No such recurring notification, or another sender created it.' },
  },
  'PATCH /v1/recurring-notifications/{id}': {
    operationId: 'patchRecurringNotification',
    summary: 'Changes a recurring notification, or pauses (`paused: true`) or resumes it',
    description:
      'Paused means no more occurrences until it is resumed. `schedule` is a change, merged into the schedule it has: `cron` or `rate` replaces the expression (the other goes; both is a 400); ' +
      '`timezone`, `startAt` and `endAt` change only when given, `null` clears `startAt` or `endAt`; the result is checked as a new schedule is (`endAt` after `startAt`), each refusal a 400 naming the field. ' +
      'A new cron or rate starts afresh, as a new definition does; any other change keeps the times of a rate.',
    tag: 'Recurring notifications',
    pathParameters: recurringId,
    body: patchRecurringBodySchema,
    example: { path: { id: 'rec_01JD6Z5V7Q3M9X2K4T8R1N0C5B' }, body: { paused: true } },
    responses: { 200: { description: 'As it now is.', schema: recurringViewSchema } },
    errors: { 403: managersOnly, 404: 'No such recurring notification, or another sender created it.', 503: scheduleUnavailable },
  },
  'DELETE /v1/recurring-notifications/{id}': {
    operationId: 'deleteRecurringNotification',
    summary: 'Ends a recurring notification: no more occurrences',
    tag: 'Recurring notifications',
    pathParameters: recurringId,
    example: { path: { id: 'rec_01JD6Z5V7Q3M9X2K4T8R1N0C5B' } },
    responses: { 200: { description: 'Ended.', schema: endedRecurringResponseSchema } },
    errors: { 403: managersOnly, 404: 'No such recurring notification, or another sender created it.', 503: scheduleUnavailable },
  },

  // ---- Notifications ----
  'POST /v1/notifications': {
    operationId: 'createNotifications',
    summary: 'Schedules a notification for each recipient',
    description:
      '`scheduledAt` may be up to 5 s in the past (taken as now; omit it to send now) and at most 2 years ahead. A plain user may only notify themself. ' +
      '`scheduledAt` without an offset is a wall time read in `timezone`: an IANA zone, or `recipient` (each recipient\'s own zone, then the tenant\'s default, then UTC). ' +
      'A wall time in a DST gap moves forward by the gap; one that happens twice takes the earlier instant; `schedule[].adjusted` says so.',
    tag: 'Notifications',
    example: { body: { recipients: ['alice'], title: 'Standup', message: 'In 5 minutes', priority: 'high', channels: ['inbox', 'websocket', 'email'] } },
    body: createNotificationsBodySchema,
    idempotent: true,
    responses: { 201: { description: 'Scheduled.', schema: scheduledNotificationsResponseSchema } },
    errors: {
      403: 'A plain user named someone else.',
      404: 'Some recipients are not in the directory (`details.missing`).',
      429: 'A plain user reached the hourly limit of notifications to themself (per user, and per tenant).',
      503: scheduleNotificationsUnavailable,
    },
  },
  'GET /v1/notifications': {
    operationId: 'listNotifications',
    summary: 'Lists notifications, newest first',
    description:
      'An admin sees the whole tenant, a sender the ones it created, anyone else the ones addressed to them. `from`/`to` bound the creation time. A page may hold fewer than `limit` items and still have a `nextCursor`.',
    tag: 'Notifications',
    example: { query: { status: 'pending', limit: '20' } },
    query: listNotificationsQuerySchema,
    responses: { 200: { description: 'One page.', schema: notificationPageSchema } },
  },
  'GET /v1/notifications/{id}': {
    operationId: 'getNotification',
    summary: 'Reads a notification, with each channel’s delivery',
    tag: 'Notifications',
    example: { path: { id: 'ntf_01JD6Z5V7Q3M9X2K4T8R1N0C5B' } },
    pathParameters: notificationId,
    responses: { 200: { description: 'The notification.', schema: notificationViewSchema } },
    errors: { 404: invisibleNotification },
  },
  'PATCH /v1/notifications/{id}': {
    operationId: 'rescheduleNotification',
    summary: 'Reschedules a pending notification',
    description: 'Only `scheduledAt` may change; its schedule moves with it. Fields the server owns are refused by name.',
    tag: 'Notifications',
    example: { path: { id: 'ntf_01JD6Z5V7Q3M9X2K4T8R1N0C5B' }, body: { scheduledAt: nextWeekAt9Utc } },
    pathParameters: notificationId,
    body: rescheduleNotificationBodySchema,
    responses: { 200: { description: 'Moved.', schema: notificationViewSchema } },
    errors: { 403: managedNotification, 404: invisibleNotification, 409: 'It is no longer pending.', 503: 'It has its new time, but its schedule could not be moved: repeat the request.' },
  },
  'DELETE /v1/notifications/{id}': {
    operationId: 'cancelNotification',
    summary: 'Cancels a pending notification',
    description: 'Once this answers, it is never delivered on any channel.',
    tag: 'Notifications',
    example: { path: { id: 'ntf_01JD6Z5V7Q3M9X2K4T8R1N0C5B' } },
    pathParameters: notificationId,
    responses: { 200: { description: 'Cancelled.', schema: cancelledNotificationResponseSchema } },
    errors: { 403: managedNotification, 404: invisibleNotification, 409: 'It is no longer pending.' },
  },
  'POST /v1/notifications/{id}/send-now': {
    operationId: 'sendNotificationNow',
    summary: 'Delivers a pending notification now',
    description: 'Its schedule gives way to immediate delivery.',
    tag: 'Notifications',
    example: { path: { id: 'ntf_01JD6Z5V7Q3M9X2K4T8R1N0C5B' }, body: {} },
    pathParameters: notificationId,
    body: sendNowBodySchema,
    bodyOptional: true,
    idempotent: true,
    responses: { 202: { description: 'On its way.', schema: notificationViewSchema } },
    errors: {
      403: managedNotification,
      404: invisibleNotification,
      409: 'It is no longer pending.',
      503: 'It is due now but could not be queued: repeat the request (else the stuck-retry sweep delivers it within minutes).',
    },
  },
  'POST /v1/notifications/{id}/retry': {
    operationId: 'retryNotification',
    summary: 'Puts a failed notification back to pending',
    description: 'Delivered after `delayMinutes`; only the channels that reached nobody (failed or skipped) are tried again.',
    tag: 'Notifications',
    example: { path: { id: 'ntf_01JD6Z5V7Q3M9X2K4T8R1N0C5B' }, body: { delayMinutes: 5 } },
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
    summary: "How many of the tenant's notifications and deliveries entered each status over the last `period` seconds",
    description:
      'Each count is of transitions into that status within the window (a notification retried enters `sending` again), not of how many are in it now: `GET /v1/notifications?status=` lists those. Counters are kept per UTC hour: the window starts at the beginning of the hour that holds `now - period`. Admins.',
    tag: 'Metrics',
    example: { query: { period: '86400' } },
    query: metricsQuerySchema,
    responses: { 200: { description: 'The counts.', schema: metricsReportSchema } },
    errors: { 403: 'The caller is not an admin.' },
  },

  // ---- Suppressions ----
  'GET /v1/suppressions': {
    operationId: 'listSuppressions',
    summary: 'Lists the recipients whose e-mail address is suppressed, in id order',
    description:
      'SES reported the address bounced (permanently) or complained of; the e-mail channel skips it (`skipped`, `address suppressed (bounce)`) until it is lifted or the address changes. Admins.',
    tag: 'Suppressions',
    query: listSuppressionsQuerySchema,
    example: { query: { limit: '50' } },
    responses: { 200: { description: 'One page of recipients, each with its `emailSuppression`.', schema: recipientPageSchema } },
    errors: { 403: 'The caller is not an admin.' },
  },
  'DELETE /v1/suppressions/{recipientId}': {
    operationId: 'liftSuppression',
    summary: "Lifts the suppression of a recipient's e-mail address",
    description: 'E-mail goes to the address again. Admins.',
    tag: 'Suppressions',
    pathParameters: { recipientId: idSchema },
    example: { path: { recipientId: 'alice' } },
    responses: { 200: { description: 'The recipient, its address no longer suppressed.', schema: recipientViewSchema } },
    errors: { 403: 'The caller is not an admin.', 404: 'No such recipient, or its address is not suppressed.', 409: 'The recipient kept changing; repeat the request.' },
  },

  // ---- Operations ----
  'GET /v1/admin/dead-letters': {
    operationId: 'listDeadLetterQueues',
    summary: 'The depth of every dead-letter queue',
    description: 'The queues are the deployment’s, shared by every tenant: operators only (`role` `operator`).',
    tag: 'Operations',
    example: {},
    responses: { 200: { description: 'Every dead-letter queue.', schema: deadLetterQueuesResponseSchema } },
    errors: { 403: operatorsOnly },
  },
  'POST /v1/admin/dead-letters/{queue}/redrive': {
    operationId: 'redriveDeadLetterQueue',
    summary: 'Moves the messages of a dead-letter queue back to where they are delivered from',
    description:
      'Receive, send, delete, ten at a time, up to what the queue held when the call started and as long as the invocation allows; `remaining` says what is left for the next call. Redriven messages obey every delivery rule: a cancelled, sent or failed notification is not delivered again. Operators only.',
    tag: 'Operations',
    pathParameters: { queue: deadLetterQueueNameSchema },
    example: { path: { queue: 'delivery-dlq' } },
    responses: { 200: { description: 'What was moved.', schema: deadLetterRedriveResponseSchema } },
    errors: { 403: operatorsOnly, 409: 'Its messages cannot be moved back (`metrics-dlq`: they describe stream records given up).' },
  },
  // ---- Settings ----
  'GET /v1/settings/webhook-secret': {
    operationId: 'getWebhookSecret',
    summary: "The secret the tenant's webhooks are signed with (Standard Webhooks)",
    description:
      'Made on first use. Receivers verify `webhook-signature` (`v1,<base64 HMAC-SHA256 of id.timestamp.body>`, keyed with the base64 after `whsec_`) with it. After a rotation, `previousSecret` still signs each webhook beside the new one until `previousValidUntil`, and so does each secret in `earlierSecrets` (rotated out within the day before) until its own `validUntil`: at most five retired secrets, the oldest kept. Admins.',
    tag: 'Settings',
    example: {},
    responses: { 200: { description: 'The secrets.', schema: webhookSecretViewSchema } },
    errors: { 403: 'The caller is not an admin.' },
  },
  'POST /v1/settings/webhook-secret/rotate': {
    operationId: 'rotateWebhookSecret',
    summary: "Replaces the tenant's webhook secret; the old one keeps signing for 24 hours",
    description: 'Each webhook carries one signature per valid secret, so receivers can switch at their own pace. Admins.',
    tag: 'Settings',
    example: {},
    responses: { 200: { description: 'The new secret, and the previous one with its end of validity.', schema: webhookSecretViewSchema } },
    errors: { 403: 'The caller is not an admin.', 409: 'Rotated by someone else meanwhile; read it again.' },
  },

  // ---- Broadcasts ----
  'POST /v1/broadcasts': {
    operationId: 'createBroadcast',
    summary: 'Creates a broadcast: a draft, or scheduled (now when `scheduledAt` is left out)',
    description: 'Admins and senders.',
    tag: 'Broadcasts',
    example: { body: { audience: { groups: ['staff'] }, title: 'Maintenance', message: 'Down from 2 to 3 am', channels: ['inbox', 'email'] } },
    body: createBroadcastBodySchema,
    idempotent: true,
    responses: { 201: { description: 'Created.', schema: createdBroadcastResponseSchema } },
    errors: {
      403: managersOnly,
      503:
        'The scheduler could not be reached; nothing was created, repeat the request. Unless the broadcast had already started (`details.broadcastId`): ' +
        'it goes on, and a repeat with the same `Idempotency-Key` answers it instead of creating a second one.',
    },
  },
  'GET /v1/broadcasts': {
    operationId: 'listBroadcasts',
    summary: 'Lists broadcasts, newest first',
    description: 'An admin sees the tenant’s, a sender its own.',
    tag: 'Broadcasts',
    example: { query: { status: 'sending', limit: '20' } },
    query: listBroadcastsQuerySchema,
    responses: { 200: { description: 'One page (without each message).', schema: broadcastPageSchema } },
    errors: { 403: managersOnly },
  },
  'GET /v1/broadcasts/{id}': {
    operationId: 'getBroadcast',
    summary: 'Reads a broadcast, with its message and progress',
    tag: 'Broadcasts',
    example: { path: { id: 'brd_01JD6Z5V7Q3M9X2K4T8R1N0C5B' } },
    pathParameters: broadcastId,
    responses: { 200: { description: 'The broadcast.', schema: broadcastViewSchema } },
    errors: { 403: managersOnly, 404: invisibleBroadcast },
  },
  'DELETE /v1/broadcasts/{id}': {
    operationId: 'cancelBroadcast',
    summary: 'Cancels a broadcast that has not finished',
    description: 'Nothing more is fanned out or delivered; recipients not yet delivered end `cancelled`.',
    tag: 'Broadcasts',
    example: { path: { id: 'brd_01JD6Z5V7Q3M9X2K4T8R1N0C5B' } },
    pathParameters: broadcastId,
    responses: { 200: { description: 'Cancelled.', schema: cancelledBroadcastResponseSchema } },
    errors: { 403: managersOnly, 404: invisibleBroadcast, 409: 'It has finished, or was cancelled.' },
  },
  'POST /v1/broadcasts/{id}/schedule': {
    operationId: 'scheduleBroadcast',
    summary: 'Schedules a draft',
    description:
      'At `scheduledAt`, an instant, for every recipient (a plan in a zone, or in each recipient\'s zone, gives way to it); else at its planned time if still ahead (each recipient\'s wall time for `timezone: "recipient"`); else now.',
    tag: 'Broadcasts',
    example: { path: { id: 'brd_01JD6Z5V7Q3M9X2K4T8R1N0C5B' }, body: {} },
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
    example: { path: { id: 'brd_01JD6Z5V7Q3M9X2K4T8R1N0C5B' } },
    pathParameters: broadcastId,
    responses: { 202: { description: 'Retrying.', schema: retriedBroadcastResponseSchema } },
    errors: { 403: managersOnly, 404: invisibleBroadcast, 409: 'It has not finished, or no recipient failed.' },
  },
  'GET /v1/broadcasts/{id}/recipients': {
    operationId: 'listBroadcastRecipients',
    summary: "Lists a broadcast's recipients and their outcome",
    description:
      'A page holds at most `limit` recipients and may hold fewer, even none, with a `nextCursor` to follow until it is null: a page makes at most 32 reads, and `status=pending` finds its recipients by reading the rows (only final statuses are indexed), so pending recipients among many final ones take several pages.',
    tag: 'Broadcasts',
    example: { path: { id: 'brd_01JD6Z5V7Q3M9X2K4T8R1N0C5B' }, query: { status: 'failed', limit: '50' } },
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
    example: { body: { recipients: [1001, 1002], title: 'Invoice ready', message: 'Your invoice is ready', scheduled_at: nextWeekAt9Utc, type: 'invoice', priority: 'high' } },
    body: celeryScheduleBodySchema,
    idempotent: true,
    responses: { 201: { description: 'Scheduled.', schema: celeryScheduledResponseSchema } },
    errors: {
      400: '`scheduled_at` is in the past, or `recipients` is empty.',
      403: 'A plain user named someone else.',
      404: 'Some recipients are not in the directory (`details.missing`).',
      429: 'A plain user reached the hourly limit of notifications to themself (per user, and per tenant).',
      503: scheduleNotificationsUnavailable,
    },
  },
  'DELETE /api/notifications/{id}/cancel_scheduled/': {
    operationId: 'celeryCancelScheduled',
    summary: 'Cancels a pending notification',
    tag: 'Celery scheduler compatibility',
    example: { path: { id: 'ntf_01JD6Z5V7Q3M9X2K4T8R1N0C5B' } },
    pathParameters: { id: z.string().meta({ description: 'A Herald notification id (`ntf_...`); any other id is 404.' }) },
    responses: { 200: { description: 'Cancelled.', schema: celeryCancelledResponseSchema } },
    errors: { 400: '`NOT_PENDING`: it is no longer pending (the Celery scheduler’s 400, where `/v1` says 409).', 403: managedNotification, 404: invisibleNotification },
  },
  'GET /api/notifications/{id}/schedule_status/': {
    operationId: 'celeryScheduleStatus',
    summary: 'Where a notification stands',
    tag: 'Celery scheduler compatibility',
    example: { path: { id: 'ntf_01JD6Z5V7Q3M9X2K4T8R1N0C5B' } },
    pathParameters: { id: z.string().meta({ description: 'A Herald notification id (`ntf_...`); any other id is 404.' }) },
    responses: { 200: { description: 'Its status.', schema: celeryScheduleStatusResponseSchema } },
    errors: { 404: invisibleNotification },
  },
};
