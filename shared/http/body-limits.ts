/**
 * The body cap of each route, computed from its field limits (shared/domain/field-limits.ts), so that
 * every documented limit is reachable at its maximum together with all the others.
 *
 * The worst case of a body is its compact JSON with every field at its limit, written the longest
 * way a JSON encoder writes it: free text as `\uXXXX` escapes, 6 bytes per UTF-16 code unit (what
 * Python's `json.dumps` does to any non-ASCII text by default, and any encoder to control
 * characters: a message of 10,000 control characters is 60 KB); text of a safe ASCII alphabet
 * (group ids, time zones, e-mail addresses, instants) 1 byte per character; `data` up to 6 bytes
 * per byte of its own JSON. The cap is that worst case plus 10 % and 4 KiB for white space
 * (pretty-printed bodies).
 *
 * What bounds the caps: a synchronous Lambda invocation carries at most 6 MB (request and
 * response alike; "Lambda quotas"), and API Gateway passes the body to the function as a JSON
 * string inside the event, where every `"` and `\` doubles. So no cap may exceed 3 MiB
 * ({@link maxBodyCapBytes}); the 10 MB payload quota of HTTP APIs never binds.
 */
import { verifiableChannels } from '../domain/contact-verification.ts';
import { maxMessageLength, maxTitleLength, maxBatchRecipients, maxPhoneLength, maxTelegramChatIdLength, maxWebhookUrlLength, maxBroadcastRecipientIds, maxDataBytes, maxDeviceTokenLength, maxEmailLength, maxPushEndpointLength, maxGroupIdLength, maxGroupsPerRecipient, maxCronLength, maxRecipientsPerRequest, maxRelatedObjectIdLength, maxRelatedObjectTypeLength, maxRetryDelayMinutes, maxTimezoneLength, maxTypeLength, maxVerificationCodeLength, maxLocaleLength, maxTemplateBytes } from '../domain/field-limits.ts';
import { maxTypePreferences, switchableChannels } from '../domain/recipient.ts';
import { maxInstantLength } from '../domain/message-schemas.ts';
import { channels } from '../domain/channel-names.ts';
import { maxSubjectLength } from '../domain/subject-ids.ts';

/** A synchronous Lambda invocation's payload quota (request and response), bytes. */
export const lambdaPayloadQuotaBytes = 6 * 1024 * 1024;
/** The largest body cap: half the Lambda payload quota, as the body may double inside the event. */
export const maxBodyCapBytes = 3 * 1024 * 1024;
/** The cap of a route the table below does not name (it takes no body worth measuring). */
export const defaultBodyCapBytes = 16 * 1024;

/** Bytes of a JSON string of free text of `chars` UTF-16 units, every unit a 6-byte `\uXXXX` escape. */
export function freeTextBytes(chars: number): number {
  return 2 + 6 * chars;
}

/** Bytes of a JSON string of `chars` characters of an alphabet no encoder escapes. */
export function asciiTextBytes(chars: number): number {
  return 2 + chars;
}

/** Bytes of a JSON array of `count` elements of `elementBytes` each. */
export function arrayBytes(count: number, elementBytes: number): number {
  return 2 + count * elementBytes + Math.max(0, count - 1);
}

/** Bytes of a JSON object with these members (name → bytes of its value). */
export function objectBytes(members: Readonly<Record<string, number>>): number {
  const entries = Object.entries(members);
  return 2 + entries.reduce((sum, [name, bytes]) => sum + asciiTextBytes(name.length) + 1 + bytes, 0) + Math.max(0, entries.length - 1);
}

const instant = asciiTextBytes(maxInstantLength);
const data = 6 * maxDataBytes;
/** The longest of `names`, as JSON text. */
const longestName = (names: readonly string[]): number => asciiTextBytes(Math.max(...names.map((name) => name.length)));
const channelList = arrayBytes(channels.length, longestName(channels));
/** One switch per channel a recipient may turn off (`false` is the longest value). */
const channelSwitches = objectBytes(Object.fromEntries(switchableChannels.map((channel) => [channel, 5])));
/** Per-type switches: as many types as allowed, each name free text at its longest, each with every switch (or `null`). */
const typeSwitches = 2 + maxTypePreferences * (freeTextBytes(maxTypeLength) + 1 + channelSwitches) + (maxTypePreferences - 1);
/**
 * A URL of `maxLength` characters: any character may be written `\uXXXX` (a URL may hold non-ASCII
 * characters, and Go's encoder writes `&` as `\u0026`).
 */
const url = (maxLength: number): number => freeTextBytes(maxLength);
/** A recipient's addresses and settings, each at its longest, as admins set them. */
const recipientFields = {
  email: asciiTextBytes(maxEmailLength),
  phone: asciiTextBytes(maxPhoneLength),
  telegramChatId: asciiTextBytes(maxTelegramChatIdLength),
  webhookUrl: url(maxWebhookUrlLength),
  timezone: asciiTextBytes(maxTimezoneLength),
  locale: asciiTextBytes(maxLocaleLength),
};
const groups = arrayBytes(maxGroupsPerRecipient, asciiTextBytes(maxGroupIdLength));
const recipientIds = (count: number): number => arrayBytes(count, freeTextBytes(maxSubjectLength));

/** What every notification and broadcast carries. */
const content = {
  title: freeTextBytes(maxTitleLength),
  message: freeTextBytes(maxMessageLength),
  scheduledAt: instant,
  channels: channelList,
  type: freeTextBytes(maxTypeLength),
  priority: asciiTextBytes('urgent'.length),
  data,
  timezone: asciiTextBytes(maxTimezoneLength),
};

/** A recurring schedule: a cron (or a shorter rate), its zone and bounds. */
const recurringSchedule = objectBytes({ cron: asciiTextBytes(maxCronLength), timezone: asciiTextBytes(maxTimezoneLength), startAt: instant, endAt: instant });

/** Quiet hours: two wall times `HH:MM` (or `"default"` on a recipient, which is shorter). */
const quietHours = objectBytes({ start: asciiTextBytes(5), end: asciiTextBytes(5) });

/** A template reference: its payload is `data`-sized opaque JSON. */
const template = objectBytes({ id: asciiTextBytes(128), version: 4, payload: data });
const { title: _title, message: _message, ...contentBesidesWords } = content;
/** The larger of a body's two forms: its own `title` and `message`, or a `template` instead. */
function wordsOrTemplate(members: Readonly<Record<string, number>>): number {
  return Math.max(objectBytes({ ...members, ...content }), objectBytes({ ...members, ...contentBesidesWords, template }));
}

const relatedObject = objectBytes({ type: freeTextBytes(maxRelatedObjectTypeLength), id: freeTextBytes(maxRelatedObjectIdLength) });

/** The worst-case body of each route that takes one, by route key (`METHOD /path`). */
export const worstCaseBodyBytes: Readonly<Record<string, number>> = {
  'POST /v1/notifications': wordsOrTemplate({ recipients: recipientIds(maxRecipientsPerRequest), relatedObject }),
  'POST /api/notifications/schedule/': objectBytes({
    recipients: recipientIds(maxRecipientsPerRequest),
    title: content.title,
    message: content.message,
    scheduled_at: instant,
    timezone: content.timezone,
    type: content.type,
    priority: content.priority,
    related_object_type: freeTextBytes(maxRelatedObjectTypeLength),
    related_object_id: freeTextBytes(maxRelatedObjectIdLength),
    data,
  }),
  'POST /v1/broadcasts': wordsOrTemplate({ audience: objectBytes({ recipientIds: recipientIds(maxBroadcastRecipientIds) }), draft: asciiTextBytes(3) }),
  'PUT /v1/recipients/{id}': objectBytes({ ...recipientFields, groups, quietHours }),
  'POST /v1/recipients/batch': objectBytes({
    recipients: arrayBytes(maxBatchRecipients, objectBytes({ id: freeTextBytes(maxSubjectLength), ...recipientFields, groups, quietHours })),
  }),
  'PATCH /v1/me': objectBytes({ ...recipientFields, channels: channelSwitches, types: typeSwitches, quietHours }),
  'PUT /v1/settings': objectBytes({ defaultTimezone: asciiTextBytes(maxTimezoneLength), quietHours }),
  'POST /v1/recurring-notifications': objectBytes({
    recipients: recipientIds(maxRecipientsPerRequest),
    ...content,
    schedule: recurringSchedule,
  }),
  'PATCH /v1/recurring-notifications/{id}': objectBytes({ ...content, schedule: recurringSchedule, paused: 5 }),
  'POST /v1/me/verify': objectBytes({ channel: longestName(verifiableChannels), code: asciiTextBytes(maxVerificationCodeLength) }),
  'POST /v1/me/push-subscriptions': objectBytes({
    endpoint: url(maxPushEndpointLength),
    expirationTime: 20,
    keys: objectBytes({ p256dh: asciiTextBytes(88), auth: asciiTextBytes(24) }),
  }),
  'POST /v1/me/devices': objectBytes({ platform: asciiTextBytes(4), token: asciiTextBytes(maxDeviceTokenLength) }),
  'PATCH /v1/notifications/{id}': objectBytes({ scheduledAt: instant }),
  'POST /v1/notifications/{id}/send-now': objectBytes({}),
  'POST /v1/notifications/{id}/retry': objectBytes({ delayMinutes: String(maxRetryDelayMinutes).length }),
  'POST /v1/broadcasts/{id}/schedule': objectBytes({ scheduledAt: instant }),
  // The definition's own bound is its JSON size; written the longest way, 6 bytes per byte.
  'PUT /v1/templates/{id}': 6 * maxTemplateBytes,
  'POST /v1/templates/{id}/preview': objectBytes({ payload: data, locale: asciiTextBytes(maxLocaleLength), recipientId: freeTextBytes(maxSubjectLength), version: 4 }),
};

/** A cap with room for white space: the worst case plus 10 % and 4 KiB, in whole KiB. */
function capFor(worstCase: number): number {
  return Math.ceil((worstCase * 1.1 + 4096) / 1024) * 1024;
}

/** The body cap of each route that takes a body, by route key: larger bodies get 413. */
export const bodyCapBytes: Readonly<Record<string, number>> = Object.fromEntries(
  Object.entries(worstCaseBodyBytes).map(([route, worstCase]) => [route, capFor(worstCase)]),
);

/** The body cap of a route (its key, `METHOD /path`), bytes. */
export function bodyCapOf(routeKey: string): number {
  return bodyCapBytes[routeKey] ?? defaultBodyCapBytes;
}
