/** Routes of `/v1/recurring-notifications` (issue 12): parse, call the use case, shape the response. */
import { systemClock } from '../../../shared/adapters/dependencies/clock.ts';
import { recipientStore } from '../../../shared/adapters/dependencies/directory.ts';
import { createRecords, idempotencyStore } from '../../../shared/adapters/dependencies/idempotency.ts';
import { recurringScheduler, recurringStore } from '../../../shared/adapters/dependencies/recurring.ts';
import { once } from '../../../shared/config.ts';
import { toRecurringView } from '../../../shared/domain/recurring.ts';
import { createRecurringBodySchema, listRecurringQuerySchema, patchRecurringBodySchema, recurringIdSchema } from '../../../shared/domain/schemas.ts';
import { idempotencyKeyOf, idempotent } from '../../../shared/http/idempotency.ts';
import { callerFrom, json, parseBody, pathParameter, queryParameters } from '../../../shared/http/request.ts';
import type { HttpEvent, HttpResult } from '../../../shared/http/request.ts';
import { checkCreateRecurring, createRecurring, deleteRecurring, getRecurring, listRecurring, patchRecurring, upcomingOccurrences } from '../../../shared/use-cases/recurring.ts';
import type { RecurringDeps } from '../../../shared/use-cases/recurring.ts';

const deps = once(
  (): RecurringDeps => ({ recurring: recurringStore(), scheduler: recurringScheduler(), recipients: recipientStore(), clock: systemClock, createRecords: createRecords() }),
);

/** `POST /v1/recurring-notifications` (honours `Idempotency-Key`) */
export const createRecurringRoute = idempotent(
  async (event: HttpEvent): Promise<HttpResult> => {
    const caller = callerFrom(event);
    const created = await createRecurring(deps(), caller, parseBody(event, createRecurringBodySchema), { idempotency: idempotencyKeyOf(event) });
    const now = systemClock.now();
    return json(201, toRecurringView(created, now.getTime(), upcomingOccurrences(created, now)));
  },
  idempotencyStore,
  { precheck: async (event) => checkCreateRecurring(deps(), callerFrom(event), parseBody(event, createRecurringBodySchema), systemClock.now()) },
);

/** `GET /v1/recurring-notifications`: in id order (creation order), a page at a time. */
export async function listRecurringRoute(event: HttpEvent): Promise<HttpResult> {
  const page = await listRecurring(deps(), callerFrom(event), queryParameters(event, listRecurringQuerySchema));
  const now = systemClock.now().getTime();
  return json(200, { items: page.items.map((r) => toRecurringView(r, now)), nextCursor: page.nextCursor });
}

/** `GET /v1/recurring-notifications/{id}`: with the next occurrences and the last ones. */
export async function getRecurringRoute(event: HttpEvent): Promise<HttpResult> {
  const recurring = await getRecurring(deps(), callerFrom(event), pathParameter(event, 'id', recurringIdSchema));
  const now = systemClock.now();
  return json(200, toRecurringView(recurring, now.getTime(), upcomingOccurrences(recurring, now)));
}

/** `PATCH /v1/recurring-notifications/{id}`: change it; `{ "paused": true | false }` pauses or resumes. */
export async function patchRecurringRoute(event: HttpEvent): Promise<HttpResult> {
  const caller = callerFrom(event);
  // The body first: one over its cap is a 413 whatever the path says.
  const body = parseBody(event, patchRecurringBodySchema);
  const id = pathParameter(event, 'id', recurringIdSchema);
  const changed = await patchRecurring(deps(), caller, id, body);
  const now = systemClock.now();
  return json(200, toRecurringView(changed, now.getTime(), upcomingOccurrences(changed, now)));
}

/** `DELETE /v1/recurring-notifications/{id}`: ends it. */
export async function deleteRecurringRoute(event: HttpEvent): Promise<HttpResult> {
  const id = pathParameter(event, 'id', recurringIdSchema);
  await deleteRecurring(deps(), callerFrom(event), id);
  return json(200, { recurringId: id, status: 'ended' });
}
