/**
 * The limits of the API's fields (lengths, counts, bytes) and of the queue messages, as plain
 * numbers: what the request schemas (`schemas.ts`, which re-exports them) and the message schemas
 * enforce, and what the body caps (`shared/http/body-limits.ts`) and the JSON reader
 * (`shared/http/request.ts`) are computed from. A leaf module, apart from the schemas and the
 * notification model (`notification.ts` re-exports its own), so that a cold start that needs only
 * the numbers loads neither classic zod nor the Temporal polyfill.
 */

/** The longest title (one line) a notification, and so an inbox item or a WebSocket frame, may have. */
export const maxTitleLength = 200;
/** The longest message a notification, and so an inbox item or a WebSocket frame, may have. */
export const maxMessageLength = 10_000;
/** How many notifications one delivery message (and one schedule) names at most. */
export const maxNotificationsPerMessage = 100;
/** The longest group id. */
export const maxGroupIdLength = 128;
/** The longest IANA time zone name accepted. */
export const maxTimezoneLength = 64;
/** The longest e-mail address: a forward-path holds 256 octets with its angle brackets (RFC 5321, 4.5.3.1.3). */
export const maxEmailLength = 254;
/** The fewest digits of a phone number: a three-digit country code and four digits (Niue's, +683) are among the shortest in use. */
export const minPhoneDigits = 7;
/** The most digits of an E.164 number, country code included (ITU-T E.164). */
export const maxPhoneDigits = 15;
/** The longest E.164 number: `+` and 15 digits. */
export const maxPhoneLength = 1 + maxPhoneDigits;
/** The longest Telegram chat id: `@` and a username of 32 characters (a numeric id is at most 21). */
export const maxTelegramChatIdLength = 33;
/** The longest webhook URL. */
export const maxWebhookUrlLength = 2048;
/** The longest locale tag we keep (RFC 5646 advises supporting at least 35 characters). */
export const maxLocaleLength = 35;
/** The longest `relatedObject.type`. */
export const maxRelatedObjectTypeLength = 64;
/** The longest `relatedObject.id`. */
export const maxRelatedObjectIdLength = 128;
/** How many recipients one `POST /v1/notifications` may name. */
export const maxRecipientsPerRequest = 1_000;
/** `data` may hold at most this many bytes once serialized as JSON (UTF-8). */
export const maxDataBytes = 16 * 1024;
/** How long a manual retry may be put off. */
export const maxRetryDelayMinutes = 30 * 24 * 60;
/** A notification's free-form type (`reminder`, `invoice.due`, ...). */
export const maxTypeLength = 64;
/**
 * How deep `data` may nest, `data` itself being level 1: DynamoDB's limit on a map attribute. It is
 * stored as JSON text, so DynamoDB would take more; the bound keeps `data` movable into a map (and
 * into any store with the same rule) and everything that walks it shallow.
 */
export const maxDataDepth = 32;
/** The largest template definition, as JSON (UTF-8), bytes: one DynamoDB item holds it with room to spare. */
export const maxTemplateBytes = 64 * 1024;
/** The groups a recipient belongs to. */
export const maxGroupsPerRecipient = 100;
/**
 * How many upserts one `POST /v1/recipients/batch` may carry: 100 entries with every field at its
 * longest (an id of 255 characters, 100 groups) fit the body cap (shared/http/body-limits.ts).
 */
export const maxBatchRecipients = 100;
/** The longest push subscription endpoint accepted (browsers' are a few hundred characters). */
export const maxPushEndpointLength = 2048;
/** The longest device token: APNs tokens are 64 hex characters, FCM's a few hundred. */
export const maxDeviceTokenLength = 4096;
/** How many digits a verification code has. */
export const maxVerificationCodeLength = 6;
/**
 * How many ids an explicit broadcast audience may hold in one request (groups and `all` have no
 * limit): as many as `POST /v1/notifications` names, which ids of 255 characters still fit the
 * body cap (shared/http/body-limits.ts).
 */
export const maxBroadcastRecipientIds = 1_000;
/** The longest cron expression accepted. */
export const maxCronLength = 100;
