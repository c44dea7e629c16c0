/** Routes of `/v1/broadcasts`: parse, call the use case, shape the response. */
import { once } from '../../../shared/config.ts';
import { broadcastScheduler, fanoutQueue } from '../../../shared/adapters/dependencies/broadcast-queues.ts';
import { broadcastRecipientStore, broadcastStore } from '../../../shared/adapters/dependencies/broadcasts.ts';
import { systemClock } from '../../../shared/adapters/dependencies/clock.ts';
import { recipientStore } from '../../../shared/adapters/dependencies/directory.ts';
import { templateStore } from '../../../shared/adapters/dependencies/templates.ts';
import { createRecords, idempotencyStore } from '../../../shared/adapters/dependencies/idempotency.ts';
import { toBroadcastRecipientView, toBroadcastView } from '../../../shared/domain/broadcast.ts';
import { deliveryAudienceOf } from '../../../shared/domain/delivery-views.ts';
import {
  broadcastIdSchema,
  createBroadcastBodySchema,
  listBroadcastRecipientsQuerySchema,
  listBroadcastsQuerySchema,
  scheduleBroadcastBodySchema,
} from '../../../shared/domain/schemas.ts';
import { idempotencyKeyOf, idempotent } from '../../../shared/http/idempotency.ts';
import { callerFrom, json, parseBody, pathParameter, queryParameters } from '../../../shared/http/request.ts';
import type { HttpEvent, HttpResult } from '../../../shared/http/request.ts';
import {
  cancelBroadcast,
  checkCreateBroadcast,
  createBroadcast,
  getBroadcast,
  listBroadcastRecipients,
  listBroadcasts,
  retryBroadcast,
  scheduleBroadcast,
} from '../../../shared/use-cases/broadcasts.ts';
import type { BroadcastDeps } from '../../../shared/use-cases/broadcasts.ts';

const deps = once(
  (): BroadcastDeps => ({
    broadcasts: broadcastStore(),
    rows: broadcastRecipientStore(),
    recipients: recipientStore(),
    scheduler: broadcastScheduler(),
    fanout: fanoutQueue(),
    clock: systemClock,
    // Made on first use: only a create naming a template reads it.
    templates: { get: (...args) => templateStore().get(...args) },
    createRecords: createRecords(),
  }),
);

/** `POST /v1/broadcasts` (honours `Idempotency-Key`) */
export const createBroadcastRoute = idempotent(
  async (event: HttpEvent): Promise<HttpResult> => {
    const caller = callerFrom(event);
    const body = parseBody(event, createBroadcastBodySchema);
    return json(201, await createBroadcast(deps(), caller, body, { idempotency: idempotencyKeyOf(event) }));
  },
  idempotencyStore,
  { precheck: async (event) => checkCreateBroadcast(deps(), callerFrom(event), parseBody(event, createBroadcastBodySchema)) },
);

/** `GET /v1/broadcasts`: newest first, one page at a time. */
export async function listBroadcastsRoute(event: HttpEvent): Promise<HttpResult> {
  const caller = callerFrom(event);
  const query = queryParameters(event, listBroadcastsQuerySchema);
  const page = await listBroadcasts(deps(), caller, query);
  return json(200, { items: page.items.map((b) => toBroadcastView(b)), nextCursor: page.nextCursor });
}

/** `GET /v1/broadcasts/{id}`: with its progress, from counters. */
export async function getBroadcastRoute(event: HttpEvent): Promise<HttpResult> {
  const caller = callerFrom(event);
  const id = pathParameter(event, 'id', broadcastIdSchema);
  const { broadcast, content } = await getBroadcast(deps(), caller, id);
  return json(200, toBroadcastView(broadcast, content));
}

/** `DELETE /v1/broadcasts/{id}`: cancels it. */
export async function cancelBroadcastRoute(event: HttpEvent): Promise<HttpResult> {
  const caller = callerFrom(event);
  const id = pathParameter(event, 'id', broadcastIdSchema);
  const cancelled = await cancelBroadcast(deps(), caller, id);
  return json(200, { broadcastId: cancelled.id, status: cancelled.status });
}

/** `POST /v1/broadcasts/{id}/schedule`: a draft goes out at `scheduledAt` (or now). */
export async function scheduleBroadcastRoute(event: HttpEvent): Promise<HttpResult> {
  const caller = callerFrom(event);
  const id = pathParameter(event, 'id', broadcastIdSchema);
  const body = parseBody(event, scheduleBroadcastBodySchema, { optional: true });
  const scheduled = await scheduleBroadcast(deps(), caller, id, body);
  return json(200, { broadcastId: scheduled.id, status: scheduled.status, scheduledAt: scheduled.scheduledAt ?? null });
}

/** `POST /v1/broadcasts/{id}/retry`: its failed recipients go back through delivery. */
export async function retryBroadcastRoute(event: HttpEvent): Promise<HttpResult> {
  const caller = callerFrom(event);
  const id = pathParameter(event, 'id', broadcastIdSchema);
  const reopened = await retryBroadcast(deps(), caller, id);
  return json(202, { broadcastId: reopened.id, status: reopened.status, retrying: reopened.counts.failed });
}

/** `GET /v1/broadcasts/{id}/recipients`: each recipient's outcome, with channel details and error. */
export async function listBroadcastRecipientsRoute(event: HttpEvent): Promise<HttpResult> {
  const caller = callerFrom(event);
  const id = pathParameter(event, 'id', broadcastIdSchema);
  const query = queryParameters(event, listBroadcastRecipientsQuerySchema);
  const page = await listBroadcastRecipients(deps(), caller, id, query);
  return json(200, { items: page.items.map((row) => toBroadcastRecipientView(row, deliveryAudienceOf(caller))), nextCursor: page.nextCursor });
}
