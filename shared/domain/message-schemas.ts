/**
 * What the functions parse from their queues, in zod/mini (shared/zod-mini.ts): the delivering and
 * fan-out functions parse nothing else at run time, so zod's classic API (the HTTP API's
 * schemas.ts, which re-exports these) stays out of their bundles.
 */
import * as z from '../zod-mini.ts';
import { broadcastId, notificationId, recurringId, subjectId, tenantId } from './id-schemas.ts';
import { maxNotificationsPerMessage } from './field-limits.ts';

/** The longest instant: `2030-01-01T09:00:00.123456789+01:00` is 35 characters. */
export const maxInstantLength = 40;
/** An ISO-8601 instant with an explicit offset (`Z` or `+02:00`) (`instantSchema`). */
const instant = z.iso
  .datetime({ offset: true, message: 'must be an ISO-8601 date-time with an offset' })
  .check(z.maxLength(maxInstantLength, `must be at most ${maxInstantLength} characters`));

/**
 * What the delivery queue carries: the notifications of one tenant due at one instant (a
 * schedule's or a create's batch, `notBefore` their time), or one notification (the sweeps, a
 * redrive). Naming each recipient lets the consumer read them with the notifications.
 */
export const deliveryMessageSchema = z.union([
  z.object({
    tenantId,
    notifications: z.array(z.object({ id: notificationId, recipientId: subjectId })).check(z.minLength(1), z.maxLength(maxNotificationsPerMessage)),
    notBefore: z.optional(instant),
  }),
  z.object({
    tenantId,
    notificationId,
    recipientId: z.optional(subjectId),
    notBefore: z.optional(instant),
  }),
]);
export type DeliveryMessage = z.infer<typeof deliveryMessageSchema>;

const broadcastRef = { tenantId, broadcastId };
const count = z.int().check(z.minimum(0));

/**
 * What the fan-out queue carries: one bounded step of a broadcast's fan-out each. `start` comes
 * from the broadcast's schedule; every other step is enqueued by the step before it (or by the
 * API: `cancel`, `retry`), and `watch` is the safety net that restarts a stalled fan-out.
 */
export const fanoutMessageSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('start'), ...broadcastRef }),
  z.object({ kind: z.literal('resolve'), ...broadcastRef, page: count }),
  z.object({ kind: z.literal('count'), ...broadcastRef }),
  // `everyShard`: one step reads the first page of every write shard (a broadcast whose rows fit one page).
  z.object({ kind: z.literal('dispatch'), ...broadcastRef, run: count, shard: z.optional(count), after: z.optional(subjectId), everyShard: z.optional(z.literal(true)) }),
  z.object({ kind: z.literal('retry'), ...broadcastRef, run: z.int().check(z.minimum(1)), shard: z.optional(count), after: z.optional(subjectId) }),
  z.object({ kind: z.literal('cancel'), ...broadcastRef }),
  z.object({ kind: z.literal('watch'), ...broadcastRef, seen: z.string().check(z.maxLength(1024)), stalls: count }),
]);
export type FanoutMessage = z.infer<typeof fanoutMessageSchema>;

/** What the broadcast delivery queue carries: several recipients of one broadcast per message. */
export const broadcastDeliveryMessageSchema = z.object({
  ...broadcastRef,
  recipientIds: z.array(subjectId).check(z.minLength(1), z.maxLength(100)),
});
export type BroadcastDeliveryMessage = z.infer<typeof broadcastDeliveryMessageSchema>;

/** What a recurring notification's schedule puts on the fan-out queue: one occurrence, at its time. */
export const recurringOccurrenceMessageSchema = z.object({
  kind: z.literal('occurrence'),
  tenantId,
  recurringId,
  at: z.iso.datetime({ offset: true }),
});
export type RecurringOccurrenceMessage = z.infer<typeof recurringOccurrenceMessageSchema>;

/** Where a page of a group's members stopped, in a fan-out's resolve step. */
export const groupCursorSchema = z.object({ g: count, after: z.optional(subjectId) });
