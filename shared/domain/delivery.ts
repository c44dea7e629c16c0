/**
 * The rules of delivery, the same for a notification and for one recipient of a broadcast (a
 * "delivery unit"). No AWS here: the engine (shared/delivery/engine.ts) runs them, the stores keep
 * their outcome with conditional writes.
 *
 * A unit is claimed (a lease) before anything leaves Herald; every channel it sends on records an
 * intent (`sending`) in that same claim; the outcome of every channel, the inbox item and the unit's
 * next state are then written together. An intent found by a later claim means an earlier worker
 * stopped between the two: that channel is `unconfirmed` and never sent again. So nothing is sent
 * twice on a channel, whatever fails in between; except a webhook, whose receiver drops a repeat
 * by its `webhook-id`, which is sent again rather than lost.
 */
import type { DeliveryErrorCategory } from './delivery-errors.ts';
import type { UnreadCount } from './inbox.ts';
import type { PushDevice, WebPushSubscription } from './push-targets.ts';
import type { Channel, ChannelDelivery, Priority } from './notification.ts';
import type { Recipient } from './recipient.ts';
import { mayHaveReached } from './channel-reach.ts';
import type { RetryPolicy } from './retry-policy.ts';
import type { RenderedTemplate, TemplateRef } from './template.ts';
import { retryDelaySeconds } from './retry-policy.ts';
import { recipientQuietHours, recipientTimeZone } from './tenant-settings.ts';
import type { TenantSettings } from './tenant-settings.ts';
import { quietWindowEnd } from './time.ts';

/** Which delivery a queue message names: a notification, or one recipient of a broadcast. */
export type UnitRef =
  /** `recipientId`, when the message names it, lets one read fetch the recipient with the notification. */
  | { readonly kind: 'notification'; readonly tenantId: string; readonly notificationId: string; readonly recipientId?: string }
  | { readonly kind: 'broadcast'; readonly tenantId: string; readonly broadcastId: string; readonly recipientId: string };

/** A key naming a unit uniquely, for maps. */
export function unitKey(ref: UnitRef): string {
  return ref.kind === 'notification'
    ? `n#${ref.tenantId}#${ref.notificationId}`
    : `b#${ref.tenantId}#${ref.broadcastId}#${ref.recipientId}`;
}

/** What reaches the recipient: the same shape for a notification and a broadcast. */
export interface DeliveryContent {
  /** The notification's id, or the broadcast's: also the id of the inbox item (one per recipient). */
  readonly id: string;
  /** Set on a broadcast's content. */
  readonly broadcastId?: string;
  readonly title: string;
  readonly message: string;
  readonly type: string;
  readonly priority: Priority;
  readonly data?: Readonly<Record<string, unknown>>;
  /** ISO-8601 UTC. */
  readonly createdAt: string;
  readonly scheduledAt: string | null;
  /**
   * Set when the content is a template's: `title` and `message` are then a summary (the template's
   * inbox section in its default locale, rendered for no one) until the engine renders it for the
   * recipient at delivery.
   */
  readonly template?: TemplateRef;
  /**
   * The template rendered for this recipient, set by the engine before any channel renders (its
   * inbox section is then also `title` and `message`); read it through `sectionFor`
   * (shared/templates/section.ts).
   */
  readonly rendered?: RenderedTemplate;
}

/** The statuses a unit shows the engine (a broadcast row's are a subset). */
export type UnitStatus = 'pending' | 'sending' | 'sent' | 'failed' | 'cancelled';

/** A unit as the store read it. */
export interface DeliveryUnit {
  readonly ref: UnitRef;
  readonly tenantId: string;
  readonly recipientId: string;
  readonly status: UnitStatus;
  /**
   * When it may be delivered (epoch ms): its time, or its retry time when that is later; 0 when it
   * is due since a time not kept (a row of a retried broadcast run).
   */
  readonly dueAt: number;
  /** While sending: until when (epoch ms) its worker's claim holds. */
  readonly leaseUntil?: number;
  /** Claims made so far (the version a claim is conditioned on). */
  readonly attempts: number;
  readonly channels: readonly Channel[];
  readonly deliveries: Readonly<Partial<Record<Channel, ChannelDelivery>>>;
  readonly content: DeliveryContent;
  /** When quiet hours held it: until when (epoch ms). */
  readonly heldUntil?: number;
  /** A notification's: the `createdAt` of the recipient's record when it was made (`Notification.recipientSince`). */
  readonly recipientSince?: string;
}

/**
 * The recipient a unit is for, from the record read under its id: none when there is no record,
 * or when the record was created after the unit was made for an earlier one (the recipient was
 * erased and the id registered again: a notification for the one erased must not reach the new one).
 */
export function recipientOfUnit(unit: Pick<DeliveryUnit, 'recipientSince'>, found: Recipient | undefined): Recipient | undefined {
  return found && unit.recipientSince !== undefined && found.createdAt !== unit.recipientSince ? undefined : found;
}

/** One open WebSocket connection of a recipient. */
export interface LiveConnection {
  readonly connectionId: string;
  /** ISO-8601 UTC. */
  readonly connectedAt: string;
}

/**
 * What is live about a recipient: their unread count and open connections, kept on one item so
 * one read gives both.
 */
export interface LiveState extends UnreadCount {
  readonly connections: readonly LiveConnection[];
  /** Browsers (Web Push) and devices (SNS platform endpoints) the user registered: the `push` channel's targets. */
  readonly pushSubscriptions?: readonly WebPushSubscription[];
  readonly devices?: readonly PushDevice[];
}

export const noLiveState: LiveState = { unread: 0, unreadVersion: 0, connections: [] };

/**
 * API Gateway closes a WebSocket connection after 2 hours; a connection recorded longer ago than
 * this (its `$disconnect` lost) is not tried.
 */
export const maxConnectionAgeMs = 2 * 60 * 60 * 1000 + 5 * 60 * 1000;

/**
 * The most connections of one user a frame is posted to: the newest. A user may have
 * {@link maxOpenConnectionsPerUser} open, and every frame for them is one `@connections` POST each,
 * made by the shared delivery functions: 300 connections made one delivery take 1.8 s locally
 * (before the limit, 9,000, about what a user's live item could list, would have taken about a
 * minute), time every tenant's deliveries wait for. A person's browsers and devices at once are
 * far fewer.
 */
export const maxFramedConnectionsPerUser = 25;

/**
 * The most WebSocket connections one user may have recorded at once; a `$connect` beyond it is
 * refused (429). Each is one attribute of the user's live item in the inbox table, `conn:<id>` =
 * its ISO-8601 `connectedAt`: 45 bytes for API Gateway's 16-character connection ids (5 + 16 of
 * name, 24 of value; measured in `test/unit/shared/adapters/dynamo-live-state-store.test.ts`),
 * so 100 are 4.5 KB of a 400 KB item, and each `$connect` or `$disconnect` writes at most ~5 write
 * units (one per KB of the item). Unbounded, a reconnect loop or a hostile client could fill
 * the item in two hours (about 9,000 connections: 400 KB ÷ 45 bytes), after which its `$connect`s and push
 * registrations fail, and every write to it (a delivery's unread count included) costs up to 400
 * units. Four times {@link maxFramedConnectionsPerUser}: a person's browsers, tabs and devices,
 * with room for some whose `$disconnect` was lost, are far fewer. API Gateway itself limits only
 * the account's new connections per second (500) and per region, not per user ("Quotas for
 * configuring and running a WebSocket API").
 */
export const maxOpenConnectionsPerUser = 100;

/** The longest a refused `$connect` is told to wait (`Retry-After`): a connection may close any moment. */
export const maxConnectionRetryAfterMs = 60 * 1000;

/**
 * What a `$connect` refused at {@link maxOpenConnectionsPerUser} does, given the user's live state
 * as it was refused: forget the recorded connections that cannot be open any more (their
 * `$disconnect` was lost) and try once more; or, when none has expired, refuse, with when to try
 * again: when the oldest will have expired at the latest, but never more than a minute, since any
 * of them may close before.
 */
export function answerToFullConnections(
  live: LiveState,
  now: Date,
): { readonly kind: 'forgetExpired'; readonly expired: LiveConnection[] } | { readonly kind: 'refuse'; readonly retryAfterMs: number } {
  const expired = expiredConnections(live, now);
  if (expired.length > 0) return { kind: 'forgetExpired', expired };
  const oldest = Math.min(...live.connections.map((c) => Date.parse(c.connectedAt)));
  const untilOldestExpires = Number.isFinite(oldest) ? oldest + maxConnectionAgeMs - now.getTime() : maxConnectionRetryAfterMs;
  return { kind: 'refuse', retryAfterMs: Math.min(maxConnectionRetryAfterMs, Math.max(1000, untilOldestExpires)) };
}

/**
 * The recorded connections that cannot be open any more at `now` ({@link maxConnectionAgeMs} old or
 * more): API Gateway has closed them, and a `$disconnect` that never came left them recorded.
 */
export function expiredConnections(live: LiveState, now: Date): LiveConnection[] {
  return live.connections.filter((c) => now.getTime() - Date.parse(c.connectedAt) >= maxConnectionAgeMs);
}

/**
 * Every connection that can still be open at `now`, newest first: whom a frame is posted to, in
 * turn, the newest {@link maxFramedConnectionsPerUser} (`postFrame`, shared/use-cases/socket-frames.ts).
 */
export function openConnections(live: Pick<LiveState, 'connections'>, now: Date): LiveConnection[] {
  return newestFirst(live.connections.filter((c) => now.getTime() - Date.parse(c.connectedAt) < maxConnectionAgeMs));
}

function newestFirst(connections: readonly LiveConnection[]): LiveConnection[] {
  return [...connections].sort((a, b) => Date.parse(b.connectedAt) - Date.parse(a.connectedAt));
}

/** Where a unit stands before a worker decides anything. */
export type UnitReadiness =
  | { readonly kind: 'final'; readonly status: UnitStatus }
  | { readonly kind: 'notYetDue'; readonly at: number }
  | { readonly kind: 'leased'; readonly until: number }
  | { readonly kind: 'claimable'; readonly takeover: boolean };

/**
 * Whether a worker may claim the unit at `now`: pending and due, or sending with a lease that ran
 * out (its worker died). A unit due within `holdMs` counts as claimable: the worker waits for it.
 */
export function readinessOf(unit: DeliveryUnit, now: Date, holdMs = 0): UnitReadiness {
  const t = now.getTime();
  if (unit.status === 'pending') {
    return unit.dueAt <= t + holdMs ? { kind: 'claimable', takeover: false } : { kind: 'notYetDue', at: unit.dueAt };
  }
  if (unit.status === 'sending') {
    return unit.leaseUntil !== undefined && unit.leaseUntil < t ? { kind: 'claimable', takeover: true } : { kind: 'leased', until: unit.leaseUntil ?? t };
  }
  return { kind: 'final', status: unit.status };
}

/** Quiet hours holding a unit: until when (epoch ms, the window's end) and why. */
export interface QuietHold {
  readonly until: number;
  readonly reason: string;
}

/**
 * Whether the recipient's quiet hours hold a unit that falls due at `now` (or at its `dueAt`, if
 * later): the window's end when they do. Read at delivery time, from the recipient's quiet hours
 * (theirs, none, or the tenant's) in their zone (theirs, the tenant's, UTC), so a change of
 * either applies to everything not yet delivered. `urgent` is never held.
 */
export function quietHoldOf(
  unit: Pick<DeliveryUnit, 'dueAt' | 'content'>,
  recipient: Pick<Recipient, 'timezone' | 'quietHours'> | undefined,
  settings: TenantSettings,
  now: Date,
): QuietHold | undefined {
  if (unit.content.priority === 'urgent') return undefined;
  const quiet = recipientQuietHours(recipient, settings);
  if (!quiet) return undefined;
  const zone = recipientTimeZone(recipient, settings);
  const until = quietWindowEnd(Math.max(now.getTime(), unit.dueAt), zone, quiet);
  return until === undefined ? undefined : { until, reason: `quiet hours ${quiet.start}-${quiet.end} in ${zone}` };
}

/** What the worker does with one channel of a claimed unit. */
export type ChannelStep =
  /** It has an outcome already: never repeated. */
  | { readonly kind: 'keep' }
  /** An earlier attempt recorded its intent and stopped: it may have gone out, so it never goes again. */
  | { readonly kind: 'unconfirmed'; readonly detail: string }
  /** Nothing to deliver to (switched off, no address, not connected): not a failure. */
  | { readonly kind: 'skip'; readonly detail: string }
  /** Deliver it: a provider call (recorded as an intent first) or the inbox write. */
  | { readonly kind: 'deliver' };

/**
 * The step for a channel that already has a record (or none): keep, unconfirmed, or decide anew.
 * An intent an earlier attempt left is decided anew only on a channel whose receiver recognises a
 * repeat (`repeatsSafely`, the webhook): better twice under one id than never.
 */
export function recordedStep(previous: ChannelDelivery | undefined, repeatsSafely = false): ChannelStep | undefined {
  if (!previous) return undefined;
  if (previous.status === 'sending') {
    if (repeatsSafely) return undefined;
    return { kind: 'unconfirmed', detail: `an earlier attempt stopped while sending (${previous.detail ?? previous.at})` };
  }
  return { kind: 'keep' };
}

/** What became of one channel in this attempt. */
export type ChannelResult =
  | { readonly kind: 'recorded'; readonly delivery: ChannelDelivery }
  /** Refused before anything went out (a 5xx, a timeout before sending): try again later. */
  | { readonly kind: 'retry'; readonly error: string; readonly category: DeliveryErrorCategory }
  /** The provider asked us to slow down: try again after `retryAfterMs`, without spending an attempt. */
  | { readonly kind: 'throttled'; readonly error: string; readonly category: DeliveryErrorCategory; readonly retryAfterMs: number }
  /**
   * Not sent: the second its send budget reserved was over before the send could start
   * (shared/domain/rate-budget.ts). Planned again at once, in a new reservation, without spending an attempt.
   */
  | { readonly kind: 'replan'; readonly error: string; readonly category: DeliveryErrorCategory };

/** The next state of a claimed unit, once every channel of this attempt has a result. */
export type Settlement =
  | { readonly kind: 'finish' }
  /**
   * `exhausted`: the last retry failed too (worth an alarm), not a refusal of this one message.
   * `category`: what kind of error `error` begins with (what a plain user is shown of it).
   */
  | { readonly kind: 'fail'; readonly error: string; readonly category: DeliveryErrorCategory; readonly exhausted?: boolean }
  | {
      readonly kind: 'release';
      readonly error: string;
      readonly category: DeliveryErrorCategory;
      readonly nextAttemptAt: number;
      /** Only the provider's throttling stopped it: the attempt is handed back, not spent. */
      readonly refundAttempt: boolean;
    };

/**
 * Decides a claimed unit's next state from its channels: a channel to retry releases it (after the
 * retry policy's backoff, or the provider's hint when only throttling stopped it, or at once when
 * only a budget second that passed did, attempt refunded in both cases), unless the
 * last attempt is spent, which fails it; otherwise it is sent when any channel may have reached
 * the recipient (`mayHaveReached`, shared/domain/channel-reach.ts), and fails when none did:
 * `unreachable` when every channel was skipped (no address, switched off, not connected), else the
 * first failure's category, each channel's reason in the error. `attempts` counts this attempt.
 */
export function settle(
  channels: readonly Channel[],
  outcomes: Readonly<Partial<Record<Channel, ChannelDelivery>>>,
  results: readonly ChannelResult[],
  attempts: number,
  policy: RetryPolicy,
  now: Date,
): Settlement {
  const retries = results.filter((r): r is Extract<ChannelResult, { kind: 'retry' }> => r.kind === 'retry');
  // A send whose budget second passed waits as a throttled one does, for nothing but a new reservation.
  const throttles = results.flatMap((r): { error: string; category: DeliveryErrorCategory; retryAfterMs: number }[] =>
    r.kind === 'throttled' ? [r] : r.kind === 'replan' ? [{ error: r.error, category: r.category, retryAfterMs: 0 }] : [],
  );
  // The unit's error lists its channels' errors; its category is the first one's.
  if (retries.length > 0) {
    const listed = [...retries, ...throttles];
    const error = listed.map((r) => r.error).join('; ');
    const category = listed[0]?.category ?? 'unclassified';
    const delay = retryDelaySeconds(policy, attempts);
    if (delay === undefined) return { kind: 'fail', error: `Gave up after ${attempts} attempts: ${error}`, category, exhausted: true };
    const wait = Math.max(delay * 1000, ...throttles.map((t) => t.retryAfterMs));
    return { kind: 'release', error, category, nextAttemptAt: now.getTime() + wait, refundAttempt: false };
  }
  if (throttles.length > 0) {
    const error = throttles.map((r) => r.error).join('; ');
    const category = throttles[0]?.category ?? 'unclassified';
    return { kind: 'release', error, category, nextAttemptAt: now.getTime() + Math.max(...throttles.map((t) => t.retryAfterMs)), refundAttempt: true };
  }
  if (channels.some((channel) => mayHaveReached(outcomes[channel]))) return { kind: 'finish' };
  // Nothing reached the recipient: a skipped channel had nowhere to deliver, a failed one could not.
  const failed = channels.filter((channel) => outcomes[channel]?.status === 'failed');
  const reasons = channels.map((channel) => `${channel}: ${outcomeReason(outcomes[channel])}`).join('; ');
  if (failed.length === 0) return { kind: 'fail', error: `Nothing to deliver it to (${reasons})`, category: 'unreachable' };
  const category = failed.map((channel) => outcomes[channel]?.errorCategory).find((c) => c !== undefined) ?? 'unclassified';
  return { kind: 'fail', error: `${failed.length === channels.length ? 'Every channel failed' : 'No channel delivered it'} (${reasons})`, category };
}

/** A channel's outcome in a unit's error: a failure's text, why it was skipped, or its status. */
function outcomeReason(delivery: ChannelDelivery | undefined): string {
  if (delivery === undefined) return 'not attempted';
  if (delivery.status === 'failed') return delivery.error ?? 'failed';
  if (delivery.status === 'skipped') return delivery.detail === undefined ? 'skipped' : `skipped, ${delivery.detail}`;
  return delivery.status;
}

/** What the engine tells the queue about a unit: done with it, or look again at `at` (epoch ms). */
export type UnitOutcome =
  | {
      readonly kind: 'done';
      readonly status: UnitStatus | 'missing' | 'superseded';
      /** Set when it failed after its last retry: its message belongs on the dead-letter queue. */
      readonly deadLetter?: { readonly reason: string; readonly attempts: number };
    }
  | { readonly kind: 'later'; readonly at: number; readonly cause: LaterCause; readonly reason: string }
  /**
   * Its cancel or quiet-hours hold threw (throttled, a fault), not refused by its condition: the
   * message naming it fails, and comes back under the queue's retry policy (backoff, then the
   * dead-letter queue). The writes that landed beside it stand and are counted.
   */
  | { readonly kind: 'error'; readonly error: unknown };

/**
 * Why a unit must be looked at again later: it is not yet due, another worker holds it, a retry
 * waits out its backoff, a provider's send budget is spent, it changed while being claimed, the
 * recipient's quiet hours hold it, or the invocation ran too short of time to start its round.
 */
export type LaterCause = 'notYetDue' | 'leased' | 'retry' | 'budget' | 'changed' | 'quietHours' | 'deadline';

/**
 * The notification as a client receives it, in a WebSocket frame and in a Web Push payload:
 * `{ id, broadcastId?, title, message, type, priority, data, scheduledAt }` (`data` `{}` when none).
 */
export function clientNotification(content: DeliveryContent): Record<string, unknown> {
  return {
    id: content.id,
    ...(content.broadcastId ? { broadcastId: content.broadcastId } : {}),
    title: content.title,
    message: content.message,
    type: content.type,
    priority: content.priority,
    data: content.data ?? {},
    scheduledAt: content.scheduledAt,
  };
}

/**
 * The frame a live WebSocket client receives for a delivery, with the unread count the delivery's
 * inbox write makes (`unread`) and its version (`unreadVersion`) when known.
 */
export function toSocketFrame(content: DeliveryContent, count?: UnreadCount): Record<string, unknown> {
  return { type: 'notification', notification: clientNotification(content), ...(count !== undefined ? { unread: count.unread, unreadVersion: count.unreadVersion } : {}) };
}
