/** Routes of `/v1/me` (the caller's own record and inbox): parse, call the use case, shape the response. */
import { once, readInboxRetentionDays, webhookTargetsConfig } from '../../../shared/config.ts';
import { systemClock } from '../../../shared/adapters/dependencies/clock.ts';
import { socketPoster } from '../../../shared/adapters/dependencies/connections.ts';
import { recipientStore } from '../../../shared/adapters/dependencies/directory.ts';
import { idempotencyStore } from '../../../shared/adapters/dependencies/idempotency.ts';
import { inboxStore, liveStateStore } from '../../../shared/adapters/dependencies/inbox.ts';
import { verificationCodes } from '../../../shared/adapters/dependencies/verification-codes.ts';
import { selfSendLimits } from '../../../shared/adapters/dependencies/self-send.ts';
import { oneSendBudget } from '../../../shared/adapters/dependencies/send-budgets.ts';
import { toRecipientView } from '../../../shared/domain/recipient.ts';
import { inboxItemIdSchema, listInboxQuerySchema, updateMeBodySchema, verifyContactBodySchema } from '../../../shared/domain/schemas.ts';
import { idempotent } from '../../../shared/http/idempotency.ts';
import { callerFrom, json, parseBody, pathParameter, queryParameters } from '../../../shared/http/request.ts';
import type { HttpEvent, HttpResult } from '../../../shared/http/request.ts';
import { countUnread, listInbox, markAllInboxRead, markInboxItemRead } from '../../../shared/use-cases/inbox.ts';
import type { InboxDeps } from '../../../shared/use-cases/inbox.ts';
import { checkUpdateMe, getMe, updateMe, verifyContact } from '../../../shared/use-cases/me.ts';
import type { MeDeps } from '../../../shared/use-cases/me.ts';

const meDeps = once(
  (): MeDeps => ({
    recipients: recipientStore(),
    clock: systemClock,
    selfSend: selfSendLimits(),
    codes: verificationCodes(),
    sendBudget: oneSendBudget(),
    webhookTargets: webhookTargetsConfig(),
  }),
);
const inboxDeps = once(
  (): InboxDeps => ({
    inbox: inboxStore(),
    live: liveStateStore(),
    sockets: socketPoster(),
    clock: systemClock,
    readRetentionDays: readInboxRetentionDays(),
  }),
);

/** `GET /v1/me`: the caller's own record; 404 when they are not in the directory. */
export async function getMeRoute(event: HttpEvent): Promise<HttpResult> {
  return json(200, toRecipientView(await getMe(meDeps(), callerFrom(event))));
}

/**
 * `PATCH /v1/me`: sets the caller's email, time zone and channel switches. It honours
 * `Idempotency-Key`: a repeat sends a new verification code (which replaces the one sent), so a
 * client retrying after a timeout gives a key to get the first answer and send no second code.
 */
export const updateMeRoute = idempotent(
  async (event: HttpEvent): Promise<HttpResult> => {
    const caller = callerFrom(event);
    const body = parseBody(event, updateMeBodySchema);
    return json(200, toRecipientView(await updateMe(meDeps(), caller, body)));
  },
  idempotencyStore,
  { precheck: async (event) => checkUpdateMe(meDeps(), callerFrom(event), parseBody(event, updateMeBodySchema)) },
);

/** `POST /v1/me/verify`: confirms an address the caller set, with the code sent there. */
export async function verifyMeRoute(event: HttpEvent): Promise<HttpResult> {
  const caller = callerFrom(event);
  const body = parseBody(event, verifyContactBodySchema);
  return json(200, toRecipientView(await verifyContact(meDeps(), caller, body)));
}

/** `GET /v1/me/inbox?unread=&limit=&cursor=`: newest arrival first. */
export async function listInboxRoute(event: HttpEvent): Promise<HttpResult> {
  const caller = callerFrom(event);
  const query = queryParameters(event, listInboxQuerySchema);
  return json(200, await listInbox(inboxDeps(), caller, query));
}

/** `GET /v1/me/inbox/unread-count` */
export async function unreadCountRoute(event: HttpEvent): Promise<HttpResult> {
  return json(200, await countUnread(inboxDeps(), callerFrom(event)));
}

/** `POST /v1/me/inbox/{id}/read` */
export async function markInboxItemReadRoute(event: HttpEvent): Promise<HttpResult> {
  const caller = callerFrom(event);
  const id = pathParameter(event, 'id', inboxItemIdSchema);
  return json(200, await markInboxItemRead(inboxDeps(), caller, id));
}

/** `POST /v1/me/inbox/read-all` */
export async function markAllInboxReadRoute(event: HttpEvent): Promise<HttpResult> {
  return json(200, await markAllInboxRead(inboxDeps(), callerFrom(event)));
}
