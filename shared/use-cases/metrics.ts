/** Reading a tenant's metrics: counters summed over whole UTC hours (see shared/domain/metrics.ts). */
import type { Caller } from '../domain/caller.ts';
import { isAdmin } from '../domain/caller.ts';
import { startOfHour, toMetricsReport } from '../domain/metrics.ts';
import type { EmailAccountStatus } from '../domain/email-account.ts';
import type { MetricsReport } from '../domain/metrics.ts';
import { ForbiddenError } from '../errors.ts';
import { logger } from '../observability/logger.ts';
import type { Clock, EmailAccount, MetricsStore } from '../ports.ts';

export interface MetricsDeps {
  readonly metrics: MetricsStore;
  readonly clock: Clock;
  /** The SES account, whose sandbox status and quota the report shows. @default none: `email` is null */
  readonly emailAccount?: EmailAccount;
}

/**
 * The caller's tenant's counts over the last `periodSeconds`, rounded out to whole hours: the
 * window starts at the beginning of the hour that holds `now - period`. Admins only.
 */
export async function getTenantMetrics(deps: MetricsDeps, caller: Caller, periodSeconds: number): Promise<MetricsReport> {
  if (!isAdmin(caller)) throw new ForbiddenError('Only tenant admins may read metrics');
  const to = deps.clock.now();
  const from = startOfHour(new Date(to.getTime() - periodSeconds * 1000));
  const [sums, email] = await Promise.all([deps.metrics.sum(caller.tenantId, from, to), emailStatus(deps.emailAccount)]);
  return toMetricsReport(sums, { period: periodSeconds, from, to }, email);
}

/** The SES account's status, or null when SES cannot be asked (the counts are worth answering without it). */
async function emailStatus(account: EmailAccount | undefined): Promise<EmailAccountStatus | null> {
  if (!account) return null;
  try {
    return await account.status();
  } catch (error) {
    logger.warn('Could not read the SES account status', { error });
    return null;
  }
}
