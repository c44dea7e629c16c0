/** Routes of `/v1/recipients`: parse, call the use case, shape the response. */
import { once } from '../../../shared/config.ts';
import { recipientStore, systemClock } from '../../../shared/adapters/dependencies.ts';
import { toRecipientView } from '../../../shared/domain/recipient.ts';
import { idSchema, putRecipientBodySchema } from '../../../shared/domain/schemas.ts';
import { callerFrom, json, parseBody, pathParameter } from '../../../shared/http/request.ts';
import type { HttpEvent, HttpResult } from '../../../shared/http/request.ts';
import { getRecipient, putRecipient } from '../../../shared/use-cases/recipients.ts';
import type { RecipientDeps } from '../../../shared/use-cases/recipients.ts';

const deps = once((): RecipientDeps => ({ recipients: recipientStore(), clock: systemClock }));

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
