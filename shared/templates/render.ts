/**
 * Rendering templates with Liquid (liquidjs), safely:
 * - strict: a variable the scope lacks, or a filter that does not exist, is an error naming it,
 *   never an empty string;
 * - no file system: `include`, `render` and `layout`, which load another template by name, are
 *   refused as the source is parsed (and templates come from an empty in-memory map anyway), so a
 *   definition using one is a 400 when it is put, never a failure at each send;
 * - bounded: each render stops after {@link templateRenderLimits}.renderMs of work, after
 *   `memoryLimit` allocations (a `(1..1000000000)` range), and its output may not exceed
 *   `outputChars` (the inbox's and WebSocket's: a notification's title and message limits); a
 *   parse is bounded by `parseChars`;
 * - HTML (the e-mail's HTML part, Telegram's HTML parse mode) escapes every variable
 *   (`outputEscape: 'escape'`), so a payload holding `<script>` arrives as text.
 *
 * The scope of a template: the payload's members at the top level, `recipient.*` (the recipient's
 * own fields) and `tenant.*`.
 */
import { Drop, Liquid, Tag } from 'liquidjs';
import type { Emitter, FilterImplOptions, TagToken, TopLevelToken } from 'liquidjs';
import { isRawJson } from '../domain/opaque-json.ts';
import { TemplateRenderError } from './render-error.ts';
import { maxMessageLength, maxTitleLength } from '../domain/notification.ts';
import { resolveLocale, reservedTemplateVariables, sectionsFor, templateSources } from '../domain/template.ts';
import type { RenderedSections, RenderedTemplate, TemplateChannel, TemplateDefinition, TemplateSections } from '../domain/template.ts';
import { htmlToText } from './html-text.ts';
import { smsBody, smsSegments } from './sms-segments.ts';
import { readTelegramHtml } from './telegram-html.ts';
import { maxTelegramTextLength, telegramParseMode } from './telegram-text.ts';

/** The bounds of one render of one field. */
export const templateRenderLimits = {
  /** Wall time of one render, ms (liquidjs `renderLimit`). */
  renderMs: 100,
  /** Allocations of one render (liquidjs `memoryLimit`: characters of strings built, elements of arrays). */
  memory: 4_000_000,
  /** Characters one Liquid source may have (liquidjs `parseLimit`). */
  parseChars: 64 * 1024,
  /** Characters one rendered field may have. */
  outputChars: 256 * 1024,
} as const;

const common = {
  strictVariables: true,
  strictFilters: true,
  // A payload's prototype (`constructor`, `__proto__`) is never reachable from a template.
  ownPropertyOnly: true,
  // No file system: partials and layouts resolve in this empty map, i.e. nowhere.
  templates: {},
  relativeReference: false,
  cache: false,
  parseLimit: templateRenderLimits.parseChars,
  renderLimit: templateRenderLimits.renderMs,
  memoryLimit: templateRenderLimits.memory,
  // Dates in UTC whatever the host's zone (Lambda's is UTC; a laptop's may not be).
  timezoneOffset: 0,
} as const;

const plain = new Liquid(common);
const html = new Liquid({ ...common, outputEscape: 'escape' });

/**
 * The filters whose output is HTML already, marked `raw` in the escaping engine so that the
 * output's escape does not run on it again: `{{ x | escape }}` showed `&amp;amp;`, and
 * `{{ x | newline_to_br }}` a literal `<br />`. `newline_to_br` escapes its text first, so what it
 * lets through is its own `<br />` only. Only as the last filter of an output: before another,
 * the output is escaped as any other.
 */
type FilterHandler = Extract<FilterImplOptions, (...args: never[]) => unknown>;
function builtInFilter(name: string): FilterHandler {
  const filter = html.filters[name];
  if (filter === undefined) throw new Error(`liquidjs has no filter ${name}`);
  return typeof filter === 'function' ? filter : filter.handler;
}
const escapeFilter = builtInFilter('escape');
const newlineToBr = builtInFilter('newline_to_br');
for (const name of ['escape', 'escape_once', 'xml_escape']) html.registerFilter(name, { raw: true, handler: builtInFilter(name) });
html.registerFilter('newline_to_br', {
  raw: true,
  handler(this: ThisParameterType<FilterHandler>, value: unknown): unknown {
    return newlineToBr.call(this, escapeFilter.call(this, value));
  },
});

/** Why a source may not load another template. */
const noFilesMessage = 'includes, renders and layouts are not available (templates read no files)';

/**
 * Stands for the tags that load another template by name. With no file system they could only
 * fail, and liquidjs's static analysis (missing variables) would throw on them outside any render;
 * refused while parsing, they are a syntax problem like any other.
 */
class FileTagRefused extends Tag {
  constructor(token: TagToken, remainTokens: TopLevelToken[], liquid: Liquid) {
    super(token, remainTokens, liquid);
    throw new Error(noFilesMessage);
  }

  render(_context: unknown, _emitter: Emitter): void {}
}

for (const engine of [plain, html]) for (const name of ['include', 'render', 'layout']) engine.registerTag(name, FileTagRefused);

export { TemplateRenderError } from './render-error.ts';

/** What a template sees besides its payload. */
export interface RenderScope {
  readonly payload: Readonly<Record<string, unknown>>;
  /** The recipient's own fields; absent in a render for no one (a broadcast's summary). */
  readonly recipient?: Readonly<Record<string, unknown>>;
  readonly tenant: Readonly<Record<string, unknown>>;
}

/** The plain JSON values of a payload (numbers kept as raw JSON print as JavaScript numbers). */
function plainJson(value: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return JSON.parse(JSON.stringify(value)) as Record<string, unknown>;
}

/**
 * A payload number that a double would change (`12345678901234567890`, `1e400`: opaque-json.ts),
 * as Liquid sees it: printed and written by `json` exactly as sent, a number to arithmetic filters
 * and comparisons (which then work on its nearest double, as they did before it was kept exact).
 */
class ExactNumber extends Drop {
  readonly #source: string;

  constructor(source: string) {
    super();
    this.#source = source;
  }

  /** Its nearest double; another value as Liquid compares it with a number. */
  static #numeric(value: unknown): unknown {
    return value instanceof ExactNumber ? Number(value.#source) : value;
  }

  /** `==` (Liquid's Comparable): equal to a number, or another such number, with the same double. */
  equals(other: unknown): boolean {
    return Number(this.#source) === ExactNumber.#numeric(other);
  }

  /** `>` (Liquid's Comparable). */
  gt(other: unknown): boolean {
    return Number(this.#source) > Number(ExactNumber.#numeric(other));
  }

  /** `>=` (Liquid's Comparable). */
  geq(other: unknown): boolean {
    return Number(this.#source) >= Number(ExactNumber.#numeric(other));
  }

  /** `<` (Liquid's Comparable). */
  lt(other: unknown): boolean {
    return Number(this.#source) < Number(ExactNumber.#numeric(other));
  }

  /** `<=` (Liquid's Comparable). */
  leq(other: unknown): boolean {
    return Number(this.#source) <= Number(ExactNumber.#numeric(other));
  }

  /** What Liquid prints and compares: the number's own text. */
  override valueOf(): string {
    return this.#source;
  }

  /** What the `json` filter writes: the number's own text, unquoted. */
  toJSON(): unknown {
    return (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON(this.#source);
  }
}

/** A payload's values for Liquid: JSON as parsed, but numbers kept as raw JSON stay exact. */
function liquidValue(value: unknown): unknown {
  if (isRawJson(value)) return new ExactNumber(value.rawJSON);
  if (Array.isArray(value)) return value.map(liquidValue);
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([key, member]) => [key, liquidValue(member)]));
  return value;
}

function contextOf(scope: RenderScope): Record<string, unknown> {
  const payload = liquidValue(scope.payload) as Record<string, unknown>;
  return { ...payload, ...(scope.recipient ? { recipient: plainJson(scope.recipient) } : {}), tenant: plainJson(scope.tenant) };
}

/** Why liquidjs failed, in a sentence (`missing variable "order.total" (line 1, column 18)`). */
function explain(error: unknown): TemplateRenderError {
  const e = error as { name?: string; message?: string; originalError?: { message?: string }; token?: { getPosition?: () => number[] } };
  const where = /line:(\d+), col:(\d+)/.exec(e.message ?? '');
  const at = where ? ` (line ${where[1]}, column ${where[2]})` : '';
  const inner = e.originalError?.message ?? e.message ?? String(error);
  const missing = /^undefined variable: (.+)$/.exec(inner);
  if (missing?.[1]) return new TemplateRenderError(`missing variable "${missing[1]}"${at}`, { cause: error, missingVariable: missing[1] });
  if (inner.includes('render limit exceeded')) return new TemplateRenderError(`took longer than ${templateRenderLimits.renderMs} ms to render${at}`, { cause: error });
  if (inner.includes('memory alloc limit exceeded')) return new TemplateRenderError(`built more than ${templateRenderLimits.memory} characters or elements while rendering${at}`, { cause: error });
  if (inner.includes('parse length limit exceeded')) return new TemplateRenderError(`is longer than ${templateRenderLimits.parseChars} characters`, { cause: error });
  if (inner.startsWith('ENOENT')) return new TemplateRenderError(`${noFilesMessage}${at}`, { cause: error });
  return new TemplateRenderError(`${inner.replace(/, line:\d+, col:\d+$/, '')}${at}`, { cause: error });
}

/** Renders one Liquid source; `escapeHtml` escapes every variable. Throws {@link TemplateRenderError}. */
export function renderField(source: string, scope: RenderScope, options: { readonly escapeHtml?: boolean } = {}): string {
  // A locale's section with no base section to complete it (stored before such sections were refused).
  if (typeof source !== 'string') throw new TemplateRenderError("has no text in this locale's section (and no base section to take it from)");
  let output: string;
  try {
    output = (options.escapeHtml ? html : plain).parseAndRenderSync(source, contextOf(scope)) as string;
  } catch (error) {
    throw explain(error);
  }
  if (output.length > templateRenderLimits.outputChars) {
    throw new TemplateRenderError(`rendered to ${output.length} characters, more than ${templateRenderLimits.outputChars}`);
  }
  // Filters work on UTF-16 units (`split: ""`), so a render can halve an emoji: a lone surrogate
  // can be neither stored faithfully nor sent (SES's query encoding throws URIError on it).
  if (!output.isWellFormed()) {
    throw new TemplateRenderError('rendered text that is not well-formed Unicode (a lone surrogate: half of a character such as an emoji, split by a filter)');
  }
  return output;
}

/** A subject, a title: one header line (line breaks and control characters become spaces). */
function oneLine(text: string): string {
  return text.replace(/[\p{Cc}\u2028\u2029]+/gu, ' ').trim();
}

/** `text`, unless it is blank: nothing is ever sent empty. */
function filled(field: string, text: string): string {
  if (text.trim() === '') throw new TemplateRenderError(`${field} rendered empty`);
  return text;
}

/**
 * `text`, unless it is longer than a notification's own field may be: the inbox item and the
 * WebSocket frame hold what a notification holds, so they stay within DynamoDB's item and API
 * Gateway's frame size whatever a template renders.
 */
function within(field: string, text: string, max: number): string {
  if (text.length > max) throw new TemplateRenderError(`${field} rendered to ${text.length} characters, more than the ${max} a notification's ${field} may have`);
  return text;
}

/**
 * A rendered Telegram text, unless Telegram would refuse it: HTML it cannot read (an unbalanced or
 * unsupported tag), blank once its tags are read, or longer than it takes once they are (it counts
 * the text it shows). Checked here, a preview lists what delivery would fail on.
 */
function telegramSection(html: string): string {
  const read = readTelegramHtml(html);
  if ('error' in read) throw new TemplateRenderError(`text is not HTML Telegram can read: ${read.error}`);
  filled('text, once its tags are read,', read.text);
  const length = [...read.text].length;
  if (length > maxTelegramTextLength) throw new TemplateRenderError(`text rendered to ${length} characters once its tags are read, more than the ${maxTelegramTextLength} Telegram takes`);
  return html;
}

/** A rendered webhook body, unless it is not JSON: the receiver is told `application/json`. */
function jsonBody(body: string): string {
  try {
    JSON.parse(body);
  } catch (error) {
    throw new TemplateRenderError(`body did not render to JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  return body;
}

function renderSection<C extends TemplateChannel>(channel: C, sections: TemplateSections, scope: RenderScope): RenderedSections[C] | undefined {
  const r = (source: string, escapeHtml = false): string => renderField(source, scope, { escapeHtml });
  const rendered = ((): RenderedSections[TemplateChannel] | undefined => {
    switch (channel) {
      case 'inbox':
      case 'websocket': {
        const s = channel === 'inbox' ? sections.inbox : sections.websocket;
        return s && { title: within('title', filled('title', oneLine(r(s.title))), maxTitleLength), message: within('message', filled('message', r(s.message)), maxMessageLength) };
      }
      case 'email': {
        const s = sections.email;
        if (!s) return undefined;
        const htmlPart = s.html !== undefined ? r(s.html, true) : undefined;
        const text = s.text !== undefined ? r(s.text) : htmlToText(htmlPart ?? '');
        return { subject: filled('subject', oneLine(r(s.subject))), ...(htmlPart !== undefined ? { html: htmlPart } : {}), text: filled('the e-mail body', text) };
      }
      case 'push': {
        const s = sections.push;
        return s && { title: filled('title', oneLine(r(s.title))), body: filled('body', r(s.body)), ...(s.url !== undefined ? { url: r(s.url).trim() } : {}) };
      }
      case 'sms': {
        const s = sections.sms;
        if (!s) return undefined;
        // As it is sent: cut to what SNS takes.
        const text = smsBody(filled('text', r(s.text)));
        const { encoding, segments } = smsSegments(text);
        return { text, encoding, segments };
      }
      case 'telegram': {
        const s = sections.telegram;
        return s && { text: telegramSection(filled('text', r(s.text, true))), parseMode: telegramParseMode };
      }
      case 'webhook': {
        const s = sections.webhook;
        return s && { body: jsonBody(filled('body', r(s.body))) };
      }
    }
    return undefined;
  })();
  return rendered as RenderedSections[C] | undefined;
}

/** What {@link renderTemplate} renders: a version of a template, for a locale. */
export interface RenderRequest {
  readonly templateId: string;
  readonly version: number;
  readonly definition: TemplateDefinition;
  /** The recipient's locale (or the preview's); absent: the template's default. */
  readonly locale?: string;
  /** Only these channels (delivery renders what it delivers); absent: every section. */
  readonly channels?: readonly TemplateChannel[];
}

/**
 * Renders every section of the locale the recipient gets (see `resolveLocale`): a section that
 * cannot be rendered is listed in `failures` with the reason, the others still render. Channels
 * the template has no section for are in neither: they fall back to the inbox's title and message
 * (`sectionFor`, shared/templates/section.ts).
 */
export function renderTemplate(request: RenderRequest, scope: RenderScope): RenderedTemplate {
  const locale = resolveLocale(request.definition, request.locale);
  const sections = sectionsFor(request.definition, locale);
  const channels: Record<string, unknown> = {};
  const failures: Record<string, string> = {};
  const wanted = new Set<TemplateChannel>(request.channels ?? (Object.keys(sections) as TemplateChannel[]));
  // The inbox is every other channel's fallback: always rendered.
  wanted.add('inbox');
  for (const channel of wanted) {
    try {
      const rendered = renderSection(channel, sections, scope);
      if (rendered !== undefined) channels[channel] = rendered;
    } catch (error) {
      failures[channel] = error instanceof TemplateRenderError ? error.message : String(error);
    }
  }
  return { templateId: request.templateId, version: request.version, locale: locale.label, channels, failures };
}

/** A problem with a definition, at its path (`locales.fr.email.html`). */
export interface TemplateProblem {
  readonly path: string;
  readonly message: string;
}

/** The Liquid syntax errors of a definition (unclosed tags, unknown filters, sources over the parse limit). */
export function syntaxProblems(definition: TemplateDefinition): TemplateProblem[] {
  return templateSources(definition).flatMap(({ path, source }) => {
    try {
      plain.parse(source);
      return [];
    } catch (error) {
      return [{ path, message: explain(error).message }];
    }
  });
}

/** Members every JSON value answers in Liquid without having them (`items.size`, `list.first`). */
const builtInMembers = new Set(['size', 'first', 'last']);

/**
 * The part of the variable `path` that `payload` lacks, up to its first missing segment (`order`
 * when there is no `order`, `order.total` when `order` has no `total`); undefined when it holds it.
 * A computed segment (`a[b]`) ends the walk: what it names is known only when rendering.
 */
function missingPart(payload: unknown, path: readonly unknown[]): string | undefined {
  let value = payload;
  const walked: (string | number)[] = [];
  for (const segment of path) {
    if (typeof segment !== 'string' && typeof segment !== 'number') return undefined;
    if ((Array.isArray(value) || typeof value === 'string') && typeof segment === 'string' && builtInMembers.has(segment)) return undefined;
    walked.push(segment);
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, segment)) return walked.join('.');
    value = (value as Record<string | number, unknown>)[segment];
  }
  return undefined;
}

/**
 * The payload variables a definition uses that `payload` lacks (`order.total`), found by liquidjs's
 * static analysis of every section of every locale: what a delivery in any language would miss.
 * `recipient.*` and `tenant.*` are not the payload's to hold; variables a template assigns or loops
 * over itself are not global and are not asked for.
 */
export function missingPayloadVariables(definition: TemplateDefinition, payload: Readonly<Record<string, unknown>>): string[] {
  const json = plainJson(payload);
  const missing = new Set<string>();
  for (const { source } of templateSources(definition)) {
    let variables: ReturnType<typeof plain.globalVariableSegmentsSync>;
    try {
      variables = plain.globalVariableSegmentsSync(source);
    } catch {
      // A source that does not parse (stored before its tag was refused) asks for nothing here:
      // rendering it reports why it fails, in the preview's `failures` and at delivery.
      continue;
    }
    for (const segments of variables) {
      const [root] = segments;
      if (typeof root === 'string' && (reservedTemplateVariables as readonly string[]).includes(root)) continue;
      const part = missingPart(json, segments);
      if (part !== undefined) missing.add(part);
    }
  }
  return [...missing].sort();
}
