/**
 * Templates: one definition per kind of message, written once per channel and language, filled
 * from a payload at delivery (docs/templates.md). This module holds the shapes and the pure rules
 * (which locale a recipient gets, how a locale's partial sections lay over the base ones); the
 * Liquid rendering is shared/templates/render.ts. No AWS here.
 */

/** A template id: chosen by the tenant, kept to a safe alphabet (it names the template in URLs and logs). */
export const templateIdPattern = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
/** What a template id that does not match {@link templateIdPattern} is told. */
export const templateIdMessage = 'must be 1-128 characters of letters, digits and _ . -, the first a letter or a digit';
/** How many versions one template keeps (every PUT is one); beyond, delete it and start again. */
export const maxTemplateVersions = 1_000;

/**
 * Every channel a template may hold a section for, whether or not this build delivers on it yet:
 * a template written today for SMS is ready when the SMS channel is.
 */
export const templateChannels = ['inbox', 'websocket', 'email', 'push', 'sms', 'telegram', 'webhook'] as const;
export type TemplateChannel = (typeof templateChannels)[number];

/** The Liquid source of each channel's section, field by field. */
export interface TemplateSections {
  readonly inbox?: { readonly title: string; readonly message: string };
  readonly websocket?: { readonly title: string; readonly message: string };
  /** `text` may be left out when `html` is given: the text alternative is then derived from the HTML. */
  readonly email?: { readonly subject: string; readonly html?: string; readonly text?: string };
  readonly push?: { readonly title: string; readonly body: string; readonly url?: string };
  readonly sms?: { readonly text: string };
  /** Telegram's HTML parse mode: variables are HTML-escaped, the template's own tags stay. */
  readonly telegram?: { readonly text: string };
  readonly webhook?: { readonly body: string };
}

/** A locale's sections: any channel, any field; what it leaves out is the base section's. */
export type LocaleSections = { readonly [C in TemplateChannel]?: Partial<NonNullable<TemplateSections[C]>> };

/** What `PUT /v1/templates/{id}` stores (one version of it). */
export interface TemplateDefinition {
  readonly description?: string;
  /** The base sections: the template's default locale. The inbox section is required (the fallback of every other channel). */
  readonly channels: TemplateSections & { readonly inbox: { readonly title: string; readonly message: string } };
  /** By BCP 47 tag (`fr`, `pt-BR`). */
  readonly locales?: Readonly<Record<string, LocaleSections>>;
  /** The tag of the base sections' language; recorded as the locale used when they are. */
  readonly defaultLocale?: string;
}

/** One stored version of a template. */
export interface TemplateVersion {
  readonly tenantId: string;
  readonly id: string;
  /** 1, 2, ...: every PUT makes the next one. */
  readonly version: number;
  readonly definition: TemplateDefinition;
  /** ISO-8601 UTC. */
  readonly createdAt: string;
  /** `sub` of the token that stored it. */
  readonly createdBy: string;
  /**
   * Of a latest read (no version asked for): the first version of the template's current life.
   * A delete ends a life; stored again, the template starts the next at the next number.
   */
  readonly firstVersion?: number;
}

/** What a notification or broadcast carries instead of `title`/`message`. */
export interface TemplateRef {
  readonly id: string;
  /** The version pinned by the caller; absent: the latest at delivery. */
  readonly version?: number;
  readonly payload: Readonly<Record<string, unknown>>;
  /**
   * Herald's own, never shown: without a pin, the latest version when the notification or broadcast
   * was created. At delivery, a latest whose life began after it (the template was deleted and
   * stored again under its id) is not the template it was made from, and fails as a deleted one.
   */
  readonly latestAtCreate?: number;
}

/** A template reference as views show it: the caller's id, pin and payload. */
export function toTemplateRefView(ref: TemplateRef): Record<string, unknown> {
  return { id: ref.id, ...(ref.version !== undefined ? { version: ref.version } : {}), payload: ref.payload };
}

/**
 * The template a reference names, from what was read for it (`found`: the pinned version, or the
 * latest): undefined when there is none, or when the latest began a life after the one the
 * reference was made in (deleted and stored again since: docs/templates.md).
 */
export function templateOfRef(ref: TemplateRef, found: TemplateVersion | undefined): TemplateVersion | undefined {
  if (!found || ref.version !== undefined || ref.latestAtCreate === undefined || found.firstVersion === undefined) return found;
  return found.firstVersion > ref.latestAtCreate ? undefined : found;
}

/** Names the payload may not use: they are the recipient's and the tenant's fields in a template. */
export const reservedTemplateVariables = ['recipient', 'tenant'] as const;

/** The label recorded when the base sections were used and the template names no `defaultLocale`. */
export const baseLocaleLabel = 'default';

/** Canonical form of a BCP 47 tag (`EN-us` → `en-US`), or undefined when it is not one. */
export function canonicalLocale(tag: string): string | undefined {
  try {
    return Intl.getCanonicalLocales(tag)[0];
  } catch {
    return undefined;
  }
}

/** Which locale of `definition` a recipient asking for `wanted` gets. */
export interface ResolvedLocale {
  /** The key of `definition.locales` used, or none for the base sections. */
  readonly key?: string;
  /** What is recorded: the key, or the template's default locale (`default` when it names none). */
  readonly label: string;
}

/**
 * The fallback order of the issue: the locale itself (`fr-CA`), then each shorter prefix of it down
 * to its language (`zh-Hant-TW`, `zh-Hant`, `zh`: RFC 4647's lookup, a singleton such as an
 * extension's `u` dropped with the subtag after it), then the template's default (its
 * `defaultLocale` entry of `locales` if there is one, else the base sections). Tags compare
 * canonically and case-insensitively.
 */
export function resolveLocale(definition: TemplateDefinition, wanted: string | undefined): ResolvedLocale {
  const exact = localeKeyOf(definition, wanted);
  if (exact !== undefined) return { key: exact, label: exact };
  for (const prefix of shorterPrefixes(wanted)) {
    const byPrefix = localeKeyOf(definition, prefix);
    if (byPrefix !== undefined) return { key: byPrefix, label: byPrefix };
  }
  const byDefault = localeKeyOf(definition, definition.defaultLocale);
  if (byDefault !== undefined) return { key: byDefault, label: byDefault };
  return { label: definition.defaultLocale ?? baseLocaleLabel };
}

/** The key of `definition.locales` that names `tag`, compared canonically and case aside. */
function localeKeyOf(definition: TemplateDefinition, tag: string | undefined): string | undefined {
  if (tag === undefined) return undefined;
  const canonical = (canonicalLocale(tag) ?? tag).toLowerCase();
  return Object.keys(definition.locales ?? {}).find((key) => (canonicalLocale(key) ?? key).toLowerCase() === canonical);
}

/** The shorter prefixes of `tag`, longest first, down to its language (`zh-Hant-TW`: `zh-Hant`, `zh`); none ends in a singleton (`de-u`). */
function shorterPrefixes(tag: string | undefined): string[] {
  const subtags = tag === undefined ? [] : (canonicalLocale(tag) ?? tag).split('-');
  const prefixes: string[] = [];
  for (let length = subtags.length - 1; length >= 1; length--) {
    // A prefix may not end in a singleton (`de-u`): it goes with the subtag it introduces.
    if ((subtags[length - 1] ?? '').length === 1) continue;
    prefixes.push(subtags.slice(0, length).join('-'));
  }
  return prefixes;
}

/**
 * The sections of `locale`: each field of the locale's own over its language's (each shorter
 * prefix's, `pt` under `pt-BR`), over the base section's. A region's locale that gives only a
 * subject thus keeps its language's text, not the base's.
 */
export function sectionsFor(definition: TemplateDefinition, locale: ResolvedLocale): TemplateSections {
  if (locale.key === undefined) return definition.channels;
  const keys = [...shorterPrefixes(locale.key).map((prefix) => localeKeyOf(definition, prefix)).reverse(), locale.key];
  const merged: Record<string, unknown> = { ...definition.channels };
  for (const key of keys) {
    const overlay = key === undefined ? undefined : definition.locales?.[key];
    for (const channel of templateChannels) {
      const own = overlay?.[channel];
      if (own) merged[channel] = { ...((merged[channel] as Record<string, unknown> | undefined) ?? {}), ...own };
    }
  }
  return merged as TemplateSections;
}

/** Every Liquid source of a definition, with the path that names it in an error (`locales.fr.email.subject`). */
export function templateSources(definition: TemplateDefinition): { readonly path: string; readonly channel: TemplateChannel; readonly field: string; readonly source: string }[] {
  const sources: { path: string; channel: TemplateChannel; field: string; source: string }[] = [];
  const walk = (prefix: string, sections: Readonly<Record<string, Readonly<Record<string, unknown>> | undefined>>): void => {
    for (const channel of templateChannels) {
      for (const [field, source] of Object.entries(sections[channel] ?? {})) {
        if (typeof source === 'string') sources.push({ path: `${prefix}.${channel}.${field}`, channel, field, source });
      }
    }
  };
  walk('channels', definition.channels as unknown as Readonly<Record<string, Readonly<Record<string, unknown>>>>);
  for (const [key, sections] of Object.entries(definition.locales ?? {})) {
    walk(`locales.${key}`, sections as Readonly<Record<string, Readonly<Record<string, unknown>>>>);
  }
  return sources;
}

/** What one channel's section renders to. */
export interface RenderedSections {
  readonly inbox: { readonly title: string; readonly message: string };
  readonly websocket: { readonly title: string; readonly message: string };
  /** Always both parts: `text` is the template's text part, or derived from the HTML. */
  readonly email: { readonly subject: string; readonly html?: string; readonly text: string };
  readonly push: { readonly title: string; readonly body: string; readonly url?: string };
  /** With its length as the SMS network counts it (shared/templates/sms-segments.ts). */
  readonly sms: { readonly text: string; readonly encoding: 'GSM-7' | 'UCS-2'; readonly segments: number };
  readonly telegram: { readonly text: string; readonly parseMode: 'HTML' };
  readonly webhook: { readonly body: string };
}

/** A template rendered for one recipient: every section it has, or why one could not be. */
export interface RenderedTemplate {
  readonly templateId: string;
  readonly version: number;
  /** The locale used (see {@link resolveLocale}); undefined when nothing was rendered (the template no longer exists). */
  readonly locale?: string;
  readonly channels: { readonly [C in TemplateChannel]?: RenderedSections[C] };
  /** Why a section could not be rendered (a missing variable, a limit): that channel fails with it. */
  readonly failures: { readonly [C in TemplateChannel]?: string };
}

/** The public view of a template version, as the API returns it. */
export function toTemplateView(t: TemplateVersion): Record<string, unknown> {
  return { id: t.id, version: t.version, ...t.definition, createdAt: t.createdAt, createdBy: t.createdBy };
}
