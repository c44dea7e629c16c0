/**
 * The ports use cases depend on. Adapters in shared/adapters implement them on the AWS SDK;
 * tests pass in-memory fakes. Keep them small: a port names what the domain needs, not what
 * the AWS API offers.
 */
import type { Channel, ChannelDelivery, Notification } from './domain/notification.ts';
import type { Recipient } from './domain/recipient.ts';

export interface Clock {
  now(): Date;
}

/** A claim on a notification: only its holder may finish or release it. */
export interface Claim {
  readonly notification: Notification;
  readonly token: string;
  readonly leaseUntil: Date;
}

/** Raised by writes under a claim that was lost (its lease expired and another worker took over). */
export class ClaimLostError extends Error {
  constructor(notificationId: string, options?: { cause?: unknown }) {
    super(`The claim on ${notificationId} was lost to another worker`, options);
    this.name = 'ClaimLostError';
  }
}

export interface NotificationStore {
  /** Writes new notifications; none may exist already. */
  createMany(notifications: readonly Notification[]): Promise<void>;
  /** Removes notifications that were never scheduled (the rollback of a failed create). */
  deleteMany(tenantId: string, ids: readonly string[]): Promise<void>;
  get(tenantId: string, id: string): Promise<Notification | undefined>;
  /** PENDING → CANCELLED; `undefined` when the notification is not pending (or does not exist). */
  cancel(tenantId: string, id: string, at: Date): Promise<Notification | undefined>;
  /**
   * PENDING → SENDING, or SENDING whose lease expired → SENDING (a new lease); counts an attempt.
   * `undefined` when the notification is not claimable (cancelled, finished, leased by another).
   */
  claim(tenantId: string, id: string, now: Date, leaseSeconds: number): Promise<Claim | undefined>;
  /** Records one channel's outcome while the claim is held. */
  recordDelivery(claim: Claim, channel: Channel, delivery: ChannelDelivery): Promise<void>;
  /** SENDING → SENT under the claim; the item expires after `expiresAt`. */
  markSent(claim: Claim, sentAt: Date, expiresAt: Date): Promise<void>;
  /** SENDING → FAILED under the claim. */
  markFailed(claim: Claim, error: string, at: Date, expiresAt: Date): Promise<void>;
  /** SENDING → PENDING under the claim, keeping the error, so a later receive retries. */
  release(claim: Claim, error: string): Promise<void>;
}

export interface RecipientStore {
  put(recipient: Recipient): Promise<void>;
  get(tenantId: string, id: string): Promise<Recipient | undefined>;
  /** The recipients that exist among `ids` (any order). */
  getMany(tenantId: string, ids: readonly string[]): Promise<Recipient[]>;
}

/** One notification in a recipient's persistent in-app inbox. */
export interface InboxItem {
  readonly tenantId: string;
  readonly recipientId: string;
  readonly notificationId: string;
  readonly title: string;
  readonly message: string;
  readonly type: string;
  readonly priority: string;
  readonly data?: Readonly<Record<string, unknown>>;
  readonly createdAt: string;
  readonly deliveredAt: string;
}

export interface InboxStore {
  /** Adds the item once; false when it was already there (a repeated delivery). */
  add(item: InboxItem): Promise<boolean>;
  list(tenantId: string, recipientId: string): Promise<InboxItem[]>;
}

export interface Connection {
  readonly connectionId: string;
  readonly tenantId: string;
  readonly userId: string;
  readonly connectedAt: string;
}

export interface ConnectionStore {
  put(connection: Connection, expiresAt: Date): Promise<void>;
  remove(connectionId: string): Promise<void>;
  listByUser(tenantId: string, userId: string): Promise<Connection[]>;
}

/** Arranges for a notification to reach the delivery queue at its time. */
export interface DeliveryScheduler {
  schedule(notification: Pick<Notification, 'tenantId' | 'id' | 'scheduledAt'>, now: Date): Promise<void>;
  /** Removes a notification's schedule; a schedule that is already gone is not an error. */
  unschedule(notification: Pick<Notification, 'tenantId' | 'id'>): Promise<void>;
}

/** The delivery queue, as the consumer sees its messages. */
export interface DeliveryQueue {
  /** Hides a received message for `seconds` more (it comes back then, unless deleted). */
  hide(receiptHandle: string, seconds: number): Promise<void>;
}

export interface Mailer {
  send(email: { readonly to: string; readonly subject: string; readonly text: string }): Promise<void>;
}

export interface SocketPoster {
  /** Posts a frame; `gone` when the connection no longer exists (410). */
  post(connectionId: string, payload: unknown): Promise<'posted' | 'gone'>;
}
