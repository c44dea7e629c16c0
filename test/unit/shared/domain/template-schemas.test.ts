/** What `PUT /v1/templates/{id}` and a templated create accept, and how each refusal names its field. */
import { describe, expect, it } from 'vitest';
import { createNotificationsBodySchema, maxTemplateBytes, maxTemplateVersions, putTemplateBodySchema, templateRefSchema, templateVersionSchema } from '../../../../shared/domain/schemas.ts';

function issues(result: { success: boolean; error?: { issues: { path: PropertyKey[]; message: string }[] } }): { path: string; message: string }[] {
  return (result.error?.issues ?? []).map((issue) => ({ path: issue.path.join('.'), message: issue.message }));
}

const inbox = { title: 'T', message: 'M' };

describe('a template definition', () => {
  it('takes sections for all seven channels and partial locales', () => {
    // Act
    const result = putTemplateBodySchema.safeParse({
      channels: {
        inbox,
        websocket: inbox,
        email: { subject: 's', html: '<p>h</p>' },
        push: { title: 't', body: 'b', url: 'https://x.test/{{ id }}' },
        sms: { text: 's' },
        telegram: { text: 't' },
        webhook: { body: '{}' },
      },
      locales: { fr: { email: { subject: 'S' } }, 'pt-BR': { sms: { text: 'x' } } },
      defaultLocale: 'en',
    });

    // Assess
    expect(result.success).toBe(true);
  });

  it('requires the inbox section, an e-mail body, and BCP 47 locale keys', () => {
    expect(issues(putTemplateBodySchema.safeParse({ channels: {} }))).toEqual([{ path: 'channels.inbox', message: expect.stringContaining('is required') as string }]);
    expect(issues(putTemplateBodySchema.safeParse({ channels: { inbox, email: { subject: 's' } } }))).toEqual([{ path: 'channels.email', message: 'must have html or text (or both)' }]);
    expect(issues(putTemplateBodySchema.safeParse({ channels: { inbox }, locales: { 'not a tag!': {} } }))[0]?.path).toBe('locales.not a tag!');
    expect(issues(putTemplateBodySchema.safeParse({ channels: { inbox }, defaultLocale: 'x_y' }))[0]?.path).toBe('defaultLocale');
    expect(issues(putTemplateBodySchema.safeParse({ channels: { inbox, fax: { text: 'x' } } }))[0]?.path).toBe('channels');
  });

  it('refuses a locale section with no base section to complete it, naming each missing field', () => {
    // Act
    const result = putTemplateBodySchema.safeParse({
      channels: { inbox },
      locales: { fr: { push: { body: 'pb' }, sms: {}, telegram: {}, email: { subject: 'S' } }, de: { sms: { text: 'ok' }, inbox: { title: 'nur Titel' } } },
    });

    // Assess: de's sms is whole and its inbox takes the base's message; fr's sections are not
    expect(issues(result)).toEqual([
      { path: 'locales.fr.email', message: 'must have html or text (or both): channels.email has none to take them from' },
      { path: 'locales.fr.push.title', message: 'is required: channels.push has none to take it from' },
      { path: 'locales.fr.sms.text', message: 'is required: channels.sms has none to take it from' },
      { path: 'locales.fr.telegram.text', message: 'is required: channels.telegram has none to take it from' },
    ]);
  });

  it('refuses blank sources, which could never be sent, and two keys naming one locale', () => {
    expect(issues(putTemplateBodySchema.safeParse({ channels: { inbox: { title: '', message: 'm' }, sms: { text: '   ' } } }))).toEqual([
      { path: 'channels.inbox.title', message: 'must not be blank' },
      { path: 'channels.sms.text', message: 'must not be blank' },
    ]);
    expect(issues(putTemplateBodySchema.safeParse({ channels: { inbox }, locales: { fr: { inbox }, FR: { inbox } } }))).toEqual([{ path: 'locales.FR', message: 'names the same locale as fr' }]);
  });

  it(`refuses a definition over ${maxTemplateBytes} bytes as JSON`, () => {
    // Act
    const result = putTemplateBodySchema.safeParse({ channels: { inbox: { title: 'T', message: 'x'.repeat(maxTemplateBytes) } } });

    // Assess
    expect(issues(result)).toEqual([{ path: '', message: `must be at most ${maxTemplateBytes} bytes as JSON` }]);
  });
});

describe('a template version in a path', () => {
  it(`reads any version from 1, past ${maxTemplateVersions} too (a template stored again goes on numbering), as a reference names it`, () => {
    expect(templateVersionSchema.parse(String(maxTemplateVersions + 2))).toBe(maxTemplateVersions + 2);
    expect(templateRefSchema.parse({ id: 'a', version: maxTemplateVersions + 2 }).version).toBe(maxTemplateVersions + 2);
    expect(templateVersionSchema.safeParse('0').success).toBe(false);
    expect(templateVersionSchema.safeParse('1.5').success).toBe(false);
  });
});

describe('a template reference', () => {
  it('refuses a payload holding recipient or tenant, and a version below 1', () => {
    expect(issues(templateRefSchema.safeParse({ id: 'a', payload: { recipient: {} } }))[0]?.path).toBe('payload');
    expect(issues(templateRefSchema.safeParse({ id: 'a', payload: { tenant: 1 } }))[0]?.path).toBe('payload');
    expect(issues(templateRefSchema.safeParse({ id: 'a', version: 0, payload: {} }))[0]?.path).toBe('version');
    expect(issues(templateRefSchema.safeParse({ id: '../x', payload: {} }))[0]?.path).toBe('id');
    expect(templateRefSchema.parse({ id: 'a' })).toEqual({ id: 'a', payload: {} });
  });

  it('stands instead of title and message on a notification: never both, never neither', () => {
    // Act
    const both = createNotificationsBodySchema.safeParse({ recipients: ['a'], title: 't', message: 'm', template: { id: 'x' } });
    const neither = createNotificationsBodySchema.safeParse({ recipients: ['a'] });
    const templated = createNotificationsBodySchema.safeParse({ recipients: ['a'], template: { id: 'x', payload: { n: 1 } } });

    // Assess
    expect(issues(both).map((i) => i.path)).toEqual(['title', 'message']);
    expect(issues(neither)).toEqual([
      { path: 'title', message: 'is required (or give a template)' },
      { path: 'message', message: 'is required (or give a template)' },
    ]);
    expect(templated.success).toBe(true);
  });
});
