/**
 * The zod schemas of what the HTTP API answers: response bodies and the error shape.
 *
 * They document the API (functions/api/route-docs.ts puts them in `/openapi.json`) and are held
 * to the real answers: test/e2e/authorization-matrix.test.ts parses every response it gets with
 * the schema documented for its route and status. They are strict, so a field added to a view
 * (`toNotificationView`, ...) without being added here fails that test instead of going undocumented.
 */
import * as z from 'zod';
import { broadcastRecipientStatuses, broadcastStatuses } from './broadcast.ts';
import { countedOutcomes } from './metrics.ts';
import { channelDeliveryStatuses, channels, notificationStatuses, priorities } from './notification.ts';
import { switchableChannels } from './recipient.ts';
import { verifiableChannels } from './contact-verification.ts';
import { celeryScheduledStatuses } from './celery-scheduler.ts';
import { deliveryErrorCategories } from './delivery-errors.ts';

const instant = z.iso.datetime();
const nullableInstant = instant.nullable();
const cursor = z.string().nullable().meta({ description: 'Pass it back as `cursor` for the next page; `null` on the last page.' });

/** `{ "error": { code, message, details? } }`: every error Herald itself answers. */
export const errorResponseSchema = z
  .strictObject({
    error: z.strictObject({
      code: z.string().meta({ description: 'Stable, machine-readable: `VALIDATION_ERROR`, `NOT_FOUND`, `CONFLICT`, ...' }),
      message: z.string().meta({ description: 'Says what was wrong (a 5xx says nothing internal).' }),
      details: z.unknown().optional().meta({ description: 'For a 400, `[{ field, message }]` naming each bad field.' }),
    }),
  })
  .meta({ description: "Herald's error shape." });

/** `{ "message": "Unauthorized" }`: what API Gateway answers itself (JWT authorizer, unknown route, payload quota). */
export const gatewayErrorSchema = z.strictObject({ message: z.string() }).meta({ description: "API Gateway's own error shape." });

/** A notification's or broadcast's template: which, which version (absent: the latest at delivery), and its payload. */
export const templateRefViewSchema = z.strictObject({
  id: z.string(),
  version: z.int().min(1).optional(),
  payload: z.record(z.string(), z.unknown()),
});

const whoSeesErrors =
  'Delivery errors are shown two ways: admins, senders and operators see the provider\'s own text with its category; anyone else (a plain user reading a notification sent to them) sees the category alone.';

/** What kind of delivery error it was: what a plain user is shown instead of the provider's text. */
export const deliveryErrorCategorySchema = z.enum(deliveryErrorCategories).meta({
  description:
    '`rejected`: the provider refused it for good. `gone`: the address no longer exists. `unavailable`: the provider could not take it then. `throttled`: sent too fast (the provider\'s or Herald\'s own limit). `no_answer`: no answer came, so it may have arrived. `unrenderable`: Herald could not make the message for this channel. `unreachable` (only as the error of a notification or a recipient row): every channel was skipped (no address, switched off, not connected), so it reached nobody. `unclassified`: any other error, and errors recorded before categories were.',
});

const channelDeliveryFields = {
  status: z.enum(channelDeliveryStatuses),
  at: instant,
  errorCategory: deliveryErrorCategorySchema
    .optional()
    .meta({ description: 'On a `failed` or `unconfirmed` channel: what kind of error it was. A recorded outcome is never tried again by itself.' }),
  locale: z.string().optional().meta({ description: "A templated notification's: the locale its template was rendered in." }),
};

/** The outcome of one channel, as admins, senders and operators see it: with the provider's text. */
export const channelDeliveryViewSchema = z.strictObject({
  ...channelDeliveryFields,
  error: z.string().optional().meta({ description: "Why a `failed` channel failed, in the provider's own words." }),
  detail: z.string().optional().meta({ description: "A note on any other outcome (how many sockets, why skipped, an `unconfirmed` channel's provider error)." }),
});

/** The outcome of one channel, as a plain user sees it: the category, never the provider's text. */
export const recipientChannelDeliveryViewSchema = z.strictObject({
  ...channelDeliveryFields,
  detail: z.string().optional().meta({ description: 'Why a `skipped` channel was skipped (no address, a preference, not connected); absent on any other outcome.' }),
});

const deliveriesSchema = z.partialRecord(z.enum(channels), channelDeliveryViewSchema);
const recipientDeliveriesSchema = z.partialRecord(z.enum(channels), recipientChannelDeliveryViewSchema);

const willRetry = z.boolean().meta({ description: 'True when its last attempt failed and delivery tries again by itself (it is still pending: see `nextAttemptAt`).' });

/** A notification's fields but those that carry delivery errors. */
const notificationFields = {
  id: z.string(),
  recipientId: z.string(),
  title: z.string(),
  message: z.string(),
  type: z.string(),
  priority: z.enum(priorities),
  channels: z.array(z.enum(channels)),
  data: z.record(z.string(), z.unknown()),
  template: templateRefViewSchema.nullable().meta({
    description: 'Its template, if it has one (`title`/`message` are then its inbox section rendered for no one; delivery renders it for the recipient). Without `version`, delivery renders the latest.',
  }),
  relatedObject: z.strictObject({ type: z.string(), id: z.string() }).nullable(),
  status: z.enum(notificationStatuses),
  scheduledAt: instant,
  sentAt: nullableInstant,
  createdAt: instant,
  attempts: z.int().min(0),
  /** While pending after a failed or throttled attempt: when it is tried again (the provider's hint, or the backoff). */
  nextAttemptAt: nullableInstant,
  timezone: z.string().nullable().meta({ description: 'The IANA zone its time was given in (its recipient\'s for `timezone: "recipient"`).' }),
  localScheduledAt: z.string().nullable().meta({ description: '`scheduledAt` as wall time in `timezone`, with its offset (`2027-03-28T09:00:00+02:00`).' }),
  heldUntil: nullableInstant.meta({ description: 'While pending and held by the recipient\'s quiet hours: when they end (it is delivered then).' }),
  heldReason: z.string().nullable().meta({ description: 'Why it is held (which quiet hours, in which zone).' }),
  recurringId: z.string().nullable().meta({ description: 'The recurring notification whose occurrence created it.' }),
  lastErrorCategory: deliveryErrorCategorySchema.nullable().meta({ description: 'What kind of error its last failed attempt met (the first channel `lastError` names); `null` when none.' }),
  willRetry,
};

/** A notification as admins, senders and operators see it (`toNotificationView`, diagnostic). */
export const diagnosticNotificationViewSchema = z
  .strictObject({
    ...notificationFields,
    deliveries: deliveriesSchema,
    lastError: z.string().nullable().meta({ description: "Why its last attempt did not deliver it, in the providers' own words, channel by channel." }),
  })
  .meta({ description: 'As admins, senders and operators see it: delivery errors in the providers\' own words.' });

/** A notification as a plain user sees it (`toNotificationView`, recipient): no provider text. */
export const recipientNotificationViewSchema = z
  .strictObject({ ...notificationFields, deliveries: recipientDeliveriesSchema })
  .meta({ description: 'As a plain user sees it: delivery errors as categories, without `lastError`.' });

/** A notification, as `toNotificationView` shows it to one caller or the other. */
export const notificationViewSchema = z.union([diagnosticNotificationViewSchema, recipientNotificationViewSchema]).meta({ description: `A notification. ${whoSeesErrors}` });

/** A recipient of the directory, as `toRecipientView` shows it. */
export const recipientViewSchema = z.strictObject({
  id: z.string(),
  email: z.string().nullable(),
  phone: z.string().nullable().meta({ description: 'E.164 mobile number, the `sms` channel\'s address.' }),
  telegramChatId: z.string().nullable(),
  webhookUrl: z.string().nullable(),
  locale: z.string().nullable().meta({ description: 'BCP 47 language tag, canonical.' }),
  timezone: z.string().nullable(),
  groups: z.array(z.string()),
  channels: z.strictObject(Object.fromEntries(switchableChannels.map((channel) => [channel, z.boolean()]))).meta({
    description: 'Channels the recipient left on (`PATCH /v1/me`); the inbox is always on.',
  }),
  types: z.record(z.string(), z.record(z.string(), z.boolean())).meta({
    description: 'Per notification type, the switches that win over `channels` (`PATCH /v1/me`).',
  }),
  awaitingVerification: z.array(z.enum(verifiableChannels)).meta({
    description:
      'Channels whose address the recipient set for themself and has not confirmed yet (`POST /v1/me/verify`): nothing is sent there but the code.',
  }),
  emailSuppression: z
    .strictObject({ address: z.string(), reason: z.enum(['bounce', 'complaint']), at: instant })
    .nullable()
    .meta({ description: 'Set when SES reported the address bounced (permanently) or complained of: no e-mail goes there until an admin lifts it or the address changes.' }),
  quietHours: z
    .union([z.strictObject({ start: z.string(), end: z.string() }), z.null(), z.literal('default')])
    .meta({ description: 'Their own quiet hours (wall times in their zone), `null` for none, `"default"` for the tenant\'s (`GET /v1/settings`).' }),
  createdAt: instant,
  updatedAt: instant,
});

/** An inbox item, as `toInboxItemView` shows it. */
export const inboxItemViewSchema = z.strictObject({
  id: z.string().meta({ description: 'The id of the notification (or broadcast) it holds.' }),
  title: z.string(),
  message: z.string(),
  type: z.string(),
  priority: z.string(),
  data: z.record(z.string(), z.unknown()),
  createdAt: instant,
  deliveredAt: instant,
  read: z.boolean(),
  readAt: nullableInstant,
});

/** A broadcast, as `toBroadcastView` shows it (`message`, `data` and `template` only when read one by one). */
export const broadcastViewSchema = z.strictObject({
  id: z.string(),
  status: z.enum(broadcastStatuses),
  title: z.string(),
  message: z.string().optional(),
  data: z.record(z.string(), z.unknown()).optional(),
  template: templateRefViewSchema.nullable().optional().meta({
    description: 'With `message`: its template, if it has one (`title`/`message` are then its inbox section rendered for no one; delivery renders it for each recipient). Without `version`, delivery renders the latest.',
  }),
  type: z.string(),
  priority: z.enum(priorities),
  channels: z.array(z.enum(channels)),
  audience: z.union([
    z.strictObject({ all: z.literal(true) }),
    z.strictObject({ groups: z.array(z.string()) }),
    z.strictObject({ recipientCount: z.int().min(0) }),
  ]),
  createdBy: z.string(),
  createdAt: instant,
  scheduledAt: nullableInstant,
  timezone: z.string().nullable().meta({ description: 'The zone its time was given in, or `recipient` (each recipient\'s own zone).' }),
  localScheduledAt: z
    .string()
    .nullable()
    .meta({ description: 'Its time as wall time: with the offset in `timezone`, or without one for `recipient` (each gets it at that wall time in their zone).' }),
  startedAt: nullableInstant,
  completedAt: nullableInstant.meta({
    description: 'When its figures became final: it completed or failed, or a cancel settled its last recipient (for one cancelled before it started, its `cancelledAt`).',
  }),
  cancelledAt: nullableInstant,
  lastError: z.string().nullable(),
  progress: z.strictObject({
    total: z.int().min(0),
    sent: z.int().min(0),
    failed: z.int().min(0),
    pending: z.int().min(0),
    cancelled: z.int().min(0),
    held: z.int().min(0).meta({ description: 'Of the pending, how many wait for the end of their quiet hours.' }),
    percent: z.int().min(0).max(100).meta({ description: '0 until the total is final, then the share of recipients in a final state.' }),
  }),
});

const broadcastRecipientFields = {
  recipientId: z.string(),
  status: z.enum(broadcastRecipientStatuses),
  attempts: z.int().min(0),
  errorCategory: deliveryErrorCategorySchema.nullable().meta({ description: 'What kind of error its last failed attempt met; `null` when none.' }),
  willRetry,
  nextAttemptAt: nullableInstant,
  updatedAt: instant,
};

/** One recipient's outcome in a broadcast, as admins and senders (the only callers of the route) see it. */
export const diagnosticBroadcastRecipientViewSchema = z.strictObject({
  ...broadcastRecipientFields,
  channels: deliveriesSchema,
  error: z.string().nullable().meta({ description: "Why its last attempt did not deliver it, in the providers' own words." }),
});

/** One recipient's outcome in a broadcast, without the providers' text (what a plain user would see). */
export const recipientBroadcastRecipientViewSchema = z.strictObject({ ...broadcastRecipientFields, channels: recipientDeliveriesSchema });

/** One recipient's outcome in a broadcast, as `toBroadcastRecipientView` shows it. */
export const broadcastRecipientViewSchema = z
  .union([diagnosticBroadcastRecipientViewSchema, recipientBroadcastRecipientViewSchema])
  .meta({ description: `One recipient's outcome. ${whoSeesErrors}` });

/** A page of a listing. */
function pageOf<T extends z.ZodType>(item: T): z.ZodObject<{ items: z.ZodArray<T>; nextCursor: typeof cursor }> {
  return z.strictObject({ items: z.array(item), nextCursor: cursor });
}

export const notificationPageSchema = pageOf(notificationViewSchema);
export const recipientPageSchema = pageOf(recipientViewSchema);
export const inboxPageSchema = pageOf(inboxItemViewSchema);
export const broadcastPageSchema = pageOf(broadcastViewSchema);
export const broadcastRecipientPageSchema = pageOf(broadcastRecipientViewSchema);

/** `GET /health` */
export const healthResponseSchema = z.strictObject({ status: z.literal('ok') });

/** How a wall time was resolved when it did not exist (`gap`) or existed twice (`overlap`): shared/domain/time.ts. */
export const localTimeAdjustmentSchema = z
  .strictObject({
    kind: z.enum(['gap', 'overlap']),
    requestedLocal: z.string(),
    resolvedLocal: z.string(),
    shiftMinutes: z.int().optional().meta({ description: 'For a gap: how far the time moved forward.' }),
  })
  .meta({ description: 'A gap moves the time forward by the gap; an overlap takes the earlier instant (RFC 5545, Temporal "compatible").' });

/** One created notification's time, when the request named a `timezone`. */
export const scheduledTimeSchema = z.strictObject({
  notificationId: z.string(),
  recipientId: z.string(),
  scheduledAt: instant,
  timezone: z.string().nullable(),
  localScheduledAt: z.string().nullable(),
  adjusted: localTimeAdjustmentSchema.optional(),
});

/** `POST /v1/notifications` */
export const scheduledNotificationsResponseSchema = z.strictObject({
  notificationIds: z.array(z.string()).meta({ description: 'One per recipient, in the order of `recipients`.' }),
  count: z.int().min(1),
  scheduledAt: instant.meta({ description: 'The earliest of their instants.' }),
  schedule: z
    .array(scheduledTimeSchema)
    .optional()
    .meta({ description: 'When the request named a `timezone`: each notification\'s instant, its wall time, and any DST adjustment.' }),
});

/** `DELETE /v1/notifications/{id}` */
export const cancelledNotificationResponseSchema = z.strictObject({ notificationId: z.string(), status: z.literal('cancelled') });

/** `GET /v1/metrics` */
export const metricsReportSchema = z.strictObject({
  period: z.int(),
  from: instant.meta({ description: 'The start of the hour that holds `now - period`: counters are kept per hour.' }),
  to: instant,
  granularity: z.literal('hour'),
  notifications: z.strictObject(Object.fromEntries(notificationStatuses.map((status) => [status, z.int().min(0)]))),
  deliveries: z.strictObject(
    Object.fromEntries(
      channels.map((channel) => [channel, z.strictObject(Object.fromEntries(countedOutcomes.map((outcome) => [outcome, z.int().min(0)])))]),
    ),
  ),
  email: z
    .strictObject({ sandbox: z.boolean(), sendingEnabled: z.boolean(), maxSendRate: z.number(), max24HourSend: z.number(), sentLast24Hours: z.number() })
    .nullable()
    .meta({
      description:
        "The SES account (`GetAccount`): `sandbox` true until production access is granted (only verified recipients, 200 a day, 1 a second), its quota per second and per 24 hours; null when SES could not be asked.",
    }),
});

/** One dead-letter queue's depth, as SQS approximates it. */
const deadLetterQueueDepthSchema = z.strictObject({
  name: z.string(),
  redriveTo: z.string().optional().meta({ description: 'Where a redrive moves its messages; absent when they cannot be moved back.' }),
  messages: z.int().min(0).meta({ description: 'ApproximateNumberOfMessages: waiting.' }),
  inFlight: z.int().min(0).meta({ description: 'ApproximateNumberOfMessagesNotVisible: received, not yet deleted.' }),
});

/** `GET /v1/admin/dead-letters` */
export const deadLetterQueuesResponseSchema = z.strictObject({ queues: z.array(deadLetterQueueDepthSchema) });

/** `POST /v1/admin/dead-letters/{queue}/redrive` */
export const deadLetterRedriveResponseSchema = z.strictObject({
  name: z.string(),
  redriveTo: z.string(),
  moved: z.int().min(0),
  remaining: z.int().min(0).meta({ description: 'Still waiting when the call ended: call again to move them.' }),
});

/** `DELETE /v1/recipients/{id}` */
export const erasureReportSchema = z.strictObject({
  id: z.string(),
  cancelledNotifications: z.int().min(0),
  removedInboxItems: z.int().min(0),
  removedConnections: z.int().min(0),
  removedPushTargets: z.int().min(0).meta({ description: "Browser subscriptions and mobile devices; each device's SNS platform endpoint is deleted." }),
});

/** `POST /v1/recipients/batch` */
export const batchUpsertResponseSchema = z.strictObject({
  succeeded: z.array(z.strictObject({ index: z.int().min(0), id: z.string(), created: z.boolean() })),
  failed: z.array(
    z.strictObject({
      index: z.int().min(0),
      id: z.string().nullable(),
      error: z.strictObject({ code: z.string(), message: z.string(), details: z.unknown().optional() }),
    }),
  ),
});

/** The unread count's version, as every answer and frame carrying the count carries it (shared/domain/inbox.ts, `UnreadCount`). */
const unreadVersionSchema = z
  .int()
  .min(0)
  .describe(
    "`unread`'s version: every change raises it, so the greater is the newer, as in the `notification` and `inboxChanged` frames.",
  );

/** `GET /v1/me/inbox/unread-count` */
export const unreadCountResponseSchema = z.strictObject({ unread: z.int().min(0), unreadVersion: unreadVersionSchema });

/** `POST /v1/me/inbox/{id}/read` */
export const inboxItemReadResponseSchema = z.strictObject({ id: z.string(), read: z.literal(true), unread: z.int().min(0), unreadVersion: unreadVersionSchema });

/** `POST /v1/me/inbox/read-all` */
export const inboxReadAllResponseSchema = z.strictObject({ marked: z.int().min(0), unread: z.int().min(0), unreadVersion: unreadVersionSchema });

/** `POST /v1/broadcasts` */
export const createdBroadcastResponseSchema = z.strictObject({
  broadcastId: z.string(),
  status: z.enum(broadcastStatuses),
  adjusted: localTimeAdjustmentSchema.optional().meta({ description: 'Set when its wall time (in a named `timezone`) fell in a DST gap or overlap.' }),
});

/** `DELETE /v1/broadcasts/{id}` */
export const cancelledBroadcastResponseSchema = z.strictObject({ broadcastId: z.string(), status: z.literal('cancelled') });

/** `POST /v1/broadcasts/{id}/schedule` */
export const scheduledBroadcastResponseSchema = z.strictObject({
  broadcastId: z.string(),
  status: z.enum(broadcastStatuses),
  scheduledAt: nullableInstant,
});

/** `POST /v1/broadcasts/{id}/retry` */
export const retriedBroadcastResponseSchema = z.strictObject({
  broadcastId: z.string(),
  status: z.enum(broadcastStatuses),
  retrying: z.int().min(0).meta({ description: 'How many failed recipients go back through delivery.' }),
});

/** `GET /openapi.json`: an OpenAPI 3.1 document (its own schema is the OpenAPI specification's). */
export const openApiDocumentResponseSchema = z
  .looseObject({ openapi: z.string(), info: z.looseObject({}), paths: z.looseObject({}) })
  .meta({ description: 'An OpenAPI 3.1 document.' });

// ---- Routes compatible with the Celery scheduler (`/api/notifications/...`) ----

/** `POST /api/notifications/schedule/` */
export const celeryScheduledResponseSchema = z.strictObject({
  notification_ids: z.array(z.string()).meta({ description: 'Herald ids (`ntf_...`), one per recipient, in the order of `recipients`.' }),
  count: z.int().min(1),
  scheduled_at: instant.meta({ description: 'The earliest of their times: with `timezone: "recipient"` each has its own, in `schedule`.' }),
  schedule: z
    .array(
      z.strictObject({
        notification_id: z.string(),
        recipient_id: z.string(),
        scheduled_at: instant,
        timezone: z.string().nullable().meta({ description: 'The zone its wall time was read in.' }),
        local_scheduled_at: z.string().nullable().meta({ description: 'Its time as wall time in that zone, with the offset.' }),
      }),
    )
    .optional()
    .meta({ description: 'With `timezone`: each notification\'s own time, in the order of `notification_ids`.' }),
  adjusted: z
    .array(
      z.strictObject({
        notification_id: z.string(),
        kind: z.enum(['gap', 'overlap']),
        requested_local: z.string(),
        resolved_local: z.string(),
        shift_minutes: z.int().optional().meta({ description: 'For a gap: how far the time moved forward.' }),
      }),
    )
    .optional()
    .meta({ description: 'With `timezone`: the notifications whose wall time fell in a DST gap or overlap, and how it was resolved.' }),
});

/** `DELETE /api/notifications/{id}/cancel_scheduled/` */
export const celeryCancelledResponseSchema = z.strictObject({
  message: z.literal('Notification cancelled successfully'),
  notification_id: z.string(),
});

/** `GET /api/notifications/{id}/schedule_status/` */
export const celeryScheduleStatusResponseSchema = z.strictObject({
  id: z.string(),
  title: z.string(),
  scheduled_at: instant,
  scheduled_status: z.enum(celeryScheduledStatuses).meta({ description: 'A notification being delivered right now (`sending`) still shows `pending`.' }),
  is_sent: z.boolean(),
  sent_at: nullableInstant,
  created_at: instant,
});

/** A browser push subscription, as `toPushSubscriptionView` shows it (its keys stay with Herald). */
export const pushSubscriptionViewSchema = z.strictObject({
  id: z.string().meta({ description: 'Derived from the endpoint: the same subscription registered again keeps its id.' }),
  endpoint: z.string(),
  createdAt: instant,
});

/** A mobile device, as `toDeviceView` shows it. */
export const deviceViewSchema = z.strictObject({
  id: z.string().meta({ description: 'Derived from the platform and token.' }),
  platform: z.enum(['fcm', 'apns']),
  token: z.string(),
  createdAt: instant,
});

export const pushSubscriptionListSchema = z.strictObject({ items: z.array(pushSubscriptionViewSchema) });
export const deviceListSchema = z.strictObject({ items: z.array(deviceViewSchema) });
export const removedPushTargetSchema = z.strictObject({ id: z.string(), removed: z.literal(true) });
export const vapidPublicKeySchema = z.strictObject({
  publicKey: z.string().meta({ description: "The stage's VAPID public key (base64url, an uncompressed P-256 point): `applicationServerKey` of `pushManager.subscribe`." }),
});

/** `GET/PUT /v1/settings`: the tenant's settings of time, as `toTenantSettingsView` shows them. */
export const tenantSettingsViewSchema = z.strictObject({
  defaultTimezone: z.string().nullable().meta({ description: 'The zone of recipients without one (IANA); `null`: UTC.' }),
  quietHours: z
    .strictObject({ start: z.string(), end: z.string() })
    .nullable()
    .meta({ description: 'Wall times `HH:MM` in each recipient\'s zone; a window with start > end crosses midnight; `null`: none.' }),
  updatedAt: nullableInstant,
});

/** A recurring notification, as `toRecurringView` shows it. */
export const recurringViewSchema = z.strictObject({
  id: z.string(),
  status: z.enum(['active', 'paused', 'completed']).meta({
    description: '`completed`, paused or not: its `endAt` has passed, or its cron matches no time to come (its years are past). A PATCH that gives it a later end makes it `active` or `paused` again.',
  }),
  recipients: z.array(z.string()).optional(),
  audience: z.union([z.strictObject({ all: z.literal(true) }), z.strictObject({ groups: z.array(z.string()) }), z.strictObject({ recipientIds: z.array(z.string()) })]).optional(),
  title: z.string(),
  message: z.string(),
  channels: z.array(z.enum(channels)).nullable(),
  type: z.string(),
  priority: z.enum(priorities),
  data: z.record(z.string(), z.unknown()),
  schedule: z.strictObject({
    cron: z.string().nullable(),
    rate: z.string().nullable(),
    timezone: z.string(),
    startAt: nullableInstant,
    endAt: nullableInstant,
  }),
  createdBy: z.string(),
  createdAt: instant,
  updatedAt: instant,
  nextOccurrences: z
    .array(z.strictObject({ at: instant, local: z.string() }))
    .optional()
    .meta({ description: 'The next five occurrences (none while paused), in UTC and as wall time in its zone.' }),
  lastOccurrences: z
    .array(
      z.strictObject({
        at: instant,
        notificationIds: z.array(z.string()),
        broadcastId: z.string().nullable(),
        skippedRecipients: z.array(z.string()).meta({ description: 'Named recipients left out of this occurrence: erased from the directory since the definition was made.' }),
      }),
    )
    .meta({ description: 'The last occurrences, newest first, with what each created.' }),
});

/** `GET /v1/recurring-notifications` */
export const recurringPageSchema = z.strictObject({ items: z.array(recurringViewSchema), nextCursor: cursor });

/** `DELETE /v1/recurring-notifications/{id}` */
export const endedRecurringResponseSchema = z.strictObject({ recurringId: z.string(), status: z.literal('ended') });

// ---- Templates ----

const liquid = z.string().meta({ description: 'Liquid source.' });
const sectionViews = {
  inbox: z.strictObject({ title: liquid, message: liquid }),
  websocket: z.strictObject({ title: liquid, message: liquid }),
  email: z.strictObject({ subject: liquid, html: liquid.optional(), text: liquid.optional() }),
  push: z.strictObject({ title: liquid, body: liquid, url: liquid.optional() }),
  sms: z.strictObject({ text: liquid }),
  telegram: z.strictObject({ text: liquid }),
  webhook: z.strictObject({ body: liquid }),
};
const templateSectionsView = z.strictObject({
  inbox: sectionViews.inbox,
  websocket: sectionViews.websocket.optional(),
  email: sectionViews.email.optional(),
  push: sectionViews.push.optional(),
  sms: sectionViews.sms.optional(),
  telegram: sectionViews.telegram.optional(),
  webhook: sectionViews.webhook.optional(),
});
const localeSectionsView = z.strictObject({
  inbox: sectionViews.inbox.partial().optional(),
  websocket: sectionViews.websocket.partial().optional(),
  email: sectionViews.email.partial().optional(),
  push: sectionViews.push.partial().optional(),
  sms: sectionViews.sms.partial().optional(),
  telegram: sectionViews.telegram.partial().optional(),
  webhook: sectionViews.webhook.partial().optional(),
});

/** One version of a template, as `toTemplateView` shows it. */
export const templateViewSchema = z.strictObject({
  id: z.string(),
  version: z.int().min(1),
  description: z.string().optional(),
  channels: templateSectionsView,
  locales: z.record(z.string(), localeSectionsView).optional(),
  defaultLocale: z.string().optional(),
  createdAt: instant,
  createdBy: z.string(),
});

/** A template in the listing: its latest version's number and description. */
export const templateSummarySchema = z.strictObject({
  id: z.string(),
  latestVersion: z.int().min(1),
  description: z.string().optional(),
  createdAt: instant,
  updatedAt: instant,
});
export const templatePageSchema = z.strictObject({ items: z.array(templateSummarySchema), nextCursor: cursor });

/** `POST /v1/templates/{id}/preview`: every section rendered, or why it could not be. */
export const templatePreviewSchema = z.strictObject({
  templateId: z.string(),
  version: z.int().min(1),
  locale: z.string().meta({ description: "The locale used: the one asked for, its language, or the template's default." }),
  channels: z.strictObject({
    inbox: z.strictObject({ title: z.string(), message: z.string() }).optional(),
    websocket: z.strictObject({ title: z.string(), message: z.string() }).optional(),
    email: z.strictObject({ subject: z.string(), html: z.string().optional(), text: z.string() }).optional(),
    push: z.strictObject({ title: z.string(), body: z.string(), url: z.string().optional() }).optional(),
    sms: z
      .strictObject({ text: z.string(), encoding: z.enum(['GSM-7', 'UCS-2']), segments: z.int().min(0) })
      .optional()
      .meta({ description: 'With the messages it takes: GSM-7 160 characters in one, 153 per part; UCS-2 70 in one, 67 per part.' }),
    telegram: z.strictObject({ text: z.string(), parseMode: z.literal('HTML') }).optional(),
    webhook: z.strictObject({ body: z.string() }).optional(),
  }),
  failures: z.record(z.string(), z.string()).meta({ description: 'Sections that could not be rendered, and why (e.g. `missing variable "order.total"`).' }),
  missingVariables: z.array(z.string()).meta({ description: 'Variables any section of any locale uses that the payload lacks.' }),
});

/** A tenant's webhook signing secrets, as `toWebhookSecretView` shows them to admins. */
export const webhookSecretViewSchema = z.strictObject({
  secret: z.string().meta({ description: 'The current secret, `whsec_<base64>`.' }),
  createdAt: instant,
  previousSecret: z.string().nullable().meta({ description: 'The secret it replaced, while that still signs.' }),
  previousValidUntil: nullableInstant,
  earlierSecrets: z
    .array(z.strictObject({ secret: z.string(), validUntil: instant }))
    .meta({ description: 'Secrets retired before the previous one that still sign (rotations within a day of each other), newest first.' }),
});
