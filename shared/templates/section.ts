/**
 * What a channel module sends, from the content the engine gives it: the one function every
 * channel's `render(content)` calls (docs/templates.md, "For channel modules").
 */
import type { DeliveryContent } from '../domain/delivery.ts';
import type { RenderedSections, RenderedTemplate, TemplateChannel } from '../domain/template.ts';
import { TemplateRenderError } from './render-error.ts';

/** A channel's own rendered section, or the inbox's title and message when the template has none (or there is no template). */
export type ChannelSection<C extends TemplateChannel> =
  | { readonly kind: 'section'; readonly section: RenderedSections[C] }
  | { readonly kind: 'fallback'; readonly title: string; readonly message: string };

/** How an error names a channel's section: `the email section of template invoice (fr)`, without the locale when none was used. */
export function sectionName(channel: TemplateChannel, rendered: Pick<RenderedTemplate, 'templateId' | 'locale'>): string {
  return `the ${channel} section of template ${rendered.templateId}${rendered.locale !== undefined ? ` (${rendered.locale})` : ''}`;
}

/**
 * What `channel` sends for `content`: its template section as rendered for this recipient, or, for
 * a notification without a template or a template without that section, the (rendered) inbox
 * title and message. Throws {@link TemplateRenderError} when the section could not be rendered: the
 * engine records the channel `failed` with that reason, and nothing is sent empty.
 */
export function sectionFor<C extends TemplateChannel>(content: DeliveryContent, channel: C): ChannelSection<C> {
  const rendered = content.rendered;
  if (rendered) {
    const failure = rendered.failures[channel] ?? (rendered.channels[channel] === undefined ? rendered.failures.inbox : undefined);
    if (failure !== undefined) throw new TemplateRenderError(`${sectionName(channel, rendered)}: ${failure}`);
    const section = rendered.channels[channel];
    if (section !== undefined) return { kind: 'section', section: section as RenderedSections[C] };
  }
  return { kind: 'fallback', title: content.title, message: content.message };
}
