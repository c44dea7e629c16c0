/** Routes of `/v1/templates`: parse, call the use case, shape the response. */
import { once } from '../../../shared/config.ts';
import { systemClock } from '../../../shared/adapters/dependencies/clock.ts';
import { recipientStore } from '../../../shared/adapters/dependencies/directory.ts';
import { idempotencyStore } from '../../../shared/adapters/dependencies/idempotency.ts';
import { templateStore } from '../../../shared/adapters/dependencies/templates.ts';
import { toTemplateView } from '../../../shared/domain/template.ts';
import { listTemplatesQuerySchema, previewTemplateBodySchema, putTemplateBodySchema, templateIdSchema, templateVersionSchema } from '../../../shared/domain/schemas.ts';
import { idempotent } from '../../../shared/http/idempotency.ts';
import { callerFrom, json, parseBody, pathParameter, queryParameters } from '../../../shared/http/request.ts';
import type { HttpEvent, HttpResult } from '../../../shared/http/request.ts';
import { checkPutTemplate, deleteTemplate, getTemplate, listTemplates, previewTemplate, putTemplate } from '../../../shared/use-cases/templates.ts';
import type { TemplateDeps } from '../../../shared/use-cases/templates.ts';

const deps = once((): TemplateDeps => ({ templates: templateStore(), recipients: recipientStore(), clock: systemClock }));

/**
 * `PUT /v1/templates/{id}`: 201 with the new version (1 for a new template). Every PUT makes a
 * version, so a retry would make a second one: it honours `Idempotency-Key`.
 */
export const putTemplateRoute = idempotent(
  async (event: HttpEvent): Promise<HttpResult> => {
    const caller = callerFrom(event);
    const id = pathParameter(event, 'id', templateIdSchema);
    const body = parseBody(event, putTemplateBodySchema);
    return json(201, toTemplateView(await putTemplate(deps(), caller, id, body)));
  },
  idempotencyStore,
  { precheck: async (event) => checkPutTemplate(deps(), callerFrom(event), pathParameter(event, 'id', templateIdSchema), parseBody(event, putTemplateBodySchema)) },
);

/** `GET /v1/templates?limit=&cursor=`: the tenant's templates in id order. */
export async function listTemplatesRoute(event: HttpEvent): Promise<HttpResult> {
  const caller = callerFrom(event);
  const query = queryParameters(event, listTemplatesQuerySchema);
  return json(200, await listTemplates(deps(), caller, query));
}

/** `GET /v1/templates/{id}`: the latest version. */
export async function getTemplateRoute(event: HttpEvent): Promise<HttpResult> {
  const caller = callerFrom(event);
  const id = pathParameter(event, 'id', templateIdSchema);
  return json(200, toTemplateView(await getTemplate(deps(), caller, id)));
}

/** `GET /v1/templates/{id}/versions/{version}` */
export async function getTemplateVersionRoute(event: HttpEvent): Promise<HttpResult> {
  const caller = callerFrom(event);
  const id = pathParameter(event, 'id', templateIdSchema);
  const version = pathParameter(event, 'version', templateVersionSchema);
  return json(200, toTemplateView(await getTemplate(deps(), caller, id, version)));
}

/** `DELETE /v1/templates/{id}`: every version. */
export async function deleteTemplateRoute(event: HttpEvent): Promise<HttpResult> {
  const caller = callerFrom(event);
  const id = pathParameter(event, 'id', templateIdSchema);
  await deleteTemplate(deps(), caller, id);
  return json(200, { id, deleted: true });
}

/** `POST /v1/templates/{id}/preview`: every section rendered, nothing sent. */
export async function previewTemplateRoute(event: HttpEvent): Promise<HttpResult> {
  const caller = callerFrom(event);
  const id = pathParameter(event, 'id', templateIdSchema);
  const body = parseBody(event, previewTemplateBodySchema);
  return json(200, await previewTemplate(deps(), caller, id, body));
}
