/** Routes of `/v1/suppressions` (admins): parse, call the use case, shape the response. */
import { systemClock } from '../../../shared/adapters/dependencies/clock.ts';
import { recipientStore } from '../../../shared/adapters/dependencies/directory.ts';
import { once } from '../../../shared/config.ts';
import { toRecipientView } from '../../../shared/domain/recipient.ts';
import { idSchema, listSuppressionsQuerySchema } from '../../../shared/domain/schemas.ts';
import { callerFrom, json, pathParameter, queryParameters } from '../../../shared/http/request.ts';
import type { HttpEvent, HttpResult } from '../../../shared/http/request.ts';
import { liftEmailSuppression, listEmailSuppressions } from '../../../shared/use-cases/email-suppressions.ts';
import type { RecipientDeps } from '../../../shared/use-cases/recipients.ts';

const deps = once((): RecipientDeps => ({ recipients: recipientStore(), clock: systemClock }));

/** `GET /v1/suppressions?limit=&cursor=`: the recipients whose address is suppressed, in id order. */
export async function listSuppressionsRoute(event: HttpEvent): Promise<HttpResult> {
  const caller = callerFrom(event);
  const query = queryParameters(event, listSuppressionsQuerySchema);
  return json(200, await listEmailSuppressions(deps(), caller, query));
}

/** `DELETE /v1/suppressions/{recipientId}`: e-mail goes to the recipient's address again. */
export async function liftSuppressionRoute(event: HttpEvent): Promise<HttpResult> {
  const caller = callerFrom(event);
  const recipientId = pathParameter(event, 'recipientId', idSchema);
  return json(200, toRecipientView(await liftEmailSuppression(deps(), caller, recipientId)));
}
