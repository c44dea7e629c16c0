/**
 * A verification code by e-mail or SMS (`PATCH /v1/me`) goes out within its provider's send
 * budget, as every delivery does (docs/delivery-engine.md, "Send rates that hold"): the codes and
 * the deliveries share one SES account and one SNS account, so a code that ignored the budget
 * would both exceed it and take a send the engine had reserved. One send is reserved in the
 * provider's budget (all tenants, and the tenant's share) in the second the engine's claims would
 * pick; the request waits for that second's start and sends only while it lasts. The user is
 * waiting for the answer, so what does not fit soon is not waited for: no second within the
 * look-ahead with room, or a provider that keeps answering Throttling, is a {@link CodeNotSentYetError}
 * saying when to ask again. Telegram and webhooks have no budget: their codes go at once.
 */
import { setTimeout as sleepMs } from 'node:timers/promises';
import type { VerifiableChannel } from '../domain/contact-verification.ts';
import { classifyProviderError } from '../domain/delivery-errors.ts';
import { BudgetSecondPassedError } from '../domain/rate-budget.ts';
import { sleepUntil } from '../domain/sleep-until.ts';
import type { Provider } from '../domain/rate-budget.ts';
import type { Clock, SendBudget } from '../ports.ts';

/** Sends a verification code to an address, in Herald's own words. */
export interface VerificationCodeSender {
  /**
   * `who`: the recipient it is for (a webhook code is signed with their tenant's secret).
   * `beforeSend` runs just before the provider call that sends the code (for SMS, after the
   * opt-out check); what it throws, the send rejects with, nothing sent.
   */
  send(
    channel: VerifiableChannel,
    address: string,
    code: string,
    who: { readonly tenantId: string; readonly id: string },
    options?: { readonly beforeSend?: () => void },
  ): Promise<void>;
}

export interface CodeSendDeps {
  readonly codes: VerificationCodeSender;
  readonly sendBudget: SendBudget;
  readonly clock: Clock;
  /** Waits for a reserved second and between throttled tries. @default node's timers */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** The budgeted provider each code channel sends through; Telegram and webhooks have no budget. */
const budgetedProviders: Readonly<Partial<Record<VerifiableChannel, Provider>>> = { email: 'ses', sms: 'sns-sms' };

/**
 * What a code its provider throttled waits before it is tried again (ms), one entry per retry: two
 * retries, 1 s of waiting in all, since the user waits for the answer. A provider that asks for
 * longer (SES's daily quota, an hour) is not retried: its wait is the answer's `Retry-After`.
 */
export const codeThrottleWaitsMs: readonly number[] = [250, 750];

/** Thrown when a code could not be sent yet, though it may be later: `retryAfterSeconds` says when to ask again. */
export class CodeNotSentYetError extends Error {
  readonly retryAfterSeconds: number;

  /** `reason`: why, in words a caller may read ("... is taken for the next seconds"). */
  constructor(reason: string, retryAfterSeconds: number, options?: { cause?: unknown }) {
    super(reason, options);
    this.name = 'CodeNotSentYetError';
    this.retryAfterSeconds = Math.max(1, Math.ceil(retryAfterSeconds));
  }
}

/** Human names of the budgeted providers, for the answer a user reads. */
const providerNames: Readonly<Record<Provider, string>> = { ses: 'e-mail', 'sns-sms': 'SMS' };

/**
 * Sends `code` to `address` on `channel`. An e-mail or SMS code is sent within its provider's
 * budget, and tried again when the provider throttles it ({@link codeThrottleWaitsMs}), each try
 * with a second of its own; one whose second ended before the provider call is planned again.
 * @throws CodeNotSentYetError when no second within the look-ahead has room, or the provider
 * still throttles it; what the provider threw otherwise.
 */
export async function sendVerificationCode(
  deps: CodeSendDeps,
  channel: VerifiableChannel,
  address: string,
  code: string,
  who: { readonly tenantId: string; readonly id: string },
): Promise<void> {
  const provider = budgetedProviders[channel];
  if (provider === undefined) return deps.codes.send(channel, address, code, who);
  const sleep = deps.sleep ?? sleepMs;
  const now = (): number => deps.clock.now().getTime();
  const tries = codeThrottleWaitsMs.length + 1;
  let lastError: unknown;
  for (let attempt = 0; attempt < tries; attempt++) {
    const slot = await deps.sendBudget.reserveOne(provider, who.tenantId, deps.clock.now());
    if (!slot.placed) {
      throw new CodeNotSentYetError(`every ${providerNames[provider]} send Herald may make in the next seconds is taken`, (slot.retryAt - now()) / 1000);
    }
    await sleepUntil(now, slot.sendAt, sleep);
    const { until } = slot;
    // Just before the provider call: the send goes out only within the second it reserved.
    const beforeSend = (): void => {
      if (until !== undefined && now() >= until) throw new BudgetSecondPassedError(provider, until);
    };
    try {
      await deps.codes.send(channel, address, code, who, { beforeSend });
      return;
    } catch (error) {
      lastError = error;
      // Its second ended first (a slow machine): another second, at once; the first is wasted.
      // Unless it ended while the SDK waited to retry an attempt the provider throttled: that answer decides.
      const answered = error instanceof BudgetSecondPassedError ? error.cause : error;
      if (error instanceof BudgetSecondPassedError && (answered === undefined || classifyProviderError(answered, now()).kind !== 'throttled')) continue;
      const verdict = classifyProviderError(answered, now());
      if (verdict.kind !== 'throttled') throw error;
      const wait = codeThrottleWaitsMs[attempt];
      // Out of tries, or the provider asks for longer than a request may wait.
      if (wait === undefined || verdict.retryAfterMs > codeThrottleWaitsMs.reduce((sum, ms) => sum + ms, 0)) {
        throw new CodeNotSentYetError(`the ${providerNames[provider]} provider asked Herald to slow down`, verdict.retryAfterMs / 1000, { cause: answered });
      }
      await sleep(wait);
    }
  }
  // Every try's second ended before its send could start.
  throw new CodeNotSentYetError(`Herald could not send it within the second it reserved`, 1, { cause: lastError });
}
