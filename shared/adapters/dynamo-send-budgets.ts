/**
 * Send-rate budgets in DynamoDB (see shared/domain/rate-budget.ts): one small item per provider,
 * scope (all tenants, or one tenant) and second, whose `used` a claim raises with a conditional
 * `ADD` in its own transaction. Whatever a worker learns of a slot (how full it is) it keeps, so
 * it does not ask again for room it knows is gone. Items expire an hour after their second.
 */
import type { Provider, RateBudgets } from '../domain/rate-budget.ts';
import { fitting, slotEnd, slotLookahead, slotOf } from '../domain/rate-budget.ts';
import type { ReservedSlot } from '../domain/rate-budget.ts';
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
 * each unit that spends a budget reserved (its sends must start before it ends), the units
 * deferred, the reservations.
 */
export interface BudgetPlan {
  readonly sendAt: ReadonlyMap<string, number>;
  readonly reserved: ReadonlyMap<string, ReservedSlot>;
  readonly deferred: ReadonlyMap<string, number>;
  readonly reservations: readonly Reservation[];
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

  /** The buckets (slot item key, capacity) a send through `provider` for `tenantId` spends in `slot`. */
  private buckets(provider: Provider, tenantId: string, slot: number): { pk: string; capacity: number }[] {
    const budget = this.budgets()[provider];
    if (!budget) return [];
    return [
      { pk: `${provider}#all#${slot}`, capacity: budget.perSecond },
      { pk: `${provider}#t:${keyPart(tenantId)}#${slot}`, capacity: budget.tenantPerSecond ?? budget.perSecond },
    ];
  }

  /**
   * Places each unit in the earliest second, from now on, where every bucket its sends spend has
   * room (by what this worker knows); a unit with no room within the look-ahead is deferred. A
   * placed unit that spends a budget is told the end of its second (`reserved`): it must not send after.
   */
  plan(requests: readonly BudgetRequest[], now: Date): BudgetPlan {
    const current = slotOf(now.getTime());
    const planned = new Map<string, { n: number; capacity: number }>();
    const sendAt = new Map<string, number>();
    const reserved = new Map<string, ReservedSlot>();
    const deferred = new Map<string, number>();
    for (const request of requests) {
      let placed = false;
      for (let slot = current; slot <= current + slotLookahead && !placed; slot++) {
        const buckets = request.providers.flatMap((provider) => this.buckets(provider, request.tenantId, slot));
        const fits = buckets.every((b) => fitting(b.capacity, (this.known.get(b.pk) ?? 0) + (planned.get(b.pk)?.n ?? 0), 1) === 1);
        if (!fits) continue;
        for (const b of buckets) planned.set(b.pk, { n: (planned.get(b.pk)?.n ?? 0) + 1, capacity: b.capacity });
        sendAt.set(request.key, slot === current ? now.getTime() : slot * 1000);
        const budgeted = request.providers.filter((provider) => this.budgets()[provider] !== undefined);
        if (budgeted.length > 0) reserved.set(request.key, { until: slotEnd(slot), providers: [...new Set(budgeted)] });
        placed = true;
      }
      if (!placed) deferred.set(request.key, (current + slotLookahead + 1) * 1000);
    }
    return { sendAt, reserved, deferred, reservations: [...planned].map(([pk, { n, capacity }]) => ({ pk, n, capacity })) };
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

  private remember(pk: string, used: number): void {
    if (this.known.size >= knownSlotLimit) this.known.clear();
    this.known.set(pk, used);
  }
}
