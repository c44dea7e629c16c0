/**
 * The zod schemas of everything Herald accepts: API bodies, path parameters, queue messages (those
 * in zod/mini in message-schemas.ts and socket-messages.ts, re-exported here).
 * Handlers parse with these and nothing else, so validation lives in one place. Every limit of
 * the API is a constant here: the schemas, the body caps (shared/http/body-limits.ts), the
 * OpenAPI document and docs/limits.md all read them from here.
 *
 * Text: every string Herald accepts is well-formed Unicode (no lone surrogate: it could not be
 * stored or sent faithfully). Single-line text (titles, types, ids, related objects) also refuses
 * control characters and line separators: a CR/LF in a title must never reach an e-mail header.
 * Text is kept exactly as sent (no trimming); blank text counts as empty.
 */
import { createECDH } from 'node:crypto';
import * as z from 'zod';
import { channels, maxMessageLength, maxTitleLength, notificationStatuses, priorities } from './notification.ts';
import { broadcastIdPattern, notificationIdPattern, recurringIdPattern } from './ids.ts';
import { broadcastRecipientStatuses, broadcastStatuses } from './broadcast.ts';
import { isRawJson } from './opaque-json.ts';
import { pushEndpointProblem, pushEndpointRules } from './push-targets.ts';
import { hasSpaceOrControl, writtenAuthority } from './url-text.ts';
import type { PushEndpointProblem } from './push-targets.ts';
import { verifiableChannels } from './contact-verification.ts';
import { maxTypePreferences, switchableChannels } from './recipient.ts';
import type { SwitchableChannel } from './recipient.ts';
import type { RawJson } from './opaque-json.ts';
import { isCalendarDateTime, isKnownTimeZone, isLocalDateTime, localDateTimePattern, normalizeTimeZone, ratePattern, wallTimePattern } from './time.ts';
import { canonicalLocale, maxTemplateVersions, reservedTemplateVariables, templateIdMessage, templateIdPattern } from './template.ts';
import { isNotBlank, isSingleLineText, isWellFormedText, maxSubjectLength, nameLikeId, nameLikeMessage, singleLineMessage, wellFormedMessage } from './subject-ids.ts';
import { maxInstantLength } from './message-schemas.ts';
import type { TemplateChannel } from './template.ts';
import {
  minPhoneDigits,
  maxPhoneDigits,
  maxBatchRecipients,
  maxWebhookUrlLength,
  maxBroadcastRecipientIds,
  maxDataBytes,
  maxDeviceTokenLength,
  maxEmailLength,
  maxPushEndpointLength,
  maxGroupsPerRecipient,
  maxCronLength,
  maxRecipientsPerRequest,
  maxRelatedObjectIdLength,
  maxRelatedObjectTypeLength,
  maxRetryDelayMinutes,
  maxTimezoneLength,
  maxTypeLength,
  maxVerificationCodeLength,
  maxLocaleLength,
  maxTemplateBytes,
  maxDataDepth,
} from './field-limits.ts';

// The fields' limits live apart from the schemas, so that what needs only a number (the body caps,
// the JSON reader) does not load classic zod and every schema (the api's cold start).
export * from './field-limits.ts';

export { isSingleLineText, isWellFormedText, maxSubjectLength } from './subject-ids.ts';

/**
 * Text of 1 to `max` UTF-16 code units (JavaScript's `length`), well-formed, not blank; with
 * `singleLine`, without control characters or line breaks.
 */
export function textSchema(options: { readonly max: number; readonly singleLine: boolean; readonly min?: number }): z.ZodString {
  let schema = z
    .string('must be a string')
    .min(options.min ?? 1, 'must not be empty')
    .max(options.max, `must be at most ${options.max} characters`)
    .refine(isWellFormedText, wellFormedMessage);
  if (options.singleLine) schema = schema.refine(isSingleLineText, singleLineMessage);
  // An empty string is already refused by `min`; this names text of nothing but white space.
  if ((options.min ?? 1) > 0) schema = schema.refine(isNotBlank, 'must not be blank');
  return schema;
}

/**
 * User and recipient ids: any one-line text of 1-255 characters, exactly as the identity
 * provider issued it. Where one becomes part of a DynamoDB key it is escaped
 * (shared/adapters/dynamo-keys.ts), so `#` and `%` are fine.
 */
export const idSchema = textSchema({ max: maxSubjectLength, singleLine: true });

/** Tenant ids (the token's `tenant` claim). */
export const tenantIdSchema = z.string('must be a string').regex(nameLikeId, nameLikeMessage);

/** Group ids. */
export const groupIdSchema = z.string('must be a string').regex(nameLikeId, nameLikeMessage);

export const notificationIdSchema = z.string().regex(notificationIdPattern, 'is not a notification id');

/**
 * A known zone's name as the tz database spells it (any other is left for the refinement before it
 * to refuse). An `overwrite`, not a `transform`: the schema stays a string, so the OpenAPI document
 * still shows its type and its default.
 */
const databaseSpelling = (zone: string): string => normalizeTimeZone(zone) ?? zone;

/** An IANA time zone that this runtime knows, in any case; read as the tz database spells it (`europe/paris` is `Europe/Paris`). */
export const timezoneSchema = z
  .string('must be a string')
  .max(maxTimezoneLength, `must be at most ${maxTimezoneLength} characters`)
  .refine(isKnownTimeZone, 'is not a known IANA time zone')
  .overwrite(databaseSpelling);

/** The longest local part of an address (before the `@`): 64 octets (RFC 5321, 4.5.3.1.1). */
export const maxEmailLocalPartLength = 64;
/** The longest label of a domain name (between its dots): 63 octets (RFC 1035, 2.3.4). */
export const maxDomainLabelLength = 63;

/** The local part of `address` (before its `@`). */
function localPartOf(address: string): string {
  return address.slice(0, address.lastIndexOf('@'));
}

/** The labels of the domain of `address` (after its `@`). */
function domainLabelsOf(address: string): string[] {
  return address.slice(address.lastIndexOf('@') + 1).split('.');
}

/**
 * An e-mail address (zod's pattern: ASCII, so a character is an octet; no quoted local part), at
 * most {@link maxEmailLength} characters, with a local part of at most
 * {@link maxEmailLocalPartLength} (RFC 5321, 4.5.3.1.1) and a domain of labels of at most
 * {@link maxDomainLabelLength} that neither start nor end with a hyphen (RFC 1035, 2.3.1 and 2.3.4).
 * Past these no mail server is bound to take the address, nor can DNS name its domain: the e-mail
 * channel would fail on every notification.
 */
export const emailAddressSchema = z
  // Aborts: the rules after it judge only a text of the address's shape.
  .email({ error: 'must be an email address', abort: true })
  .max(maxEmailLength, `must be at most ${maxEmailLength} characters`)
  .refine(
    (address) => localPartOf(address).length <= maxEmailLocalPartLength,
    `must have at most ${maxEmailLocalPartLength} characters before the @ (RFC 5321, 4.5.3.1.1)`,
  )
  .refine(
    (address) => domainLabelsOf(address).every((label) => label.length <= maxDomainLabelLength),
    `must have at most ${maxDomainLabelLength} characters between two dots of its domain (RFC 1035, 2.3.4)`,
  )
  .refine(
    (address) => domainLabelsOf(address).every((label) => !label.startsWith('-') && !label.endsWith('-')),
    'must not have a part of its domain that starts or ends with a hyphen (RFC 1035, 2.3.1)',
  );

/**
 * A phone number in E.164 form: `+`, a country code and the subscriber number, 7 to 15 digits in
 * all, no spaces or punctuation (ITU-T E.164; the form SNS `Publish` takes in `PhoneNumber`).
 * E.164 sets only the maximum; the minimum is that of the shortest numbers in use, so a number cut
 * short (`+123`) is refused rather than texted in vain.
 */
export const phoneNumberSchema = z
  .string('must be a string')
  .regex(
    new RegExp(`^\\+[1-9]\\d{${minPhoneDigits - 1},${maxPhoneDigits - 1}}$`),
    `must be an E.164 phone number: + and ${minPhoneDigits} to ${maxPhoneDigits} digits, no spaces, e.g. +14155550100`,
  );

/** A Telegram chat: a numeric id (negative for groups) or a public `@username`, as `sendMessage` takes `chat_id`. */
export const telegramChatIdSchema = z
  .string('must be a string')
  .regex(/^(-?\d{1,20}|@[A-Za-z][A-Za-z0-9_]{4,31})$/, 'must be a numeric Telegram chat id or an @username');

/**
 * A webhook URL: absolute `http(s)://`, no credentials. Whether the host may be reached is judged at
 * each send (shared/delivery/webhook-guard.ts): on AWS, `https://` to public addresses only.
 */
export const webhookUrlSchema = z
  .string('must be a string')
  .max(maxWebhookUrlLength, `must be at most ${maxWebhookUrlLength} characters`)
  .refine((text) => !hasSpaceOrControl(text), { error: 'must not contain spaces or control characters', abort: true })
  .refine((text) => {
    if (!URL.canParse(text)) return false;
    const url = new URL(text);
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.username === '' && url.password === '' && url.hostname !== '';
  }, { error: 'must be an absolute http(s) URL without credentials', abort: true })
  // As written: the URL parser reads `https:///host/path` as `https://host/path`.
  .refine((text) => writtenAuthority(text) !== undefined, 'must name a host after http(s)://');

/** A BCP 47 language tag (`en-GB`), stored in its canonical form (`Intl.getCanonicalLocales`). */
export const localeSchema = z
  .string('must be a string')
  .max(maxLocaleLength, `must be at most ${maxLocaleLength} characters`)
  .refine(isLanguageTag, 'must be a BCP 47 language tag such as en-GB')
  .transform((tag) => Intl.getCanonicalLocales(tag)[0] ?? tag);

function isLanguageTag(tag: string): boolean {
  try {
    return Intl.getCanonicalLocales(tag).length === 1;
  } catch {
    return false;
  }
}

/**
 * What an instant must be, said to whoever sent another: seconds included, as RFC 3339 section 5.6
 * (and zod's `iso.datetime`) wants them wherever a time has an offset, so `09:00Z` is refused
 * while a wall time without an offset may stop at the minute. (The queues' messages, which only
 * Herald writes, keep a shorter text: message-schemas.ts.)
 */
const instantMessage = 'must be an ISO-8601 date-time with an offset, seconds included (2027-03-28T09:00:00Z)';

/** A date and a time of day, in any spelling RFC 3339 allows, before its time zone designator. */
const rfc3339DateTime = /^(\d{4}-\d\d-\d\d)[Tt ](\d\d:\d\d.*?)(z?)$/;

/** {@link localDateTimePattern} in any spelling {@link rfc3339Spelling} reads. */
const rfc3339LocalDateTime = new RegExp(localDateTimePattern.source.replace('T', '[Tt ]'));

/**
 * A date-time in the spelling Herald stores, `T` and `Z`: RFC 3339 lets them be lower case
 * (section 5.6, its note on ABNF) and lets the date and the time be parted by a space. Anything
 * else, left as it is for the schema to refuse.
 */
function rfc3339Spelling(value: string): string {
  const match = rfc3339DateTime.exec(value);
  return match ? `${match[1]}T${match[2]}${match[3] ? 'Z' : ''}` : value;
}

/** An ISO-8601 instant with an explicit offset (`Z` or `+02:00`); `t`, `z` and a space in place of `T` read as RFC 3339 allows. */
export const instantSchema = z
  .string(instantMessage)
  .max(maxInstantLength, `must be at most ${maxInstantLength} characters`)
  .overwrite(rfc3339Spelling)
  .check(z.iso.datetime({ offset: true, message: instantMessage }));

/**
 * Whether two instants of a body or query are in order (`earlier` before `later`, or at the same
 * instant unless `strictly`). True when either is absent or is not a valid instant: an object's
 * refinement runs even when a field failed, and that field's own message says what is wrong with
 * it (`Date.parse` would read `2030-01-01 10:00` or compare NaN, and add "must not be after to").
 */
function instantsInOrder(earlier: string | null | undefined, later: string | null | undefined, strictly: boolean): boolean {
  if (earlier == null || later == null || !instantSchema.safeParse(earlier).success || !instantSchema.safeParse(later).success) return true;
  const [a, b] = [Date.parse(earlier), Date.parse(later)];
  return strictly ? a < b : a <= b;
}

// ---- Time as people mean it (issue 12): shared/domain/time.ts holds the rules ----

/**
 * A time to deliver at: an instant with an offset, or a wall time without one
 * (`2027-03-28T09:00`), which then needs `timezone` beside it.
 */
export const schedulableTimeSchema = z.union(
  [
    instantSchema,
    z
      .string()
      .regex(rfc3339LocalDateTime)
      .overwrite(rfc3339Spelling)
      // A real day and time (not a month 61, 29 February 2027, nor a leap second Temporal would read as :59).
      .refine(isCalendarDateTime)
      .meta({ description: 'A wall time without an offset (`2027-03-28T09:00`), read in `timezone`.' }),
  ],
  { error: `${instantMessage}, or a wall time without an offset (2027-03-28T09:00) given with timezone` },
);

/** Where a wall time is read: an IANA zone, or `recipient` (each recipient's own zone, then the tenant's default, then UTC). */
export const scheduleTimezoneSchema = z
  .string('must be a string')
  .max(maxTimezoneLength, `must be at most ${maxTimezoneLength} characters`)
  .refine((zone) => zone === 'recipient' || isKnownTimeZone(zone), 'must be a known IANA time zone or "recipient"')
  .overwrite((zone) => (zone === 'recipient' ? zone : databaseSpelling(zone)));

/** A wall time of day, `HH:MM` (24-hour). */
export const wallTimeSchema = z.string('must be a string').regex(wallTimePattern, 'must be a time of day HH:MM (00:00-23:59)');

/** Quiet hours: nothing but urgent notifications is delivered from `start` to `end` (wall times in the recipient's zone). */
export const quietHoursSchema = z.strictObject({ start: wallTimeSchema, end: wallTimeSchema });

/** A recipient's own quiet hours: a window, `null` for none at all, `"default"` for the tenant's. */
export const recipientQuietHoursSchema = z.union([quietHoursSchema, z.null(), z.literal('default')], {
  error: 'must be { start, end }, null (no quiet hours) or "default" (the tenant\'s)',
});

/** Body of `PUT /v1/settings`: the tenant's default zone and quiet hours (`null`: none). */
export const tenantSettingsBodySchema = z.strictObject({
  defaultTimezone: timezoneSchema.nullable().optional(),
  quietHours: quietHoursSchema.nullable().optional(),
});
export type TenantSettingsBody = z.infer<typeof tenantSettingsBodySchema>;

/** Refuses a wall time without `timezone`: it names no instant. */
function needsZone(body: { scheduledAt?: string | undefined; timezone?: string | undefined }): boolean {
  return body.scheduledAt === undefined || !isLocalDateTime(body.scheduledAt) || body.timezone !== undefined;
}
const needsZoneIssue = { path: ['timezone'], message: 'is required when scheduledAt has no offset' };

export { maxMessageLength, maxTitleLength };
/** The largest page a listing returns, and the default. */
export const maxPageSize = 100;
export const defaultPageSize = 20;
/** Bounds of the metrics window (counters are kept per hour, for 40 days). */
export const minMetricsPeriodSeconds = 60 * 60;
export const maxMetricsPeriodSeconds = 31 * 24 * 60 * 60;

// `__proto__` cannot name a switch in `PATCH /v1/me` `types` (a member so named is refused), so no
// notification may have that type either: nobody could switch it off.
export const notificationTypeSchema = textSchema({ max: maxTypeLength, singleLine: true }).refine((type) => type !== '__proto__', 'is not an accepted type name');


/** How deep a JSON value nests (a scalar 0, `{}` 1), walked with an explicit stack: any depth is safe. */
export function jsonDepth(value: unknown): number {
  let deepest = 0;
  const stack: { value: unknown; depth: number }[] = [{ value, depth: 0 }];
  for (let frame = stack.pop(); frame !== undefined; frame = stack.pop()) {
    const { value: current, depth } = frame;
    if (typeof current !== 'object' || current === null || isRawJson(current)) continue;
    deepest = Math.max(deepest, depth + 1);
    for (const member of Object.values(current)) stack.push({ value: member, depth: depth + 1 });
  }
  return deepest;
}

/**
 * `data`: any JSON object, kept as opaque JSON (shared/domain/opaque-json.ts): numbers of any size
 * and precision, any member name but `__proto__` (refused with the body); at most {@link maxDataDepth} levels and {@link maxDataBytes}
 * bytes as JSON (UTF-8, as `JSON.stringify` writes it).
 */
export const notificationDataSchema = z
  .record(z.string(), z.unknown(), 'must be a JSON object')
  .superRefine((data, context) => {
    if (isRawJson(data)) {
      context.addIssue({ code: 'custom', message: 'must be a JSON object' });
      return;
    }
    // Depth first: `JSON.stringify` recurses once per level.
    if (jsonDepth(data) > maxDataDepth) {
      context.addIssue({ code: 'custom', message: `must not nest deeper than ${maxDataDepth} levels` });
      return;
    }
    if (Buffer.byteLength(JSON.stringify(data), 'utf8') > maxDataBytes) {
      context.addIssue({ code: 'custom', message: `must be at most ${maxDataBytes} bytes as JSON` });
    }
  })
  .meta({ description: `Opaque JSON, returned exactly as sent (numbers of any size and precision). At most ${maxDataDepth} levels deep and ${maxDataBytes} bytes as JSON.` });

/** What a notification is about, in the caller's terms. */
export const relatedObjectSchema = z.strictObject({
  type: textSchema({ max: maxRelatedObjectTypeLength, singleLine: true }),
  id: textSchema({ max: maxRelatedObjectIdLength, singleLine: true }),
});

/** A template id: chosen by the tenant, kept to a safe alphabet (it names the template in URLs and logs). */
export const templateIdSchema = z.string('must be a string').regex(templateIdPattern, templateIdMessage);
export { maxTemplateVersions };
/** How many locales one template may have. */
export const maxTemplateLocales = 50;
/** The longest template description. */
export const maxTemplateDescriptionLength = 500;

/** `template` of a notification or broadcast: which template, which version (absent: the latest at delivery), and its payload. */
export const templateRefSchema = z.strictObject({
  id: templateIdSchema,
  version: z.int('must be a whole number').min(1, 'must be at least 1').optional(),
  payload: notificationDataSchema
    .default({})
    .refine(
      (payload) => !reservedTemplateVariables.some((name) => Object.hasOwn(payload, name)),
      `must not hold ${reservedTemplateVariables.join(' or ')}: templates read those as the recipient's and the tenant's fields`,
    ),
});

/** A notification has `title` and `message`, or a `template`: never both, never neither. */
function titleAndMessageOrTemplate(body: { title?: unknown; message?: unknown; template?: unknown }, context: z.RefinementCtx): void {
  if (body.template !== undefined) {
    for (const field of ['title', 'message'] as const) {
      if (body[field] !== undefined) context.addIssue({ code: 'custom', path: [field], message: 'must not be given with a template (the template has it)' });
    }
    return;
  }
  for (const field of ['title', 'message'] as const) {
    if (body[field] === undefined) context.addIssue({ code: 'custom', path: [field], message: 'is required (or give a template)' });
  }
}

/** Body of `POST /v1/notifications`. */
export const createNotificationsBodySchema = z.strictObject({
  recipients: z
    .array(idSchema)
    .min(1, 'must name at least one recipient')
    .max(maxRecipientsPerRequest, `must name at most ${maxRecipientsPerRequest} recipients`)
    .refine((ids) => new Set(ids).size === ids.length, 'must not repeat a recipient'),
  title: textSchema({ max: maxTitleLength, singleLine: true }).optional(),
  message: textSchema({ max: maxMessageLength, singleLine: false }).optional(),
  template: templateRefSchema.optional(),
  scheduledAt: schedulableTimeSchema.optional(),
  timezone: scheduleTimezoneSchema.optional(),
  channels: z
    .array(z.enum(channels))
    .min(1, 'must name at least one channel')
    .refine((list) => new Set(list).size === list.length, 'must not repeat a channel')
    .optional(),
  type: notificationTypeSchema.default('system'),
  priority: z.enum(priorities).default('normal'),
  data: notificationDataSchema.optional(),
  relatedObject: relatedObjectSchema.optional(),
}).refine(needsZone, needsZoneIssue).superRefine(titleAndMessageOrTemplate);
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
  'lastErrorCategory',
  'willRetry',
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
  .refine((q) => instantsInOrder(q.from, q.to, false), {
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

export const recipientGroupsSchema = z
  .array(groupIdSchema)
  .max(maxGroupsPerRecipient, `must hold at most ${maxGroupsPerRecipient} groups`)
  .refine((list) => new Set(list).size === list.length, 'must not repeat a group');

/** A recipient's addresses, locale and time zone as a body gives them (`null` for none). */
const contactFieldsShape = {
  email: emailAddressSchema.nullable().optional(),
  phone: phoneNumberSchema.nullable().optional(),
  telegramChatId: telegramChatIdSchema.nullable().optional(),
  webhookUrl: webhookUrlSchema.nullable().optional(),
  locale: localeSchema.nullable().optional(),
  timezone: timezoneSchema.nullable().optional(),
};

/** Body of `PUT /v1/recipients/{id}`: the whole record (absent or `null`: none), but the quiet hours and switches it keeps. */
export const putRecipientBodySchema = z.strictObject({
  ...contactFieldsShape,
  groups: recipientGroupsSchema.nullable().optional(),
  // Issue 12: absent keeps the recipient's quiet hours (like their channel switches).
  quietHours: recipientQuietHoursSchema.optional(),
});
export type PutRecipientBody = z.infer<typeof putRecipientBodySchema>;


/** Body of `POST /v1/recipients/batch`: the entries are validated one by one (see the next schema). */
export const batchRecipientsBodySchema = z.strictObject({
  recipients: z
    .array(z.unknown())
    .min(1, 'must hold at least one recipient')
    .max(maxBatchRecipients, `must hold at most ${maxBatchRecipients} recipients`),
});

/**
 * One entry of a batch upsert: an id and the fields of a PUT, read differently: given fields are
 * set, `null` clears, absent ones are kept.
 */
export const batchRecipientEntrySchema = z.strictObject({ id: idSchema, ...putRecipientBodySchema.shape });
export type BatchRecipientEntry = z.infer<typeof batchRecipientEntrySchema>;

/** Fields of a recipient that its owner may not set on `PATCH /v1/me`: named in a 400. */
export const serverOwnedRecipientFields = ['id', 'tenantId', 'groups', 'createdAt', 'updatedAt', 'version'] as const;

const notSettableOnMe = Object.fromEntries(
  serverOwnedRecipientFields.map((field) => [field, z.never({ error: 'is set by the server and cannot be changed' }).optional()]),
) as Record<(typeof serverOwnedRecipientFields)[number], z.ZodOptional<z.ZodNever>>;

/** One switch per channel a recipient may turn off (`false`) or on (`true`); the inbox stays on. */
export const channelSwitchesSchema = z.strictObject({
  ...(Object.fromEntries(switchableChannels.map((channel) => [channel, z.boolean('must be true or false').optional()])) as Record<
    SwitchableChannel,
    z.ZodOptional<z.ZodBoolean>
  >),
  inbox: z.never({ error: 'cannot be switched off: the inbox keeps every notification' }).optional(),
});
export { maxTypePreferences };

/** Body of `PATCH /v1/me`: the caller's own addresses, locale, time zone and switches. */
export const updateMeBodySchema = z
  .strictObject({
    ...contactFieldsShape,
    channels: channelSwitchesSchema.optional(),
    types: z
      .record(notificationTypeSchema, channelSwitchesSchema.nullable())
      .refine((types) => Object.keys(types).length <= maxTypePreferences, `must name at most ${maxTypePreferences} types`)
      .optional(),
    quietHours: recipientQuietHoursSchema.optional(),
    ...notSettableOnMe,
  })
  .refine((body) => Object.keys(body).length > 0, 'must change at least one of email, phone, telegramChatId, webhookUrl, locale, timezone, quietHours, channels, types');
export type UpdateMeBody = z.infer<typeof updateMeBodySchema>;


/**
 * A push service URL: https, naming a host, without credentials (`pushEndpointProblem`). Plain http
 * on a loopback address passes here; whether this deployment allows it (only the local stack's
 * push service) is the use case's to judge. One refinement per rule, so the OpenAPI document
 * states each; an endpoint breaks at most one of them (the first that applies).
 */
/** True when an endpoint keeps `rule` (plain http on a loopback address allowed). */
const keepsRule = (rule: PushEndpointProblem) => (text: string): boolean => pushEndpointProblem(text, true) !== rule;
const pushEndpointSchema = z
  .url({ error: pushEndpointRules.url, abort: true })
  .max(maxPushEndpointLength, `must be at most ${maxPushEndpointLength} characters`)
  .refine(keepsRule(pushEndpointRules.text), pushEndpointRules.text)
  .refine(keepsRule(pushEndpointRules.https), pushEndpointRules.https)
  .refine(keepsRule(pushEndpointRules.host), pushEndpointRules.host)
  .refine(keepsRule(pushEndpointRules.credentials), pushEndpointRules.credentials);

/** True when `key` (base64url) is a point of the P-256 curve, as a subscription's `p256dh` must be. */
function isP256Point(key: string): boolean {
  try {
    const ecdh = createECDH('prime256v1');
    ecdh.setPrivateKey(p256Probe);
    ecdh.computeSecret(Buffer.from(key, 'base64url'));
    return true;
  } catch {
    return false;
  }
}
const p256Probe = Buffer.alloc(32, 1);

/** Body of `POST /v1/me/push-subscriptions`: a browser's `PushSubscription.toJSON()` (W3C Push API). */
export const pushSubscriptionBodySchema = z.strictObject({
  endpoint: pushEndpointSchema,
  // Browsers also send expirationTime (null or epoch ms): accepted and ignored.
  expirationTime: z.number().nullable().optional(),
  keys: z.strictObject({
    // An uncompressed P-256 point (65 bytes) and a 16-byte secret, base64url (RFC 8291, 3.2).
    p256dh: z
      .string('must be a string')
      .regex(/^[A-Za-z0-9_-]{87}={0,1}$/, 'must be the base64url P-256 public key of the subscription (65 bytes)')
      .refine((key) => !/^[A-Za-z0-9_-]{87}={0,1}$/.test(key) || isP256Point(key), 'must be a point of the P-256 curve'),
    auth: z.string('must be a string').regex(/^[A-Za-z0-9_-]{22}(==)?$/, 'must be the base64url 16-byte auth secret of the subscription'),
  }),
});
export type PushSubscriptionBody = z.infer<typeof pushSubscriptionBodySchema>;


/** Body of `POST /v1/me/devices`: a mobile app's FCM or APNs token. */
export const deviceBodySchema = z.strictObject({
  platform: z.enum(['fcm', 'apns'], 'must be fcm or apns'),
  token: z
    .string('must be a string')
    .min(1, 'must not be empty')
    .max(maxDeviceTokenLength, `must be at most ${maxDeviceTokenLength} characters`)
    .regex(/^[\x21-\x7e]+$/, 'must be the token the platform gave the app (printable ASCII, no spaces)'),
});
export type DeviceBody = z.infer<typeof deviceBodySchema>;

/** The id of a push subscription or device in a path. */
export const pushTargetIdSchema = z.string().regex(/^(ps|dv)_[A-Za-z0-9_-]{22}$/, 'is not a push subscription or device id');


/** Body of `POST /v1/me/verify`: the code the caller received at a contact point they set. */
export const verifyContactBodySchema = z.strictObject({
  channel: z.enum(verifiableChannels, `must be one of ${verifiableChannels.join(', ')}`),
  code: z.string('must be a string').regex(new RegExp(`^\\d{${maxVerificationCodeLength}}$`), `must be the ${maxVerificationCodeLength}-digit code that was sent`),
});
export type VerifyContactBody = z.infer<typeof verifyContactBodySchema>;

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
  group: groupIdSchema.optional(),
  limit: pageLimitSchema,
  cursor: pageCursorSchema.optional(),
});
export type ListRecipientsQuery = z.infer<typeof listRecipientsQuerySchema>;

/** Query of `GET /v1/suppressions`. */
export const listSuppressionsQuerySchema = z.strictObject({
  limit: pageLimitSchema,
  cursor: pageCursorSchema.optional(),
});

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

export { maxNotificationsPerMessage } from './notification.ts';
// What the queues and WebSocket clients carry: zod/mini, so that the functions that parse only these
// leave zod's classic API out of their bundles.
export {
  broadcastDeliveryMessageSchema,
  deliveryMessageSchema,
  fanoutMessageSchema,
  maxInstantLength,
  recurringOccurrenceMessageSchema,
} from './message-schemas.ts';
export type { BroadcastDeliveryMessage, DeliveryMessage, FanoutMessage, RecurringOccurrenceMessage } from './message-schemas.ts';
export { markReadMessageSchema } from './socket-messages.ts';

/** A message a WebSocket client sends. */
export const socketMessageSchema = z.object({ action: z.string().optional() }).loose();

// ---- Broadcasts (issue 5) ----

/** How many groups one broadcast may name. */
export const maxBroadcastGroups = 100;

export const broadcastIdSchema = z.string().regex(broadcastIdPattern, 'is not a broadcast id');

const unique = (list: readonly string[]): boolean => new Set(list).size === list.length;

/** Who a broadcast goes to: exactly one of the whole tenant, some groups, an explicit list. */
export const broadcastAudienceSchema = z
  .strictObject({
    all: z.literal(true, 'must be true (a broadcast to everyone)').optional(),
    groups: z
      .array(groupIdSchema)
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
  template: notificationContent.template,
  scheduledAt: notificationContent.scheduledAt,
  timezone: notificationContent.timezone,
  draft: z.boolean('must be true or false').default(false),
}).refine(needsZone, needsZoneIssue).superRefine(titleAndMessageOrTemplate);
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
  .refine((q) => instantsInOrder(q.from, q.to, false), {
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

// ---- Routes compatible with the Celery scheduler (issue 3) ----

/** A whole number written in JSON beyond what a double holds exactly, kept as its digits (opaque-json.ts). */
const bigWholeNumber = z
  .custom<RawJson>((value) => isRawJson(value) && /^\d+$/.test(value.rawJSON), 'must be a whole number')
  .transform((value) => value.rawJSON);

/**
 * An id as the Celery scheduler took it: a string, or a whole number (a database key), read as its
 * decimal digits (`12345678901234567890` too: the digits as written, not a rounded double).
 */
function celeryIdSchema<S extends z.ZodType<string, string>>(asString: S, what: string) {
  return z.union([asString, z.int().min(0).transform(String), bigWholeNumber.pipe(asString)], { error: `must be ${what} (a string) or a whole number` });
}

/**
 * Body of `POST /api/notifications/schedule/`, the Celery scheduler's: snake_case, ids may be
 * numbers, optional fields may be `null`. It reads as a `POST /v1/notifications` body, with the
 * same limits; `scheduled_at` needs an offset (`Z` or `+02:00`), or `timezone` beside it (a wall time).
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
    scheduled_at: schedulableTimeSchema,
    timezone: scheduleTimezoneSchema.nullish(),
    type: notificationTypeSchema.nullish(),
    priority: z.enum(priorities).nullish(),
    related_object_type: relatedObjectSchema.shape.type.nullish(),
    related_object_id: celeryIdSchema(relatedObjectSchema.shape.id, 'an object id').nullish(),
    data: notificationDataSchema.nullish(),
  })
  .refine((body) => needsZone({ scheduledAt: body.scheduled_at, timezone: body.timezone ?? undefined }), { path: ['timezone'], message: 'is required when scheduled_at has no offset' })
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
      ...(body.timezone ? { timezone: body.timezone } : {}),
      // `null` reads as absent, so it gets the default of a `POST /v1/notifications` body.
      type: body.type ?? notificationContent.type.parse(undefined),
      priority: body.priority ?? notificationContent.priority.parse(undefined),
      ...(body.data ? { data: body.data } : {}),
      ...(body.related_object_type && body.related_object_id ? { relatedObject: { type: body.related_object_type, id: body.related_object_id } } : {}),
    }),
  );

// ---- Recurring notifications (issue 12) ----


const cronSchema = z.string('must be a string').min(1, 'must not be empty').max(maxCronLength, `must be at most ${maxCronLength} characters`);
// EventBridge writes its expressions as rate(...): the message says that part goes.
const rateSchema = z.string('must be a string').regex(ratePattern, 'must be "<n> minute(s) | hour(s) | day(s)", without rate( )');
const endAfterStart = (s: { startAt?: string | null | undefined; endAt?: string | null | undefined }): boolean => instantsInOrder(s.startAt, s.endAt, true);

/** When a recurring notification fires: exactly one of `cron` (five or six fields) and `rate`, in `timezone`. */
export const recurringScheduleSchema = z
  .strictObject({
    cron: cronSchema.optional(),
    rate: rateSchema.optional(),
    timezone: timezoneSchema.default('UTC'),
    startAt: instantSchema.optional(),
    endAt: instantSchema.optional(),
  })
  .refine((s) => (s.cron === undefined) !== (s.rate === undefined), { message: 'must give exactly one of cron and rate', path: ['cron'] })
  .refine(endAfterStart, { message: 'must be after startAt', path: ['endAt'] });

/**
 * A change of a recurring notification's schedule (`PATCH`), merged into the one it has: `cron` or
 * `rate` replaces the expression (the other goes); `timezone`, `startAt` and `endAt` change only
 * when given; `null` clears `startAt` or `endAt`, and is taken for the expression a schedule does
 * not have beside the one it has (`"cron": null, "rate": "1 day"`, as `GET` shows it). The result
 * is checked as a new schedule is.
 */
export const recurringScheduleChangeSchema = z
  .strictObject({
    // null beside the other expression: as GET shows the one a schedule does not have.
    cron: cronSchema.nullable().optional(),
    rate: rateSchema.nullable().optional(),
    timezone: timezoneSchema.optional(),
    startAt: instantSchema.nullable().optional(),
    endAt: instantSchema.nullable().optional(),
  })
  .refine((s) => Object.keys(s).length > 0, 'must change something')
  .refine((s) => s.cron == null || s.rate == null, { message: 'must not be given with rate: give one of cron and rate', path: ['cron'] })
  .refine((s) => s.cron !== null || typeof s.rate === 'string', { message: 'may be null only beside a rate: a schedule keeps one of cron and rate', path: ['cron'] })
  .refine((s) => s.rate !== null || typeof s.cron === 'string', { message: 'may be null only beside a cron: a schedule keeps one of cron and rate', path: ['rate'] })
  .refine(endAfterStart, { message: 'must be after startAt', path: ['endAt'] });

/** Body of `POST /v1/recurring-notifications`: a notification's content, to recipients or an audience, and a schedule. */
export const createRecurringBodySchema = z
  .strictObject({
    recipients: createNotificationsBodySchema.shape.recipients.optional(),
    audience: broadcastAudienceSchema.optional(),
    // Recurring notifications carry their own words (templates are for notifications and broadcasts).
    title: textSchema({ max: maxTitleLength, singleLine: true }),
    message: textSchema({ max: maxMessageLength, singleLine: false }),
    channels: notificationContent.channels,
    type: notificationContent.type,
    priority: notificationContent.priority,
    data: notificationContent.data,
    schedule: recurringScheduleSchema,
  })
  .refine((b) => (b.recipients === undefined) !== (b.audience === undefined), { message: 'must give exactly one of recipients and audience', path: ['recipients'] });
export type CreateRecurringBody = z.infer<typeof createRecurringBodySchema>;

/** Body of `PATCH /v1/recurring-notifications/{id}`: what changes (`schedule` merged into the one it has); `paused` pauses or resumes it. */
export const patchRecurringBodySchema = z
  .strictObject({
    title: notificationContent.title.optional(),
    message: notificationContent.message.optional(),
    channels: notificationContent.channels,
    type: notificationTypeSchema.optional(),
    priority: z.enum(priorities).optional(),
    data: notificationContent.data,
    schedule: recurringScheduleChangeSchema.optional(),
    paused: z.boolean('must be true or false').optional(),
  })
  .refine((body) => Object.keys(body).length > 0, 'must change something');
export type PatchRecurringBody = z.infer<typeof patchRecurringBodySchema>;

export const recurringIdSchema = z.string().regex(recurringIdPattern, 'is not a recurring notification id');

/** Query of `GET /v1/recurring-notifications`. */
export const listRecurringQuerySchema = z.strictObject({ limit: pageLimitSchema, cursor: pageCursorSchema.optional() });
export type ListRecurringQuery = z.infer<typeof listRecurringQuerySchema>;

// ---- Templates ----

// Blank renders blank, and nothing is ever sent blank: such a section could never deliver.
const liquidSource = z.string('must be a string (Liquid)').refine(isWellFormedText, wellFormedMessage).refine((source) => source.trim() !== '', 'must not be blank');
const titleAndMessage = { title: liquidSource, message: liquidSource };
/** Each channel's section: the fields of its Liquid sources (docs/templates.md). */
const sectionShapes = {
  inbox: titleAndMessage,
  websocket: titleAndMessage,
  email: { subject: liquidSource, html: liquidSource.optional(), text: liquidSource.optional() },
  push: { title: liquidSource, body: liquidSource, url: liquidSource.optional() },
  sms: { text: liquidSource },
  telegram: { text: liquidSource },
  webhook: { body: liquidSource },
} as const satisfies Record<TemplateChannel, z.ZodRawShape>;

const emailHasBody = (email: { html?: string | undefined; text?: string | undefined }): boolean => email.html !== undefined || email.text !== undefined;
const emailBodyMessage = { message: 'must have html or text (or both)' };

const baseSections = z.strictObject({
  inbox: z.strictObject(sectionShapes.inbox, { error: 'is required: every channel without a section of its own falls back to it' }),
  websocket: z.strictObject(sectionShapes.websocket).optional(),
  email: z.strictObject(sectionShapes.email).refine(emailHasBody, emailBodyMessage).optional(),
  push: z.strictObject(sectionShapes.push).optional(),
  sms: z.strictObject(sectionShapes.sms).optional(),
  telegram: z.strictObject(sectionShapes.telegram).optional(),
  webhook: z.strictObject(sectionShapes.webhook).optional(),
});
const localeSections = z.strictObject({
  inbox: z.strictObject(sectionShapes.inbox).partial().optional(),
  websocket: z.strictObject(sectionShapes.websocket).partial().optional(),
  email: z.strictObject(sectionShapes.email).partial().optional(),
  push: z.strictObject(sectionShapes.push).partial().optional(),
  sms: z.strictObject(sectionShapes.sms).partial().optional(),
  telegram: z.strictObject(sectionShapes.telegram).partial().optional(),
  webhook: z.strictObject(sectionShapes.webhook).partial().optional(),
});

/** Body of `PUT /v1/templates/{id}`: one new version of the template. */
export const putTemplateBodySchema = z
  .strictObject({
    description: textSchema({ max: maxTemplateDescriptionLength, singleLine: true }).optional(),
    channels: baseSections,
    locales: z
      .record(z.string().refine((tag) => canonicalLocale(tag) !== undefined && tag.length <= maxLocaleLength, 'is not a BCP 47 language tag (e.g. fr, pt-BR)'), localeSections)
      .refine((locales) => Object.keys(locales).length <= maxTemplateLocales, `must hold at most ${maxTemplateLocales} locales`)
      .optional(),
    defaultLocale: localeSchema.optional(),
  })
  .superRefine((body, context) => {
    if (Buffer.byteLength(JSON.stringify(body), 'utf8') > maxTemplateBytes) {
      context.addIssue({ code: 'custom', message: `must be at most ${maxTemplateBytes} bytes as JSON` });
    }
    completeLocaleSections(body, context);
  });
export type PutTemplateBody = z.infer<typeof putTemplateBodySchema>;

/** The fields a section must have, once a locale's are laid over the base's (e-mail: a subject, and html or text). */
const requiredSectionFields: Readonly<Record<TemplateChannel, readonly string[]>> = {
  inbox: ['title', 'message'],
  websocket: ['title', 'message'],
  email: ['subject'],
  push: ['title', 'body'],
  sms: ['text'],
  telegram: ['text'],
  webhook: ['body'],
};

/**
 * A locale's section takes the fields it leaves out from the base's section of its channel: with
 * no such base section, it must be whole itself. And two keys may not name the same locale
 * (`fr` and `FR`): only one of them could ever be read.
 */
function completeLocaleSections(
  body: { readonly channels: Readonly<Record<string, Readonly<Record<string, unknown>> | undefined>>; readonly locales?: Readonly<Record<string, Readonly<Record<string, Readonly<Record<string, unknown>> | undefined>>>> | undefined },
  context: z.RefinementCtx,
): void {
  const seen = new Map<string, string>();
  for (const [key, sections] of Object.entries(body.locales ?? {})) {
    const canonical = canonicalLocale(key);
    const first = canonical === undefined ? undefined : seen.get(canonical);
    if (first !== undefined) context.addIssue({ code: 'custom', path: ['locales', key], message: `names the same locale as ${first}` });
    else if (canonical !== undefined) seen.set(canonical, key);
    for (const channel of Object.keys(requiredSectionFields) as TemplateChannel[]) {
      const own = sections[channel];
      if (!own) continue;
      const merged = { ...(body.channels[channel] ?? {}), ...own };
      for (const field of requiredSectionFields[channel]) {
        if (merged[field] === undefined) context.addIssue({ code: 'custom', path: ['locales', key, channel, field], message: `is required: channels.${channel} has none to take it from` });
      }
      if (channel === 'email' && merged.html === undefined && merged.text === undefined) {
        context.addIssue({ code: 'custom', path: ['locales', key, channel], message: 'must have html or text (or both): channels.email has none to take them from' });
      }
    }
  }
}

/** Body of `POST /v1/templates/{id}/preview`. */
export const previewTemplateBodySchema = z.strictObject({
  payload: templateRefSchema.shape.payload,
  locale: localeSchema.optional(),
  /** Whose fields fill `recipient.*` (and whose locale, when `locale` is absent). */
  recipientId: idSchema.optional(),
  version: templateRefSchema.shape.version,
});
export type PreviewTemplateBody = z.infer<typeof previewTemplateBodySchema>;

/**
 * A template version in a path (`/versions/{n}`): any whole number from 1, as a reference names one
 * (a template deleted and stored again goes on numbering past {@link maxTemplateVersions}).
 */
export const templateVersionSchema = z.coerce.number('must be a number').int('must be a whole number').min(1, 'must be at least 1');

/** Query of `GET /v1/templates`. */
export const listTemplatesQuerySchema = z.strictObject({
  limit: pageLimitSchema,
  cursor: pageCursorSchema.optional(),
});
export type ListTemplatesQuery = z.infer<typeof listTemplatesQuerySchema>;
