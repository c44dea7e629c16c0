/** The HTTP API function: every route of the app description, dispatched by `routeKey`. */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Context } from 'aws-lambda';
import { NotFoundError } from '../../shared/errors.ts';
import { httpErrorMiddleware } from '../../shared/http/error-middleware.ts';
import type { HttpEvent, HttpResult } from '../../shared/http/request.ts';
import { logger } from '../../shared/observability/logger.ts';
import { routeHandlers } from './routes.ts';

async function dispatch(event: HttpEvent, context: Context): Promise<HttpResult> {
  const route = routeHandlers[event.routeKey];
  if (!route) throw new NotFoundError(`No route ${event.routeKey}`);
  return route(event, context);
}

export const handler = middy<HttpEvent, HttpResult>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(httpErrorMiddleware())
  .handler(dispatch);
