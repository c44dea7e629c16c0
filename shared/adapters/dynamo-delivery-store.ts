/**
 * The delivery engine's store in DynamoDB: one BatchGetItem reads a batch of units with their
 * recipients, live state and broadcasts; the providers' send budgets are reserved with plain
 * conditional UpdateItems (dynamo-send-budgets.ts); one TransactWriteItems claims the units (with
 * their intents); one more records every outcome with the inbox item and its counter and moves
 * each unit on. Conditions come from the domain's state machines (delivery-units.ts).
 *
 * No transaction includes an item that many workers write at once (a broadcast's item, a budget
 * slot): on DynamoDB two transactions that meet on an item cancel each other
 * (`TransactionConflict`), so such an item would cancel claims by the hundred. A claim's
 * transaction holds only its own units' items; a commit's, the units, their recipients' inbox
 * items and unread counters, which only deliveries to that one recipient share.
 *
 * A transaction is all or nothing, so when one unit's condition fails the others are written
 * again without it: the cancellation reasons say, action by action, what failed (AWS returns
 * them in order; "TransactWriteItems" in the DynamoDB API reference).
 */
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Broadcast, BroadcastContent } from '../domain/broadcast.ts';
import { unitKey } from '../domain/delivery.ts';
import type { DeliveryUnit, LiveState, QuietHold, UnitRef } from '../domain/delivery.ts';
import type { UnreadCount } from '../domain/inbox.ts';
import type { Recipient } from '../domain/recipient.ts';
import type { TenantSettings } from '../domain/tenant-settings.ts';
import type { ClaimRequest, ClaimResult, CommitEntry, CommitResult, CommitVerdict, DeliveryStore, LoadedUnits, UnitUpdates, WithdrawnClaim } from '../ports.ts';
import { broadcastFromItem, broadcastKey, contentFromItem, contentKey } from './dynamo-broadcast-store.ts';
import { batchGetAcross } from './dynamo-batch.ts';
import type { TableKey } from './dynamo-batch.ts';
import { maxTransactItems, transactWrite } from './dynamo-transact.ts';
import type { TransactItems, TransactResult } from './dynamo-transact.ts';
import { inboxItemAttributes, inboxPartition } from './dynamo-inbox-store.ts';
import { liveKey, liveStateFromItem } from './dynamo-live-state-store.ts';
import { notificationKey } from './dynamo-notification-store.ts';
import { recipientFromItem, recipientKey } from './dynamo-recipient-store.ts';
import { isTenantSettingsItem, tenantSettingsFromItem, tenantSettingsKey } from './dynamo-tenant-settings-store.ts';
import type { SendBudgets } from './dynamo-send-budgets.ts';
import type { ReservedSlot } from '../domain/rate-budget.ts';
import { notificationClaim, notificationCommit, notificationHold, notificationUnit, rowCancel, rowClaim, rowCommit, rowHold, rowKey, rowUnit, rowWithdraw } from './delivery-units.ts';
import type { ItemUpdate } from './delivery-units.ts';

/** The physical names of the tables the engine touches. */
export interface DeliveryTables {
  readonly notifications: string;
  readonly broadcasts: string;
  readonly broadcastRecipients: string;
  readonly recipients: string;
  readonly inbox: string;
  readonly rateLimits: string;
}

export interface DeliveryStoreOptions {
  /** Days a sent or failed notification is kept. */
  readonly sentRetentionDays: number;
  /** Days a final broadcast row is kept. */
  readonly rowRetentionDays: number;
  readonly budgets: SendBudgets;
  /** Write shards of broadcast rows. @default BROADCAST_RECIPIENT_SHARDS */
  readonly rowShards?: number;
}

type TransactItem = TransactItems[number];

/** Times a claim is tried again with what its refusal taught (a unit lost, a slot full), before what is left waits. */
const claimRounds = 6;

/** The role of each action of a transaction, so that its cancellation reason can be read. */
type ActionRole =
  | { readonly kind: 'unit'; readonly key: string }
  | { readonly kind: 'recipient' | 'inbox' | 'counter'; readonly key: string };

/** A number out of a cancellation reason's item (plain, or still in AttributeValue form). */
function numberIn(item: Record<string, unknown> | undefined, name: string): number | undefined {
  const value = item?.[name];
  if (typeof value === 'number') return value;
  const n = (value as { N?: string } | undefined)?.N;
  return n === undefined ? undefined : Number(n);
}

/**
 * The unread counter's part of a commit that adds an inbox item: the count and its version each
 * one up in the one `ADD`. With `before` (a frame announced the count after it), only if neither
 * moved since it was read, and a refusal returns the counter it found (`ALL_OLD`), so the engine
 * learns the count and version to write on without reading them. A missing version is one written
 * before versions existed: version 0. The count is checked beside the version so that a writer
 * that moves the count without the version (an older deployment, mid-update) still refuses it.
 */
function counterAdd(before: UnreadCount | undefined): {
  UpdateExpression: string;
  ConditionExpression?: string;
  ExpressionAttributeValues: Record<string, number>;
  ReturnValuesOnConditionCheckFailure?: 'ALL_OLD';
} {
  const UpdateExpression = 'ADD unread :one, unreadVersion :one';
  if (before === undefined) return { UpdateExpression, ExpressionAttributeValues: { ':one': 1 } };
  const count = before.unread === 0 ? '(attribute_not_exists(unread) OR unread = :before)' : 'unread = :before';
  const version = before.unreadVersion === 0 ? 'attribute_not_exists(unreadVersion)' : 'unreadVersion = :version';
  return {
    UpdateExpression,
    ConditionExpression: `${version} AND ${count}`,
    ExpressionAttributeValues: { ':one': 1, ':before': before.unread, ...(before.unreadVersion === 0 ? {} : { ':version': before.unreadVersion }) },
    ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
  };
}

/** How many actions of a commit's transaction an entry takes: the unit's update, and the inbox item's three or the version's raise. */
function actionsOf(entry: CommitEntry): number {
  return 1 + (entry.inbox ? 3 : 0) + (entry.outdates !== undefined ? 1 : 0);
}

function recipientKeyOf(tenantId: string, recipientId: string): string {
  return `${tenantId}#${recipientId}`;
}

function epochSeconds(ms: number): number {
  return Math.floor(ms / 1000);
}

/** The TTL (epoch seconds) of an item settled at `now` and kept `days` days. */
function expiryAfter(now: Date, days: number): number {
  return epochSeconds(now.getTime()) + days * 24 * 60 * 60;
}

export class DynamoDeliveryStore implements DeliveryStore {
  private readonly db: DynamoDBDocumentClient;
  private readonly tables: () => DeliveryTables;
  private readonly options: DeliveryStoreOptions;
  /** Broadcast contents never change once written: one read per broadcast per container. */
  private readonly contents = new Map<string, BroadcastContent>();

  /** `tables` is read on first use, so a function that never delivers needs none of them. */
  constructor(db: DynamoDBDocumentClient, tables: () => DeliveryTables, options: DeliveryStoreOptions) {
    this.db = db;
    this.tables = tables;
    this.options = options;
  }

  async load(refs: readonly UnitRef[]): Promise<LoadedUnits> {
    const t = this.tables();
    const units = new Map<string, DeliveryUnit>();
    const recipients = new Map<string, Recipient>();
    const live = new Map<string, LiveState>();
    const broadcasts = new Map<string, Broadcast>();
    const tenantSettings = new Map<string, TenantSettings>();
    const people = new Set<string>();
    // Each tenant's settings (quiet hours, default zone) ride in the same read as its recipients.
    const tenants = new Set<string>();
    // A live item's partition holds the ids escaped (dynamo-keys.ts): the engine looks people up by tenant#recipient.
    const personOfPartition = new Map<string, string>();
    const personKeys = (tenantId: string, recipientId: string): TableKey[] => {
      const id = recipientKeyOf(tenantId, recipientId);
      if (people.has(id)) return [];
      people.add(id);
      personOfPartition.set(inboxPartition(tenantId, recipientId), id);
      const settings = tenants.has(tenantId) ? [] : [{ table: t.recipients, key: tenantSettingsKey(tenantId) }];
      tenants.add(tenantId);
      return [
        { table: t.recipients, key: recipientKey(tenantId, recipientId) },
        { table: t.inbox, key: liveKey(tenantId, recipientId) },
        ...settings,
      ];
    };
    const keys: TableKey[] = [];
    for (const ref of refs) {
      if (ref.kind === 'notification') {
        keys.push({ table: t.notifications, key: notificationKey(ref.tenantId, ref.notificationId) });
        if (ref.recipientId !== undefined) keys.push(...personKeys(ref.tenantId, ref.recipientId));
      } else {
        keys.push({ table: t.broadcastRecipients, key: rowKey(ref.tenantId, ref.broadcastId, ref.recipientId, this.options.rowShards) });
        keys.push({ table: t.broadcasts, key: broadcastKey(ref.tenantId, ref.broadcastId) });
        if (!this.contents.has(recipientKeyOf(ref.tenantId, ref.broadcastId))) keys.push({ table: t.broadcasts, key: contentKey(ref.tenantId, ref.broadcastId) });
        keys.push(...personKeys(ref.tenantId, ref.recipientId));
      }
    }
    const found = await batchGetAcross(this.db, keys);
    // A table's name is read only when a unit needs it: a function is told only the tables it was granted.
    const hasBroadcasts = refs.some((ref) => ref.kind === 'broadcast');
    const hasNotifications = refs.some((ref) => ref.kind === 'notification');
    const rows = new Map<string, Record<string, unknown>>();
    for (const item of hasBroadcasts ? (found.get(t.broadcasts) ?? []) : []) {
      const pk = String(item.pk);
      if (pk.endsWith('#content')) this.contents.set(pk.slice(0, -'#content'.length), contentFromItem(item));
      else if (typeof item.id === 'string') broadcasts.set(pk, broadcastFromItem(item));
    }
    for (const item of hasBroadcasts ? (found.get(t.broadcastRecipients) ?? []) : []) rows.set(`${String(item.broadcastId)}#${String(item.recipientId)}`, item);
    const secondRound: TableKey[] = [];
    for (const item of hasNotifications ? (found.get(t.notifications) ?? []) : []) {
      const unit = notificationUnit(item);
      units.set(unitKey(unit.ref), unit);
      secondRound.push(...personKeys(unit.tenantId, unit.recipientId));
    }
    for (const ref of refs) {
      if (ref.kind !== 'broadcast') continue;
      const row = rows.get(`${ref.broadcastId}#${ref.recipientId}`);
      const id = recipientKeyOf(ref.tenantId, ref.broadcastId);
      const broadcast = broadcasts.get(id);
      const content = this.contents.get(id);
      if (row && broadcast && content) units.set(unitKey(ref), rowUnit(row, broadcast, content));
    }
    // Notifications whose message did not name their recipient: one more read for those people.
    const more = secondRound.length > 0 ? await batchGetAcross(this.db, secondRound) : new Map<string, Record<string, unknown>[]>();
    for (const source of [found, more]) {
      for (const item of source.get(t.recipients) ?? []) {
        if (isTenantSettingsItem(item)) {
          const { tenantId, settings } = tenantSettingsFromItem(item);
          tenantSettings.set(tenantId, settings);
          continue;
        }
        const recipient = recipientFromItem(item);
        recipients.set(recipientKeyOf(recipient.tenantId, recipient.id), recipient);
      }
      for (const item of source.get(t.inbox) ?? []) live.set(personOfPartition.get(String(item.pk)) ?? String(item.pk), liveStateFromItem(item));
    }
    return { units, recipients, live, broadcasts, tenantSettings };
  }

  async claim(requests: readonly ClaimRequest[], now: Date): Promise<ClaimResult> {
    const claimed = new Map<string, { sendAt: number; reserved?: ReservedSlot; spends?: readonly string[] }>();
    const lost = new Set<string>();
    const deferred = new Map<string, number>();
    // Small transactions: one unit changed by someone else sends the rest of its chunk round again.
    const chunkSize = 40;
    const chunks: ClaimRequest[][] = [];
    for (let start = 0; start < requests.length; start += chunkSize) chunks.push(requests.slice(start, start + chunkSize));
    await Promise.all(chunks.map((chunk) => this.claimChunk(chunk, now, claimed, lost, deferred)));
    return { claimed, lost, deferred };
  }

  /**
   * Claims one chunk. Each unit first gets room in its providers' budgets (`SendBudgets.reserve`:
   * plain conditional UpdateItems of the slot items, never inside a transaction), then one
   * transaction claims the units that have it. What a unit reserved and did not use (it was lost to
   * another worker, or deferred) is given back; a claim whose outcome is unknown (it threw with
   * anything but a cancellation) keeps its reservations, which errs on the slow side.
   */
  private async claimChunk(
    requests: readonly ClaimRequest[],
    now: Date,
    claimed: Map<string, { sendAt: number; reserved?: ReservedSlot; spends?: readonly string[] }>,
    lost: Set<string>,
    deferred: Map<string, number>,
  ): Promise<void> {
    const t = this.tables();
    const budgets = this.options.budgets;
    /** Units with their room reserved: when they may send, and the slot items they hold a send in. */
    const placed = new Map<string, { sendAt: number; reserved?: ReservedSlot; spends: readonly string[] }>();
    const spendsOf = (keys: Iterable<string>): string[] => [...keys].flatMap((key) => placed.get(key)?.spends ?? []);
    let remaining = [...requests];
    let outcomeUnknown = false;
    const started = performance.now();
    try {
      for (let round = 0; remaining.length > 0; round++) {
        if (round === claimRounds) {
          // Other workers keep taking the room this one plans for, or the units: these wait for a
          // later slot, unclaimed, rather than fail their message (a budget shared by many is no error).
          for (const request of remaining) deferred.set(unitKey(request.unit.ref), now.getTime() + 1_000 + Math.floor(Math.random() * 1_000));
          break;
        }
        // A later round plans from the instant it starts, not the batch's: the rounds before it
        // (refusals by other workers' claims) may have taken a good part of a second.
        const planAt = round === 0 ? now : new Date(now.getTime() + (performance.now() - started));
        await this.place(
          remaining.filter((r) => !placed.has(unitKey(r.unit.ref))),
          planAt,
          placed,
          deferred,
        );
        remaining = remaining.filter((r) => !deferred.has(unitKey(r.unit.ref)));
        const ready = remaining.filter((r) => placed.has(unitKey(r.unit.ref)));
        if (ready.length === 0) continue;
        const actions: TransactItem[] = ready.map((request) => {
          const write = { token: request.token, leaseUntil: request.leaseUntil, intents: request.intents, intent: request.intent, takeover: request.takeover };
          return request.unit.ref.kind === 'notification'
            ? { Update: { TableName: t.notifications, ...notificationClaim(request.unit, write, now) } }
            : { Update: { TableName: t.broadcastRecipients, ...rowClaim(request.unit, write, now, this.options.rowShards) } };
        });
        let outcome: TransactResult;
        try {
          outcome = await transactWrite(this.db, actions);
        } catch (error) {
          // A cancelled transaction wrote nothing; anything else may have written it.
          outcomeUnknown = !(error instanceof TransactionCanceledException);
          throw error;
        }
        if (outcome.ok) {
          for (const request of ready) {
            const key = unitKey(request.unit.ref);
            const { sendAt, reserved, spends } = placed.get(key) ?? { sendAt: now.getTime(), spends: [] };
            claimed.set(key, { sendAt, ...(reserved ? { reserved } : {}), ...(spends.length > 0 ? { spends } : {}) });
            placed.delete(key);
          }
          remaining = remaining.filter((r) => !claimed.has(unitKey(r.unit.ref)));
          continue;
        }
        // A unit someone else changed is lost; the others (a TransactionConflict, or `None`) are tried again.
        const refused = ready.filter((_, index) => outcome.reasons[index]?.code === 'ConditionalCheckFailed').map((r) => unitKey(r.unit.ref));
        for (const key of refused) lost.add(key);
        await budgets.giveBack(this.db, t.rateLimits, spendsOf(refused));
        for (const key of refused) placed.delete(key);
        remaining = remaining.filter((r) => !lost.has(unitKey(r.unit.ref)));
      }
    } catch (error) {
      if (!outcomeUnknown) await budgets.giveBack(this.db, t.rateLimits, spendsOf(placed.keys()));
      throw error;
    }
    // Units deferred after their last round do not send on what they reserved.
    await budgets.giveBack(this.db, t.rateLimits, spendsOf(placed.keys()));
  }

  /**
   * Finds room for `requests` in their providers' budgets, from now on, and reserves it: those it
   * reserved for go into `placed`, those with no room within the look-ahead into `deferred`; a
   * unit one of whose slot items refused (another worker filled it) is planned again next round,
   * what it did get given back.
   */
  private async place(
    requests: readonly ClaimRequest[],
    now: Date,
    placed: Map<string, { sendAt: number; reserved?: ReservedSlot; spends: readonly string[] }>,
    deferred: Map<string, number>,
  ): Promise<void> {
    if (requests.length === 0) return;
    const result = await this.options.budgets.place(
      this.db,
      this.tables().rateLimits,
      requests.map((r) => ({ key: unitKey(r.unit.ref), tenantId: r.unit.tenantId, providers: r.providers })),
      now,
    );
    for (const [key, at] of result.deferred) deferred.set(key, at);
    for (const [key, unit] of result.placed) placed.set(key, unit);
  }

  async commit(entries: readonly CommitEntry[], now: Date): Promise<CommitResult> {
    const verdicts = new Map<string, CommitVerdict>();
    const unreadFound = new Map<string, UnreadCount>();
    const groups: CommitEntry[][] = [[]];
    let size = 0;
    for (const entry of entries) {
      const n = actionsOf(entry);
      if (size + n > maxTransactItems) {
        groups.push([]);
        size = 0;
      }
      groups[groups.length - 1]?.push(entry);
      size += n;
    }
    await Promise.all(groups.filter((g) => g.length > 0).map((group) => this.commitGroup(group, now, verdicts, unreadFound)));
    return { verdicts, unreadFound };
  }

  private async commitGroup(entries: readonly CommitEntry[], now: Date, verdicts: Map<string, CommitVerdict>, unreadFound: Map<string, UnreadCount>): Promise<void> {
    const t = this.tables();
    const actions: TransactItem[] = [];
    const roles: ActionRole[] = [];
    for (const entry of entries) {
      const key = unitKey(entry.unit.ref);
      if (entry.inbox) {
        const { item, before } = entry.inbox;
        // The recipient must still be in the directory: an erasure that came first keeps the inbox empty.
        actions.push({
          ConditionCheck: { TableName: t.recipients, Key: recipientKey(item.tenantId, item.recipientId), ConditionExpression: 'attribute_exists(pk)' },
        });
        roles.push({ kind: 'recipient', key });
        actions.push({
          Put: {
            TableName: t.inbox,
            Item: inboxItemAttributes(item),
            ConditionExpression: 'attribute_not_exists(notificationId)',
          },
        });
        roles.push({ kind: 'inbox', key });
        actions.push({ Update: { TableName: t.inbox, Key: liveKey(item.tenantId, item.recipientId), ...counterAdd(before) } });
        roles.push({ kind: 'counter', key });
      }
      if (entry.outdates !== undefined) {
        // The version before this write is at least the announced one less 1 (it only grows), so
        // 2 more puts it past the announced one whatever moved meanwhile; the count stays.
        actions.push({
          Update: { TableName: t.inbox, Key: liveKey(entry.unit.tenantId, entry.unit.recipientId), UpdateExpression: 'ADD unreadVersion :two', ExpressionAttributeValues: { ':two': 2 } },
        });
        roles.push({ kind: 'counter', key });
      }
      const retentionDays = entry.unit.ref.kind === 'notification' ? this.options.sentRetentionDays : this.options.rowRetentionDays;
      const write = {
        token: entry.token,
        deliveries: entry.deliveries,
        forget: entry.forget,
        settlement: entry.settlement,
        expiresAt: expiryAfter(now, retentionDays),
      };
      const update: ItemUpdate =
        entry.unit.ref.kind === 'notification' ? notificationCommit(entry.unit, write, now) : rowCommit(entry.unit, write, now, this.options.rowShards);
      actions.push({ Update: { TableName: entry.unit.ref.kind === 'notification' ? t.notifications : t.broadcastRecipients, ...update } });
      roles.push({ kind: 'unit', key });
    }
    const outcome = await transactWrite(this.db, actions);
    if (outcome.ok) {
      for (const entry of entries) verdicts.set(unitKey(entry.unit.ref), 'committed');
      return;
    }
    const rank: Record<CommitVerdict, number> = { claimLost: 5, recipientGone: 4, inboxExists: 3, unreadMoved: 2, notAttempted: 1, committed: 0 };
    for (const entry of entries) verdicts.set(unitKey(entry.unit.ref), 'notAttempted');
    outcome.reasons.forEach((reason, index) => {
      if (reason.code !== 'ConditionalCheckFailed') return;
      const role = roles[index];
      if (!role) return;
      const verdict: CommitVerdict =
        role.kind === 'unit' ? 'claimLost' : role.kind === 'recipient' ? 'recipientGone' : role.kind === 'inbox' ? 'inboxExists' : 'unreadMoved';
      // No counter item, or one without `unread` or `unreadVersion` (older than versions), reads 0.
      if (role.kind === 'counter') unreadFound.set(role.key, { unread: numberIn(reason.item, 'unread') ?? 0, unreadVersion: numberIn(reason.item, 'unreadVersion') ?? 0 });
      if (rank[verdict] > rank[verdicts.get(role.key) ?? 'notAttempted']) verdicts.set(role.key, verdict);
    });
  }

  async cancel(units: readonly DeliveryUnit[], now: Date): Promise<UnitUpdates> {
    const expiresAt = expiryAfter(now, this.options.rowRetentionDays);
    return this.updateEach(
      units.filter((unit) => unit.ref.kind === 'broadcast').map((unit) => ({ unit, update: rowCancel(unit, now, expiresAt, this.options.rowShards) })),
    );
  }

  async withdraw(claims: readonly WithdrawnClaim[], now: Date): Promise<UnitUpdates> {
    const expiresAt = expiryAfter(now, this.options.rowRetentionDays);
    return this.updateEach(
      claims
        .filter(({ unit }) => unit.ref.kind === 'broadcast')
        .map(({ unit, token, intents }) => ({ unit, update: rowWithdraw(unit, token, intents, now, expiresAt, this.options.rowShards) })),
    );
  }

  async giveBack(spends: readonly string[]): Promise<void> {
    if (spends.length > 0) await this.options.budgets.giveBack(this.db, this.tables().rateLimits, spends);
  }

  async hold(holds: readonly { readonly unit: DeliveryUnit; readonly hold: QuietHold }[], now: Date): Promise<UnitUpdates> {
    const updates = holds.map(({ unit, hold }) => ({
      unit,
      update: unit.ref.kind === 'notification' ? notificationHold(unit, hold, now) : rowHold(unit, hold, now, this.options.rowShards),
    }));
    return this.updateEach(updates);
  }

  /**
   * Applies each unit's conditional update to its own item (the notification, or the broadcast
   * row), each in a transaction of its own, side by side, and waits for all of them: a write that
   * throws (throttled, a fault) is named in `failed` and never hides those that landed.
   */
  private async updateEach(updates: readonly { readonly unit: DeliveryUnit; readonly update: ItemUpdate }[]): Promise<UnitUpdates> {
    const t = this.tables();
    const landed = new Set<string>();
    const failed = new Map<string, unknown>();
    await Promise.all(
      updates.map(async ({ unit, update }) => {
        const TableName = unit.ref.kind === 'notification' ? t.notifications : t.broadcastRecipients;
        try {
          const outcome = await transactWrite(this.db, [{ Update: { TableName, ...update } }]);
          if (outcome.ok) landed.add(unitKey(unit.ref));
        } catch (error) {
          failed.set(unitKey(unit.ref), error);
        }
      }),
    );
    return { landed, failed };
  }
}
