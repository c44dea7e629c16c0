/**
 * A notification and the rules of its life: its states, the transitions between them, the
 * channels it is delivered on. No AWS here: stores enforce these transitions with conditional
 * writes, so a duplicate message, a late schedule or a racing cancel cannot break them.
 */
import { tableAllows, tableIsTerminal } from './state-machine.ts';
import { toLocalIso } from './time.ts';
import type { TransitionTable } from './state-machine.ts';
import type { TemplateRef } from './template.ts';
import { toTemplateRefView } from './template.ts';
import type { DeliveryErrorCategory } from './delivery-errors.ts';
import { deliveriesView, unitErrorView } from './delivery-views.ts';
import type { DeliveryAudience } from './delivery-views.ts';
import type { Channel } from './channel-names.ts';

export const notificationStatuses = ['pending', 'sending', 'sent', 'failed', 'cancelled'] as const;
export type NotificationStatus = (typeof notificationStatuses)[number];

export { channels } from './channel-names.ts';
export type { Channel } from './channel-names.ts';

export const priorities = ['low', 'normal', 'high', 'urgent'] as const;

export { maxMessageLength, maxNotificationsPerMessage, maxTitleLength } from './field-limits.ts';

export type Priority = (typeof priorities)[number];

/**
 * Where one channel of one notification stands. `sending` is the intent a worker records just
 * before a side effect that cannot be repeated safely (an email, a WebSocket frame); finding it
 * on a later attempt means that attempt stopped mid-send, so it is never sent again but recorded
 * `unconfirmed`: it may or may not have reached the recipient.
 */
export const channelDeliveryStatuses = ['sending', 'sent', 'unconfirmed', 'skipped', 'failed'] as const;
export type ChannelDeliveryStatus = (typeof channelDeliveryStatuses)[number];

/** The outcome of one channel of one notification. */
export interface ChannelDelivery {
  /** `skipped`: nothing to deliver to (no open socket, no address); not a failure. */
  readonly status: ChannelDeliveryStatus;
  readonly at: string;
  /** Why a `failed` channel failed: the provider's own text, for those who run the tenant only. */
  readonly error?: string;
  /**
   * What kind of error `error` (or an `unconfirmed` channel's `detail`) is: what a plain user is
   * shown instead of the text (shared/domain/delivery-views.ts). Written with the error; records
   * made before it existed have none and read as `unclassified`.
   */
  readonly errorCategory?: DeliveryErrorCategory;
  /** A note on any other outcome (how many sockets, why skipped); may hold a provider's text, except for `skipped`. */
  readonly detail?: string;
  /** For a templated notification: the locale its template was rendered in (`fr`, or the template's default). */
  readonly locale?: string;
}

/** What a notification is about, in the caller's own terms (e.g. `{ type: 'invoice', id: '42' }`). */
export interface RelatedObject {
  readonly type: string;
  readonly id: string;
}

export interface Notification {
  readonly tenantId: string;
  readonly id: string;
  readonly recipientId: string;
  /**
   * Herald's own, never shown: the `createdAt` of the recipient's record when the notification was
   * made. A record under the id created since (the recipient erased and registered again) is
   * someone else: delivery reaches nobody, as for an erased recipient.
   */
  readonly recipientSince?: string;
  /** Subject (`sub`) of the token that created it. */
  readonly createdBy: string;
  readonly title: string;
  readonly message: string;
  readonly type: string;
  readonly priority: Priority;
  readonly channels: readonly Channel[];
  readonly data?: Readonly<Record<string, unknown>>;
  /** Its template, when it has one: rendered at delivery for its recipient (`title`/`message` are then a summary). */
  readonly template?: TemplateRef;
  readonly relatedObject?: RelatedObject;
  readonly status: NotificationStatus;
  /** ISO-8601 UTC instants. */
  readonly scheduledAt: string;
  readonly createdAt: string;
  readonly sentAt?: string;
  readonly cancelledAt?: string;
  /** While sending: when the worker's claim expires (epoch ms); another may take over after. */
  readonly leaseUntil?: number;
  /** How many times a worker has claimed it for delivery. */
  readonly attempts: number;
  /** After a failed attempt: when the next one is due (ISO-8601 UTC), by the retry policy. */
  readonly nextAttemptAt?: string;
  readonly deliveries: Readonly<Partial<Record<Channel, ChannelDelivery>>>;
  /** Why its last attempt did not deliver it: the providers' own text, for those who run the tenant only. */
  readonly lastError?: string;
  /** What kind of error `lastError` begins with; absent on notifications written before it existed. */
  readonly lastErrorCategory?: DeliveryErrorCategory;
  /** The IANA zone its time was given in (or its recipient's, for `timezone: "recipient"`). */
  readonly timezone?: string;
  /** Held by the recipient's quiet hours until this instant (ISO-8601 UTC), and why. */
  readonly heldUntil?: string;
  readonly heldReason?: string;
  /** The recurring notification whose occurrence created it. */
  readonly recurringId?: string;
}

/**
 * What a conditional write on a notification checks besides its status: `due`, its time (or its
 * retry time) has come; `leaseExpired`, the worker holding it let its lease run out; `holdsClaim`,
 * the writer holds the current claim (its token); `unchanged`, nobody claimed it since the writer
 * read it (its attempt count is the one read).
 */
export const notificationGuards = ['due', 'leaseExpired', 'holdsClaim', 'unchanged'] as const;
export type NotificationGuard = (typeof notificationGuards)[number];

/**
 * Every transition a notification may take: the rules that run. `release` hands a claim back for
 * a retry; `takeOver` is a worker taking over a lease that ran out; `retry` is
 * `POST /v1/notifications/{id}/retry`, a person's decision: for delivery a failed notification
 * stays terminal.
 */
export const notificationTransitions = {
  claim: { from: ['pending'], to: 'sending', guards: ['due', 'unchanged'] },
  takeOver: { from: ['sending'], to: 'sending', guards: ['leaseExpired', 'unchanged'] },
  finish: { from: ['sending'], to: 'sent', guards: ['holdsClaim'] },
  fail: { from: ['sending'], to: 'failed', guards: ['holdsClaim'] },
  release: { from: ['sending'], to: 'pending', guards: ['holdsClaim'] },
  cancel: { from: ['pending'], to: 'cancelled' },
  reschedule: { from: ['pending'], to: 'pending' },
  /** Quiet hours: due, but held until they end (it stays pending); nobody claimed it since it was read. */
  hold: { from: ['pending'], to: 'pending', guards: ['unchanged'] },
  retry: { from: ['failed'], to: 'pending', manual: true },
} as const satisfies TransitionTable<NotificationStatus, NotificationGuard>;
export type NotificationTransition = keyof typeof notificationTransitions;

/** True when a notification may move from `from` to `to` (by itself or on a person's request). */
export function canTransition(from: NotificationStatus, to: NotificationStatus): boolean {
  return tableAllows<NotificationStatus, NotificationGuard>(notificationTransitions, from, to);
}

/** The states from which a transition to `to` is allowed (what a conditional write checks). */
export function statusesAllowing(to: NotificationStatus): NotificationStatus[] {
  return notificationStatuses.filter((from) => canTransition(from, to));
}

/**
 * When a pending notification is next due: its scheduled time, or the time of its next retry or
 * the end of the quiet hours holding it when later. A message that arrives before this is early
 * and is held until then.
 */
export function nextDueAt(n: Pick<Notification, 'scheduledAt' | 'nextAttemptAt' | 'heldUntil'>): Date {
  const scheduled = Date.parse(n.scheduledAt);
  const retry = n.nextAttemptAt === undefined ? scheduled : Date.parse(n.nextAttemptAt);
  const held = n.heldUntil === undefined ? scheduled : Date.parse(n.heldUntil);
  return new Date(Math.max(scheduled, retry, held));
}

/** True for states a notification never leaves by itself (only a manual retry revives a failed one). */
export function isTerminal(status: NotificationStatus): boolean {
  return tableIsTerminal<NotificationStatus, NotificationGuard>(notificationTransitions, status);
}

/**
 * The channels used when the request names none: inbox, WebSocket and push (each skipped when the
 * recipient has no open connection, no push target), plus each channel the recipient has an
 * address for (e-mail, SMS, Telegram, webhook).
 */
export function defaultChannels(recipient: {
  readonly email?: string;
  readonly phone?: string;
  readonly telegramChatId?: string;
  readonly webhookUrl?: string;
}): Channel[] {
  const addressed = (channel: Channel, address: string | undefined): Channel[] => (address ? [channel] : []);
  return [
    'inbox',
    'websocket',
    ...addressed('email', recipient.email),
    'push',
    ...addressed('sms', recipient.phone),
    ...addressed('telegram', recipient.telegramChatId),
    ...addressed('webhook', recipient.webhookUrl),
  ];
}

/** The message a live WebSocket client receives for a delivered notification. */
export function toSocketMessage(n: Notification): {
  type: 'notification';
  notification: Pick<Notification, 'id' | 'title' | 'message' | 'type' | 'priority' | 'data' | 'scheduledAt'>;
} {
  return {
    type: 'notification',
    notification: {
      id: n.id,
      title: n.title,
      message: n.message,
      type: n.type,
      priority: n.priority,
      data: n.data ?? {},
      scheduledAt: n.scheduledAt,
    },
  };
}

/**
 * The public view of a notification, as the API returns it to a caller of `audience`
 * (`deliveryAudienceOf(caller)`): with the providers' error text for those who run the tenant, its
 * category alone for a plain user (shared/domain/delivery-views.ts).
 */
export function toNotificationView(n: Notification, audience: DeliveryAudience): Record<string, unknown> {
  return {
    id: n.id,
    recipientId: n.recipientId,
    title: n.title,
    message: n.message,
    type: n.type,
    priority: n.priority,
    channels: n.channels,
    data: n.data ?? {},
    template: n.template ? toTemplateRefView(n.template) : null,
    relatedObject: n.relatedObject ?? null,
    status: n.status,
    scheduledAt: n.scheduledAt,
    sentAt: n.sentAt ?? null,
    createdAt: n.createdAt,
    attempts: n.attempts,
    deliveries: deliveriesView(n.deliveries, audience),
    ...unitErrorView(n, audience, 'lastError'),
    // Why it waits shows with when: a retry's backoff, or a provider's throttling (a daily quota spent).
    nextAttemptAt: n.status === 'pending' ? (n.nextAttemptAt ?? null) : null,
    timezone: n.timezone ?? null,
    localScheduledAt: n.timezone ? toLocalIso(Date.parse(n.scheduledAt), n.timezone) : null,
    // Quiet hours hold it, never drop it: while pending, until when and why.
    heldUntil: n.status === 'pending' ? (n.heldUntil ?? null) : null,
    heldReason: n.status === 'pending' ? (n.heldReason ?? null) : null,
    recurringId: n.recurringId ?? null,
  };
}
