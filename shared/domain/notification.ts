/**
 * A notification and the rules of its life: its states, the transitions between them, the
 * channels it is delivered on. No AWS here: stores enforce these transitions with conditional
 * writes, so a duplicate message, a late schedule or a racing cancel cannot break them.
 */

export const notificationStatuses = ['pending', 'sending', 'sent', 'failed', 'cancelled'] as const;
export type NotificationStatus = (typeof notificationStatuses)[number];

export const channels = ['inbox', 'websocket', 'email'] as const;
export type Channel = (typeof channels)[number];

export const priorities = ['low', 'normal', 'high', 'urgent'] as const;
export type Priority = (typeof priorities)[number];

/** The outcome of one channel of one notification. */
export interface ChannelDelivery {
  /** `skipped`: nothing to deliver to (no open socket, no address); not a failure. */
  readonly status: 'sent' | 'skipped' | 'failed';
  readonly at: string;
  readonly detail?: string;
}

export interface Notification {
  readonly tenantId: string;
  readonly id: string;
  readonly recipientId: string;
  /** Subject (`sub`) of the token that created it. */
  readonly createdBy: string;
  readonly title: string;
  readonly message: string;
  readonly type: string;
  readonly priority: Priority;
  readonly channels: readonly Channel[];
  readonly data?: Readonly<Record<string, unknown>>;
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
  readonly deliveries: Readonly<Partial<Record<Channel, ChannelDelivery>>>;
  readonly lastError?: string;
}

/**
 * The transitions a notification may take. `sending → pending` releases a claim for a retry;
 * `sending → sending` is a new worker taking over an expired lease.
 */
const allowedTransitions: Readonly<Record<NotificationStatus, readonly NotificationStatus[]>> = {
  pending: ['sending', 'cancelled'],
  sending: ['sending', 'sent', 'failed', 'pending'],
  sent: [],
  failed: [],
  cancelled: [],
};

/** True when a notification may move from `from` to `to`. */
export function canTransition(from: NotificationStatus, to: NotificationStatus): boolean {
  return allowedTransitions[from].includes(to);
}

/** The states from which a transition to `to` is allowed (what a conditional write checks). */
export function statusesAllowing(to: NotificationStatus): NotificationStatus[] {
  return notificationStatuses.filter((from) => canTransition(from, to));
}

/** True for states a notification never leaves. */
export function isTerminal(status: NotificationStatus): boolean {
  return allowedTransitions[status].length === 0;
}

/** The channels used when the request names none: inbox and WebSocket, plus email when known. */
export function defaultChannels(recipient: { readonly email?: string }): Channel[] {
  return recipient.email ? ['inbox', 'websocket', 'email'] : ['inbox', 'websocket'];
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

/** The public view of a notification, as the API returns it. */
export function toNotificationView(n: Notification): Record<string, unknown> {
  return {
    id: n.id,
    recipientId: n.recipientId,
    title: n.title,
    message: n.message,
    type: n.type,
    priority: n.priority,
    channels: n.channels,
    data: n.data ?? {},
    status: n.status,
    scheduledAt: n.scheduledAt,
    sentAt: n.sentAt ?? null,
    createdAt: n.createdAt,
    attempts: n.attempts,
    deliveries: n.deliveries,
    lastError: n.lastError ?? null,
  };
}
