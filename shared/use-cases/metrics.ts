/** Reading a tenant's metrics: counters summed over whole UTC hours (see shared/domain/metrics.ts). */
import type { Caller } from '../domain/caller.ts';
import { isAdmin } from '../domain/caller.ts';
import { startOfHour, toMetricsReport } from '../domain/metrics.ts';
import type { MetricsReport } from '../domain/metrics.ts';
import { ForbiddenError } from '../errors.ts';
import type { Clock, MetricsStore } from '../ports.ts';

export interface MetricsDeps {
  readonly metrics: MetricsStore;
  readonly clock: Clock;
}

/**
 * The caller's tenant's counts over the last `periodSeconds`, rounded out to whole hours: the
 * window starts at the beginning of the hour that holds `now - period`. Admins only.
 */
export async function getTenantMetrics(deps: MetricsDeps, caller: Caller, periodSeconds: number): Promise<MetricsReport> {
  if (!isAdmin(caller)) throw new ForbiddenError('Only tenant admins may read metrics');
  const to = deps.clock.now();
  const from = startOfHour(new Date(to.getTime() - periodSeconds * 1000));
  const sums = await deps.metrics.sum(caller.tenantId, from, to);
  return toMetricsReport(sums, { period: periodSeconds, from, to });
}
