/** `GET /v1/metrics`: parse, call the use case, shape the response. */
import { once } from '../../../shared/config.ts';
import { systemClock } from '../../../shared/adapters/dependencies/clock.ts';
import { emailAccount } from '../../../shared/adapters/dependencies/email-account.ts';
import { metricsStore } from '../../../shared/adapters/dependencies/metrics.ts';
import { metricsQuerySchema } from '../../../shared/domain/schemas.ts';
import { callerFrom, json, queryParameters } from '../../../shared/http/request.ts';
import type { HttpEvent, HttpResult } from '../../../shared/http/request.ts';
import { getTenantMetrics } from '../../../shared/use-cases/metrics.ts';
import type { MetricsDeps } from '../../../shared/use-cases/metrics.ts';

const deps = once((): MetricsDeps => ({ metrics: metricsStore(), clock: systemClock, emailAccount: emailAccount() }));

/** `GET /v1/metrics?period=3600` (admins): the tenant's counts over the last `period` seconds, and the SES account's sandbox status and quota. */
export async function getMetricsRoute(event: HttpEvent): Promise<HttpResult> {
  const caller = callerFrom(event);
  const { period } = queryParameters(event, metricsQuerySchema);
  return json(200, await getTenantMetrics(deps(), caller, period));
}
