/**
 * The zod schemas of everything Herald accepts: API bodies, path parameters, queue messages.
 * Handlers parse with these and nothing else, so validation lives in one place.
 */
import { z } from 'zod';
import { channels, priorities } from './notification.ts';
import { notificationIdPattern } from './ids.ts';

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
  type: z.string().trim().min(1).max(64).default('system'),
  priority: z.enum(priorities).default('normal'),
  data: z.record(z.string(), z.unknown()).optional(),
});
export type CreateNotificationsBody = z.infer<typeof createNotificationsBodySchema>;

/** Body of `PUT /v1/recipients/{id}`. */
export const putRecipientBodySchema = z.strictObject({
  email: z.email('must be an email address').optional(),
  timezone: timezoneSchema.optional(),
  groups: z
    .array(idSchema)
    .max(100, 'must hold at most 100 groups')
    .refine((list) => new Set(list).size === list.length, 'must not repeat a group')
    .optional(),
});
export type PutRecipientBody = z.infer<typeof putRecipientBodySchema>;

/** What the delivery queue carries: which notification to deliver (the item holds the rest). */
export const deliveryMessageSchema = z.object({
  tenantId: idSchema,
  notificationId: notificationIdSchema,
});
export type DeliveryMessage = z.infer<typeof deliveryMessageSchema>;

/** A message a WebSocket client sends. */
export const socketMessageSchema = z.object({ action: z.string().optional() }).loose();
