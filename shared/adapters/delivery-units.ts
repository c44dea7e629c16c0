/**
 * The two kinds of delivery unit as DynamoDB items: a notification (notifications table) and a
 * broadcast's recipient row (broadcast-recipients table). Each turns its item into the engine's
 * `DeliveryUnit` and builds the writes of its transitions, with conditions built from the state
 * machines of shared/domain (notificationTransitions, rowTransitions).
 */
import { BROADCAST_RECIPIENT_SHARDS } from '../../lib/app-description.ts';
import { publicRecipientStatus, recipientShard, rowTransitions } from '../domain/broadcast.ts';
import type { Broadcast, BroadcastContent, BroadcastRecipientStatus, BroadcastRowStatus, RowGuard } from '../domain/broadcast.ts';
import type { DeliveryUnit, QuietHold, Settlement, UnitRef } from '../domain/delivery.ts';
import { nextDueAt, notificationTransitions } from '../domain/notification.ts';
import type { Channel, ChannelDelivery, NotificationGuard } from '../domain/notification.ts';
import { notificationFromItem, notificationKey } from './dynamo-notification-store.ts';
import { transitionCondition } from './dynamo-transitions.ts';
import type { GuardClause } from './dynamo-transitions.ts';
import { keyPart } from './dynamo-keys.ts';

/** An update of one item, as a transaction's `Update` action takes it (without the table). */
export interface ItemUpdate {
  readonly Key: Record<string, unknown>;
  readonly UpdateExpression: string;
  readonly ConditionExpression: string;
  readonly ExpressionAttributeNames: Record<string, string>;
  readonly ExpressionAttributeValues: Record<string, unknown>;
}

/** What a claim writes besides the state: the lease, the token, the intents. */
export interface ClaimWrite {
  readonly token: string;
  readonly leaseUntil: number;
  readonly intents: readonly Channel[];
  readonly intent: ChannelDelivery;
  readonly takeover: boolean;
}

/** What a commit writes besides the state. */
export interface CommitWrite {
  readonly token: string;
  readonly deliveries: Readonly<Partial<Record<Channel, ChannelDelivery>>>;
  readonly forget: readonly Channel[];
  readonly settlement: Settlement;
  /** When a final unit expires (TTL, epoch seconds). */
  readonly expiresAt: number;
}

/** SET and REMOVE clauses gathered into one update expression, with their names and values. */
class UpdateBuilder {
  readonly sets: string[] = [];
  readonly removes: string[] = [];
  readonly names: Record<string, string> = {};
  readonly values: Record<string, unknown> = {};

  set(path: string, value: unknown): this {
    const placeholder = `:v${Object.keys(this.values).length}`;
    this.values[placeholder] = value;
    this.sets.push(`${path} = ${placeholder}`);
    return this;
  }

  setRaw(clause: string, values: Record<string, unknown> = {}): this {
    Object.assign(this.values, values);
    this.sets.push(clause);
    return this;
  }

  remove(...paths: string[]): this {
    this.removes.push(...paths);
    return this;
  }

  /** `deliveries.<channel>` for every outcome, and the removal of every forgotten intent. */
  deliveries(deliveries: Readonly<Partial<Record<Channel, ChannelDelivery>>>, forget: readonly Channel[] = []): this {
    for (const [channel, delivery] of Object.entries(deliveries)) {
      const name = `#d${Object.keys(this.names).length}`;
      this.names[name] = channel;
      this.set(`deliveries.${name}`, delivery);
    }
    for (const channel of forget) {
      const name = `#d${Object.keys(this.names).length}`;
      this.names[name] = channel;
      this.remove(`deliveries.${name}`);
    }
    return this;
  }

  build(key: Record<string, unknown>, condition: { ConditionExpression: string; ExpressionAttributeNames: Record<string, string>; ExpressionAttributeValues: Record<string, unknown> }): ItemUpdate {
    const expression = [this.sets.length > 0 ? `SET ${this.sets.join(', ')}` : '', this.removes.length > 0 ? `REMOVE ${this.removes.join(', ')}` : '']
      .filter(Boolean)
      .join(' ');
    return {
      Key: key,
      UpdateExpression: expression,
      ConditionExpression: condition.ConditionExpression,
      ExpressionAttributeNames: { ...this.names, ...condition.ExpressionAttributeNames },
      ExpressionAttributeValues: { ...this.values, ...condition.ExpressionAttributeValues },
    };
  }
}

// ---- Notifications ----

/** The guards of notification transitions, as clauses on a notification item. */
export function notificationGuards(context: { now: Date; token?: string; seenAttempts?: number }): Record<NotificationGuard, GuardClause> {
  return {
    // `dueAt` is the later of the notification's time and its retry time (the `due` index key).
    due: { clause: 'dueAt <= :gnow', values: { ':gnow': context.now.toISOString() } },
    leaseExpired: { clause: 'leaseUntil < :gnowMs', values: { ':gnowMs': context.now.getTime() } },
    holdsClaim: { clause: 'claimToken = :gtoken', values: { ':gtoken': context.token } },
    unchanged: { clause: 'attempts = :gseen', values: { ':gseen': context.seenAttempts } },
  };
}

/** The delivery unit a notification item holds. */
export function notificationUnit(item: Record<string, unknown>): DeliveryUnit {
  const n = notificationFromItem(item);
  return {
    ref: { kind: 'notification', tenantId: n.tenantId, notificationId: n.id, recipientId: n.recipientId },
    tenantId: n.tenantId,
    recipientId: n.recipientId,
    status: n.status,
    dueAt: nextDueAt(n).getTime(),
    ...(n.leaseUntil !== undefined ? { leaseUntil: n.leaseUntil } : {}),
    attempts: n.attempts,
    channels: n.channels,
    deliveries: n.deliveries,
    ...(n.heldUntil !== undefined ? { heldUntil: Date.parse(n.heldUntil) } : {}),
    ...(n.recipientSince !== undefined ? { recipientSince: n.recipientSince } : {}),
    content: {
      id: n.id,
      title: n.title,
      message: n.message,
      type: n.type,
      priority: n.priority,
      ...(n.data ? { data: n.data } : {}),
      ...(n.template ? { template: n.template } : {}),
      createdAt: n.createdAt,
      scheduledAt: n.scheduledAt,
    },
  };
}

/** The claim of a notification (or the takeover of a lease that ran out), with its intents. */
export function notificationClaim(unit: DeliveryUnit, claim: ClaimWrite, now: Date): ItemUpdate {
  const ref = unit.ref as Extract<UnitRef, { kind: 'notification' }>;
  const transition = claim.takeover ? notificationTransitions.takeOver : notificationTransitions.claim;
  const update = new UpdateBuilder()
    .set('#tstatus', transition.to)
    .set('leaseUntil', claim.leaseUntil)
    .set('claimToken', claim.token)
    .setRaw('attempts = attempts + :one', { ':one': 1 })
    .deliveries(Object.fromEntries(claim.intents.map((channel) => [channel, claim.intent])));
  return update.build(
    notificationKey(ref.tenantId, ref.notificationId),
    transitionCondition(transition, notificationGuards({ now, seenAttempts: unit.attempts })),
  );
}

/** The write that records a notification's outcomes and moves it on: sent, failed, or pending for a retry. */
export function notificationCommit(unit: DeliveryUnit, write: CommitWrite, now: Date): ItemUpdate {
  const ref = unit.ref as Extract<UnitRef, { kind: 'notification' }>;
  const { settlement } = write;
  // A hold ends with the attempt it held back: a retry waits for its own time, not the window's.
  const update = new UpdateBuilder().deliveries(write.deliveries, write.forget).remove('leaseUntil', 'claimToken', 'heldUntil', 'heldReason');
  let transition;
  if (settlement.kind === 'finish') {
    transition = notificationTransitions.finish;
    // Out of the `due` index; it expires after its retention.
    update.set('sentAt', now.toISOString()).set('expiresAt', write.expiresAt).remove('dueShard', 'dueAt', 'lastError', 'lastErrorCategory');
  } else if (settlement.kind === 'fail') {
    transition = notificationTransitions.fail;
    // The error's category goes with its text: what a plain user is shown of it (shared/domain/delivery-views.ts).
    update
      .set('failedAt', now.toISOString())
      .set('lastError', settlement.error)
      .set('lastErrorCategory', settlement.category)
      .set('expiresAt', write.expiresAt)
      .remove('dueShard', 'dueAt');
  } else {
    transition = notificationTransitions.release;
    // Still in the `due` index, now due at the retry: the sweep must not rush a backoff.
    const retryAt = new Date(settlement.nextAttemptAt).toISOString();
    update.set('lastError', settlement.error).set('lastErrorCategory', settlement.category).set('nextAttemptAt', retryAt).set('dueAt', retryAt);
    if (settlement.refundAttempt) update.setRaw('attempts = attempts - :refund', { ':refund': 1 });
  }
  update.set('#tstatus', transition.to);
  return update.build(notificationKey(ref.tenantId, ref.notificationId), transitionCondition(transition, notificationGuards({ now, token: write.token })));
}

/**
 * Holds a pending notification for quiet hours: due at their end (the `due` index too, so the
 * sweep does not rush it), with the reason shown in its view; only if nobody claimed it since.
 */
export function notificationHold(unit: DeliveryUnit, hold: QuietHold, now: Date): ItemUpdate {
  const ref = unit.ref as Extract<UnitRef, { kind: 'notification' }>;
  const until = new Date(hold.until).toISOString();
  const transition = notificationTransitions.hold;
  return new UpdateBuilder()
    .set('#tstatus', transition.to)
    .set('heldUntil', until)
    .set('heldReason', hold.reason)
    .set('dueAt', until)
    .build(notificationKey(ref.tenantId, ref.notificationId), transitionCondition(transition, notificationGuards({ now, seenAttempts: unit.attempts })));
}

// ---- Broadcast recipient rows ----

function shardKey(tenantId: string, broadcastId: string, shard: number): string {
  return `${keyPart(tenantId)}#${broadcastId}#${shard}`;
}

/** The key of a broadcast's recipient row (its write shard is the recipient's). */
export function rowKey(tenantId: string, broadcastId: string, recipientId: string, shards = BROADCAST_RECIPIENT_SHARDS): { pk: string; recipientId: string } {
  return { pk: shardKey(tenantId, broadcastId, recipientShard(recipientId, shards)), recipientId };
}

/** The key of a row in the `byStatus` index: one partition per broadcast, status and shard. */
export function rowStatusKey(tenantId: string, broadcastId: string, recipientId: string, status: BroadcastRecipientStatus, shards = BROADCAST_RECIPIENT_SHARDS): string {
  return `${keyPart(tenantId)}#${broadcastId}#${status}#${recipientShard(recipientId, shards)}`;
}

/** The guards of row transitions, as clauses on a row item. */
export function rowGuards(context: { now: Date; token?: string; seenAttempts?: number; run?: number }): Record<RowGuard, GuardClause> {
  return {
    due: { clause: 'attribute_not_exists(nextAttemptAt) OR nextAttemptAt <= :gnow', values: { ':gnow': context.now.toISOString() } },
    leaseExpired: { clause: 'leaseUntil < :gnowMs', values: { ':gnowMs': context.now.getTime() } },
    holdsClaim: { clause: 'claimToken = :gtoken', values: { ':gtoken': context.token } },
    unchanged: { clause: 'attempts = :gseen', values: { ':gseen': context.seenAttempts } },
    failedBeforeRun: { clause: 'run < :grun', values: { ':grun': context.run } },
  };
}

/**
 * When a row with no retry time fell due (epoch ms): its recipient's own wall time, else its
 * broadcast's time (a send-now broadcast's start). A row of a retried run is due since that
 * retry, which is not kept: 0, which the engine takes as "due, since an unknown time".
 */
function rowDueAt(item: Record<string, unknown>, broadcast: Broadcast): number {
  if (typeof item.localDueAt === 'string') return Date.parse(item.localDueAt);
  if (broadcast.run > 0) return 0;
  const at = broadcast.scheduledAt ?? broadcast.startedAt;
  return at === undefined ? 0 : Date.parse(at);
}

/** The delivery unit a recipient row holds, with its broadcast and content. */
export function rowUnit(item: Record<string, unknown>, broadcast: Broadcast, content: BroadcastContent): DeliveryUnit {
  const status = item.status as BroadcastRowStatus;
  const nextAttemptAt = typeof item.nextAttemptAt === 'string' ? Date.parse(item.nextAttemptAt) : undefined;
  return {
    ref: { kind: 'broadcast', tenantId: broadcast.tenantId, broadcastId: broadcast.id, recipientId: String(item.recipientId) },
    tenantId: broadcast.tenantId,
    recipientId: String(item.recipientId),
    status,
    dueAt: nextAttemptAt ?? rowDueAt(item, broadcast),
    ...(typeof item.leaseUntil === 'number' ? { leaseUntil: item.leaseUntil } : {}),
    attempts: typeof item.attempts === 'number' ? item.attempts : 0,
    channels: broadcast.channels,
    deliveries: (item.deliveries ?? {}) as DeliveryUnit['deliveries'],
    ...(typeof item.heldUntil === 'string' ? { heldUntil: Date.parse(item.heldUntil) } : {}),
    content: {
      id: broadcast.id,
      broadcastId: broadcast.id,
      title: broadcast.title,
      message: content.message,
      type: broadcast.type,
      priority: broadcast.priority,
      ...(content.data ? { data: content.data } : {}),
      ...(content.template ? { template: content.template } : {}),
      createdAt: broadcast.createdAt,
      scheduledAt: broadcast.scheduledAt ?? broadcast.startedAt ?? null,
    },
  };
}

/** The claim of a row (or the takeover of a lease that ran out), with its intents. */
export function rowClaim(unit: DeliveryUnit, claim: ClaimWrite, now: Date, shards = BROADCAST_RECIPIENT_SHARDS): ItemUpdate {
  const ref = unit.ref as Extract<UnitRef, { kind: 'broadcast' }>;
  const transition = claim.takeover ? rowTransitions.takeOver : rowTransitions.claim;
  const update = new UpdateBuilder()
    .set('#tstatus', transition.to)
    .set('leaseUntil', claim.leaseUntil)
    .set('claimToken', claim.token)
    .set('updatedAt', now.toISOString())
    .setRaw('attempts = attempts + :one', { ':one': 1 })
    .deliveries(Object.fromEntries(claim.intents.map((channel) => [channel, claim.intent])));
  return update.build(rowKey(ref.tenantId, ref.broadcastId, ref.recipientId, shards), transitionCondition(transition, rowGuards({ now, seenAttempts: unit.attempts })));
}

/** The write that records a row's outcomes and moves it on; its `byStatus` key follows its public status. */
export function rowCommit(unit: DeliveryUnit, write: CommitWrite, now: Date, shards = BROADCAST_RECIPIENT_SHARDS): ItemUpdate {
  const ref = unit.ref as Extract<UnitRef, { kind: 'broadcast' }>;
  const { settlement } = write;
  // A hold ends with the attempt it held back (its broadcast counts it off, shared/delivery/commit.ts):
  // a retry waits for its own time, and a hold of that retry is counted anew.
  const update = new UpdateBuilder()
    .deliveries(write.deliveries, write.forget)
    .remove('leaseUntil', 'claimToken', 'heldUntil', 'heldReason')
    .set('updatedAt', now.toISOString());
  let transition;
  if (settlement.kind === 'finish') {
    transition = rowTransitions.finish;
    update.set('expiresAt', write.expiresAt).remove('nextAttemptAt', 'lastError', 'lastErrorCategory');
  } else if (settlement.kind === 'fail') {
    transition = rowTransitions.fail;
    update.set('lastError', settlement.error).set('lastErrorCategory', settlement.category).set('expiresAt', write.expiresAt).remove('nextAttemptAt');
  } else {
    transition = rowTransitions.release;
    update.set('lastError', settlement.error).set('lastErrorCategory', settlement.category).set('nextAttemptAt', new Date(settlement.nextAttemptAt).toISOString());
    if (settlement.refundAttempt) update.setRaw('attempts = attempts - :refund', { ':refund': 1 });
  }
  update.set('#tstatus', transition.to);
  // Only final rows are in the sparse status index: a row pending again leaves it (an older row
  // still carries a `pending` key), a final one enters it.
  if (transition.to === 'pending') update.remove('statusKey');
  else update.set('statusKey', rowStatusKey(ref.tenantId, ref.broadcastId, ref.recipientId, publicRecipientStatus(transition.to), shards));
  return update.build(rowKey(ref.tenantId, ref.broadcastId, ref.recipientId, shards), transitionCondition(transition, rowGuards({ now, token: write.token })));
}

/**
 * What a cancel makes of a row's recorded intents (`sending` deliveries), but those of `except`:
 * `unconfirmed`, as they may have gone out before the attempt that recorded them stopped.
 */
function unconfirmedOnCancel(unit: DeliveryUnit, now: Date, except: readonly Channel[] = []): Partial<Record<Channel, ChannelDelivery>> {
  return Object.fromEntries(
    Object.entries(unit.deliveries)
      .filter(([channel, delivery]) => delivery.status === 'sending' && !except.includes(channel as Channel))
      .map(([channel, delivery]) => [channel, { status: 'unconfirmed', at: now.toISOString(), detail: `the broadcast was cancelled after an attempt stopped while sending (${delivery.detail ?? delivery.at})` }]),
  ) as Partial<Record<Channel, ChannelDelivery>>;
}

/**
 * Cancels a row of a cancelled broadcast: a pending one, or one a dead worker still holds (its
 * lease ran out, nobody claimed it since), whose recorded intents become `unconfirmed`: they may
 * have gone out.
 */
export function rowCancel(unit: DeliveryUnit, now: Date, expiresAt: number, shards = BROADCAST_RECIPIENT_SHARDS): ItemUpdate {
  const ref = unit.ref as Extract<UnitRef, { kind: 'broadcast' }>;
  const transition = unit.status === 'sending' ? rowTransitions.abandon : rowTransitions.cancel;
  return new UpdateBuilder()
    .set('#tstatus', transition.to)
    .set('statusKey', rowStatusKey(ref.tenantId, ref.broadcastId, ref.recipientId, 'cancelled', shards))
    .set('updatedAt', now.toISOString())
    .set('expiresAt', expiresAt)
    .deliveries(unconfirmedOnCancel(unit, now))
    .remove('leaseUntil', 'claimToken')
    .build(rowKey(ref.tenantId, ref.broadcastId, ref.recipientId, shards), transitionCondition(transition, rowGuards({ now, seenAttempts: unit.attempts })));
}

/**
 * Cancels a row this worker claimed (`token`) and then found its broadcast cancelled: nothing was
 * sent on the claim, so the intents it recorded (`intents`) are dropped; an intent a dead
 * predecessor left (`unit` as read, taken over) becomes `unconfirmed`, as `rowCancel` makes it.
 */
export function rowWithdraw(unit: DeliveryUnit, token: string, intents: readonly Channel[], now: Date, expiresAt: number, shards = BROADCAST_RECIPIENT_SHARDS): ItemUpdate {
  const ref = unit.ref as Extract<UnitRef, { kind: 'broadcast' }>;
  const transition = rowTransitions.withdraw;
  return new UpdateBuilder()
    .set('#tstatus', transition.to)
    .set('statusKey', rowStatusKey(ref.tenantId, ref.broadcastId, ref.recipientId, 'cancelled', shards))
    .set('updatedAt', now.toISOString())
    .set('expiresAt', expiresAt)
    .deliveries(unconfirmedOnCancel(unit, now, intents), intents)
    // Nothing was attempted on this claim: its attempt is handed back.
    .setRaw('attempts = attempts - :refund', { ':refund': 1 })
    .remove('leaseUntil', 'claimToken')
    .build(rowKey(ref.tenantId, ref.broadcastId, ref.recipientId, shards), transitionCondition(transition, rowGuards({ now, token })));
}

/** Holds a pending row for its recipient's quiet hours: its next attempt is their end. */
export function rowHold(unit: DeliveryUnit, hold: QuietHold, now: Date, shards = BROADCAST_RECIPIENT_SHARDS): ItemUpdate {
  const ref = unit.ref as Extract<UnitRef, { kind: 'broadcast' }>;
  const until = new Date(hold.until).toISOString();
  const transition = rowTransitions.hold;
  return new UpdateBuilder()
    .set('#tstatus', transition.to)
    .set('heldUntil', until)
    .set('heldReason', hold.reason)
    .set('nextAttemptAt', until)
    .set('updatedAt', now.toISOString())
    .build(rowKey(ref.tenantId, ref.broadcastId, ref.recipientId, shards), transitionCondition(transition, rowGuards({ now, seenAttempts: unit.attempts })));
}
