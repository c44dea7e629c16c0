/**
 * Templates: storing versions, reading and listing them, previewing, and what a notification or
 * broadcast made from one carries (docs/templates.md). On ports only.
 */
import * as z from '../zod-mini.ts';
import type { Caller } from '../domain/caller.ts';
import type * as Renderer from '../templates/render.ts';
import { canManageTenant } from '../domain/caller.ts';
import { decodeCursor, encodeCursor } from '../domain/page-cursor.ts';
import type { Recipient } from '../domain/recipient.ts';
import { templateId } from '../domain/id-schemas.ts';
import { maxTemplateVersions } from '../domain/template.ts';
import type { ListTemplatesQuery, PreviewTemplateBody, PutTemplateBody } from '../domain/schemas.ts';
import type { RenderedTemplate, TemplateDefinition, TemplateRef, TemplateVersion } from '../domain/template.ts';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../errors.ts';
import type { Clock, RecipientStore, TemplateStore, TemplateSummary } from '../ports.ts';
import { recipientScope, tenantScope } from '../templates/scope.ts';

export interface TemplateDeps {
  readonly templates: TemplateStore;
  readonly recipients: Pick<RecipientStore, 'get'>;
  readonly clock: Clock;
}

/**
 * The renderer (liquidjs, ~80 KB), imported when a template is put, previewed or admitted rather
 * than at cold start: the api and fanout functions serve most requests without it.
 */
function renderer(): Promise<typeof Renderer> {
  return import('../templates/render.ts');
}

function requireTemplateManager(caller: Caller): void {
  if (!canManageTenant(caller)) throw new ForbiddenError('Only admins and senders may manage templates');
}

/** The definition a body describes, without the fields it left out. */
function definitionOf(body: PutTemplateBody): TemplateDefinition {
  return body as TemplateDefinition;
}

/** The 409 of a template that keeps the most versions it may. */
function tooManyVersions(id: string): ConflictError {
  return new ConflictError(`Template ${id} has ${maxTemplateVersions} versions, the most one may keep; delete it and store it again`);
}

/** What a PUT's body and role alone refuse: 403, or 400 naming each Liquid error. */
async function refuseTemplate(caller: Caller, body: PutTemplateBody): Promise<TemplateDefinition> {
  requireTemplateManager(caller);
  const definition = definitionOf(body);
  const { syntaxProblems } = await renderer();
  const problems = syntaxProblems(definition);
  if (problems.length > 0) {
    throw new ValidationError(problems.map((p) => `${p.path}: ${p.message}`).join('; '), {
      details: problems.map((p) => ({ field: p.path, message: p.message })),
    });
  }
  return definition;
}

/**
 * What {@link putTemplate} would refuse (403, 400 naming each Liquid error, 409 past the version
 * limit), without writing: run before an idempotent PUT takes its key.
 */
export async function checkPutTemplate(deps: Pick<TemplateDeps, 'templates'>, caller: Caller, id: string, body: PutTemplateBody): Promise<void> {
  await refuseTemplate(caller, body);
  if (!(await deps.templates.hasRoomForVersion(caller.tenantId, id, maxTemplateVersions))) throw tooManyVersions(id);
}

/** Stores a new version of a template (version 1 when it is new). 400 naming each Liquid error; 409 past the version limit. */
export async function putTemplate(deps: TemplateDeps, caller: Caller, id: string, body: PutTemplateBody): Promise<TemplateVersion> {
  const definition = await refuseTemplate(caller, body);
  const stored = await deps.templates.put(caller.tenantId, id, definition, caller.sub, deps.clock.now(), maxTemplateVersions);
  if (!stored) throw tooManyVersions(id);
  return stored;
}

/** A version of a template (the latest when `version` is undefined); 404 when there is none. */
export async function getTemplate(deps: Pick<TemplateDeps, 'templates'>, caller: Caller, id: string, version?: number): Promise<TemplateVersion> {
  requireTemplateManager(caller);
  const found = await deps.templates.get(caller.tenantId, id, version);
  if (!found) throw new NotFoundError(version === undefined ? `Template ${id} not found` : `Template ${id} has no version ${version}`);
  return found;
}

const templateCursorSchema = z.object({ templates: z.literal(true), after: templateId });

/** A page of the tenant's templates in id order, with the cursor of the next page when there is one. */
export async function listTemplates(
  deps: Pick<TemplateDeps, 'templates'>,
  caller: Caller,
  query: ListTemplatesQuery,
): Promise<{ items: readonly TemplateSummary[]; nextCursor: string | null }> {
  requireTemplateManager(caller);
  let after: string | undefined;
  if (query.cursor !== undefined) {
    after = decodeCursor(query.cursor, templateCursorSchema)?.after;
    if (after === undefined) {
      throw new ValidationError('cursor is not one this listing handed out', {
        details: [{ field: 'cursor', message: 'is not a cursor of this listing (pass the nextCursor of the previous page)' }],
      });
    }
  }
  const page = await deps.templates.list(caller.tenantId, query.limit, after);
  return { items: page.items, nextCursor: page.last !== undefined ? encodeCursor({ templates: true, after: page.last }) : null };
}

/**
 * Deletes a template and every version. Notifications still to be delivered from it then fail
 * their channels with "template … no longer exists"; its version numbers are never reused.
 */
export async function deleteTemplate(deps: Pick<TemplateDeps, 'templates' | 'clock'>, caller: Caller, id: string): Promise<void> {
  requireTemplateManager(caller);
  if (!(await deps.templates.delete(caller.tenantId, id, deps.clock.now()))) throw new NotFoundError(`Template ${id} not found`);
}

/** What a preview answers: every section rendered, what failed and why, the payload variables missing. */
export interface TemplatePreview extends RenderedTemplate {
  /** Variables any section of any locale uses that the payload lacks (`order.total`). */
  readonly missingVariables: readonly string[];
}

/**
 * Renders every section of a template without sending anything, in `locale` (or the recipient's,
 * or the template's default), with `recipient.*` from `recipientId` when given (404 if unknown).
 */
export async function previewTemplate(deps: TemplateDeps, caller: Caller, id: string, body: PreviewTemplateBody): Promise<TemplatePreview> {
  const template = await getTemplate(deps, caller, id, body.version);
  let recipient: Recipient | undefined;
  if (body.recipientId !== undefined) {
    recipient = await deps.recipients.get(caller.tenantId, body.recipientId);
    if (!recipient) throw new NotFoundError(`Recipient ${body.recipientId} not found`);
  }
  const locale = body.locale ?? recipient?.locale;
  const { missingPayloadVariables, renderTemplate } = await renderer();
  const rendered = renderTemplate(
    { templateId: template.id, version: template.version, definition: template.definition, ...(locale !== undefined ? { locale } : {}) },
    { payload: body.payload, ...(recipient ? { recipient: recipientScope(recipient) } : {}), tenant: tenantScope(caller.tenantId) },
  );
  return { ...rendered, missingVariables: missingPayloadVariables(template.definition, body.payload) };
}

/** What a notification or broadcast made from a template stores besides the reference. */
export interface TemplatedContent {
  readonly template: TemplateRef;
  /** The inbox section in the template's default locale, rendered for no one: what listings show until delivery. */
  readonly title: string;
  readonly message: string;
}

/**
 * Checks a notification's or broadcast's `template` at create time: the template (the pinned
 * version, or the latest) exists (400 otherwise: it is the body that names it), and its payload
 * holds every variable any section of any locale uses (400 naming each missing one). The
 * reference keeps the caller's pin: without one, delivery renders the latest version of the
 * template's life it was made in (`latestAtCreate`).
 */
export async function admitTemplate(deps: { readonly templates: Pick<TemplateStore, 'get'> }, tenantId: string, ref: TemplateRef): Promise<TemplatedContent> {
  const template = await deps.templates.get(tenantId, ref.id, ref.version);
  if (!template) {
    const what = ref.version === undefined ? `template ${ref.id} does not exist` : `template ${ref.id} has no version ${ref.version}`;
    throw new ValidationError(what, { details: [{ field: ref.version === undefined ? 'template.id' : 'template.version', message: what }] });
  }
  const { missingPayloadVariables, renderTemplate } = await renderer();
  const missing = missingPayloadVariables(template.definition, ref.payload);
  if (missing.length > 0) {
    const message = `lacks ${missing.length === 1 ? 'the variable' : 'the variables'} ${missing.map((name) => `"${name}"`).join(', ')} that template ${ref.id} v${template.version} uses`;
    throw new ValidationError(`template.payload ${message}`, { details: [{ field: 'template.payload', message, missing }] });
  }
  const summary = renderTemplate(
    { templateId: template.id, version: template.version, definition: template.definition, channels: ['inbox'] },
    { payload: ref.payload, tenant: tenantScope(tenantId) },
  );
  // A title that needs the recipient's fields cannot be rendered for no one: the template names it.
  const inbox = summary.channels.inbox ?? { title: `Template ${template.id}`, message: template.definition.description ?? '' };
  // Without a pin, which life of the template it was made from: a delete and a new PUT under the id make another template.
  const kept: TemplateRef = ref.version === undefined ? { id: ref.id, payload: ref.payload, latestAtCreate: template.version } : { id: ref.id, version: ref.version, payload: ref.payload };
  return { template: kept, title: inbox.title, message: inbox.message };
}
