/**
 * An in-memory DeliveryStore with the semantics of DynamoDeliveryStore, over the in-memory fakes
 * of the notifications, broadcasts, their recipient rows, the directory, the inbox and the live
 * state. Every conditional write is decided from the domain's transition tables
 * (`notificationTransitions`, `rowTransitions`), as the Dynamo adapter builds its conditions from
 * them; a claim and a commit are all or nothing, with the adapter's verdicts when refused.
 * Tests can make a call fail (`*Failures`) or slip a rival's write in just before one (`before*`).
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { notificationUnit, rowUnit } from '../../../shared/adapters/delivery-units.ts';
import type { Reservation, SendBudgets } from '../../../shared/adapters/dynamo-send-budgets.ts';
import { rowTransitions } from '../../../shared/domain/broadcast.ts';
import type { Broadcast, BroadcastRecipient, BroadcastRowStatus, RowGuard } from '../../../shared/domain/broadcast.ts';
import { unitKey } from '../../../shared/domain/delivery.ts';
import type { DeliveryUnit, LiveState, QuietHold, Settlement, UnitRef } from '../../../shared/domain/delivery.ts';
import type { UnreadCount } from '../../../shared/domain/inbox.ts';
import { nextDueAt, notificationTransitions } from '../../../shared/domain/notification.ts';
import type { Channel, ChannelDelivery, Notification, NotificationGuard, NotificationStatus } from '../../../shared/domain/notification.ts';
import type { Recipient } from '../../../shared/domain/recipient.ts';
import type { TenantSettings } from '../../../shared/domain/tenant-settings.ts';
import type { Transition } from '../../../shared/domain/state-machine.ts';
import type { ClaimRequest, ClaimResult, CommitEntry, CommitResult, CommitVerdict, DeliveryStore, LoadedUnits, UnitUpdates, WithdrawnClaim } from '../../../shared/ports.ts';
import type { InMemoryBroadcastRecipientStore } from './broadcast-recipient-store.ts';
import type { InMemoryBroadcastStore } from './broadcast-store.ts';
import { ScriptedFailures } from './failures.ts';
import type { InMemoryInboxStore } from './inbox-store.ts';
import type { InMemoryLiveStateStore } from './live-state-store.ts';
import type { InMemoryNotificationStore } from './notification-store.ts';
import type { InMemoryRecipientStore } from './recipient-store.ts';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** The fakes the store reads and writes. */
export interface DeliveryStoreParts {
  readonly notifications: InMemoryNotificationStore;
  readonly broadcasts: InMemoryBroadcastStore;
  readonly rows: InMemoryBroadcastRecipientStore;
  readonly recipients: InMemoryRecipientStore;
  readonly inbox: InMemoryInboxStore;
  readonly live: InMemoryLiveStateStore;
}

export interface InMemoryDeliveryStoreOptions {
  /** Days a sent or failed notification is kept. @default 90 */
  readonly sentRetentionDays?: number;
  /** The providers' send budgets; none when absent. */
  readonly budgets?: SendBudgets;
}

/** AWS's limit on the actions of one transaction, which splits a commit as the adapter does. */
const maxActions = 100;
const claimRounds = 6;

/** True when `transition` may be taken from `status` with these guards, as its DynamoDB condition says. */
export function conditionHolds<S extends string, G extends string>(transition: Transition<S, G>, status: S, guards: Readonly<Record<G, boolean>>): boolean {
  return transition.from.includes(status) && (transition.guards ?? []).every((guard) => guards[guard]);
}

function recipientKeyOf(tenantId: string, recipientId: string): string {
  return `${tenantId}#${recipientId}`;
}

function withDeliveries(
  deliveries: Readonly<Partial<Record<Channel, ChannelDelivery>>>,
  set: Readonly<Partial<Record<Channel, ChannelDelivery>>>,
  forget: readonly Channel[] = [],
): Partial<Record<Channel, ChannelDelivery>> {
  const merged: Partial<Record<Channel, ChannelDelivery>> = { ...deliveries, ...structuredClone(set) };
  return Object.fromEntries(Object.entries(merged).filter(([channel]) => !forget.includes(channel as Channel)));
}

export class InMemoryDeliveryStore implements DeliveryStore {
  private readonly parts: DeliveryStoreParts;
  private readonly sentRetentionDays: number;
  private readonly budgets: SendBudgets | undefined;
  /** The send-budget slots: how many sends each slot item (provider#scope#second) holds. */
  readonly slots = new Map<string, number>();
  readonly loadFailures = new ScriptedFailures();
  readonly claimFailures = new ScriptedFailures();
  readonly commitFailures = new ScriptedFailures();
  /** Errors the next single-unit writes of `cancel`, `withdraw` and `hold` throw, one unit each (the others land). */
  readonly unitWriteFailures = new ScriptedFailures();
  /** Runs once, just before the next claim is decided: a rival's write that lands first. */
  beforeClaim: (() => Promise<void> | void) | undefined;
  /** Runs once, just before the next commit is decided. */
  beforeCommit: (() => Promise<void> | void) | undefined;
  /** Runs once, just after the next commit was decided (and written, where it held). */
  afterCommit: (() => void) | undefined;
  loadCalls = 0;
  claimCalls = 0;
  commitCalls = 0;
  /** Every claim transaction that was written, with the units it claimed. */
  readonly claimsWritten: string[][] = [];
  /** The units of every commit that was decided, by key, one list per call. */
  readonly commitsDecided: string[][] = [];
  /** The tenants' settings of time (quiet hours, default zone), by tenant id, read with every load. */
  readonly tenantSettings = new Map<string, TenantSettings>();

  constructor(parts: DeliveryStoreParts, options: InMemoryDeliveryStoreOptions = {}) {
    this.parts = parts;
    this.sentRetentionDays = options.sentRetentionDays ?? 90;
    this.budgets = options.budgets;
  }

  async load(refs: readonly UnitRef[]): Promise<LoadedUnits> {
    this.loadCalls++;
    await yieldToEventLoop();
    this.loadFailures.throwNext();
    const { notifications, broadcasts, rows, recipients, inbox: _inbox, live } = this.parts;
    const units = new Map<string, DeliveryUnit>();
    const people = new Map<string, Recipient>();
    const states = new Map<string, LiveState>();
    const seenBroadcasts = new Map<string, Broadcast>();
    const person = async (tenantId: string, recipientId: string): Promise<void> => {
      const key = recipientKeyOf(tenantId, recipientId);
      if (states.has(key)) return;
      const [recipient] = await recipients.getMany(tenantId, [recipientId]);
      if (recipient) people.set(key, recipient);
      states.set(key, live.read(tenantId, recipientId));
    };
    for (const ref of refs) {
      if (ref.kind === 'notification') {
        const stored = notifications.record(ref.tenantId, ref.notificationId);
        if (!stored) continue;
        const unit = notificationUnit(structuredClone(stored.notification) as unknown as Record<string, unknown>);
        units.set(unitKey(ref), unit);
        await person(unit.tenantId, unit.recipientId);
        continue;
      }
      const broadcast = await broadcasts.get(ref.tenantId, ref.broadcastId);
      const content = await broadcasts.getContent(ref.tenantId, ref.broadcastId);
      if (broadcast) seenBroadcasts.set(recipientKeyOf(ref.tenantId, ref.broadcastId), broadcast);
      const stored = rows.record(ref.tenantId, ref.broadcastId, ref.recipientId);
      if (stored && broadcast && content) units.set(unitKey(ref), rowUnit(stored.row as unknown as Record<string, unknown>, broadcast, content));
      await person(ref.tenantId, ref.recipientId);
    }
    return { units, recipients: people, live: states, broadcasts: seenBroadcasts, tenantSettings: new Map(this.tenantSettings) };
  }

  /** The guards of a notification's transitions, as the Dynamo adapter's clauses test them. */
  private notificationGuards(n: Notification, token: string | undefined, context: { now: Date; token?: string; seenAttempts?: number }): Record<NotificationGuard, boolean> {
    return {
      due: nextDueAt(n).getTime() <= context.now.getTime(),
      leaseExpired: n.leaseUntil !== undefined && n.leaseUntil < context.now.getTime(),
      holdsClaim: token !== undefined && token === context.token,
      unchanged: n.attempts === context.seenAttempts,
    };
  }

  private rowGuards(row: BroadcastRecipient, token: string | undefined, context: { now: Date; token?: string; seenAttempts?: number }): Record<RowGuard, boolean> {
    return {
      due: row.nextAttemptAt === undefined || Date.parse(row.nextAttemptAt) <= context.now.getTime(),
      leaseExpired: row.leaseUntil !== undefined && row.leaseUntil < context.now.getTime(),
      holdsClaim: token !== undefined && token === context.token,
      unchanged: row.attempts === context.seenAttempts,
      failedBeforeRun: false,
    };
  }

  /** Whether the claim of one unit would hold now. */
  private claimHolds(request: ClaimRequest, now: Date): boolean {
    const { ref } = request.unit;
    if (ref.kind === 'notification') {
      const stored = this.parts.notifications.record(ref.tenantId, ref.notificationId);
      if (!stored) return false;
      const transition = request.takeover ? notificationTransitions.takeOver : notificationTransitions.claim;
      return conditionHolds<NotificationStatus, NotificationGuard>(
        transition,
        stored.notification.status,
        this.notificationGuards(stored.notification, stored.claimToken, { now, seenAttempts: request.unit.attempts }),
      );
    }
    const stored = this.parts.rows.record(ref.tenantId, ref.broadcastId, ref.recipientId);
    if (!stored) return false;
    const transition = request.takeover ? rowTransitions.takeOver : rowTransitions.claim;
    return conditionHolds<BroadcastRowStatus, RowGuard>(transition, stored.row.status, this.rowGuards(stored.row, stored.token, { now, seenAttempts: request.unit.attempts }));
  }

  private applyClaim(request: ClaimRequest, now: Date): void {
    const { ref } = request.unit;
    const intents = Object.fromEntries(request.intents.map((channel) => [channel, request.intent]));
    if (ref.kind === 'notification') {
      const stored = this.parts.notifications.record(ref.tenantId, ref.notificationId);
      if (!stored) return;
      const n = stored.notification;
      n.status = (request.takeover ? notificationTransitions.takeOver : notificationTransitions.claim).to;
      n.leaseUntil = request.leaseUntil;
      n.attempts += 1;
      n.deliveries = withDeliveries(n.deliveries, intents);
      stored.claimToken = request.token;
      return;
    }
    const stored = this.parts.rows.record(ref.tenantId, ref.broadcastId, ref.recipientId);
    if (!stored) return;
    const row: BroadcastRecipient = {
      ...stored.row,
      status: (request.takeover ? rowTransitions.takeOver : rowTransitions.claim).to,
      leaseUntil: request.leaseUntil,
      attempts: stored.row.attempts + 1,
      deliveries: withDeliveries(stored.row.deliveries, intents),
      updatedAt: now.toISOString(),
    };
    this.parts.rows.write(row, request.token);
  }

  async claim(requests: readonly ClaimRequest[], now: Date): Promise<ClaimResult> {
    this.claimCalls++;
    await yieldToEventLoop();
    this.claimFailures.throwNext();
    const hook = this.beforeClaim;
    this.beforeClaim = undefined;
    await hook?.();
    const claimed = new Map<string, { sendAt: number }>();
    const lost = new Set<string>();
    const deferred = new Map<string, number>();
    let remaining = [...requests];
    for (let round = 0; remaining.length > 0; round++) {
      if (round === claimRounds) {
        // As the Dynamo store: what it could not place after its rounds waits for a later slot.
        for (const request of remaining) deferred.set(unitKey(request.unit.ref), now.getTime() + 1_000);
        break;
      }
      const plan = this.budgets?.plan(
        remaining.map((r) => ({ key: unitKey(r.unit.ref), tenantId: r.unit.tenantId, providers: r.providers })),
        now,
      );
      for (const [key, at] of plan?.deferred ?? []) deferred.set(key, at);
      remaining = remaining.filter((r) => !deferred.has(unitKey(r.unit.ref)));
      if (remaining.length === 0) break;
      // Decide every condition of the transaction first: it is written whole or not at all.
      const refused = new Set<string>();
      for (const request of remaining) {
        const key = unitKey(request.unit.ref);
        // As the Dynamo store: the claim does not look at the broadcast; the engine reads its status after.
        if (!this.claimHolds(request, now)) refused.add(key);
      }
      const full: Reservation[] = (plan?.reservations ?? []).filter((r) => (this.slots.get(r.pk) ?? 0) > r.capacity - r.n);
      if (refused.size === 0 && full.length === 0) {
        for (const request of remaining) {
          this.applyClaim(request, now);
          const key = unitKey(request.unit.ref);
          const spends = plan?.spends.get(key) ?? [];
          claimed.set(key, { sendAt: plan?.sendAt.get(key) ?? now.getTime(), ...(spends.length > 0 ? { spends } : {}) });
        }
        for (const r of plan?.reservations ?? []) this.slots.set(r.pk, (this.slots.get(r.pk) ?? 0) + r.n);
        this.budgets?.reserved(plan?.reservations ?? []);
        this.claimsWritten.push(remaining.map((r) => unitKey(r.unit.ref)));
        break;
      }
      for (const key of refused) lost.add(key);
      for (const r of full) this.budgets?.learn(r, this.slots.get(r.pk));
      remaining = remaining.filter((r) => !lost.has(unitKey(r.unit.ref)));
    }
    return { claimed, lost, deferred };
  }

  /** The verdict of one entry's conditions, `committed` when they all hold. */
  private async verdictOf(entry: CommitEntry, now: Date): Promise<CommitVerdict> {
    const { ref } = entry.unit;
    const transition = transitionOf(entry.settlement);
    let holds: boolean;
    if (ref.kind === 'notification') {
      const stored = this.parts.notifications.record(ref.tenantId, ref.notificationId);
      holds =
        stored !== undefined &&
        conditionHolds<NotificationStatus, NotificationGuard>(
          notificationTransitions[transition],
          stored.notification.status,
          this.notificationGuards(stored.notification, stored.claimToken, { now, token: entry.token }),
        );
    } else {
      const stored = this.parts.rows.record(ref.tenantId, ref.broadcastId, ref.recipientId);
      holds = stored !== undefined && conditionHolds<BroadcastRowStatus, RowGuard>(rowTransitions[transition], stored.row.status, this.rowGuards(stored.row, stored.token, { now, token: entry.token }));
    }
    if (!holds) return 'claimLost';
    if (!entry.inbox) return 'committed';
    const { item, before } = entry.inbox;
    const [recipient] = await this.parts.recipients.getMany(item.tenantId, [item.recipientId]);
    if (!recipient) return 'recipientGone';
    if (this.parts.inbox.holds(item.tenantId, item.recipientId, item.notificationId)) return 'inboxExists';
    // As the adapter's condition: neither the count nor its version moved since `before` was read.
    const found = this.parts.inbox.countOf(item.tenantId, item.recipientId);
    if (before !== undefined && (found.unread !== before.unread || found.unreadVersion !== before.unreadVersion)) return 'unreadMoved';
    return 'committed';
  }

  private applyCommit(entry: CommitEntry, now: Date): void {
    const { ref } = entry.unit;
    const { settlement } = entry;
    const transition = transitionOf(settlement);
    if (entry.inbox) this.parts.inbox.insert(entry.inbox.item);
    if (entry.outdates !== undefined) this.parts.inbox.raiseVersion(entry.unit.tenantId, entry.unit.recipientId, 2);
    if (ref.kind === 'notification') {
      const stored = this.parts.notifications.record(ref.tenantId, ref.notificationId);
      if (!stored) return;
      const n = stored.notification;
      n.deliveries = withDeliveries(n.deliveries, entry.deliveries, entry.forget);
      n.status = notificationTransitions[transition].to;
      delete n.leaseUntil;
      delete stored.claimToken;
      delete n.heldUntil;
      delete n.heldReason;
      if (settlement.kind === 'finish') {
        n.sentAt = now.toISOString();
        delete n.lastError;
        delete n.lastErrorCategory;
        stored.expiresAt = Math.floor(now.getTime() / 1000) + this.sentRetentionDays * 24 * 60 * 60;
      } else if (settlement.kind === 'fail') {
        n.lastError = settlement.error;
        n.lastErrorCategory = settlement.category;
        stored.expiresAt = Math.floor(now.getTime() / 1000) + this.sentRetentionDays * 24 * 60 * 60;
      } else {
        n.lastError = settlement.error;
        n.lastErrorCategory = settlement.category;
        n.nextAttemptAt = new Date(settlement.nextAttemptAt).toISOString();
        if (settlement.refundAttempt) n.attempts -= 1;
      }
      return;
    }
    const stored = this.parts.rows.record(ref.tenantId, ref.broadcastId, ref.recipientId);
    if (!stored) return;
    const { leaseUntil: _lease, nextAttemptAt: _next, lastError: _error, lastErrorCategory: _category, heldUntil: _held, heldReason: _why, ...rest } = stored.row;
    const row: Mutable<BroadcastRecipient> = {
      ...rest,
      deliveries: withDeliveries(stored.row.deliveries, entry.deliveries, entry.forget),
      status: rowTransitions[transition].to,
      updatedAt: now.toISOString(),
    };
    if (settlement.kind !== 'finish') {
      row.lastError = settlement.error;
      row.lastErrorCategory = settlement.category;
    }
    if (settlement.kind === 'release') {
      row.nextAttemptAt = new Date(settlement.nextAttemptAt).toISOString();
      if (settlement.refundAttempt) row.attempts -= 1;
    }
    this.parts.rows.write(row, undefined);
  }

  async commit(entries: readonly CommitEntry[], now: Date): Promise<CommitResult> {
    this.commitCalls++;
    await yieldToEventLoop();
    this.commitFailures.throwNext();
    const hook = this.beforeCommit;
    this.beforeCommit = undefined;
    await hook?.();
    const verdicts = new Map<string, CommitVerdict>();
    const unreadFound = new Map<string, UnreadCount>();
    // The adapter's transactions: as many entries as fit in 100 actions (4 with an inbox item).
    const groups: CommitEntry[][] = [[]];
    let size = 0;
    for (const entry of entries) {
      const n = 1 + (entry.inbox ? 3 : 0) + (entry.outdates !== undefined ? 1 : 0);
      if (size + n > maxActions) {
        groups.push([]);
        size = 0;
      }
      groups[groups.length - 1]?.push(entry);
      size += n;
    }
    for (const group of groups) {
      const decided = await Promise.all(group.map(async (entry) => [entry, await this.verdictOf(entry, now)] as const));
      const written = decided.every(([, verdict]) => verdict === 'committed');
      for (const [entry, verdict] of decided) {
        if (written) this.applyCommit(entry, now);
        verdicts.set(unitKey(entry.unit.ref), written ? 'committed' : verdict === 'committed' ? 'notAttempted' : verdict);
        // As the adapter: the refused counter write tells the count it found.
        if (verdict === 'unreadMoved' && entry.inbox) unreadFound.set(unitKey(entry.unit.ref), this.parts.inbox.countOf(entry.inbox.item.tenantId, entry.inbox.item.recipientId));
      }
    }
    this.commitsDecided.push(entries.map((entry) => unitKey(entry.unit.ref)));
    const after = this.afterCommit;
    this.afterCommit = undefined;
    after?.();
    return { verdicts, unreadFound };
  }

  async hold(holds: readonly { readonly unit: DeliveryUnit; readonly hold: QuietHold }[], now: Date): Promise<UnitUpdates> {
    await yieldToEventLoop();
    const held = new Set<string>();
    const failed = new Map<string, unknown>();
    for (const { unit, hold } of holds) {
      const { ref } = unit;
      if (this.failedUnitWrite(unit, failed)) continue;
      const until = new Date(hold.until).toISOString();
      if (ref.kind === 'notification') {
        const stored = this.parts.notifications.record(ref.tenantId, ref.notificationId);
        if (!stored) continue;
        const n = stored.notification;
        if (!conditionHolds<NotificationStatus, NotificationGuard>(notificationTransitions.hold, n.status, this.notificationGuards(n, stored.claimToken, { now, seenAttempts: unit.attempts }))) continue;
        Object.assign(n, { heldUntil: until, heldReason: hold.reason });
      } else {
        const stored = this.parts.rows.record(ref.tenantId, ref.broadcastId, ref.recipientId);
        if (!stored || !conditionHolds<BroadcastRowStatus, RowGuard>(rowTransitions.hold, stored.row.status, this.rowGuards(stored.row, stored.token, { now, seenAttempts: unit.attempts }))) continue;
        this.parts.rows.write({ ...stored.row, heldUntil: until, heldReason: hold.reason, nextAttemptAt: until, updatedAt: now.toISOString() }, stored.token);
      }
      held.add(unitKey(ref));
    }
    return { landed: held, failed };
  }

  async withdraw(claims: readonly WithdrawnClaim[], now: Date): Promise<UnitUpdates> {
    await yieldToEventLoop();
    const withdrawn = new Set<string>();
    const failed = new Map<string, unknown>();
    for (const { unit, token, intents } of claims) {
      const { ref } = unit;
      if (ref.kind !== 'broadcast' || this.failedUnitWrite(unit, failed)) continue;
      const stored = this.parts.rows.record(ref.tenantId, ref.broadcastId, ref.recipientId);
      if (!stored || !conditionHolds<BroadcastRowStatus, RowGuard>(rowTransitions.withdraw, stored.row.status, this.rowGuards(stored.row, stored.token, { now, token }))) continue;
      // As the Dynamo adapter's rowWithdraw: this claim's intents dropped, a predecessor's unconfirmed, the attempt handed back.
      const unconfirmed = Object.fromEntries(
        Object.entries(stored.row.deliveries)
          .filter(([channel, delivery]) => delivery.status === 'sending' && !intents.includes(channel as Channel))
          .map(([channel]) => [channel, { status: 'unconfirmed', at: now.toISOString(), detail: 'the broadcast was cancelled after an attempt stopped while sending' }]),
      ) as Partial<Record<Channel, ChannelDelivery>>;
      const { leaseUntil: _lease, ...rest } = stored.row;
      this.parts.rows.write(
        { ...rest, status: rowTransitions.withdraw.to, attempts: stored.row.attempts - 1, deliveries: withDeliveries(stored.row.deliveries, unconfirmed, intents), updatedAt: now.toISOString() },
        undefined,
      );
      withdrawn.add(unitKey(ref));
    }
    return { landed: withdrawn, failed };
  }

  async giveBack(spends: readonly string[]): Promise<void> {
    await yieldToEventLoop();
    for (const pk of spends) this.slots.set(pk, Math.max(0, (this.slots.get(pk) ?? 0) - 1));
  }

  async cancel(units: readonly DeliveryUnit[], now: Date): Promise<UnitUpdates> {
    await yieldToEventLoop();
    const cancelled = new Set<string>();
    const failed = new Map<string, unknown>();
    for (const unit of units) {
      const { ref } = unit;
      if (ref.kind !== 'broadcast' || this.failedUnitWrite(unit, failed)) continue;
      // A pending row, or one a dead worker left (`abandon`), as the Dynamo adapter's rowCancel.
      const transition = unit.status === 'sending' ? rowTransitions.abandon : rowTransitions.cancel;
      const stored = this.parts.rows.record(ref.tenantId, ref.broadcastId, ref.recipientId);
      if (!stored || !conditionHolds<BroadcastRowStatus, RowGuard>(transition, stored.row.status, this.rowGuards(stored.row, stored.token, { now, seenAttempts: unit.attempts }))) continue;
      const unconfirmed = Object.fromEntries(
        Object.entries(stored.row.deliveries)
          .filter(([, delivery]) => delivery.status === 'sending')
          .map(([channel]) => [channel, { status: 'unconfirmed', at: now.toISOString(), detail: 'the broadcast was cancelled after an attempt stopped while sending' }]),
      ) as Partial<Record<Channel, ChannelDelivery>>;
      const { leaseUntil: _lease, ...rest } = stored.row;
      this.parts.rows.write({ ...rest, status: transition.to, deliveries: withDeliveries(stored.row.deliveries, unconfirmed), updatedAt: now.toISOString() }, undefined);
      cancelled.add(unitKey(ref));
    }
    return { landed: cancelled, failed };
  }

  /** True (and the error noted in `failed`) when the next scripted unit-write failure falls on `unit`. */
  private failedUnitWrite(unit: DeliveryUnit, failed: Map<string, unknown>): boolean {
    try {
      this.unitWriteFailures.throwNext();
      return false;
    } catch (error) {
      failed.set(unitKey(unit.ref), error);
      return true;
    }
  }
}

function transitionOf(settlement: Settlement): 'finish' | 'fail' | 'release' {
  return settlement.kind;
}
