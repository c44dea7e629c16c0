/**
 * The zod schemas of everything Herald accepts: API bodies, path parameters, queue messages.
 * Handlers parse with these and nothing else, so validation lives in one place.
 */
import * as z from 'zod';
import { channels, notificationStatuses, priorities } from './notification.ts';
import { broadcastIdPattern, notificationIdPattern } from './ids.ts';
import { broadcastRecipientStatuses, broadcastStatuses } from './broadcast.ts';

/** Tenant, user and recipient ids: no `#` (it separates key parts) and no spaces. */
export const idSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.@:+-]{0,127}$/, 'must be 1-128 characters of letters, digits and _ . @ : + -');

export const notificationIdSchema = z.string().regex(notificationIdPattern, 'is not a notification id');

/** An IANA time zone that this runtime knows. */
export const timezoneSchema = z.string().refine(isKnownTimezone, 'is not a known IANA time zone');

function isKnownTimezone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** An ISO-8601 instant with an explicit offset (`Z` or `+02:00`). */
export const instantSchema = z.iso.datetime({ offset: true, message: 'must be an ISO-8601 date-time with an offset' });

export const maxTitleLength = 200;
export const maxMessageLength = 10_000;
export const maxRecipientsPerRequest = 1_000;
/** `data` may hold at most this many bytes once serialized as JSON (UTF-8). */
export const maxDataBytes = 16 * 1024;
/** The largest page a listing returns, and the default. */
export const maxPageSize = 100;
export const defaultPageSize = 20;
/** How long a manual retry may be put off. */
export const maxRetryDelayMinutes = 30 * 24 * 60;
/** Bounds of the metrics window (counters are kept per hour, for 40 days). */
export const minMetricsPeriodSeconds = 60 * 60;
export const maxMetricsPeriodSeconds = 31 * 24 * 60 * 60;

/** A notification's free-form type (`reminder`, `invoice.due`, ...). */
export const notificationTypeSchema = z.string().trim().min(1, 'must not be empty').max(64, 'must be at most 64 characters');

/** `data`: a JSON object of at most {@link maxDataBytes} bytes serialized. */
export const notificationDataSchema = z
  .record(z.string(), z.unknown())
  .refine((data) => Buffer.byteLength(JSON.stringify(data), 'utf8') <= maxDataBytes, `must be at most ${maxDataBytes} bytes as JSON`);

/** What a notification is about, in the caller's terms. */
export const relatedObjectSchema = z.strictObject({
  type: z.string().trim().min(1, 'must not be empty').max(64, 'must be at most 64 characters'),
  id: z.string().trim().min(1, 'must not be empty').max(128, 'must be at most 128 characters'),
});

/** Body of `POST /v1/notifications`. */
export const createNotificationsBodySchema = z.strictObject({
  recipients: z
    .array(idSchema)
    .min(1, 'must name at least one recipient')
    .max(maxRecipientsPerRequest, `must name at most ${maxRecipientsPerRequest} recipients`)
    .refine((ids) => new Set(ids).size === ids.length, 'must not repeat a recipient'),
  title: z.string().trim().min(1, 'must not be empty').max(maxTitleLength, `must be at most ${maxTitleLength} characters`),
  message: z.string().min(1, 'must not be empty').max(maxMessageLength, `must be at most ${maxMessageLength} characters`),
  scheduledAt: instantSchema.optional(),
  channels: z
    .array(z.enum(channels))
    .min(1, 'must name at least one channel')
    .refine((list) => new Set(list).size === list.length, 'must not repeat a channel')
    .optional(),
  type: notificationTypeSchema.default('system'),
  priority: z.enum(priorities).default('normal'),
  data: notificationDataSchema.optional(),
  relatedObject: relatedObjectSchema.optional(),
});
export type CreateNotificationsBody = z.infer<typeof createNotificationsBodySchema>;

/** Fields of a notification that only the server sets: named in a 400, never silently dropped. */
export const serverOwnedNotificationFields = [
  'id',
  'tenantId',
  'recipientId',
  'createdBy',
  'createdAt',
  'status',
  'sentAt',
  'cancelledAt',
  'attempts',
  'deliveries',
  'lastError',
  'leaseUntil',
  'nextAttemptAt',
] as const;

const rejectedAsServerOwned = Object.fromEntries(
  serverOwnedNotificationFields.map((field) => [field, z.never({ error: 'is set by the server and cannot be changed' }).optional()]),
) as Record<(typeof serverOwnedNotificationFields)[number], z.ZodOptional<z.ZodNever>>;

/** Body of `PATCH /v1/notifications/{id}`: only the time may change. */
export const rescheduleNotificationBodySchema = z.strictObject({ scheduledAt: instantSchema, ...rejectedAsServerOwned });
export type RescheduleNotificationBody = z.infer<typeof rescheduleNotificationBodySchema>;

/** Body of `POST /v1/notifications/{id}/send-now` (optional): nothing to say. */
export const sendNowBodySchema = z.strictObject({});

/** Body of `POST /v1/notifications/{id}/retry` (optional). */
export const retryNotificationBodySchema = z.strictObject({
  delayMinutes: z
    .number()
    .int('must be a whole number of minutes')
    .min(0, 'must not be negative')
    .max(maxRetryDelayMinutes, `must be at most ${maxRetryDelayMinutes} (30 days)`)
    .default(0),
});
export type RetryNotificationBody = z.infer<typeof retryNotificationBodySchema>;

/** Query of `GET /v1/notifications`; `from`/`to` bound the creation time. */
export const listNotificationsQuerySchema = z
  .strictObject({
    status: z.enum(notificationStatuses).optional(),
    recipientId: idSchema.optional(),
    type: notificationTypeSchema.optional(),
    from: instantSchema.optional(),
    to: instantSchema.optional(),
    limit: z.coerce
      .number('must be a number')
      .int('must be a whole number')
      .min(1, 'must be at least 1')
      .max(maxPageSize, `must be at most ${maxPageSize}`)
      .default(defaultPageSize),
    cursor: z.string().min(1).max(1024, 'is not a valid cursor').optional(),
  })
  .refine((q) => q.from === undefined || q.to === undefined || Date.parse(q.from) <= Date.parse(q.to), {
    path: ['from'],
    message: 'must not be after to',
  });
export type ListNotificationsQuery = z.infer<typeof listNotificationsQuerySchema>;

/** Query of `GET /v1/metrics`: the window, in seconds back from now. */
export const metricsQuerySchema = z.strictObject({
  period: z.coerce
    .number('must be a number of seconds')
    .int('must be a whole number of seconds')
    .min(minMetricsPeriodSeconds, `must be at least ${minMetricsPeriodSeconds} (metrics are kept per hour)`)
    .max(maxMetricsPeriodSeconds, `must be at most ${maxMetricsPeriodSeconds} (31 days)`)
    .default(minMetricsPeriodSeconds),
});

/** The groups a recipient belongs to. */
export const maxGroupsPerRecipient = 100;
export const recipientGroupsSchema = z
  .array(idSchema)
  .max(maxGroupsPerRecipient, `must hold at most ${maxGroupsPerRecipient} groups`)
  .refine((list) => new Set(list).size === list.length, 'must not repeat a group');

/** Body of `PUT /v1/recipients/{id}`. */
export const putRecipientBodySchema = z.strictObject({
  email: z.email('must be an email address').optional(),
  timezone: timezoneSchema.optional(),
  groups: recipientGroupsSchema.optional(),
});
export type PutRecipientBody = z.infer<typeof putRecipientBodySchema>;

/** How many upserts one `POST /v1/recipients/batch` may carry. */
export const maxBatchRecipients = 1_000;

/** Body of `POST /v1/recipients/batch`: the entries are validated one by one (see the next schema). */
export const batchRecipientsBodySchema = z.strictObject({
  recipients: z
    .array(z.unknown())
    .min(1, 'must hold at least one recipient')
    .max(maxBatchRecipients, `must hold at most ${maxBatchRecipients} recipients`),
});

/** One entry of a batch upsert: given fields are set, `null` clears, absent ones are kept. */
export const batchRecipientEntrySchema = z.strictObject({
  id: idSchema,
  email: z.email('must be an email address').nullable().optional(),
  timezone: timezoneSchema.nullable().optional(),
  groups: recipientGroupsSchema.optional(),
});
export type BatchRecipientEntry = z.infer<typeof batchRecipientEntrySchema>;

/** Fields of a recipient that its owner may not set on `PATCH /v1/me`: named in a 400. */
export const serverOwnedRecipientFields = ['id', 'tenantId', 'groups', 'createdAt', 'updatedAt', 'version'] as const;

const notSettableOnMe = Object.fromEntries(
  serverOwnedRecipientFields.map((field) => [field, z.never({ error: 'is set by the server and cannot be changed' }).optional()]),
) as Record<(typeof serverOwnedRecipientFields)[number], z.ZodOptional<z.ZodNever>>;

/** Body of `PATCH /v1/me`: the caller's own address, time zone and channels. */
export const updateMeBodySchema = z
  .strictObject({
    email: z.email('must be an email address').nullable().optional(),
    timezone: timezoneSchema.nullable().optional(),
    channels: z
      .strictObject({
        email: z.boolean('must be true or false').optional(),
        websocket: z.boolean('must be true or false').optional(),
        inbox: z.never({ error: 'cannot be switched off: the inbox keeps every notification' }).optional(),
      })
      .optional(),
    ...notSettableOnMe,
  })
  .refine((body) => Object.keys(body).length > 0, 'must change at least one of email, timezone, channels');
export type UpdateMeBody = z.infer<typeof updateMeBodySchema>;

/** `limit` of a listing: 1 to {@link maxPageSize}, {@link defaultPageSize} when absent. */
export const pageLimitSchema = z.coerce
  .number('must be a number')
  .int('must be a whole number')
  .min(1, 'must be at least 1')
  .max(maxPageSize, `must be at most ${maxPageSize}`)
  .default(defaultPageSize);

/** `cursor` of a listing, as a previous page handed it out. */
export const pageCursorSchema = z.string().min(1).max(1024, 'is not a valid cursor');

/** Query of `GET /v1/recipients`. */
export const listRecipientsQuerySchema = z.strictObject({
  group: idSchema.optional(),
  limit: pageLimitSchema,
  cursor: pageCursorSchema.optional(),
});
export type ListRecipientsQuery = z.infer<typeof listRecipientsQuerySchema>;

/** Query of `GET /v1/me/inbox`. */
export const listInboxQuerySchema = z.strictObject({
  unread: z
    .enum(['true', 'false'], 'must be true or false')
    .transform((value) => value === 'true')
    .optional(),
  limit: pageLimitSchema,
  cursor: pageCursorSchema.optional(),
});
export type ListInboxQuery = z.infer<typeof listInboxQuerySchema>;

/** An inbox item's id: the id of the notification it holds. */
export const inboxItemIdSchema = idSchema;

/** `{ "action": "markRead", "id" }` over the WebSocket. */
export const markReadMessageSchema = z.object({ action: z.literal('markRead'), id: inboxItemIdSchema });

/** What the delivery queue carries: which notification to deliver (the item holds the rest). */
/** How many notifications one delivery message (and one schedule) names at most. */
export const maxNotificationsPerMessage = 100;

/**
 * What the delivery queue carries: the notifications of one tenant due at one instant (a
 * schedule's or a create's batch, `notBefore` their time), or one notification (the sweeps, a
 * redrive). Naming each recipient lets the consumer read them with the notifications.
 */
export const deliveryMessageSchema = z.union([
  z.object({
    tenantId: idSchema,
    notifications: z.array(z.object({ id: notificationIdSchema, recipientId: idSchema })).min(1).max(maxNotificationsPerMessage),
    notBefore: instantSchema.optional(),
  }),
  z.object({
    tenantId: idSchema,
    notificationId: notificationIdSchema,
    recipientId: idSchema.optional(),
    notBefore: instantSchema.optional(),
  }),
]);
export type DeliveryMessage = z.infer<typeof deliveryMessageSchema>;

/** A message a WebSocket client sends. */
export const socketMessageSchema = z.object({ action: z.string().optional() }).loose();

/** The EventBridge "Scheduled Event" a rule hands its target (the sweeps read only who and when). */
export const scheduledEventSchema = z.object({
  id: z.string().min(1),
  'detail-type': z.literal('Scheduled Event'),
  source: z.literal('aws.events'),
  time: z.iso.datetime({ offset: true }),
  resources: z.array(z.string()),
});
export type ScheduledRuleEvent = z.infer<typeof scheduledEventSchema>;

// ---- Broadcasts (issue 5) ----

/** How many ids an explicit broadcast audience may hold in one request (groups and `all` have no limit). */
export const maxBroadcastRecipientIds = 10_000;
/** How many groups one broadcast may name. */
export const maxBroadcastGroups = 100;

export const broadcastIdSchema = z.string().regex(broadcastIdPattern, 'is not a broadcast id');

const unique = (list: readonly string[]): boolean => new Set(list).size === list.length;

/** Who a broadcast goes to: exactly one of the whole tenant, some groups, an explicit list. */
export const broadcastAudienceSchema = z
  .strictObject({
    all: z.literal(true, 'must be true (a broadcast to everyone)').optional(),
    groups: z
      .array(idSchema)
      .min(1, 'must name at least one group')
      .max(maxBroadcastGroups, `must name at most ${maxBroadcastGroups} groups`)
      .refine(unique, 'must not repeat a group')
      .optional(),
    recipientIds: z
      .array(idSchema)
      .min(1, 'must name at least one recipient')
      .max(maxBroadcastRecipientIds, `must name at most ${maxBroadcastRecipientIds} recipients`)
      .refine(unique, 'must not repeat a recipient')
      .optional(),
  })
  .refine(
    (audience) => [audience.all, audience.groups, audience.recipientIds].filter((part) => part !== undefined).length === 1,
    'must name exactly one of all, groups, recipientIds',
  );
export type BroadcastAudienceBody = z.infer<typeof broadcastAudienceSchema>;

const notificationContent = createNotificationsBodySchema.shape;

/** Body of `POST /v1/broadcasts`: the content rules of a notification, an audience instead of recipients. */
export const createBroadcastBodySchema = z.strictObject({
  audience: broadcastAudienceSchema,
  title: notificationContent.title,
  message: notificationContent.message,
  channels: notificationContent.channels,
  type: notificationContent.type,
  priority: notificationContent.priority,
  data: notificationContent.data,
  scheduledAt: notificationContent.scheduledAt,
  draft: z.boolean('must be true or false').default(false),
});
export type CreateBroadcastBody = z.infer<typeof createBroadcastBodySchema>;

/** Body of `POST /v1/broadcasts/{id}/schedule` (optional). */
export const scheduleBroadcastBodySchema = z.strictObject({ scheduledAt: instantSchema.optional() });
export type ScheduleBroadcastBody = z.infer<typeof scheduleBroadcastBodySchema>;

/** Query of `GET /v1/broadcasts`; `from`/`to` bound the creation time. */
export const listBroadcastsQuerySchema = z
  .strictObject({
    status: z.enum(broadcastStatuses).optional(),
    from: instantSchema.optional(),
    to: instantSchema.optional(),
    limit: pageLimitSchema,
    cursor: pageCursorSchema.optional(),
  })
  .refine((q) => q.from === undefined || q.to === undefined || Date.parse(q.from) <= Date.parse(q.to), {
    path: ['from'],
    message: 'must not be after to',
  });
export type ListBroadcastsQuery = z.infer<typeof listBroadcastsQuerySchema>;

/** Query of `GET /v1/broadcasts/{id}/recipients`. */
export const listBroadcastRecipientsQuerySchema = z.strictObject({
  status: z.enum(broadcastRecipientStatuses).optional(),
  limit: pageLimitSchema,
  cursor: pageCursorSchema.optional(),
});
export type ListBroadcastRecipientsQuery = z.infer<typeof listBroadcastRecipientsQuerySchema>;

const broadcastRef = { tenantId: idSchema, broadcastId: broadcastIdSchema };

/**
 * What the fan-out queue carries: one bounded step of a broadcast's fan-out each. `start` comes
 * from the broadcast's schedule; every other step is enqueued by the step before it (or by the
 * API: `cancel`, `retry`), and `watch` is the safety net that restarts a stalled fan-out.
 */
export const fanoutMessageSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('start'), ...broadcastRef }),
  z.object({ kind: z.literal('resolve'), ...broadcastRef, page: z.int().min(0) }),
  z.object({ kind: z.literal('count'), ...broadcastRef }),
  z.object({
    kind: z.literal('dispatch'),
    ...broadcastRef,
    run: z.int().min(0),
    shard: z.int().min(0).optional(),
    after: idSchema.optional(),
  }),
  z.object({
    kind: z.literal('retry'),
    ...broadcastRef,
    run: z.int().min(1),
    shard: z.int().min(0).optional(),
    after: idSchema.optional(),
  }),
  z.object({ kind: z.literal('cancel'), ...broadcastRef }),
  z.object({ kind: z.literal('watch'), ...broadcastRef, seen: z.string().max(1024), stalls: z.int().min(0) }),
]);
export type FanoutMessage = z.infer<typeof fanoutMessageSchema>;

/** What the broadcast delivery queue carries: several recipients of one broadcast per message. */
export const broadcastDeliveryMessageSchema = z.object({
  ...broadcastRef,
  recipientIds: z.array(idSchema).min(1).max(100),
});
export type BroadcastDeliveryMessage = z.infer<typeof broadcastDeliveryMessageSchema>;

// ---- Routes compatible with the Celery scheduler (issue 3) ----

/** An id as the Celery scheduler took it: a string, or a whole number (a database key), read as its decimal string. */
function celeryIdSchema<S extends z.ZodType<string, string>>(asString: S, what: string) {
  return z.union([asString, z.int().min(0).transform(String)], { error: `must be ${what} (a string) or a whole number` });
}

/**
 * Body of `POST /api/notifications/schedule/`, the Celery scheduler's: snake_case, ids may be
 * numbers, optional fields may be `null`. It reads as a `POST /v1/notifications` body, with the
 * same limits; `scheduled_at` needs an offset (`Z` or `+02:00`): a time without one is ambiguous.
 */
export const celeryScheduleBodySchema = z
  .strictObject({
    recipients: z
      .array(celeryIdSchema(idSchema, 'a recipient id'))
      .min(1, 'must name at least one recipient')
      .max(maxRecipientsPerRequest, `must name at most ${maxRecipientsPerRequest} recipients`)
      .refine(unique, 'must not repeat a recipient'),
    title: notificationContent.title,
    message: notificationContent.message,
    scheduled_at: instantSchema,
    type: notificationTypeSchema.nullish(),
    priority: z.enum(priorities).nullish(),
    related_object_type: relatedObjectSchema.shape.type.nullish(),
    related_object_id: celeryIdSchema(relatedObjectSchema.shape.id, 'an object id').nullish(),
    data: notificationDataSchema.nullish(),
  })
  .refine((body) => (body.related_object_type ?? undefined) === undefined || (body.related_object_id ?? undefined) !== undefined, {
    path: ['related_object_id'],
    message: 'must be given with related_object_type',
  })
  .refine((body) => (body.related_object_id ?? undefined) === undefined || (body.related_object_type ?? undefined) !== undefined, {
    path: ['related_object_type'],
    message: 'must be given with related_object_id',
  })
  .transform(
    (body): CreateNotificationsBody => ({
      recipients: body.recipients,
      title: body.title,
      message: body.message,
      scheduledAt: body.scheduled_at,
      // `null` reads as absent, so it gets the default of a `POST /v1/notifications` body.
      type: body.type ?? notificationContent.type.parse(undefined),
      priority: body.priority ?? notificationContent.priority.parse(undefined),
      ...(body.data ? { data: body.data } : {}),
      ...(body.related_object_type && body.related_object_id ? { relatedObject: { type: body.related_object_type, id: body.related_object_id } } : {}),
    }),
  );
