/**
 * Send-rate budgets: how fast Herald may call each provider, overall and per tenant, across every
 * concurrent worker. A budget is kept in one-second slots: a claim that is about to send `n`
 * messages through a provider first adds `n` to the current slot of the provider's counter (and
 * of the tenant's), on the condition that the slot stays within its capacity; what does not fit
 * waits for a later slot; a rate below one a second opens one slot in every ceil(1/r) for one send
 * (`slotCapacity`). No AWS here: the delivery store keeps the slots (a plain conditional
 * `ADD` before the claim, never inside a transaction: shared/adapters/dynamo-send-budgets.ts).
 *
 * A reservation holds only for its own second: a send reserved in second `s` goes out during `s`
 * (or, planned for a later second, from that second's start), never after it. Second `s + 1` may
 * already be full with its own reservations, so a send that reaches its provider late would
 * exceed the budget there. A unit whose second passed before its send (a claim that committed
 * late, sends that ran one after another on a slow machine) is not sent: it is planned again, for
 * a second that is still to come, and the reservation it held is wasted (`isSlotOver`).
 */

/** The providers whose send rate is budgeted. */
export const providers = ['ses', 'sns-sms'] as const;
export type Provider = (typeof providers)[number];

/** Sends per second a provider may take: in all, and from one tenant. */
export interface RateBudget {
  readonly perSecond: number;
  /** @default perSecond (one tenant may use the whole budget) */
  readonly tenantPerSecond?: number;
}

export type RateBudgets = Readonly<Partial<Record<Provider, RateBudget>>>;

/** The slot (epoch second) that holds the instant `ms` (epoch ms). */
export function slotOf(ms: number): number {
  return Math.floor(ms / 1000);
}

/** When (epoch ms) the slot `slot` (epoch second) ends: its sends must have started before. */
export function slotEnd(slot: number): number {
  return (slot + 1) * 1000;
}

/** A unit's reservation, as the delivery engine sees it: the budgeted providers, and when their second ends. */
export interface ReservedSlot {
  /** Epoch ms: the end of the reserved second; a send not started before it is planned again. */
  readonly until: number;
  /** The providers whose sends the reservation covers (those with a budget). */
  readonly providers: readonly Provider[];
}

/** True when the reserved second is over at `nowMs` (epoch ms): a send through `provider` must then not go out. */
export function isSlotOver(reserved: ReservedSlot | undefined, provider: Provider | undefined, nowMs: number): boolean {
  return reserved !== undefined && provider !== undefined && reserved.providers.includes(provider) && nowMs >= reserved.until;
}

/** Thrown just before a provider call whose reserved second is over: the send is planned again, not made. */
export class BudgetSecondPassedError extends Error {
  /** `until`: when (epoch ms) the reserved second ended; `cause`: the provider's answer to the attempt before, when a retry was held back. */
  constructor(provider: Provider, until: number, options?: { readonly cause?: unknown }) {
    super(`the ${provider} send-budget second ended at ${new Date(until).toISOString()} before the send could start`, options);
    this.name = 'BudgetSecondPassedError';
  }
}

/**
 * How many sends a budget of `perSecond` lets into the second `slot` (epoch second). A rate of 1 or
 * more counts per second, whole sends only (2.5 lets 2 in). A rate r below 1 (SES's `MaxSendRate`
 * is a Double: GetSendQuota, SES API Reference) would let no send into any second, so it opens one
 * second in every ceil(1/r), the epoch seconds divisible by it, for one send, and leaves the others
 * shut: 0.5 sends in every other second, 0.3 in every fourth. Counted over those ceil(1/r) seconds
 * it never exceeds r, and the slots stay one item per second.
 */
export function slotCapacity(perSecond: number, slot: number): number {
  if (perSecond >= 1) return perSecond;
  const everySeconds = Math.ceil(1 / perSecond);
  return slot % everySeconds === 0 ? 1 : 0;
}

/** How many of `wanted` sends still fit in a slot of `capacity` that already holds `used`. */
export function fitting(capacity: number, used: number, wanted: number): number {
  return Math.max(0, Math.min(wanted, capacity - used));
}

/**
 * A budgeted send is placed in the second under way only while this many ms of it are left (ms):
 * the claim, the status read and the sends themselves (ten at a time) must all start before it
 * ends, or the sends are planned again and their reservation wasted. Later, it goes in the next
 * second, where it has the whole second from its start.
 */
export const currentSlotMinimumMs = 500;

/** How many slots ahead a claim looks for room before it defers the rest. */
export const slotLookahead = 3;

