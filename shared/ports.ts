/**
 * The ports use cases depend on. Adapters in shared/adapters implement them on the AWS SDK;
 * tests pass in-memory fakes. Keep them small: a port names what the domain needs, not what
 * the AWS API offers.
 */
import type { EmailAccountStatus } from './domain/email-account.ts';
import type { DeliveryCountName } from './observability/metric-names.ts';
import type { PushDevice, WebPushSubscription } from './domain/push-targets.ts';
import type { DeliveryUnit, LiveConnection, LiveState, QuietHold, Settlement, UnitRef } from './domain/delivery.ts';
import type { MetricCounts } from './domain/metrics.ts';
import type { UnreadCount } from './domain/inbox.ts';
import type { Channel, ChannelDelivery, Notification, NotificationStatus } from './domain/notification.ts';
import type { Recipient } from './domain/recipient.ts';
import type { RecurringNotification, RecurringOccurrence } from './domain/recurring.ts';
import type { TenantSettings } from './domain/tenant-settings.ts';
import type { TemplateDefinition, TemplateVersion } from './domain/template.ts';
import type { Provider, ReservedSlot } from './domain/rate-budget.ts';
import type { WebhookSecrets } from './domain/standard-webhooks.ts';
import type { BroadcastDeliveryMessage, DeliveryMessage, FanoutMessage, RecurringOccurrenceMessage } from './domain/schemas.ts';
import type {
  Broadcast,
  BroadcastContent,
  BroadcastCounts,
  BroadcastRecipient,
  BroadcastRecipientStatus,
  BroadcastStatus,
  RecipientClaim,
} from './domain/broadcast.ts';

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

/**
 * What {@link NotificationStore.cancel} found. A rollback tells from it what it undid (cancelled, or
 * none there) from what it cannot undo: one no longer pending, delivered or being delivered.
 */
export interface CancelOutcome {
  /** The notification, now cancelled: it was pending. */
  readonly cancelled?: Notification;
  /** When it was not cancelled: the status it has (it was not pending); absent when there is no such notification. */
  readonly status?: NotificationStatus;
}

export interface NotificationStore {
  /** Writes new notifications; none may exist already. */
  createMany(notifications: readonly Notification[]): Promise<void>;
  /**
   * Writes those of `notifications` that do not exist yet, and leaves every one that does exactly
   * as it is (pending, sent, cancelled or rescheduled): a retry of a create that died part-way.
   */
  createMissing(notifications: readonly Notification[]): Promise<void>;
  /** Removes notifications that were never scheduled (the rollback of a failed create). */
  deleteMany(tenantId: string, ids: readonly string[]): Promise<void>;
  get(tenantId: string, id: string): Promise<Notification | undefined>;
  /**
   * PENDING → CANCELLED; when the notification is not pending, learns the status it has from the
   * refused write itself (no read), and nothing when it does not exist.
   */
  cancel(tenantId: string, id: string, at: Date): Promise<CancelOutcome>;
  /**
   * PENDING → SENDING, or SENDING whose lease expired → SENDING (a new lease); counts an attempt.
   * `undefined` when the notification is not claimable (cancelled, finished, leased by another).
   */
  claim(tenantId: string, id: string, now: Date, leaseSeconds: number): Promise<Claim | undefined>;
  /** Records one channel's outcome (or the intent to send on it) while the claim is held. */
  recordDelivery(claim: Claim, channel: Channel, delivery: ChannelDelivery): Promise<void>;
  /** Removes a channel's recorded intent under the claim, once the send is known not to have happened. */
  forgetDelivery(claim: Claim, channel: Channel): Promise<void>;
  /** SENDING → SENT under the claim; the item expires after `expiresAt`. */
  markSent(claim: Claim, sentAt: Date, expiresAt: Date): Promise<void>;
  /** SENDING → FAILED under the claim. */
  markFailed(claim: Claim, error: string, at: Date, expiresAt: Date): Promise<void>;
  /**
   * SENDING → PENDING under the claim, keeping the error, so a later receive retries; with
   * `nextAttemptAt`, the notification is due again then (the sweep leaves it alone until then).
   */
  release(claim: Claim, error: string, nextAttemptAt?: Date): Promise<void>;
  /**
   * PENDING → PENDING due at `scheduledAt` (a reschedule, or send-now with `scheduledAt` = now),
   * forgetting any retry back-off; `undefined` when the notification is not pending.
   */
  reschedule(tenantId: string, id: string, scheduledAt: Date): Promise<Notification | undefined>;
  /**
   * FAILED → PENDING due at `scheduledAt` (a manual retry), with a fresh attempt budget: the
   * outcomes of failed channels are forgotten, every other outcome is kept so that a channel that
   * reached the recipient is never repeated. `undefined` when the notification is not failed.
   */
  requeueFailed(tenantId: string, id: string, scheduledAt: Date, at: Date): Promise<Notification | undefined>;
}

/** Whose notifications a listing reads; each is served by an index, never a scan. */
export type NotificationListScope =
  | { readonly kind: 'tenant' }
  | { readonly kind: 'creator'; readonly createdBy: string }
  | { readonly kind: 'recipient'; readonly recipientId: string; readonly createdBy?: string };

export interface NotificationListQuery {
  readonly tenantId: string;
  readonly scope: NotificationListScope;
  readonly status?: NotificationStatus;
  readonly type?: string;
  /** Bounds of the creation time, inclusive. */
  readonly createdFrom?: Date;
  readonly createdTo?: Date;
  readonly limit: number;
  /** Only notifications older than this id (where the previous page stopped). */
  readonly olderThan?: string;
}

export interface NotificationListPage {
  /** Newest first. With filters, fewer than `limit` (even none) while more may follow. */
  readonly items: readonly Notification[];
  /** Where the next page starts (exclusive), when there may be more. */
  readonly olderThan?: string;
}

/** Lists notifications newest first. */
export interface NotificationListing {
  list(query: NotificationListQuery): Promise<NotificationListPage>;
}

/** A tenant's hourly counters (see shared/domain/metrics.ts). */
export interface MetricsStore {
  /** Adds `counts` to the tenant's counters of the hour that holds `at`, atomically. */
  add(tenantId: string, at: Date, counts: MetricCounts): Promise<void>;
  /** The tenant's counters summed over the hours from the one holding `from` to the one holding `to`. */
  sum(tenantId: string, from: Date, to: Date): Promise<MetricCounts>;
}

/** A create request that carries an `Idempotency-Key`. */
export interface IdempotentRequest {
  /** The client's key scoped to its tenant, caller and route: repeats share it, nobody else can. */
  readonly key: string;
  /** A hash of the request body; a repeat must carry the same one. */
  readonly fingerprint: string;
  /** How long the first request may run; after that a repeat may take over (it died). */
  readonly lockSeconds: number;
}

/**
 * What a create carrying an `Idempotency-Key` is about to write, kept under its key before it
 * writes anything, so that a retry after its death (no answer, its key's lock run out) creates the
 * same notifications instead of a second set (docs/architecture.md, "Creating a notification
 * whose schedule cannot be made").
 */
export interface CreateRecord {
  /** The key as {@link IdempotentRequest.key} scopes it (tenant, caller, route, path, client key). */
  readonly key: string;
  /** The request body's hash ({@link IdempotentRequest.fingerprint}): a record of another body is not this request's. */
  readonly fingerprint: string;
  /** The ids of the notifications it creates, one per recipient in the order of the request. */
  readonly ids: readonly string[];
  /** When the first attempt read its clock (ISO-8601 UTC): every time of the create is resolved against it. */
  readonly createdAt: string;
  /** `rolledBack` from the moment its rollback starts: its ids are given up, a retry takes new ones. */
  readonly state: 'creating' | 'rolledBack';
}

/**
 * The {@link CreateRecord}s of idempotent creates, each living a fixed time after its last write,
 * as long as a retry can come (an `Idempotency-Key`'s 24 h, an occurrence marker's 30 days); one
 * past that is treated as absent.
 */
export interface CreateRecords {
  /**
   * Writes `record` unless a live record has its key: `undefined` when written, else the record
   * found there (learnt from the refused write itself: one conditional write either way).
   */
  put(record: CreateRecord, now: Date): Promise<CreateRecord | undefined>;
  /** Replaces `previous` by `next` (same key), and renews its life; false when `previous` is no longer what is stored. */
  replace(previous: CreateRecord, next: CreateRecord, now: Date): Promise<boolean>;
  /** Removes `record`, unless it was replaced meanwhile (then nothing happens). */
  remove(record: CreateRecord): Promise<void>;
}

/**
 * Runs a create at most once per key and replays its result to repeats. Throws
 * IdempotencyConflictError for a repeat with another fingerprint and IdempotencyInProgressError
 * while the first request still runs; when `work` throws, the key is forgotten so a retry may succeed.
 */
export interface IdempotencyStore {
  run<T>(request: IdempotentRequest, work: () => Promise<T>): Promise<{ readonly result: T; readonly replayed: boolean }>;
  /**
   * True when the key has a live record (done or in progress): `run` will then replay, refuse or
   * wait, whatever the request would do now. A read: it takes nothing.
   */
  has(request: IdempotentRequest): Promise<boolean>;
}

/** A template as its listing shows it: its latest version's number and description. */
export interface TemplateSummary {
  readonly id: string;
  readonly latestVersion: number;
  readonly description?: string;
  /** ISO-8601 UTC: when the first version was stored, and the latest. */
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** The templates of each tenant, every version kept until the template is deleted. */
export interface TemplateStore {
  /**
   * Stores `definition` as the template's next version (1 for a new one, or for one deleted:
   * numbers are never reused, so a notification pinned to a deleted version cannot meet another).
   * Returns undefined when the template already has `maxVersions` versions.
   */
  put(tenantId: string, id: string, definition: TemplateDefinition, createdBy: string, now: Date, maxVersions: number): Promise<TemplateVersion | undefined>;
  /** False when the template already has `maxVersions` versions, so that a `put` now would be refused; reads, writes nothing. */
  hasRoomForVersion(tenantId: string, id: string, maxVersions: number): Promise<boolean>;
  /** A version of a template, or its latest when `version` is undefined; undefined when there is none (or it was deleted). */
  get(tenantId: string, id: string, version?: number): Promise<TemplateVersion | undefined>;
  /** A tenant's templates in id order, `limit` at most, after the cursor's id. */
  list(tenantId: string, limit: number, after?: string): Promise<{ readonly items: readonly TemplateSummary[]; readonly last?: string }>;
  /** Deletes every version; false when there was no such template. */
  delete(tenantId: string, id: string, now: Date): Promise<boolean>;
}

export interface RecipientStore {
  /** Writes the recipient whatever is stored (its group memberships follow). */
  put(recipient: Recipient): Promise<void>;
  get(tenantId: string, id: string): Promise<Recipient | undefined>;
  /** The recipients that exist among `ids` (any order). */
  getMany(tenantId: string, ids: readonly string[]): Promise<Recipient[]>;
  /**
   * Writes `next` only if the stored recipient is still `previous` (same `version`; absent when
   * `previous` is undefined), moving its group memberships with it in the same transaction; the
   * stored `version` becomes `previous.version + 1` (1 for a new one). False when another write
   * came first: read again and retry.
   */
  save(next: Recipient, previous: Recipient | undefined): Promise<boolean>;
  /** Removes the recipient and its memberships, only if it is still `previous`; false otherwise. */
  remove(previous: Recipient): Promise<boolean>;
  /** A page of the tenant's directory, of one group's members, or of its suppressed addresses, in id order. */
  list(tenantId: string, query: RecipientListQuery): Promise<RecipientPage>;
}

export interface RecipientListQuery {
  readonly group?: string;
  /** Only the recipients whose current e-mail address is suppressed (SES reported a bounce or complaint). */
  readonly emailSuppressed?: boolean;
  readonly limit: number;
  /** Only recipients whose id sorts after this one (where the previous page stopped). */
  readonly after?: string;
}

export interface RecipientPage {
  readonly recipients: readonly Recipient[];
  /** Where the next page starts (exclusive), when there is more. */
  readonly after?: string;
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
  /** When the recipient read it; absent while unread. */
  readonly readAt?: string;
}

/** Raised by InboxStore.add when the recipient left the directory (an erasure won the race). */
export class RecipientGoneError extends Error {
  constructor(tenantId: string, recipientId: string) {
    super(`Recipient ${recipientId} of ${tenantId} is no longer in the directory`);
    this.name = 'RecipientGoneError';
  }
}

export interface InboxPageQuery {
  readonly unreadOnly: boolean;
  readonly limit: number;
  /** Where the previous page stopped (exclusive), as that page's `after` said. */
  readonly after?: string;
}

export interface InboxPage {
  /** Newest arrival first. */
  readonly items: readonly InboxItem[];
  /** Where the next page starts, when there is more. */
  readonly after?: string;
}

/**
 * The persistent in-app inbox with an exact unread count: every write that adds an unread item
 * or reads one moves the count in the same transaction, on a condition that makes a repeat a no-op.
 */
export interface InboxStore {
  /**
   * Adds the item, unread, once: false when it was already there (a repeated delivery). Throws
   * RecipientGoneError when its recipient is no longer in the directory.
   */
  add(item: InboxItem): Promise<boolean>;
  /** Every item of a recipient, newest arrival first. */
  list(tenantId: string, recipientId: string): Promise<InboxItem[]>;
  page(tenantId: string, recipientId: string, query: InboxPageQuery): Promise<InboxPage>;
  /** The exact number of unread items, with its version (strongly consistent: one read of the counter item). */
  unreadCount(tenantId: string, recipientId: string): Promise<UnreadCount>;
  /**
   * Marks one item read; it expires at `expiresAt`. `read` when this call read it,
   * `alreadyRead` when it was, `missing` when the recipient has no such item.
   */
  markRead(tenantId: string, recipientId: string, id: string, at: Date, expiresAt: Date): Promise<'read' | 'alreadyRead' | 'missing'>;
  /** Marks the items read (those still unread); how many this call read. */
  markManyRead(tenantId: string, recipientId: string, ids: readonly string[], at: Date, expiresAt: Date): Promise<number>;
  /** Removes every item and the count of a recipient; how many items there were. */
  removeAll(tenantId: string, recipientId: string): Promise<number>;
}

/** What a schedule needs of a notification. */
export type SchedulableNotification = Pick<Notification, 'tenantId' | 'id' | 'recipientId' | 'scheduledAt'>;

/** Arranges for notifications to reach the delivery queue at their time. */
export interface DeliveryScheduler {
  /**
   * Arranges for new notifications of one tenant to reach the queue at their times: one schedule
   * (or, due soon, one message) per instant and batch of up to 100, never one per notification.
   * When it fails it leaves no schedule behind that it made, then throws. A schedule of the same
   * name found already there counts as made: names come from the notifications' ids, so it is one
   * an earlier attempt of the same create made (a retry after its death).
   */
  scheduleMany(notifications: readonly SchedulableNotification[], now: Date): Promise<void>;
  /**
   * Removes the schedule a notification has of its own (one rescheduled, or created alone); a
   * schedule that is already gone, or one it shares with others, is not an error.
   */
  unschedule(notification: Pick<Notification, 'tenantId' | 'id'>): Promise<void>;
  /**
   * Gives a notification its own schedule at its (new) `scheduledAt`, replacing any it had of
   * its own; due now or soon, the message goes straight to the queue.
   */
  reschedule(notification: SchedulableNotification, now: Date): Promise<void>;
}

/** Why a delivery message was dead-lettered, carried as message attributes beside its body. */
export interface DeadLetterDetails {
  readonly tenantId: string;
  readonly notificationId: string;
  readonly reason: string;
  readonly attempts: number;
  /** The id of the message as the delivery queue knew it. */
  readonly sourceMessageId: string;
}

/** The delivery queue, as the consumer sees its messages (it puts work back through its `Requeue`). */
export interface DeliveryQueue {
  /** Puts a copy of a message body on the delivery dead-letter queue, saying why. */
  deadLetter(body: string, details: DeadLetterDetails): Promise<void>;
}

/** Puts delivery messages on the delivery queue: the sweeps' way back into delivery. */
export interface DeliveryEnqueuer {
  /** Sends every message (batches of 10); resolves with how many the queue accepted. */
  enqueue(messages: readonly DeliveryMessage[]): Promise<number>;
}

/** One page of a sweep's query; `cursor` is set when there is more to read. */
export interface SweepPage<T> {
  readonly items: readonly T[];
  readonly cursor?: string;
}

/** A notification the stuck-retry sweep found: nothing seems to be delivering it. */
export interface StuckNotification {
  readonly tenantId: string;
  readonly id: string;
  readonly status: 'pending' | 'sending';
}

/** A cancelled notification the cleanup sweep may delete. */
export interface CancelledNotification {
  readonly tenantId: string;
  readonly id: string;
  readonly cancelledAt: string;
}

/**
 * The notifications table as the sweeps read it: sparse, write-sharded indexes paged one shard
 * at a time, oldest first, so that no sweep ever scans the table.
 */
export interface NotificationSweepStore {
  /** How many shards each sweep index is spread over (shards are numbered from 0). */
  readonly shardCount: number;
  /**
   * One page of a shard's stuck notifications: pending ones due at or before `pendingDueBy`,
   * and sending ones whose lease ended before `leaseEndedBefore`. `limit` caps the items read.
   */
  pageStuck(
    shard: number,
    criteria: { readonly pendingDueBy: Date; readonly leaseEndedBefore: Date },
    limit: number,
    cursor?: string,
  ): Promise<SweepPage<StuckNotification>>;
  /** One page of a shard's cancelled notifications, cancelled before `before`. */
  pageCancelled(shard: number, before: Date, limit: number, cursor?: string): Promise<SweepPage<CancelledNotification>>;
  /**
   * Deletes cancelled notifications (never one in another state): how many this call deleted (one
   * already gone is not counted), and the errors of those it could not delete.
   */
  deleteCancelled(
    notifications: readonly Pick<CancelledNotification, 'tenantId' | 'id'>[],
  ): Promise<{ readonly deleted: number; readonly errors: readonly unknown[] }>;
}

/** A scheduled broadcast whose start is overdue: its schedule should have started it by now. */
export interface OverdueBroadcast {
  readonly tenantId: string;
  readonly id: string;
  /** When its start was due (ISO-8601 UTC with ms): the instant its schedule fires for. */
  readonly dueAt: string;
}

/**
 * The broadcasts table as the stuck-retry sweep reads it: the sparse, write-sharded `due` index,
 * which holds exactly the scheduled broadcasts by the instant their start is due.
 */
export interface BroadcastSweepStore {
  /** How many shards the index is spread over (numbered from 0). */
  readonly shardCount: number;
  /** One page of a shard's scheduled broadcasts due at or before `dueBy`, oldest first; `limit` caps the items read. */
  pageOverdue(shard: number, dueBy: Date, limit: number, cursor?: string): Promise<SweepPage<OverdueBroadcast>>;
}

/** One e-mail: a subject line, a text body and, optionally, an HTML body. */
export interface OutgoingEmail {
  readonly to: string;
  readonly subject: string;
  readonly text: string;
  readonly html?: string;
  /** SES message tags naming the tenant and recipient (`emailTags`). */
  readonly tags?: readonly { readonly name: string; readonly value: string }[];
}

export interface Mailer {
  /**
   * Sends one e-mail, multipart/alternative when `html` is given (`text` is then its text
   * alternative); resolves with the provider's message id, where it gives one. `tags` name the
   * recipient it is for (SES message tags, `emailTags`), so that a bounce or complaint finds them.
   * `beforeSend` runs before each attempt of the call that sends it, the SDK's retries included;
   * what it throws, the send rejects with, that attempt not sent.
   */
  send(email: OutgoingEmail, options?: { readonly beforeSend?: () => void }): Promise<{ readonly messageId?: string }>;
}

/**
 * The seconds in which one-shot schedules fire, at most the Scheduler's invocation quota in each
 * (about 1,000 targets a second per account): a burst due at once is spread over the seconds
 * before it, so that every schedule fires in time instead of waiting its turn past its due time.
 */
export interface FireSlots {
  /**
   * Takes a place in the latest second at or before `latest` that has room, but not before
   * `earliest` (both epoch seconds); resolves with that second, or `undefined` when none has room.
   */
  claim(latest: number, earliest: number): Promise<number | undefined>;
}

/** Where the delivery engine counts its outcomes per channel (CloudWatch EMF on AWS: metric-names.ts). */
export interface DeliveryMetricsRecorder {
  count(channel: Channel, name: DeliveryCountName): void;
  /** Milliseconds from when the notification was due to when the channel delivered it. */
  lateness(channel: Channel, ms: number): void;
  /** Writes out what was recorded (at the end of each batch). */
  flush(): void;
}

/** How many requests each tenant may make per second (`herald:tenantRequestsPerSecond`). */
export interface RequestQuota {
  /** Counts one request of `tenantId` at `now`; `retryAfterSeconds` when the tenant's quota for that second is spent (nothing counted). */
  take(tenantId: string, now: Date): Promise<{ readonly retryAfterSeconds?: number }>;
}

/** Reads the SES account's status. */
export interface EmailAccount {
  status(): Promise<EmailAccountStatus>;
}

/** Text messages to phones (SNS `Publish` to a `PhoneNumber`). */
export interface SmsSender {
  /**
   * Sends one SMS to `phone` (E.164); resolves with the provider's message id. Rejects with an
   * error named `OptedOut` (status 400) when the number opted out of the account's messages.
   * `beforePublish` runs just before each attempt of the call that sends the text (after the
   * opt-out check, and before each of the SDK's retries); what it throws, it rejects with, that
   * attempt not sent.
   */
  send(phone: string, text: string, options?: { readonly beforePublish?: () => void }): Promise<{ readonly messageId?: string }>;
}

/** Mobile push through SNS platform endpoints (one per registered device). */
/** A device's SNS platform endpoint as registering its token found it (GetEndpointAttributes). */
export interface MobileEndpoint {
  readonly endpointArn: string;
  /** False for an endpoint FCM or APNs had called invalid: nothing is delivered until it is enabled again. */
  readonly enabled: boolean;
  /** The token the endpoint delivers to. */
  readonly token?: string;
  /** Whose it is (`CustomUserData`): another user's when the device was signed in by someone else before. */
  readonly userData?: string;
}

/** Mobile push through SNS, as the delivering functions use it. */
export interface MobilePush {
  /** Deletes an endpoint (idempotent: an endpoint already gone is fine). */
  unregister(endpointArn: string): Promise<void>;
  /** Publishes one notification to an endpoint; resolves with the message id. Rejects `EndpointDisabledException` for a gone device. */
  publish(endpointArn: string, message: { readonly title: string; readonly body: string; readonly data: Readonly<Record<string, unknown>> }): Promise<{ readonly messageId?: string }>;
}

/** The SNS platform endpoints of the users' devices, as registering them uses them (`api`). */
export interface DeviceEndpoints {
  /**
   * Registers a device token with the platform's SNS application (CreatePlatformEndpoint): a new
   * endpoint, or the one the token already has, whatever its attributes, as it is.
   */
  register(platform: 'fcm' | 'apns', token: string, userData: string): Promise<MobileEndpoint>;
  /** An endpoint as it is now (GetEndpointAttributes), or undefined when it is gone. */
  read(endpointArn: string): Promise<MobileEndpoint | undefined>;
  /** Makes an endpoint deliver to `token` for `userData`'s owner, enabled (SetEndpointAttributes). */
  claim(endpointArn: string, token: string, userData: string): Promise<void>;
  /** Deletes an endpoint (idempotent: an endpoint already gone is fine). */
  unregister(endpointArn: string): Promise<void>;
}

/** A user's push targets. */
export interface PushTargetList {
  readonly subscriptions: readonly WebPushSubscription[];
  readonly devices: readonly PushDevice[];
}

/** A user of any tenant, as the holder of a target that only one user may have. */
export interface TargetOwner {
  readonly tenantId: string;
  readonly userId: string;
}

/** What claiming a browser subscription did: taken (from `from`, whose record lost it in the same write), or not, another user's claims kept winning. */
export type SubscriptionClaim = { readonly claimed: true; readonly from?: TargetOwner } | { readonly claimed: false };

/**
 * Which user each browser subscription is registered to, across tenants (one record per
 * subscription id). A browser's push endpoint outlives a sign-out: the same endpoint comes back
 * when the next user of the browser subscribes, and it must leave the previous user's record, as
 * a device's SNS endpoint does (its `CustomUserData` names its user).
 */
export interface PushSubscriptionOwners {
  /**
   * Makes `owner` the subscription's owner. The record moves from another user only in the same
   * write (a transaction) that takes the subscription off that user's record, and only while it
   * still names them: it never names a user without the one before having lost the subscription,
   * whatever dies or races between. Not claimed when other users' claims kept changing it.
   */
  claim(subscriptionId: string, owner: TargetOwner): Promise<SubscriptionClaim>;
  /** The subscription's owner now (a strongly consistent read), or undefined when none is recorded. */
  ownerOf(subscriptionId: string): Promise<TargetOwner | undefined>;
  /** Removes the record while `owner` holds it; one another user holds, or none, is left as it is (no error). */
  release(subscriptionId: string, owner: TargetOwner): Promise<void>;
}

/** The users' push targets (kept beside their live state). */
export interface PushTargetStore {
  /** The user's targets, oldest first. */
  list(tenantId: string, userId: string): Promise<PushTargetList>;
  /** Adds (or replaces, by id) a target; past `max` of its kind the oldest go, and are answered. */
  add(tenantId: string, userId: string, target: WebPushSubscription | PushDevice, max: number): Promise<readonly (WebPushSubscription | PushDevice)[]>;
  /** Removes one target; answers it, or undefined when the user had none of that id. */
  remove(tenantId: string, userId: string, id: string): Promise<WebPushSubscription | PushDevice | undefined>;
  /** Forgets targets their services called gone; forgetting one twice is not an error. */
  forget(tenantId: string, userId: string, ids: readonly string[]): Promise<void>;
}

/** Whose sends a self-service limit counts: a plain user, within their tenant. */
export interface SelfSender {
  readonly tenantId: string;
  readonly sub: string;
}

/**
 * The limits on what plain users send themselves (their own notifications, verification codes),
 * per user and per tenant, in fixed windows.
 */
export interface SelfSendLimits {
  /**
   * Takes `count` sends from the user's and the tenant's allowance of the current window: all of
   * them, or none (`retryAfterSeconds`: when the window that is full ends).
   */
  take(sender: SelfSender, count: number, now: Date): Promise<{ readonly ok: true } | { readonly ok: false; readonly retryAfterSeconds: number }>;
  /** Whether `take` would find room now, without taking any (a read). */
  check(sender: SelfSender, count: number, now: Date): Promise<{ readonly ok: true } | { readonly ok: false; readonly retryAfterSeconds: number }>;
}

/**
 * Where one budgeted send may go: from `sendAt` (epoch ms), and only before `until` (epoch ms, the
 * end of the second it reserved; absent when the provider has no budget). Or, when no second within
 * the look-ahead had room, nowhere: `retryAt` (epoch ms) says when to ask again.
 */
export type OneSendSlot =
  | { readonly placed: true; readonly sendAt: number; readonly until?: number }
  | { readonly placed: false; readonly retryAt: number };

/**
 * One send's room in a provider's send budget (shared/domain/rate-budget.ts), for a send the
 * delivery engine does not make: a verification code. The same slots as the engine's claims.
 */
export interface SendBudget {
  /**
   * Reserves one send through `provider` for `tenantId` (all tenants' count, and the tenant's share)
   * in the earliest second from `now` with room, as a claim does: the current one while
   * `currentSlotMinimumMs` of it are left, else one of the next `slotLookahead`.
   */
  reserveOne(provider: Provider, tenantId: string, now: Date): Promise<OneSendSlot>;
}

export interface SocketPoster {
  /** Posts a frame; `gone` when the connection no longer exists (410). */
  post(connectionId: string, payload: unknown): Promise<'posted' | 'gone'>;
  /**
   * Closes a connection from the server's side (DeleteConnection; API Gateway then runs its
   * `$disconnect`); `gone` when it no longer exists (410).
   */
  disconnect(connectionId: string): Promise<'closed' | 'gone'>;
}

// ---- Broadcasts (issue 5) ----

/** A fan-out page one fan-out invocation holds until its lease ends (see BroadcastStore.claimPage). */
export interface FanoutPageClaim {
  readonly broadcast: Broadcast;
  readonly page: number;
  /** Where the audience goes on (absent on the first page). */
  readonly cursor?: string;
  readonly token: string;
}

export interface BroadcastListQuery {
  readonly tenantId: string;
  /** Only the broadcasts this subject created (a sender's view). */
  readonly createdBy?: string;
  readonly status?: BroadcastStatus;
  /** Bounds of the creation time, inclusive. */
  readonly createdFrom?: Date;
  readonly createdTo?: Date;
  readonly limit: number;
  /** Only broadcasts older than this id (where the previous page stopped). */
  readonly olderThan?: string;
}

export interface BroadcastListPage {
  /** Newest first; with filters, fewer than `limit` while more may follow. */
  readonly items: readonly Broadcast[];
  readonly olderThan?: string;
}

/** The counters a delivery or a sweep adds to (negative to take away); the total is set once. */
export type BroadcastCountsDelta = Partial<Omit<BroadcastCounts, 'total'>>;

/**
 * Broadcasts: a small, often-updated item per broadcast (status, counters, fan-out position), its
 * content apart, and an explicit audience in slices. Every transition is a conditional write.
 */
export interface BroadcastStore {
  /** Writes a new broadcast, its content and its explicit audience (in slices); none may exist. */
  create(broadcast: Broadcast, content: BroadcastContent, recipientIds?: readonly string[]): Promise<void>;
  /**
   * Removes a broadcast that never started (the rollback of a failed create): true when removed or
   * not there; false when it has started (its fan-out may have delivered), and it is left as it is.
   */
  remove(broadcast: Pick<Broadcast, 'tenantId' | 'id' | 'audience'>): Promise<boolean>;
  get(tenantId: string, id: string): Promise<Broadcast | undefined>;
  getContent(tenantId: string, id: string): Promise<BroadcastContent | undefined>;
  /** Slice `slice` of an explicit audience (see `audienceSliceSize`); empty past its end. */
  audienceSlice(tenantId: string, id: string, slice: number): Promise<readonly string[]>;
  list(query: BroadcastListQuery): Promise<BroadcastListPage>;
  /**
   * DRAFT → SCHEDULED at `scheduledAt`; `undefined` when it is not a draft. With `replacesPlan`,
   * `scheduledAt` is a new instant for everyone: the zone and wall time it was planned in go
   * (a `recipient` plan would otherwise still time each row by its recipient's zone).
   */
  schedule(tenantId: string, id: string, scheduledAt: Date, replacesPlan: boolean): Promise<Broadcast | undefined>;
  /** SCHEDULED → DRAFT, undoing a schedule that could not be created; no-op in another state. */
  revertToDraft(tenantId: string, id: string): Promise<void>;
  /** SCHEDULED → SENDING, the fan-out resolving from page 0; `undefined` when not scheduled. */
  start(tenantId: string, id: string, at: Date): Promise<Broadcast | undefined>;
  /** DRAFT | SCHEDULED | SENDING → CANCELLED; `undefined` in any other state. */
  cancel(tenantId: string, id: string, at: Date): Promise<Broadcast | undefined>;
  /** COMPLETED | FAILED with failed recipients → SENDING for one more run; `undefined` otherwise. */
  reopen(tenantId: string, id: string, at: Date): Promise<Broadcast | undefined>;
  /**
   * Holds resolving page `page` until `leaseUntil`: only while the fan-out is resolving that very
   * page and nobody else holds it. `undefined` when the page is done, not yet due or leased.
   */
  claimPage(tenantId: string, id: string, page: number, now: Date, leaseUntil: Date): Promise<FanoutPageClaim | undefined>;
  /** Moves past the held page: to the next page at `next`, or to counting when there is none. */
  commitPage(claim: FanoutPageClaim, next: string | undefined): Promise<boolean>;
  /** Lets go of a held page early (the invocation failed), so a retry need not wait for the lease. */
  releasePage(claim: FanoutPageClaim): Promise<void>;
  /** COUNTING → DELIVERING with the final total; `undefined` when not counting. */
  setTotal(tenantId: string, id: string, total: number): Promise<Broadcast | undefined>;
  /** Adds to the counters (one write per batch), keeping `lastError`; the broadcast afterwards. */
  addCounts(tenantId: string, id: string, delta: BroadcastCountsDelta, lastError?: string): Promise<Broadcast | undefined>;
  /** Replaces the counters with a recount, only if they are still those of `seen`. */
  correctCounts(seen: Broadcast, counts: Omit<BroadcastCounts, 'total'>): Promise<Broadcast | undefined>;
  /**
   * Ends a broadcast whose recipients are all final, only if its status and counters are still
   * those of `seen` (so it happens exactly once): SENDING → COMPLETED | FAILED, or a CANCELLED one
   * gets its `completedAt`.
   */
  finish(seen: Broadcast, at: Date): Promise<Broadcast | undefined>;
  /** Keeps the last fan-out error on the broadcast, for the API to show. */
  recordError(tenantId: string, id: string, error: string): Promise<void>;
}

/** A page of recipient rows, in recipient id order; `after` is set when there may be more. */
export interface RecipientRowPage {
  readonly rows: readonly BroadcastRecipient[];
  readonly after?: string;
}

/**
 * One row per (broadcast, recipient), spread over `shardCount` write shards, with an index by
 * broadcast, status and shard.
 */
export interface BroadcastRecipientStore {
  readonly shardCount: number;
  /**
   * Writes pending rows, a batch at a time, unconditionally: only the fan-out writes them, while
   * resolving, before anything is delivered, so writing one again rewrites it unchanged.
   */
  putPending(tenantId: string, broadcastId: string, recipientIds: readonly string[], at: Date, localDue?: ReadonlyMap<string, number>): Promise<void>;
  /** How many rows a shard holds (strongly consistent), after the row `after` when given. */
  countShard(tenantId: string, broadcastId: string, shard: number, after?: string): Promise<number>;
  /**
   * How many rows of a shard show `status`: a final status from the status index (eventually
   * consistent); `pending` from a filtered count of the shard's rows, which reads all of them.
   */
  countByStatus(tenantId: string, broadcastId: string, status: BroadcastRecipientStatus, shard: number): Promise<number>;
  /** A page of a shard's rows (strongly consistent). */
  pageShard(tenantId: string, broadcastId: string, shard: number, limit: number, after?: string): Promise<RecipientRowPage>;
  /**
   * A page of a shard's rows that show `status` (a row held by a worker shows `pending`). Pending
   * rows are not in the status index: their page is a filtered read of the shard, which may hold
   * fewer than `limit` rows, or none, with `after` set when the shard goes on.
   */
  pageByStatus(
    tenantId: string,
    broadcastId: string,
    status: BroadcastRecipientStatus,
    shard: number,
    limit: number,
    after?: string,
  ): Promise<RecipientRowPage>;
  getMany(tenantId: string, broadcastId: string, recipientIds: readonly string[]): Promise<BroadcastRecipient[]>;
  /**
   * PENDING and due → SENDING until `leaseUntil`, or takes over a SENDING row whose lease ended
   * before `now`; counts an attempt. `undefined` when the row is not claimable.
   */
  claim(tenantId: string, broadcastId: string, recipientId: string, now: Date, leaseUntil: Date): Promise<RecipientClaim | undefined>;
  /**
   * Writes the outcomes of rows this worker claimed (final, or pending again for a retry), a batch
   * at a time: nobody else writes a row while its lease, which outlives the worker, holds.
   */
  finish(rows: readonly BroadcastRecipient[], at: Date): Promise<void>;
  /** PENDING → CANCELLED; false when the row is not pending. */
  cancel(tenantId: string, broadcastId: string, recipientId: string, at: Date): Promise<boolean>;
  /**
   * FAILED → PENDING for retry run `run`, forgetting its failed channels (the others reached the
   * recipient and are never repeated); false when the row is no longer the failed `row` read.
   */
  requeue(row: BroadcastRecipient, run: number, at: Date): Promise<boolean>;
}

/** The fan-out queue: its own steps, re-enqueued one after another, and the occurrences of recurring notifications. */
export interface FanoutQueue {
  /** Sends the messages (batches of 10), after `delaySeconds` (at most 900); throws unless all were accepted. */
  send(messages: readonly (FanoutMessage | RecurringOccurrenceMessage)[], delaySeconds?: number): Promise<void>;
}

/** The broadcast delivery queue, apart from the notifications' so a big broadcast never holds them up. */
export interface BroadcastDeliveryQueue {
  /** Sends the messages (batches of 10); throws unless all were accepted. */
  enqueue(messages: readonly BroadcastDeliveryMessage[]): Promise<void>;
}

/** Arranges for a broadcast's `start` to reach the fan-out queue at its time: one schedule per broadcast. */
export interface BroadcastScheduler {
  schedule(broadcast: Pick<Broadcast, 'tenantId' | 'id'> & { readonly scheduledAt: string }, now: Date): Promise<void>;
  /** Removes the schedule; one already gone is not an error. */
  unschedule(broadcast: Pick<Broadcast, 'tenantId' | 'id'>): Promise<void>;
}

// ---- The delivery engine (shared/delivery) ----

/** What {@link LiveStateStore.connect} came to. */
export type ConnectOutcome = { readonly recorded: true; readonly live: LiveState } | { readonly recorded: false; readonly live: LiveState };

/**
 * What is live about each recipient: the unread count of their inbox and their open WebSocket
 * connections, on one item (so one read gives both to a delivery).
 */
export interface LiveStateStore {
  /** The recipient's live state (strongly consistent); no connections and nothing unread when none is kept. */
  get(tenantId: string, recipientId: string): Promise<LiveState>;
  /**
   * Records an open connection of the user unless `maxConnections` are recorded already, checked
   * atomically with the write (two connects at once cannot both take the last place): recorded,
   * with the user's live state after it (every connection recorded); or refused, with the live state
   * as found.
   */
  connect(tenantId: string, userId: string, connection: LiveConnection, maxConnections: number): Promise<ConnectOutcome>;
  /** Forgets connections of the user (closed, or answering 410); forgetting one twice is not an error. */
  forgetConnections(tenantId: string, userId: string, connectionIds: readonly string[]): Promise<void>;
}

/** What one `load` read: the units, and everything their delivery depends on. */
export interface LoadedUnits {
  /** By `unitKey`; a unit that does not exist is absent. */
  readonly units: ReadonlyMap<string, DeliveryUnit>;
  /** By `tenantId#recipientId`; a recipient no longer in the directory is absent. */
  readonly recipients: ReadonlyMap<string, Recipient>;
  /** By `tenantId#recipientId`. */
  readonly live: ReadonlyMap<string, LiveState>;
  /** The broadcasts of broadcast units, by `tenantId#broadcastId`. */
  readonly broadcasts: ReadonlyMap<string, Broadcast>;
  /** The settings of the units' tenants, by tenant id (absent: none written). */
  readonly tenantSettings?: ReadonlyMap<string, TenantSettings>;
}

/** A unit to claim: a lease, the intents of the sends it is about to make, the providers they call. */
export interface ClaimRequest {
  readonly unit: DeliveryUnit;
  readonly token: string;
  readonly takeover: boolean;
  /** Epoch ms. */
  readonly leaseUntil: number;
  /** Channels recorded `sending` by the claim: their sends follow it. */
  readonly intents: readonly Channel[];
  /** What each intent is recorded as (the same record for every intent of this claim). */
  readonly intent: ChannelDelivery;
  /** The providers its sends call, one send each (their rate budgets are spent by the claim). */
  readonly providers: readonly Provider[];
}

/** A claimed row to cancel: the unit as read, the claim's token, and the intents the claim recorded. */
export interface WithdrawnClaim {
  readonly unit: DeliveryUnit;
  readonly token: string;
  readonly intents: readonly Channel[];
}

export interface ClaimResult {
  /**
   * Units claimed, by key, with when (epoch ms) their provider sends may start and, for a unit
   * that spent a send budget, the second it reserved: its budgeted sends must start before that
   * second ends, or not at all (shared/domain/rate-budget.ts); and the budget slot items it holds
   * a send in (`spends`, the store's own keys), to hand to `giveBack` if it will not send.
   */
  readonly claimed: ReadonlyMap<string, { readonly sendAt: number; readonly reserved?: ReservedSlot; readonly spends?: readonly string[] }>;
  /** Units someone else changed since they were read (a cancel, another worker). */
  readonly lost: ReadonlySet<string>;
  /** Units not claimed because a provider's budget is spent: when (epoch ms) to try them again. */
  readonly deferred: ReadonlyMap<string, number>;
}

/** What to write for one claimed unit once its channels have their results. */
export interface CommitEntry {
  readonly unit: DeliveryUnit;
  readonly token: string;
  /** Outcomes to record, by channel. */
  readonly deliveries: Readonly<Partial<Record<Channel, ChannelDelivery>>>;
  /** Intents to drop: those sends were refused, nothing went out, they will be tried again. */
  readonly forget: readonly Channel[];
  /**
   * The inbox item to add once, and the unread count (with its version) seen before it when the
   * count must be exact: the write then holds only if neither moved since.
   */
  readonly inbox?: { readonly item: InboxItem; readonly before?: UnreadCount };
  /**
   * The unread version a frame announced for an inbox item this entry no longer adds (it was in
   * the inbox already): the write raises the recipient's version past it, count unchanged, so the
   * count told after the write is newer than the frame's, as a client orders them.
   */
  readonly outdates?: number;
  readonly settlement: Settlement;
}

/**
 * What became of a commit entry: written, or why not: the claim was lost to another worker, the
 * recipient left the directory (the inbox refused the item), the item was in the inbox already,
 * the unread count moved since it was read, or another entry of its transaction failed.
 */
export type CommitVerdict = 'committed' | 'claimLost' | 'recipientGone' | 'inboxExists' | 'unreadMoved' | 'notAttempted';

/** What a commit came to: a verdict per unit key, and the unread count (with its version) found instead where one moved. */
export interface CommitResult {
  readonly verdicts: ReadonlyMap<string, CommitVerdict>;
  /**
   * For an `unreadMoved` entry, the recipient's unread count and its version the refused write
   * found (by unit key), when the store could read them from the refusal itself.
   */
  readonly unreadFound: ReadonlyMap<string, UnreadCount>;
}

/**
 * What a set of per-unit updates (one conditional write each) came to, by unit key: those that
 * landed, and those whose write failed with an error (throttled, a fault), each with its error, to
 * be tried again. A unit in neither was refused by its condition: it changed since it was read.
 * Each write stands alone, so one that fails never hides those that landed. A write that threw
 * may still have landed (a timeout after DynamoDB applied it): tried again, it is then refused as
 * changed and not counted (a broadcast's watch recounts its cancelled rows; a held one is not).
 */
export interface UnitUpdates {
  readonly landed: ReadonlySet<string>;
  readonly failed: ReadonlyMap<string, unknown>;
}

/**
 * The engine's store: reads a batch of units with everything they need in one round, claims them
 * and records their outcomes in transactions built from the state machines of shared/domain.
 */
export interface DeliveryStore {
  /** Reads the units, their recipients, the recipients' live state and their broadcasts (strongly consistent). */
  load(refs: readonly UnitRef[]): Promise<LoadedUnits>;
  /** Claims the units (with their intents) and spends their providers' budgets, all or nothing per unit. */
  claim(requests: readonly ClaimRequest[], now: Date): Promise<ClaimResult>;
  /** Records the outcomes, adds the inbox items and moves the units on; a verdict per unit key. */
  commit(entries: readonly CommitEntry[], now: Date): Promise<CommitResult>;
  /** Cancels pending units whose broadcast was cancelled: which it cancelled, and which failed. */
  cancel(units: readonly DeliveryUnit[], now: Date): Promise<UnitUpdates>;
  /**
   * Cancels rows this worker claimed and then found their broadcast cancelled (nothing was sent
   * on those claims, their intents are dropped), each only while its claim holds: which it
   * cancelled, and which failed.
   */
  withdraw(claims: readonly WithdrawnClaim[], now: Date): Promise<UnitUpdates>;
  /**
   * Holds pending units for their recipient's quiet hours (they stay pending, due at `until`), each
   * only if nobody claimed it since it was read: which it held, and which failed.
   */
  hold(holds: readonly { readonly unit: DeliveryUnit; readonly hold: QuietHold }[], now: Date): Promise<UnitUpdates>;
  /**
   * Gives back the send-budget reservations of claimed units that will not send on their claim
   * (withdrawn, or released unsent): `spends` as `claim` named them, one per send. Never throws: a
   * give-back that fails only slows that second down.
   */
  giveBack(spends: readonly string[]): Promise<void>;
}

/** A tenant's settings of time (`GET/PUT /v1/settings`), kept in the directory table. */
export interface TenantSettingsStore {
  /** The tenant's settings; {@link noTenantSettings} when it never wrote any. */
  get(tenantId: string): Promise<TenantSettings>;
  put(tenantId: string, settings: TenantSettings): Promise<void>;
}

/** Where an occurrence of a recurring notification stands for the worker that got it. */
export type OccurrenceClaim = 'claimed' | 'done' | 'busy';

/** A page of a tenant's recurring notifications, in id order. */
export interface RecurringPage {
  readonly items: readonly RecurringNotification[];
  /** Where the next page starts (exclusive), when there is more. */
  readonly after?: string;
}

/** Recurring notifications (issue 12): definitions, and a marker per occurrence fired. */
export interface RecurringStore {
  /** Writes a new definition. */
  put(recurring: RecurringNotification): Promise<void>;
  /**
   * Writes a changed definition's fields, leaving its occurrences as they are (one may be recorded
   * meanwhile); false, writing nothing, when it no longer exists (deleted meanwhile).
   */
  update(recurring: RecurringNotification): Promise<boolean>;
  get(tenantId: string, id: string): Promise<RecurringNotification | undefined>;
  /** False when there was nothing to remove. */
  remove(tenantId: string, id: string): Promise<boolean>;
  /**
   * Records that the definition is deleted at `at` (before anything of it is removed): a marker beside its
   * occurrences' markers, as long-lived and never listed, by which a create retried with its key
   * tells a definition deleted since from one never written.
   */
  markDeleted(tenantId: string, id: string, at: Date): Promise<void>;
  /** Removes that marker (a DELETE that removed nothing); none is fine. */
  unmarkDeleted(tenantId: string, id: string): Promise<void>;
  /** When a DELETE of the definition began (ISO-8601 UTC), while its marker lasts; undefined when none did. */
  deletedAt(tenantId: string, id: string): Promise<string | undefined>;
  list(tenantId: string, limit: number, after?: string): Promise<RecurringPage>;
  /** Takes the occurrence at `at` (ISO-8601): `claimed` (create it), `done` (created before), `busy` (another worker is at it). */
  claimOccurrence(tenantId: string, id: string, at: string, now: Date): Promise<OccurrenceClaim>;
  /**
   * Marks the occurrence created and keeps it among the definition's last occurrences (the list
   * is written under a version: occurrences recorded at once all stay on it).
   */
  recordOccurrence(tenantId: string, id: string, occurrence: RecurringOccurrence): Promise<void>;
}

/** The recurring schedule of each recurring notification (EventBridge Scheduler `cron()`/`rate()` in its zone). */
export interface RecurringScheduler {
  /**
   * Creates or replaces the schedule of `recurring` (DISABLED while paused), starting at
   * `startDate` (epoch ms; none: from the call; `ended`: DISABLED, it has nothing left to fire; see
   * `schedulerStartDate`).
   */
  put(recurring: RecurringNotification, startDate: number | 'ended' | undefined): Promise<void>;
  /** Deletes it; nothing to delete is fine. */
  remove(recurring: Pick<RecurringNotification, 'tenantId' | 'id'>): Promise<void>;
  /** True when its schedule exists (enabled or not): GetSchedule, its `ResourceNotFoundException` false. */
  exists(recurring: Pick<RecurringNotification, 'tenantId' | 'id'>): Promise<boolean>;
  /**
   * Puts its occurrence at `at` (epoch ms, named to the second as the Scheduler names a firing's
   * `<aws.scheduler.scheduled-time>`) where its schedule's firing puts it (the fan-out queue), now:
   * the firing of a schedule that was not there to fire. An occurrence is created once per
   * instant (`runOccurrence`), so firing one twice creates it once.
   */
  fire(recurring: Pick<RecurringNotification, 'tenantId' | 'id'>, at: number): Promise<void>;
}

/** How full one dead-letter queue is, as SQS approximates it (GetQueueAttributes). */
export interface DeadLetterQueueDepth {
  /** The queue's logical name (`delivery-dlq`), as lib/app-description.ts names it. */
  readonly name: string;
  /** Where a redrive moves its messages; absent when they cannot be moved back (`metrics-dlq`). */
  readonly redriveTo?: string;
  /** `ApproximateNumberOfMessages`: waiting to be received. */
  readonly messages: number;
  /** `ApproximateNumberOfMessagesNotVisible`: received and not yet deleted (a redrive in progress, say). */
  readonly inFlight: number;
}

/** What one redrive call moved, and what it left for the next call. */
export interface DeadLetterRedrive {
  readonly name: string;
  readonly redriveTo: string;
  readonly moved: number;
  /** Messages still waiting in the dead-letter queue when the call ended. */
  readonly remaining: number;
}

/** The deployment's dead-letter queues, shared by every tenant: read their depth, move messages back. */
export interface DeadLetterQueues {
  /** Every dead-letter queue of the deployment, in the description's order. */
  depths(): Promise<DeadLetterQueueDepth[]>;
  /**
   * Moves the messages of the named queue back to its `redriveTo` queue (receive, send, delete,
   * ten at a time), never more than it held when the call started, until `deadline` (epoch ms).
   */
  redrive(name: string, deadline: number): Promise<DeadLetterRedrive>;
}

/** Where the tenants' webhook signing secrets are kept (shared/domain/standard-webhooks.ts). */
export interface WebhookSecretStore {
  get(tenantId: string): Promise<WebhookSecrets | undefined>;
  /** Writes `next` only if the stored secrets are still `previous` (none, when undefined); false otherwise. */
  save(tenantId: string, next: WebhookSecrets, previous: WebhookSecrets | undefined): Promise<boolean>;
}
