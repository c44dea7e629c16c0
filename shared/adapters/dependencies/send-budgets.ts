/**
 * The providers' send-rate budgets (shared/domain/rate-budget.ts), as every function that sends
 * through SES or SNS SMS keeps them: the delivering functions' claims, and the API's verification
 * codes, reserve their sends in the same slots of the `rate-limits` table.
 */
import { GetSendQuotaCommand } from '@aws-sdk/client-ses';
import { once, sendBudgetsConfig } from '../../config.ts';
import type { RateBudgets } from '../../domain/rate-budget.ts';
import { logger } from '../../observability/logger.ts';
import type { SendBudget } from '../../ports.ts';
import { DynamoSendBudget, SendBudgets } from '../dynamo-send-budgets.ts';
import { documentClient, tables } from './dynamodb.ts';
import { sesClient } from './mail.ts';

/**
 * The providers' send-rate budgets: configured ones, and for SES without one, the account's own
 * maximum send rate (`GetSendQuota`), asked once per cold start. If SES cannot tell, there is no
 * budget: SES's own throttling answers are then the only brake (they never fail a delivery).
 */
async function resolveBudgets(): Promise<RateBudgets> {
  const configured = sendBudgetsConfig();
  // SMS has no quota SNS answers for: its budget is configuration only (herald:smsPerSecond).
  const sms = configured['sns-sms']?.perSecond !== undefined ? { 'sns-sms': { perSecond: configured['sns-sms'].perSecond, ...tenantShare(configured['sns-sms']) } } : {};
  if (configured.ses?.perSecond !== undefined) {
    return { ses: { perSecond: configured.ses.perSecond, ...tenantShare(configured.ses) }, ...sms };
  }
  try {
    // Asked once, at a cold start: it must not hold the first delivery up for long.
    const quota = await sesClient().send(new GetSendQuotaCommand({}), { abortSignal: AbortSignal.timeout(3_000) });
    const perSecond = quota.MaxSendRate;
    if (perSecond === undefined || perSecond <= 0) return sms;
    return { ses: { perSecond, ...tenantShare(configured.ses) }, ...sms };
  } catch (error) {
    logger.warn('Could not read the SES send quota; e-mail has no send budget but SES throttling', { error: error as Error });
    return sms;
  }
}

function tenantShare(budget: { readonly tenantPerSecond?: number } | undefined): { tenantPerSecond?: number } {
  return budget?.tenantPerSecond !== undefined ? { tenantPerSecond: budget.tenantPerSecond } : {};
}

let budgets: RateBudgets | undefined;
let resolving: Promise<RateBudgets> | undefined;
/**
 * Reads the budgets before the first budgeted send (the engine's claims read them synchronously).
 * The invocations a cold sandbox runs side by side share the one read.
 */
export async function loadSendBudgets(): Promise<void> {
  budgets ??= await (resolving ??= resolveBudgets());
}

/** The sandbox's planner of the budgets: what it learns of how full each second is, all its sends share. */
export const sendBudgets = /* @__PURE__ */ once(() => new SendBudgets(() => budgets ?? {}));

/** One send's room in its provider's budget, for a send the engine does not make (a verification code). */
export const oneSendBudget = /* @__PURE__ */ once((): SendBudget => new DynamoSendBudget(documentClient(), () => tables().rateLimits, sendBudgets(), loadSendBudgets));
