import { describe, expect, it } from 'vitest';
import type { DeliveryContent } from '../../../../shared/domain/delivery.ts';
import { resolveLocale } from '../../../../shared/domain/template.ts';
import type { TemplateDefinition } from '../../../../shared/domain/template.ts';
import { parseJsonKeepingNumbers } from '../../../../shared/domain/opaque-json.ts';
import { htmlToText } from '../../../../shared/templates/html-text.ts';
import { missingPayloadVariables, renderField, renderTemplate, syntaxProblems, templateRenderLimits } from '../../../../shared/templates/render.ts';
import { sectionFor } from '../../../../shared/templates/section.ts';
import { smsSegments } from '../../../../shared/templates/sms-segments.ts';
import { escapeTelegramHtml } from '../../../../shared/templates/telegram-text.ts';

const tenant = { id: 'acme' };

const invoice: TemplateDefinition = {
  description: 'Invoice ready',
  defaultLocale: 'en',
  channels: {
    inbox: { title: 'Invoice {{ number }}', message: 'Total {{ total }}' },
    email: { subject: 'Invoice {{ number }}\r\nBcc: x@example.com', html: '<p>Hello {{ name }}, total <b>{{ total }}</b></p>' },
    sms: { text: 'Invoice {{ number }}: {{ total }}' },
    telegram: { text: '<b>Invoice</b> {{ name }}' },
  },
  locales: {
    fr: { inbox: { title: 'Facture {{ number }}' }, email: { subject: 'Facture {{ number }}' } },
    'pt-BR': { inbox: { title: 'Fatura {{ number }}' } },
  },
};

function render(definition: TemplateDefinition, payload: Record<string, unknown>, locale?: string): ReturnType<typeof renderTemplate> {
  return renderTemplate({ templateId: 'invoice', version: 1, definition, ...(locale !== undefined ? { locale } : {}) }, { payload, tenant });
}

describe('rendering a template', () => {
  it('fails a channel whose locale section has no base section to complete it, never sending "undefined"', () => {
    // Prepare: a definition stored before such sections were refused
    const partial = { channels: { inbox: { title: 'T', message: 'M' } }, locales: { fr: { sms: {}, push: { body: 'pb' } } } } as unknown as TemplateDefinition;

    // Act
    const rendered = render(partial, {}, 'fr');

    // Assess
    expect(rendered.channels.sms).toBeUndefined();
    expect(rendered.channels.push).toBeUndefined();
    expect(rendered.failures).toEqual({
      sms: "has no text in this locale's section (and no base section to take it from)",
      push: "has no text in this locale's section (and no base section to take it from)",
    });
  });

  it('escapes every variable of the HTML e-mail, so a payload holding <script> arrives as text', () => {
    // Act
    const rendered = render(invoice, { number: 7, total: '10 €', name: '<script>alert(1)</script>' });

    // Assess
    const email = rendered.channels.email;
    expect(email?.html).toBe('<p>Hello &lt;script&gt;alert(1)&lt;/script&gt;, total <b>10 €</b></p>');
    expect(email?.html).not.toContain('<script>');
    // The text alternative is derived from the HTML: the words, unescaped, no tags.
    expect(email?.text).toBe('Hello <script>alert(1)</script>, total 10 €');
  });

  it('does not escape the plain-text channels, and keeps the subject on one line', () => {
    // Act
    const rendered = render(invoice, { number: '<7>', total: 'a & b', name: 'x' });

    // Assess
    expect(rendered.channels.inbox).toEqual({ title: 'Invoice <7>', message: 'Total a & b' });
    expect(rendered.channels.email?.subject).toBe('Invoice <7> Bcc: x@example.com');
  });

  it('escapes Telegram text for the HTML parse mode, keeping the template\'s own tags', () => {
    // Act
    const rendered = render(invoice, { number: 1, total: 1, name: 'Tom & <Jerry>' });

    // Assess
    expect(rendered.channels.telegram).toEqual({ text: '<b>Invoice</b> Tom &amp; &lt;Jerry&gt;', parseMode: 'HTML' });
    expect(escapeTelegramHtml('a<b>&"c"')).toBe('a&lt;b&gt;&amp;&quot;c&quot;');
  });

  it.each([
    ['HTML Telegram cannot read', '<b>{{ n }} <i>x</b>', 'hello', /^text is not HTML Telegram can read: unmatched end tag/],
    ['an unsupported tag', '<p>{{ n }}</p>', 'hello', /^text is not HTML Telegram can read: unsupported start tag "p"/],
    ['blank once its tags are read', '<b>{{ n }}</b>', '   ', /^text, once its tags are read, rendered empty/],
    ['longer than Telegram takes once its tags are read', '<b>{{ n }}</b>', 'a‹'.repeat(2_049), /^text rendered to 4098 characters once its tags are read, more than the 4096/],
  ])('fails a Telegram section that Telegram would refuse: %s', (_case, text, n, reason) => {
    // Act
    const rendered = render({ channels: { inbox: { title: 'T', message: 'M' }, telegram: { text } } }, { n });

    // Assess: the preview and delivery alike list it, and render the others
    expect(rendered.failures.telegram).toMatch(reason);
    expect(rendered.channels.telegram).toBeUndefined();
    expect(rendered.channels.inbox).toEqual({ title: 'T', message: 'M' });
  });

  it('keeps a Telegram section at Telegram\'s limit once its tags and entities are read', () => {
    // Act: 4,096 characters shown, more written (tags, &lt; for each <)
    const rendered = render({ channels: { inbox: { title: 'T', message: 'M' }, telegram: { text: '<b>{{ n }}</b>' } } }, { n: '<'.repeat(4_096) });

    // Assess
    expect(rendered.failures).toEqual({});
    expect(rendered.channels.telegram?.text).toBe(`<b>${'&lt;'.repeat(4_096)}</b>`);
  });

  it('fails a webhook section that does not render to JSON, saying why', () => {
    // Act
    const rendered = render({ channels: { inbox: { title: 'T', message: 'M' }, webhook: { body: '{"n": {{ n }}}' } } }, { n: 'hello world' });
    const json = render({ channels: { inbox: { title: 'T', message: 'M' }, webhook: { body: '{"n": {{ n | json }}}' } } }, { n: 'hello world' });

    // Assess
    expect(rendered.failures.webhook).toMatch(/^body did not render to JSON \(/);
    expect(json.failures).toEqual({});
    expect(json.channels.webhook).toEqual({ body: '{"n": "hello world"}' });
  });

  it('escapes once where a filter already made HTML: escape, escape_once and newline_to_br as the last filter', () => {
    // Prepare
    const definition: TemplateDefinition = {
      channels: {
        inbox: { title: 'T', message: 'M' },
        email: { subject: 'S', html: '<p>{{ x | escape }}</p><p>{{ x | escape_once }}</p><p>{{ x | newline_to_br }}</p><p>{{ x | newline_to_br | upcase }}</p>' },
        telegram: { text: '{{ x | escape }}' },
      },
    };

    // Act
    const rendered = render(definition, { x: 'a & <b>\nline2' });

    // Assess: the payload's markup is text; newline_to_br's own <br /> is markup; before another filter, escaped as any output
    expect(rendered.channels.email?.html).toBe(
      '<p>a &amp; &lt;b&gt;\nline2</p><p>a &amp; &lt;b&gt;\nline2</p><p>a &amp; &lt;b&gt;<br />\nline2</p><p>A &amp;AMP; &amp;LT;B&amp;GT;&lt;BR /&gt;\nLINE2</p>',
    );
    expect(rendered.channels.telegram?.text).toBe('a &amp; &lt;b&gt;\nline2');
    expect(rendered.channels.email?.text).toContain('a & <b>\nline2');
  });

  it('falls back from the locale to its language, then to the template default, and says which it used', () => {
    // Act
    const exact = render(invoice, { number: 1, total: 2, name: 'n' }, 'fr');
    const byLanguage = render(invoice, { number: 1, total: 2, name: 'n' }, 'fr-CA');
    const caseless = render(invoice, { number: 1, total: 2, name: 'n' }, 'PT-br');
    const unknown = render(invoice, { number: 1, total: 2, name: 'n' }, 'de-AT');
    const none = render(invoice, { number: 1, total: 2, name: 'n' });

    // Assess
    expect(exact.locale).toBe('fr');
    expect(exact.channels.inbox).toEqual({ title: 'Facture 1', message: 'Total 2' });
    expect(exact.channels.email?.subject).toBe('Facture 1');
    expect(byLanguage.locale).toBe('fr');
    expect(byLanguage.channels.inbox?.title).toBe('Facture 1');
    expect(caseless.locale).toBe('pt-BR');
    expect(caseless.channels.inbox?.title).toBe('Fatura 1');
    expect(unknown.locale).toBe('en');
    expect(unknown.channels.inbox?.title).toBe('Invoice 1');
    expect(none.locale).toBe('en');
  });

  it('lays a region\'s partial section over its language\'s, then the base\'s', () => {
    // Prepare: pt is whole; pt-BR gives only a subject
    const definition: TemplateDefinition = {
      channels: { inbox: { title: 'Hello', message: 'Your order' }, email: { subject: 'Order', html: '<p>Your order shipped</p>' } },
      locales: {
        pt: { inbox: { title: 'Olá', message: 'O seu pedido' }, email: { subject: 'Pedido', html: '<p>O seu pedido foi enviado</p>' } },
        'pt-BR': { email: { subject: 'Pedido (BR)' } },
        'zh-Hant-TW': { inbox: { title: '你好' } },
      },
    };

    // Act
    const region = render(definition, {}, 'pt-BR');
    const noLanguage = render(definition, {}, 'zh-Hant-TW');

    // Assess: pt's text, pt-BR's subject; a locale with no language entry lays over the base
    expect(region.locale).toBe('pt-BR');
    expect(region.channels.inbox).toEqual({ title: 'Olá', message: 'O seu pedido' });
    expect(region.channels.email).toMatchObject({ subject: 'Pedido (BR)', html: '<p>O seu pedido foi enviado</p>' });
    expect(noLanguage.channels.inbox).toEqual({ title: '你好', message: 'Your order' });
  });

  it('falls back through each shorter prefix of the locale, so zh-Hant-TW finds zh-Hant before zh', () => {
    // Prepare
    const definition: TemplateDefinition = { channels: invoice.channels, locales: { zh: {}, 'zh-Hant': {}, 'sr-Latn': {} } };

    // Act / Assess
    expect(resolveLocale(definition, 'zh-Hant-TW')).toEqual({ key: 'zh-Hant', label: 'zh-Hant' });
    expect(resolveLocale(definition, 'zh-Hans-CN')).toEqual({ key: 'zh', label: 'zh' });
    expect(resolveLocale(definition, 'sr-Latn-RS')).toEqual({ key: 'sr-Latn', label: 'sr-Latn' });
    expect(resolveLocale(definition, 'sr-Latn-u-nu-latn')).toEqual({ key: 'sr-Latn', label: 'sr-Latn' });
    expect(resolveLocale(definition, 'sr-Cyrl')).toEqual({ label: 'default' });
  });

  it('uses the default locale\'s own sections when the template names one of its locales as default', () => {
    // Prepare
    const definition: TemplateDefinition = { ...invoice, defaultLocale: 'fr' };

    // Act
    const resolved = resolveLocale(definition, 'ja');

    // Assess
    expect(resolved).toEqual({ key: 'fr', label: 'fr' });
    expect(resolveLocale({ channels: invoice.channels }, 'ja')).toEqual({ label: 'default' });
  });

  it('fails a section whose variable is missing, naming it, and renders the others', () => {
    // Act
    const rendered = render(invoice, { number: 1, total: 2 });

    // Assess
    expect(rendered.failures.email).toMatch(/^missing variable "name"/);
    expect(rendered.failures.telegram).toMatch(/^missing variable "name"/);
    expect(rendered.channels.email).toBeUndefined();
    expect(rendered.channels.inbox).toEqual({ title: 'Invoice 1', message: 'Total 2' });
    expect(rendered.channels.sms?.text).toBe('Invoice 1: 2');
  });

  it('fails a section that renders empty rather than send it so', () => {
    // Act
    const rendered = render(invoice, { number: 1, total: 2, name: 'n', blank: ' ' }, undefined);
    const empty = render({ channels: { inbox: { title: 'T', message: 'M' }, sms: { text: '{{ blank }}' }, email: { subject: '{{ blank }}', text: 'x' } } }, { blank: ' ' });

    // Assess
    expect(rendered.failures).toEqual({});
    expect(empty.failures).toEqual({ sms: 'text rendered empty', email: 'subject rendered empty' });
    expect(empty.channels.inbox).toEqual({ title: 'T', message: 'M' });
  });

  it('names a missing member of a present object', () => {
    // Act / Assess
    expect(() => renderField('{{ order.total }}', { payload: { order: {} }, tenant })).toThrow(/missing variable "order.total"/);
  });

  it('refuses unknown filters and reads no files', () => {
    // Act
    const problems = syntaxProblems({ channels: { inbox: { title: '{{ x | shout }}', message: '{% if x %}' } } });

    // Assess
    expect(problems.map((p) => p.path)).toEqual(['channels.inbox.title', 'channels.inbox.message']);
    expect(problems[0]?.message).toMatch(/undefined filter: shout/);
    expect(() => renderField('{% include "/etc/passwd" %}', { payload: {}, tenant })).toThrow(/read no files/);
    expect(() => renderField('{% render "partial" %}', { payload: {}, tenant })).toThrow(/read no files/);
  });

  it('refuses, when a definition is put, every tag that loads another template, however it is written', () => {
    // Prepare
    const sources = ['{% include "/etc/passwd" %}', "{% render '../../package.json' %}", '{% layout "base" %}x', '{% include partial %}', '{%- render "x" -%}', '{% liquid\n  include "x"\n%}', '{% if a %}{% render "x" %}{% endif %}'];

    // Act
    const problems = sources.map((source) => syntaxProblems({ channels: { inbox: { title: 't', message: source } } }));

    // Assess
    for (const [index, found] of problems.entries()) {
      expect(found.map((p) => p.path), sources[index]).toEqual(['channels.inbox.message']);
      expect(found[0]?.message, sources[index]).toMatch(/includes, renders and layouts are not available/);
    }
  });

  it('fails an inbox or WebSocket section longer than a notification\'s title or message may be', () => {
    // Prepare: the text comes from the payload, so the render is quick whatever the machine's load
    // (a loop of 10,001 turns once took longer than the 100 ms render limit in a loaded run).
    const long = (field: 'title' | 'message'): TemplateDefinition => ({
      channels: {
        inbox: { title: 'T', message: 'M', [field]: '{{ text }}' },
        websocket: { title: 'T', message: 'M', [field]: '{{ text }}' },
      },
    });
    const text = (characters: number): { text: string } => ({ text: '€'.repeat(characters) });

    // Act
    const title = render(long('title'), text(201));
    const message = render(long('message'), text(10_001));
    const fitting = render(long('title'), text(200));

    // Assess
    expect(title.failures.inbox).toMatch(/title rendered to 201 characters, more than the 200/);
    expect(title.failures.websocket).toMatch(/title rendered to 201 characters/);
    expect(message.failures.inbox).toMatch(/message rendered to 10001 characters, more than the 10000/);
    expect(fitting.failures).toEqual({});
  });

  it('stops a render that runs too long', () => {
    // Act / Assess
    expect(() =>
      renderField('{% for i in (1..1000) %}{% for j in (1..1000) %}{% for k in (1..1000) %}x{% endfor %}{% endfor %}{% endfor %}', { payload: {}, tenant }),
    ).toThrow(new RegExp(`longer than ${templateRenderLimits.renderMs} ms|built more than`));
  });

  it('stops a render that allocates too much', () => {
    // Act / Assess
    expect(() => renderField('{% for i in (1..100000000) %}{{ i }}{% endfor %}', { payload: {}, tenant })).toThrow(/built more than|longer than/);
  });

  it('refuses output beyond the size limit', () => {
    // Prepare: a payload string that fits, repeated past the limit by a short loop.
    const chunk = 'x'.repeat(10_000);
    const times = Math.ceil(templateRenderLimits.outputChars / chunk.length) + 1;

    // Act / Assess
    expect(() => renderField(`{% for i in (1..${times}) %}{{ chunk }}{% endfor %}`, { payload: { chunk }, tenant })).toThrow(/rendered to \d+ characters|built more than/);
    expect(renderField('{% for i in (1..3) %}{{ chunk }}{% endfor %}', { payload: { chunk }, tenant })).toHaveLength(30_000);
  });

  it('fails a field that renders half of a character, which could be neither stored nor sent', () => {
    // Act / Assess: split works on UTF-16 units, so the first of them is a lone surrogate.
    expect(() => renderField('S {{ s | split: "" | first }}', { payload: { s: '😀' }, tenant })).toThrow(/not well-formed Unicode/);
    expect(renderField('S {{ s | slice: 0, 1 }}', { payload: { s: '😀😀' }, tenant })).toBe('S 😀');
  });

  it('refuses a source longer than the parse limit', () => {
    // Act / Assess
    expect(() => renderField('x'.repeat(templateRenderLimits.parseChars + 1), { payload: {}, tenant })).toThrow(/longer than/);
  });

  it('prints a payload number a double would change exactly as sent, and still does arithmetic with it', () => {
    // Prepare: the payload as the API parses it (opaque-json.ts keeps such numbers as raw JSON).
    const payload = parseJsonKeepingNumbers('{"id":9007199254740993,"huge":1e400,"order":{"ids":[12345678901234567890]},"small":42}') as Record<string, unknown>;

    // Act
    const text = renderField('{{ id }} {{ huge }} {{ order.ids[0] }} {{ small }} {{ id | plus: 1 }}{% if id > 5 %} big{% endif %}', { payload, tenant });
    const json = renderField('{{ order | json }} {{ id | json }}', { payload, tenant });
    const compared = renderField(
      '{% if id == 9007199254740993 %}eq{% endif %} {% if id == "9007199254740993" %}str{% endif %} {% if huge > id %}gt{% endif %} {% if 5 < id %}lt{% endif %} {% if order.ids contains 12345678901234567890 %}in{% endif %}',
      { payload, tenant },
    );

    // Assess
    expect(text).toBe('9007199254740993 1e400 12345678901234567890 42 9007199254740992 big');
    expect(json).toBe('{"ids":[12345678901234567890]} 9007199254740993');
    expect(compared).toBe('eq  gt lt in');
  });

  it('never reaches a payload\'s prototype', () => {
    // Act / Assess
    expect(() => renderField('{{ name.constructor }}', { payload: { name: {} }, tenant })).toThrow(/missing variable/);
  });

  it('sees the recipient and the tenant', () => {
    // Act
    const text = renderField('{{ recipient.email }} of {{ tenant.id }}', { payload: {}, recipient: { id: 'u1', email: 'u1@example.com' }, tenant });

    // Assess
    expect(text).toBe('u1@example.com of acme');
  });
});

describe('the payload a template needs', () => {
  it('lists every variable any section of any locale uses that the payload lacks', () => {
    // Prepare
    const definition: TemplateDefinition = {
      channels: {
        inbox: { title: 'Hi {{ recipient.email }} {{ order.total }}', message: '{% for item in items %}{{ item.name }}{% endfor %}{{ items.size }}' },
      },
      locales: { fr: { inbox: { title: '{{ greeting }} {{ tenant.id }}' } } },
    };

    // Act
    const missing = missingPayloadVariables(definition, { order: {} });
    const none = missingPayloadVariables(definition, { order: { total: 1 }, items: [], greeting: 'Salut' });

    // Assess: loop variables are the template's own; recipient and tenant are not the payload's.
    expect(missing).toEqual(['greeting', 'items', 'order.total']);
    expect(none).toEqual([]);
  });

  it('asks nothing of a stored source that loads another template, and leaves its failure to the render', () => {
    // Prepare: stored before such tags were refused when a definition is put.
    const definition: TemplateDefinition = { channels: { inbox: { title: '{{ number }}', message: '{% include "/etc/passwd" %}' } } };

    // Act
    const missing = missingPayloadVariables(definition, {});
    const rendered = renderTemplate({ templateId: 'old', version: 1, definition }, { payload: { number: 1 }, tenant });

    // Assess
    expect(missing).toEqual(['number']);
    expect(rendered.failures.inbox).toMatch(/includes, renders and layouts are not available/);
  });
});

describe('SMS segments', () => {
  it('counts GSM-7 text in 160 septets, then 153 per part', () => {
    expect(smsSegments('a'.repeat(160))).toEqual({ encoding: 'GSM-7', units: 160, segments: 1 });
    expect(smsSegments('a'.repeat(161))).toEqual({ encoding: 'GSM-7', units: 161, segments: 2 });
    expect(smsSegments('a'.repeat(306)).segments).toBe(2);
    expect(smsSegments('a'.repeat(307)).segments).toBe(3);
  });

  it('counts an extension character as two septets', () => {
    expect(smsSegments('€'.repeat(80))).toEqual({ encoding: 'GSM-7', units: 160, segments: 1 });
    expect(smsSegments(`${'€'.repeat(80)}a`).segments).toBe(2);
  });

  it('counts anything outside GSM-7 as UCS-2: 70, then 67 per part', () => {
    expect(smsSegments(`${'a'.repeat(69)}ł`)).toEqual({ encoding: 'UCS-2', units: 70, segments: 1 });
    expect(smsSegments(`${'a'.repeat(70)}ł`).segments).toBe(2);
    expect(smsSegments('😀'.repeat(67)).segments).toBe(2);
    expect(smsSegments('').segments).toBe(0);
  });

  it('reports the segments of a rendered SMS section', () => {
    // Act
    const rendered = render({ channels: { inbox: { title: 't', message: 'm' }, sms: { text: '{{ body }}' } } }, { body: 'é'.repeat(200) });

    // Assess: é is in the GSM-7 alphabet.
    expect(rendered.channels.sms).toEqual({ text: 'é'.repeat(200), encoding: 'GSM-7', segments: 2 });
  });

  it.each([
    // `…` is not in the GSM alphabet: a GSM text cut with it would go as UCS-2, 21 segments
    ['a GSM-7 text with ..., staying GSM-7', 'a'.repeat(1_401), `${'a'.repeat(1_397)}...`, { encoding: 'GSM-7', segments: 10 }],
    ['a UCS-2 text with …', 'ł'.repeat(1_401), `${'ł'.repeat(798)}…`, { encoding: 'UCS-2', segments: 12 }],
  ])('cuts %s', (_case, body, text, sizes) => {
    // Act
    const rendered = render({ channels: { inbox: { title: 't', message: 'm' }, sms: { text: '{{ body }}' } } }, { body });

    // Assess
    expect(rendered.channels.sms).toEqual({ text, ...sizes });
  });
});

describe('the text alternative of an HTML e-mail', () => {
  it('decodes a numeric reference to a surrogate, NUL or past U+10FFFF as U+FFFD, never as a lone surrogate', () => {
    // Act
    const text = htmlToText('<p>a&#xD800;b&#0;c&#x110000;d&#128512;</p>');

    // Assess
    expect(text).toBe('a\uFFFDb\uFFFDc\uFFFDd😀');
    expect(text.isWellFormed()).toBe(true);
  });


  it('decodes every named reference, breaks lines where blocks begin too, and keeps table cells apart', () => {
    // Act
    const text = htmlToText(
      'A&mdash;B&rsquo;s&hellip; &euro;5 &#8364;6 &#x20AC;7 &amp;amp; &copy; &eacute;<div>d1</div>text<ul><li>x</li></ul>after<h1>H</h1>t2<table><tr><td>a</td><td>b</td></tr></table><span>s1</span><span>s2</span> &lt;b&gt; &bogus;',
    );

    // Assess: a decoded &lt;b&gt; stays text; an unknown name stays as written
    expect(text).toBe('A\u2014B\u2019s\u2026 \u20ac5 \u20ac6 \u20ac7 &amp; \u00a9 \u00e9\nd1\ntext\n- x\nafter\nH\nt2\na b\ns1s2 <b> &bogus;');
  });

  it('keeps the words, breaks lines at blocks and shows each link', () => {
    expect(htmlToText('<style>p{}</style><h1>Hi&nbsp;there</h1><p>See <a href="https://x.test/a">your invoice</a>.<br>Thanks &amp; bye</p>')).toBe(
      'Hi there\nSee your invoice (https://x.test/a).\nThanks & bye',
    );
  });
});

describe('sectionFor', () => {
  const content: DeliveryContent = {
    id: 'ntf_1',
    title: 'Invoice 1',
    message: 'Total 2',
    type: 'system',
    priority: 'normal',
    createdAt: '2030-01-01T00:00:00.000Z',
    scheduledAt: null,
  };

  it('gives the inbox title and message to a channel without a section, and to content without a template', () => {
    // Act
    const plain = sectionFor(content, 'sms');
    const templated = sectionFor({ ...content, rendered: render(invoice, { number: 1, total: 2, name: 'n' }) }, 'push');

    // Assess
    expect(plain).toEqual({ kind: 'fallback', title: 'Invoice 1', message: 'Total 2' });
    expect(templated).toEqual({ kind: 'fallback', title: 'Invoice 1', message: 'Total 2' });
  });

  it('gives a channel its own section', () => {
    // Act
    const chosen = sectionFor({ ...content, rendered: render(invoice, { number: 1, total: 2, name: 'n' }) }, 'sms');

    // Assess
    expect(chosen).toEqual({ kind: 'section', section: { text: 'Invoice 1: 2', encoding: 'GSM-7', segments: 1 } });
  });

  it('throws the reason for a section that could not be rendered, never an empty one', () => {
    // Act / Assess
    expect(() => sectionFor({ ...content, rendered: render(invoice, { number: 1, total: 2 }) }, 'email')).toThrow(/the email section of template invoice \(en\): missing variable "name"/);
  });
});
