/**
 * Send-rate budgets: how fast Herald may call each provider, overall and per tenant, across every
 * concurrent worker. A budget is kept in one-second slots: a claim that is about to send `n`
 * messages through a provider first adds `n` to the current slot of the provider's counter (and
 * of the tenant's), on the condition that the slot stays within its capacity; what does not fit
 * waits for a later slot. No AWS here: the delivery store keeps the slots (a conditional `ADD` in
 * the claim's own transaction).
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

/** How many of `wanted` sends still fit in a slot of `capacity` that already holds `used`. */
export function fitting(capacity: number, used: number, wanted: number): number {
  return Math.max(0, Math.min(wanted, capacity - used));
}

/** How many slots ahead a claim looks for room before it defers the rest. */
export const slotLookahead = 3;
