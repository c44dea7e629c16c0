/**
 * Part of step 3 of the engine (engine.ts): what a unit sends. A round's template versions are
 * read once, before step 2's claim (so a failed read claims nothing); each templated unit is
 * rendered for its recipient, in their locale, just before its channels send (send.ts).
 */
import type { DeliveryContent, DeliveryUnit } from '../domain/delivery.ts';
import type { Recipient } from '../domain/recipient.ts';
import type { TemplateChannel, TemplateVersion } from '../domain/template.ts';
import { recipientScope, tenantScope } from '../templates/scope.ts';
import type { EngineDeps, Work } from './work.ts';

/** The key of a template version in one round's reads (no version: the latest). */
export function templateKey(tenantId: string, id: string, version: number | undefined): string {
  return `${tenantId}#${id}#${version ?? 'latest'}`;
}

/**
 * The template version of every templated unit of a round, each read once, by `templateKey`
 * (undefined: that version no longer exists). Read before the claim:
 * a failed read throws before anything is claimed, and the queue brings the message back.
 */
export async function loadTemplates(deps: EngineDeps, units: readonly DeliveryUnit[]): Promise<Map<string, TemplateVersion | undefined>> {
  const wanted = new Map<string, { tenantId: string; id: string; version: number | undefined }>();
  for (const unit of units) {
    const ref = unit.content.template;
    if (ref) wanted.set(templateKey(unit.tenantId, ref.id, ref.version), { tenantId: unit.tenantId, id: ref.id, version: ref.version });
  }
  const found = new Map<string, TemplateVersion | undefined>();
  await Promise.all(
    [...wanted].map(async ([key, { tenantId, id, version }]) => {
      found.set(key, await deps.templates?.get(tenantId, id, version));
    }),
  );
  return found;
}

/**
 * The unit's content for this recipient: a templated unit's template rendered in their locale
 * (its inbox section becoming the title and message); other content as it is. The renderer
 * (liquidjs, a fifth of the delivering functions' code) is imported on the first templated unit,
 * not at cold start: most deliveries carry their own words.
 */
export async function renderedFor(unit: DeliveryUnit, w: Work, recipient: Recipient): Promise<DeliveryContent> {
  const ref = unit.content.template;
  if (!ref) return unit.content;
  const channels = [...w.steps].filter(([, step]) => step.kind === 'deliver').map(([name]) => name as TemplateChannel);
  const template = w.template;
  if (!template) {
    const reason = `template ${ref.id}${ref.version !== undefined ? ` version ${ref.version}` : ''} no longer exists`;
    // Nothing was rendered, so no locale was used.
    return { ...unit.content, rendered: { templateId: ref.id, version: ref.version ?? 0, channels: {}, failures: { inbox: reason } } };
  }
  const { renderTemplate } = await import('../templates/render.ts');
  const rendered = renderTemplate(
    { templateId: template.id, version: template.version, definition: template.definition, ...(recipient.locale !== undefined ? { locale: recipient.locale } : {}), channels },
    { payload: ref.payload, recipient: recipientScope(recipient), tenant: tenantScope(unit.tenantId) },
  );
  const inbox = rendered.channels.inbox;
  return { ...unit.content, ...(inbox ? { title: inbox.title, message: inbox.message } : {}), rendered };
}
