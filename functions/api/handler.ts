/** The HTTP API function: every route of the app description, dispatched by the described route the request reached. */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Context } from 'aws-lambda';
import { httpRoutes } from '../../lib/app-description.ts';
import { declaredRouteOf, gatewayRoutes } from '../../lib/http-gateway-routes.ts';
import { NotFoundError } from '../../shared/errors.ts';
import { systemClock } from '../../shared/adapters/dependencies/clock.ts';
import { documentClient, tables } from '../../shared/adapters/dependencies/dynamodb.ts';
import { DynamoRequestQuota } from '../../shared/adapters/dynamo-request-quota.ts';
import { once, tenantRequestsPerSecond } from '../../shared/config.ts';
import { httpErrorMiddleware } from '../../shared/http/error-middleware.ts';
import { tenantQuotaMiddleware } from '../../shared/http/tenant-quota.ts';
import type { HttpEvent, HttpResult } from '../../shared/http/request.ts';
import { logger } from '../../shared/observability/logger.ts';
import { refuseUnreadInput, routeLoaders } from './routes.ts';

// The routes as deployed: a path ending in `/` arrives on a greedy route, named back here.
const deployedRoutes = gatewayRoutes(httpRoutes);

async function dispatch(event: HttpEvent, context: Context): Promise<HttpResult> {
  const declared = declaredRouteOf(deployedRoutes, event);
  const load = declared && routeLoaders[declared.routeKey];
  // Named as the caller sent it: the route key a greedy route caught it on is the gateway's business.
  if (!declared || !load) throw new NotFoundError(`No route for ${event.requestContext.http.method} ${event.rawPath}`);
  refuseUnreadInput(declared.routeKey, event);
  const route = await load();
  if (declared.routeKey === event.routeKey) return route(event, context);
  return route({ ...event, routeKey: declared.routeKey, pathParameters: { ...declared.pathParameters } }, context);
}

// 0 turns the per-tenant quota off: nothing is counted.
const requestQuota = once(() => {
  const perSecond = tenantRequestsPerSecond();
  return perSecond > 0 ? new DynamoRequestQuota(documentClient(), () => tables().rateLimits, perSecond) : undefined;
});

export const handler = middy<HttpEvent, HttpResult>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(httpErrorMiddleware())
  .use(tenantQuotaMiddleware(requestQuota, systemClock))
  .handler(dispatch);
