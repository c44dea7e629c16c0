/**
 * The per-tenant request quota of the HTTP API, as a middy middleware: every request with token
 * claims counts against its tenant's requests of that second; past the quota it is answered 429
 * with `Retry-After` before any route runs. API Gateway's stage throttling caps all tenants
 * together; this keeps one tenant from taking that whole capacity. A quota store that cannot be
 * reached lets the request through (logged): the quota protects capacity, it must not take the
 * API down with it.
 */
import type { MiddlewareObj } from '@middy/core';
import { TooManyRequestsError } from '../errors.ts';
import { logger } from '../observability/logger.ts';
import type { Clock, RequestQuota } from '../ports.ts';
import { callerFrom } from './request.ts';
import type { HttpEvent, HttpResult } from './request.ts';

/** Counts each authenticated request against its tenant's quota (`quota` made on first use; `undefined`: no quota). */
export function tenantQuotaMiddleware(quota: () => RequestQuota | undefined, clock: Clock): MiddlewareObj<HttpEvent, HttpResult> {
  const tenantQuotaMiddlewareBefore = async (request: { event: HttpEvent }): Promise<void> => {
    const counter = quota();
    if (!counter) return;
    // Public routes (health, the docs) carry no claims; a token naming no tenant is the route's 401.
    if (!request.event.requestContext.authorizer?.jwt?.claims) return;
    let tenantId: string;
    try {
      tenantId = callerFrom(request.event).tenantId;
    } catch {
      return;
    }
    let taken: { readonly retryAfterSeconds?: number };
    try {
      taken = await counter.take(tenantId, clock.now());
    } catch (error) {
      logger.warn('Could not count a request against its tenant quota; let through', { error });
      return;
    }
    if (taken.retryAfterSeconds !== undefined) {
      throw new TooManyRequestsError('Your tenant made more requests this second than its quota allows', { retryAfterSeconds: taken.retryAfterSeconds });
    }
  };
  return { before: tenantQuotaMiddlewareBefore };
}
