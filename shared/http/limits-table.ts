/**
 * The API's limits as one table, made from the constants that enforce them (shared/domain/schemas.ts,
 * body-limits.ts, the use cases' time bounds, the self-service send limits): docs/limits.md holds
 * this table between its markers, written by `npm run docs:limits`, and a test fails when the two
 * differ. The OpenAPI document carries the same numbers, from the same schemas.
 */
import { defaultSelfSend, defaultTenantRequestsPerSecond } from '../config.ts';
import { maxVerificationAttempts, verificationCodeTtlMs } from '../domain/contact-verification.ts';
import { maxFramedConnectionsPerUser, maxOpenConnectionsPerUser } from '../domain/delivery.ts';
import { maxListingPayloadBytes } from '../domain/payload-budget.ts';
import { maxDevicesPerUser, maxPushSubscriptionsPerUser } from '../domain/push-targets.ts';
import {
  defaultPageSize,
  maxBatchRecipients,
  maxBroadcastGroups,
  maxBroadcastRecipientIds,
  maxDataBytes,
  maxDataDepth,
  maxDeviceTokenLength,
  maxDomainLabelLength,
  maxEmailLength,
  maxEmailLocalPartLength,
  maxGroupIdLength,
  maxGroupsPerRecipient,
  maxInstantLength,
  maxMessageLength,
  maxMetricsPeriodSeconds,
  maxPageSize,
  maxPhoneDigits,
  maxPushEndpointLength,
  maxRecipientsPerRequest,
  maxRelatedObjectIdLength,
  maxRelatedObjectTypeLength,
  maxRetryDelayMinutes,
  maxSubjectLength,
  maxTimezoneLength,
  maxTypePreferences,
  maxWebhookUrlLength,
  maxLocaleLength,
  maxTitleLength,
  maxTypeLength,
  minPhoneDigits,
  minMetricsPeriodSeconds,
  maxTemplateBytes,
  maxTemplateDescriptionLength,
  maxTemplateLocales,
  maxTemplateVersions,
} from '../domain/schemas.ts';
import { templateRenderLimits } from '../templates/render.ts';
import { clockSkewToleranceMs, maxScheduleAheadYears } from '../domain/schedule-times.ts';
import { maxTelegramTextLength } from '../templates/telegram-text.ts';
import { bodyCapBytes, defaultBodyCapBytes, maxBodyCapBytes } from './body-limits.ts';
import { requestBodyBounds } from './request.ts';

const n = (value: number): string => value.toLocaleString('en-US');

/** One row: what is limited, the limit, where it applies. */
type Row = readonly [what: string, limit: string, where: string];

/** Every limit of the API, one row each. */
export function limitRows(): readonly Row[] {
  return [
    ['user and recipient ids (a token `sub`)', `1–${maxSubjectLength} characters of one-line text (any but control characters and line breaks)`, 'tokens, paths, bodies'],
    ['tenant and group ids', `1–${maxGroupIdLength} of letters, digits and \`_ . @ : + -\`, the first a letter or a digit`, 'tokens, bodies, queries'],
    ['recipients of one notification request', `1–${n(maxRecipientsPerRequest)}, unique`, '`POST /v1/notifications`, `POST /api/notifications/schedule`'],
    ['explicit broadcast audience', `1–${n(maxBroadcastRecipientIds)} ids, unique (groups and \`all\`: no limit)`, '`POST /v1/broadcasts`'],
    ['groups of a broadcast', `1–${maxBroadcastGroups}, unique`, '`POST /v1/broadcasts`'],
    ['entries of a batch upsert', `1–${n(maxBatchRecipients)}`, '`POST /v1/recipients/batch`'],
    ['groups of a recipient', `0–${maxGroupsPerRecipient}, unique`, '`PUT /v1/recipients/{id}`, batch entries'],
    ['title', `1–${maxTitleLength} characters, one line`, 'notifications, broadcasts'],
    ['message', `1–${n(maxMessageLength)} characters (line breaks and control characters allowed)`, 'notifications, broadcasts'],
    ['type', `1–${maxTypeLength} characters, one line (default \`system\`)`, 'notifications, broadcasts'],
    ['`relatedObject`', `\`type\` 1–${maxRelatedObjectTypeLength}, \`id\` 1–${maxRelatedObjectIdLength} characters, one line`, 'notifications'],
    ['`data`', `a JSON object, at most ${maxDataDepth} levels deep and ${n(maxDataBytes)} bytes as JSON (UTF-8); numbers of any size and precision, any member name but \`__proto__\``, 'notifications, broadcasts'],
    [
      'e-mail address',
      `at most ${maxEmailLength} characters; at most ${maxEmailLocalPartLength} before the \`@\`, at most ${maxDomainLabelLength} between two dots of the domain, no part of the domain starting or ending with \`-\``,
      'recipients, `PATCH /v1/me`',
    ],
    ['phone number', `E.164: \`+\` and ${minPhoneDigits} to ${maxPhoneDigits} digits, no spaces`, 'recipients, `PATCH /v1/me`'],
    ['push subscription', `an https \`endpoint\` naming a host, without user name or password, of at most ${n(maxPushEndpointLength)} characters (on AWS no literal non-public address, and only public addresses are posted to), a 65-byte \`p256dh\` and a 16-byte \`auth\` (base64url); at most ${maxPushSubscriptionsPerUser} per user, the oldest dropped`, '`POST /v1/me/push-subscriptions`'],
    ['device', `\`fcm\` or \`apns\`, a token of at most ${n(maxDeviceTokenLength)} printable characters; at most ${maxDevicesPerUser} per user, the oldest dropped`, '`POST /v1/me/devices`'],
    ['time zone', `a known IANA zone in any case (stored as the tz database spells it), at most ${maxTimezoneLength} characters`, 'recipients, `PATCH /v1/me`'],
    ['Telegram chat', 'a numeric chat id (up to 20 digits, `-` for groups) or an `@username` of 5–32 characters', 'recipients, `PATCH /v1/me`'],
    ['webhook URL', `absolute http(s) naming a host, no credentials, no spaces or control characters, at most ${maxWebhookUrlLength} characters; on AWS only https to public addresses is posted to`, 'recipients, `PATCH /v1/me`'],
    ['locale', `a BCP 47 tag, at most ${maxLocaleLength} characters, stored canonical`, 'recipients, `PATCH /v1/me`'],
    ['per-type switches', `at most ${maxTypePreferences} types`, '`PATCH /v1/me` `types`'],
    ['WebSocket connections open', `at most ${maxOpenConnectionsPerUser} per user at once (those whose \`$disconnect\` was lost count until API Gateway's 2 hours are over); one more is refused in the handshake with 429 \`TOO_MANY_REQUESTS\`, until one closes`, 'WebSocket `$connect`'],
    ['WebSocket connections framed', `the newest ${maxFramedConnectionsPerUser} open connections of a user get each frame (notifications, \`inboxChanged\`, broadcast progress); older ones get none, but for one that answers 410 (closed, its \`$disconnect\` lost), which is forgotten and whose place goes to the next older one`, 'the `websocket` channel'],
    ['Telegram message', `title and message cut to ${maxTelegramTextLength} characters`, 'the `telegram` channel'],
    ['instants (`scheduledAt`, `from`, `to`)', `ISO-8601 with an offset, at most ${maxInstantLength} characters (RFC 3339's lower-case \`t\`/\`z\` and a space for \`T\` read too)`, 'bodies, queries'],
    ['wall time (`scheduledAt` without an offset)', '`YYYY-MM-DDTHH:MM[:SS[.fff]]`, read in `timezone` (an IANA zone or `recipient`); a DST gap moves it forward, an overlap takes the earlier instant (docs/time.md)', 'notifications, broadcasts, `POST /api/notifications/schedule/`'],
    ['quiet hours', '`{ start, end }`, wall times `HH:MM`; start > end crosses midnight, start = end is none', '`PUT /v1/settings`, recipients, `PATCH /v1/me`'],
    ['`scheduledAt`', `at most ${clockSkewToleranceMs / 1000} s in the past (taken as now), at most ${maxScheduleAheadYears} calendar years ahead (in UTC)`, 'notifications, broadcasts'],
    ['recurring `schedule.startAt`', `at most ${clockSkewToleranceMs / 1000} s in the past is taken as now; earlier, read on its rate's grid (docs/time.md); occurrences to the whole second`, '`POST` and `PATCH /v1/recurring-notifications`'],
    ['`delayMinutes`', `0–${n(maxRetryDelayMinutes)} (30 days)`, '`POST /v1/notifications/{id}/retry`'],
    ['page size (`limit`)', `1–${maxPageSize} (default ${defaultPageSize}); a page also stops at ${n(maxListingPayloadBytes)} bytes of items, with a \`nextCursor\``, 'every listing'],
    ['metrics `period`', `${n(minMetricsPeriodSeconds)}–${n(maxMetricsPeriodSeconds)} s (1 h to 31 days)`, '`GET /v1/metrics`'],
    ['text', 'well-formed Unicode (no lone surrogate), everywhere', 'every string of every body, query and path'],
    ['body structure', `nested at most ${requestBodyBounds.maxDepth} levels; at most ${n(requestBodyBounds.maxMembers)} members per object, ${n(requestBodyBounds.maxElements)} elements per array, ${n(requestBodyBounds.maxValues)} values in all`, 'every body, checked before it is parsed'],
    ...Object.entries(bodyCapBytes).map(([route, cap]): Row => ['body size', `${n(cap)} bytes (413 beyond)`, `\`${route}\``]),
    ['body size, any other route', `${n(defaultBodyCapBytes)} bytes; no route more than ${n(maxBodyCapBytes)}`, 'every other route'],
    ['notifications a plain user sends themself', `${defaultSelfSend.userPerHour} per user and ${n(defaultSelfSend.tenantPerHour)} per tenant per hour by default (CDK context \`herald:selfSendUserPerHour\`, \`herald:selfSendTenantPerHour\`); 429 with \`Retry-After\` beyond; each verification code counts`, '`POST /v1/notifications`, `POST /api/notifications/schedule`, `PATCH /v1/me`'],
    ['requests of one tenant', `${defaultTenantRequestsPerSecond} per second by default, all its callers together (CDK context \`herald:tenantRequestsPerSecond\`); 429 with \`Retry-After\` beyond`, 'every route with a token'],
    ['locale', `a BCP 47 tag, at most ${maxLocaleLength} characters`, 'recipients, `PATCH /v1/me`, template locales, previews'],
    ['template definition', `at most ${n(maxTemplateBytes)} bytes as JSON (UTF-8), ${maxTemplateLocales} locales, a description of ${maxTemplateDescriptionLength} characters`, '`PUT /v1/templates/{id}`'],
    ['template versions', `${n(maxTemplateVersions)} per template (409 beyond: delete it and store it again)`, '`PUT /v1/templates/{id}`'],
    ['template id', '1–128 of letters, digits and `_ . -`, the first a letter or a digit', '`/v1/templates/{id}`, `template.id`'],
    ['template `payload`', 'as `data`; must hold every variable any section of any locale uses (400 naming each missing one); no `recipient` or `tenant` member', 'notifications, broadcasts, previews'],
    ['rendering one template field', `${templateRenderLimits.renderMs} ms, ${n(templateRenderLimits.memory)} characters or elements built, ${n(templateRenderLimits.outputChars)} characters of output (an \`inbox\` or \`websocket\` section: a title of ${maxTitleLength} and a message of ${n(maxMessageLength)}, as a notification's); a source of at most ${n(templateRenderLimits.parseChars)} characters`, 'delivery and previews: beyond, the section fails with the reason'],
    ['verification code', `6 digits, valid ${verificationCodeTtlMs / 3_600_000} h, ${maxVerificationAttempts} wrong tries`, '`POST /v1/me/verify`'],
  ];
}

/** The table as Markdown. */
export function limitsTable(): string {
  const rows = limitRows().map(([what, limit, where]) => `| ${what} | ${limit} | ${where} |`);
  return ['| what | limit | where |', '|---|---|---|', ...rows].join('\n');
}

/** The markers in docs/limits.md between which the table is written. */
export const limitsTableMarkers = { begin: '<!-- limits:begin (npm run docs:limits) -->', end: '<!-- limits:end -->' } as const;
