/** Routes of `/v1/recipients`: parse, call the use case, shape the response. */
import { once, webhookTargetsConfig } from '../../../shared/config.ts';
import { systemClock } from '../../../shared/adapters/dependencies/clock.ts';
import { socketPoster } from '../../../shared/adapters/dependencies/connections.ts';
import { recipientStore } from '../../../shared/adapters/dependencies/directory.ts';
import { idempotencyStore } from '../../../shared/adapters/dependencies/idempotency.ts';
import { inboxStore, liveStateStore } from '../../../shared/adapters/dependencies/inbox.ts';
import { deviceEndpoints, pushSubscriptionOwners } from '../../../shared/adapters/dependencies/messaging.ts';
import { deliveryScheduler } from '../../../shared/adapters/dependencies/notification-queue.ts';
import { notificationListing, notificationStore } from '../../../shared/adapters/dependencies/notifications.ts';
import { toRecipientView } from '../../../shared/domain/recipient.ts';
import { batchRecipientsBodySchema, idSchema, listRecipientsQuerySchema, putRecipientBodySchema } from '../../../shared/domain/schemas.ts';
import { idempotent } from '../../../shared/http/idempotency.ts';
import { callerFrom, json, parseBody, pathParameter, queryParameters } from '../../../shared/http/request.ts';
import type { HttpEvent, HttpResult } from '../../../shared/http/request.ts';
import { eraseRecipient, getRecipient, listRecipients, putRecipient, requireManager, upsertRecipients } from '../../../shared/use-cases/recipients.ts';
import type { ErasureDeps, RecipientDeps } from '../../../shared/use-cases/recipients.ts';

const deps = once((): RecipientDeps => ({ recipients: recipientStore(), clock: systemClock, webhookTargets: webhookTargetsConfig() }));
const erasureDeps = once(
  (): ErasureDeps => ({
    ...deps(),
    inbox: inboxStore(),
    live: liveStateStore(),
    notifications: notificationStore(),
    listing: notificationListing(),
    scheduler: deliveryScheduler(),
    sockets: socketPoster(),
    devices: deviceEndpoints(),
    subscriptionOwners: pushSubscriptionOwners(),
  }),
);

/** `PUT /v1/recipients/{id}`: 201 when created, 200 when replaced. */
export async function putRecipientRoute(event: HttpEvent): Promise<HttpResult> {
  const caller = callerFrom(event);
  const id = pathParameter(event, 'id', idSchema);
  const body = parseBody(event, putRecipientBodySchema);
  const { recipient, created } = await putRecipient(deps(), caller, id, body);
  return json(created ? 201 : 200, toRecipientView(recipient));
}

/** `GET /v1/recipients/{id}` */
export async function getRecipientRoute(event: HttpEvent): Promise<HttpResult> {
  const caller = callerFrom(event);
  const id = pathParameter(event, 'id', idSchema);
  return json(200, toRecipientView(await getRecipient(deps(), caller, id)));
}

/** `GET /v1/recipients?group=&limit=&cursor=`: the directory (or a group) in id order. */
export async function listRecipientsRoute(event: HttpEvent): Promise<HttpResult> {
  const caller = callerFrom(event);
  const query = queryParameters(event, listRecipientsQuerySchema);
  return json(200, await listRecipients(deps(), caller, query));
}

/**
 * `POST /v1/recipients/batch` (honours `Idempotency-Key`): 200 when every entry was applied,
 * 207 when some were not; the body lists both, with each failure's reason.
 */
export const batchRecipientsRoute = idempotent(
  async (event: HttpEvent): Promise<HttpResult> => {
    const caller = callerFrom(event);
    const body = parseBody(event, batchRecipientsBodySchema);
    const result = await upsertRecipients(deps(), caller, body.recipients);
    return json(result.failed.length === 0 ? 200 : 207, result);
  },
  idempotencyStore,
  {
    precheck: async (event) => {
      parseBody(event, batchRecipientsBodySchema);
      requireManager(callerFrom(event));
    },
  },
);

/** `DELETE /v1/recipients/{id}`: erasure; says what was removed. */
export async function eraseRecipientRoute(event: HttpEvent): Promise<HttpResult> {
  const caller = callerFrom(event);
  const id = pathParameter(event, 'id', idSchema);
  return json(200, await eraseRecipient(erasureDeps(), caller, id));
}
