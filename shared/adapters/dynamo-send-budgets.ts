/**
 * Send-rate budgets in DynamoDB (see shared/domain/rate-budget.ts): one small item per provider,
 * scope (all tenants, or one tenant) and second, whose `used` a claim raises with a conditional
 * `ADD` (a plain UpdateItem, `reserve`) before its transaction, and lowers again (`giveBack`) for
 * the units it then did not claim. The slot items stay out of every transaction: every claim
 * spending one second's budget writes the same item, and on DynamoDB two transactions that meet on
 * an item cancel each other (`TransactionConflict`), while plain conditional writes of it simply
 * take turns ("Transaction conflict handling in DynamoDB"). Whatever a worker learns of a slot
 * (how full it is) it keeps, so it does not ask again for room it knows is gone. Items expire an
 * hour after their second. The delivery store's claims place their units here, and so does a send
 * made outside the engine (a verification code: `DynamoSendBudget`).
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Provider, RateBudgets } from '../domain/rate-budget.ts';
import { currentSlotMinimumMs, fitting, slotCapacity, slotEnd, slotLookahead, slotOf } from '../domain/rate-budget.ts';
import type { ReservedSlot } from '../domain/rate-budget.ts';
import { describeError } from '../domain/delivery-errors.ts';
import { logger } from '../observability/logger.ts';
import type { OneSendSlot, SendBudget } from '../ports.ts';
import { keyPart } from './dynamo-keys.ts';

/** One slot's reservation in a claim. */
export interface Reservation {
  /** The slot item's key. */
  readonly pk: string;
  readonly n: number;
  readonly capacity: number;
}

/** A unit asking for sends, as the planner sees it. */
export interface BudgetRequest {
  readonly key: string;
  readonly tenantId: string;
  readonly providers: readonly Provider[];
}

/**
 * The plan of one claim: when each unit may send (now, or the start of a later slot), the slot
 * each unit that spends a budget reserved (its sends must start before it ends), the slot items
 * each placed unit adds one send to (`spends`), the units deferred, the reservations (the sum of
 * `spends` per slot item).
 */
export interface BudgetPlan {
  readonly sendAt: ReadonlyMap<string, number>;
  readonly reserved: ReadonlyMap<string, ReservedSlot>;
  readonly spends: ReadonlyMap<string, readonly string[]>;
  readonly deferred: ReadonlyMap<string, number>;
  readonly reservations: readonly Reservation[];
}

/** A unit with its room reserved: when it may send, the second it must send in, the slot items it holds a send in. */
export interface PlacedSend {
  readonly sendAt: number;
  readonly reserved?: ReservedSlot;
  readonly spends: readonly string[];
}

/** `used` of a refused slot's old item (plain, or in AttributeValue form, as an error carries it). */
function usedOf(item: Record<string, unknown> | undefined): number | undefined {
  const value = item?.used;
  if (typeof value === 'number') return value;
  const n = (value as { N?: string } | undefined)?.N;
  return n === undefined ? undefined : Number(n);
}

/** The TTL of a slot item: long after its second has passed. */
const slotTtlSeconds = 60 * 60;
/** How many slots a worker remembers. */
const knownSlotLimit = 10_000;

export class SendBudgets {
  private readonly budgets: () => RateBudgets;
  private readonly known = new Map<string, number>();

  /** `budgets` is read when a claim needs it (it may call a provider for its quota the first time). */
  constructor(budgets: () => RateBudgets) {
    this.budgets = budgets;
  }

  /**
   * The buckets (slot item key, capacity) a send through `provider` for `tenantId` spends in
   * `slot`. The tenant's bucket only when its share is below the whole budget: a tenant's count
   * never exceeds the count of all tenants, so a share as large as the budget can never be the one
   * that is full, and keeping it would cost a write per claim for nothing. A rate below 1 gives
   * most seconds no room at all (`slotCapacity`).
   */
  private buckets(provider: Provider, tenantId: string, slot: number): { pk: string; capacity: number }[] {
    const budget = this.budgets()[provider];
    if (!budget) return [];
    const all = { pk: `${provider}#all#${slot}`, capacity: slotCapacity(budget.perSecond, slot) };
    if (budget.tenantPerSecond === undefined || budget.tenantPerSecond >= budget.perSecond) return [all];
    return [all, { pk: `${provider}#t:${keyPart(tenantId)}#${slot}`, capacity: slotCapacity(budget.tenantPerSecond, slot) }];
  }

  /**
   * Places each unit in the earliest second, from now on, where every bucket its sends spend has
   * room (by what this worker knows), the current second only while `currentSlotMinimumMs` of it
   * are left; a unit with no room within the look-ahead is deferred. A
   * placed unit that spends a budget is told the end of its second (`reserved`): it must not send after.
   */
  plan(requests: readonly BudgetRequest[], now: Date): BudgetPlan {
    const current = slotOf(now.getTime());
    const planned = new Map<string, { n: number; capacity: number }>();
    const sendAt = new Map<string, number>();
    const reserved = new Map<string, ReservedSlot>();
    const spends = new Map<string, string[]>();
    const deferred = new Map<string, number>();
    for (const request of requests) {
      let placed = false;
      for (let slot = current; slot <= current + slotLookahead && !placed; slot++) {
        const buckets = request.providers.flatMap((provider) => this.buckets(provider, request.tenantId, slot));
        if (slot === current && buckets.length > 0 && slotEnd(slot) - now.getTime() < currentSlotMinimumMs) continue;
        const fits = buckets.every((b) => fitting(b.capacity, (this.known.get(b.pk) ?? 0) + (planned.get(b.pk)?.n ?? 0), 1) === 1);
        if (!fits) continue;
        for (const b of buckets) planned.set(b.pk, { n: (planned.get(b.pk)?.n ?? 0) + 1, capacity: b.capacity });
        if (buckets.length > 0) spends.set(request.key, buckets.map((b) => b.pk));
        sendAt.set(request.key, slot === current ? now.getTime() : slot * 1000);
        const budgeted = request.providers.filter((provider) => this.budgets()[provider] !== undefined);
        if (budgeted.length > 0) reserved.set(request.key, { until: slotEnd(slot), providers: [...new Set(budgeted)] });
        placed = true;
      }
      if (!placed) deferred.set(request.key, (current + slotLookahead + 1) * 1000);
    }
    return { sendAt, reserved, spends, deferred, reservations: [...planned].map(([pk, { n, capacity }]) => ({ pk, n, capacity })) };
  }

  /** The update of a slot item that reserves `n` sends, on the condition that it stays within capacity. */
  update(reservation: Reservation): {
    Key: { pk: string };
    UpdateExpression: string;
    ConditionExpression: string;
    ExpressionAttributeValues: Record<string, number>;
    ReturnValuesOnConditionCheckFailure: 'ALL_OLD';
  } {
    const slot = Number(reservation.pk.slice(reservation.pk.lastIndexOf('#') + 1));
    return {
      Key: { pk: reservation.pk },
      UpdateExpression: 'ADD used :n SET expiresAt = :expiresAt',
      ConditionExpression: 'attribute_not_exists(used) OR used <= :max',
      ExpressionAttributeValues: { ':n': reservation.n, ':max': reservation.capacity - reservation.n, ':expiresAt': slot + slotTtlSeconds },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    };
  }

  /** Remembers how full a slot was found (`used`: its count, or undefined for full). */
  learn(reservation: Reservation, used: number | undefined): void {
    this.remember(reservation.pk, used ?? reservation.capacity);
  }

  /** Remembers reservations that went through. */
  reserved(reservations: readonly Reservation[]): void {
    for (const r of reservations) this.remember(r.pk, (this.known.get(r.pk) ?? 0) + r.n);
  }

  /**
   * Reserves the plan's sends in `table`: one conditional `ADD` per slot item, all at once, each
   * outside any transaction. Resolves with the slot items that refused (full for what was asked;
   * what they hold is learnt from the refusal's `ALL_OLD` item), the others hold the sends now.
   * Throws what DynamoDB throws other than a failed condition, after giving back what went through.
   */
  async reserve(db: DynamoDBDocumentClient, table: string, reservations: readonly Reservation[]): Promise<ReadonlySet<string>> {
    const refused = new Set<string>();
    const taken: Reservation[] = [];
    let failure: { error: unknown } | undefined;
    await Promise.all(
      reservations.map(async (reservation) => {
        try {
          await db.send(new UpdateCommand({ TableName: table, ...this.update(reservation) }));
          taken.push(reservation);
        } catch (error) {
          if (!(error instanceof ConditionalCheckFailedException)) {
            failure ??= { error };
            return;
          }
          refused.add(reservation.pk);
          this.learn(reservation, usedOf(error.Item));
        }
      }),
    );
    this.reserved(taken);
    if (failure) {
      await this.giveBack(db, table, taken.flatMap((r) => Array.from({ length: r.n }, () => r.pk)));
      throw failure.error;
    }
    return refused;
  }

  /**
   * Plans `requests` and reserves what the plan holds: a unit whose slot items all took its send
   * is `placed`; one with no room within the look-ahead is `deferred` (until when, epoch ms); one
   * that one of its slot items refused (another worker filled it first, as this one now knows) is
   * neither, and is to be planned again, what its other items took given back.
   */
  async place(
    db: DynamoDBDocumentClient,
    table: string,
    requests: readonly BudgetRequest[],
    now: Date,
  ): Promise<{ readonly placed: ReadonlyMap<string, PlacedSend>; readonly deferred: ReadonlyMap<string, number> }> {
    const plan = this.plan(requests, now);
    const refused = plan.reservations.length > 0 ? await this.reserve(db, table, plan.reservations) : new Set<string>();
    const placed = new Map<string, PlacedSend>();
    const back: string[] = [];
    for (const { key } of requests) {
      if (plan.deferred.has(key)) continue;
      const spends = plan.spends.get(key) ?? [];
      if (spends.some((pk) => refused.has(pk))) {
        back.push(...spends.filter((pk) => !refused.has(pk)));
        continue;
      }
      const reserved = plan.reserved.get(key);
      placed.set(key, { sendAt: plan.sendAt.get(key) ?? now.getTime(), ...(reserved ? { reserved } : {}), spends });
    }
    if (back.length > 0) await this.giveBack(db, table, back);
    return { placed, deferred: plan.deferred };
  }

  /**
   * Gives back sends reserved for units that will not make them (not claimed, planned again):
   * `spends` names one slot item per send; one `ADD -n` per slot item, all at once. Never throws:
   * a give-back that fails is logged, and its slot then counts sends that never happen, which only
   * slows that second down.
   */
  async giveBack(db: DynamoDBDocumentClient, table: string, spends: readonly string[]): Promise<void> {
    const perSlot = new Map<string, number>();
    for (const pk of spends) perSlot.set(pk, (perSlot.get(pk) ?? 0) + 1);
    await Promise.all(
      [...perSlot].map(async ([pk, n]) => {
        try {
          await db.send(
            new UpdateCommand({
              TableName: table,
              Key: { pk },
              UpdateExpression: 'ADD used :n',
              // Only a slot that exists: one already expired has nothing to give back to.
              ConditionExpression: 'attribute_exists(pk)',
              ExpressionAttributeValues: { ':n': -n },
            }),
          );
          this.remember(pk, Math.max(0, (this.known.get(pk) ?? n) - n));
        } catch (error) {
          if (!(error instanceof ConditionalCheckFailedException)) logger.warn('Could not give back a send-budget reservation', { slot: pk, n, error: describeError(error) });
        }
      }),
    );
  }

  private remember(pk: string, used: number): void {
    if (this.known.size >= knownSlotLimit) this.known.clear();
    this.known.set(pk, used);
  }
}

/**
 * How many times one send is planned: each refusal teaches this worker that a second is full, so
 * a send that keeps losing its second to others runs out of look-ahead first; this only bounds it.
 */
const oneSendRounds = slotLookahead + 2;

/**
 * One send's room in a provider's budget for a send the engine does not make (a verification
 * code): the slots, the conditional writes and the give-backs of the engine's claims
 * (`SendBudgets.place`), for a unit of one send. A send for which no second within the look-ahead
 * has room reserves nothing.
 */
export class DynamoSendBudget implements SendBudget {
  private readonly db: DynamoDBDocumentClient;
  private readonly table: () => string;
  private readonly budgets: SendBudgets;
  private readonly ready: () => Promise<void>;

  /** `ready` resolves once the budgets are known (they may be read from SES the first time). */
  constructor(db: DynamoDBDocumentClient, table: () => string, budgets: SendBudgets, ready: () => Promise<void> = async () => undefined) {
    this.db = db;
    this.table = table;
    this.budgets = budgets;
    this.ready = ready;
  }

  async reserveOne(provider: Provider, tenantId: string, now: Date): Promise<OneSendSlot> {
    const started = performance.now();
    await this.ready();
    for (let round = 0; round < oneSendRounds; round++) {
      // Each round plans from the instant it starts: reading SES's quota on a cold start, and the
      // rounds before it, may have taken a good part of a second.
      const planAt = new Date(now.getTime() + (performance.now() - started));
      const { placed, deferred } = await this.budgets.place(this.db, this.table(), [{ key: 'send', tenantId, providers: [provider] }], planAt);
      const retryAt = deferred.get('send');
      if (retryAt !== undefined) return { placed: false, retryAt };
      const send = placed.get('send');
      if (send) return { placed: true, sendAt: send.sendAt, ...(send.reserved ? { until: send.reserved.until } : {}) };
    }
    return { placed: false, retryAt: slotEnd(slotOf(now.getTime() + (performance.now() - started))) };
  }
}
