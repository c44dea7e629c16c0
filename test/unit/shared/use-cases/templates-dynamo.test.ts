/**
 * The template use cases on the real template store (the local stack's DynamoDB: dynalite with
 * transactions, the table as the app description declares it): versions, listing, deletion, previews, the checks
 * of a create, and every refusal.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoTemplateStore } from '../../../../shared/adapters/dynamo-template-store.ts';
import type { TemplateDefinition } from '../../../../shared/domain/template.ts';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../../../../shared/errors.ts';
import { admitTemplate, checkPutTemplate, deleteTemplate, getTemplate, listTemplates, previewTemplate, putTemplate } from '../../../../shared/use-cases/templates.ts';
import type { TemplateDeps } from '../../../../shared/use-cases/templates.ts';
import { FakeClock } from '../../fakes/clock.ts';
import { admin, aRecipient, plainUser, sender, tenantId } from '../../fakes/fixtures.ts';
import { InMemoryRecipientStore } from '../../fakes/recipient-store.ts';
import { startLocalDynamo } from '../../support/local-dynamo.ts';
import type { LocalDynamo } from '../../support/local-dynamo.ts';

let dynamo: LocalDynamo;
let deps: TemplateDeps;
let store: DynamoTemplateStore;
let run = 0;

const welcome: TemplateDefinition = {
  description: 'Welcome',
  channels: { inbox: { title: 'Welcome {{ name }}', message: 'Hello {{ recipient.id }}' }, sms: { text: 'Hi {{ name }}' } },
  locales: { fr: { inbox: { title: 'Bienvenue {{ name }}' } } },
};

beforeAll(async () => {
  dynamo = await startLocalDynamo({ withTables: true });
});

afterAll(async () => {
  await dynamo?.stop();
});

beforeEach(async () => {
  store = new DynamoTemplateStore(dynamo.documentClient, 'templates');
  const recipients = new InMemoryRecipientStore();
  await recipients.put(aRecipient({ id: 'zoe', locale: 'fr-BE' }));
  deps = { templates: store, recipients, clock: new FakeClock() };
  run++;
});

/** A template id of this test alone (the table is shared by the file). */
const idOf = (name: string): string => `${name}-${run}`;

describe('storing templates', () => {
  it('makes a new version with every PUT and keeps the old ones readable', async () => {
    // Act
    const first = await putTemplate(deps, sender, idOf('welcome'), welcome);
    const second = await putTemplate(deps, admin, idOf('welcome'), { ...welcome, description: 'Welcome, v2' });

    // Assess
    expect([first.version, second.version]).toEqual([1, 2]);
    expect((await getTemplate(deps, sender, idOf('welcome'))).definition.description).toBe('Welcome, v2');
    expect((await getTemplate(deps, sender, idOf('welcome'), 1)).definition).toEqual(welcome);
    await expect(getTemplate(deps, sender, idOf('welcome'), 3)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('refuses a Liquid error, naming its field, and stores nothing', async () => {
    // Act
    const error = await putTemplate(deps, admin, idOf('broken'), { channels: { inbox: { title: 'ok', message: 'm' } }, locales: { fr: { sms: { text: '{% if %}' } } } }).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).details).toEqual([{ field: 'locales.fr.sms.text', message: expect.any(String) as string }]);
    await expect(getTemplate(deps, admin, idOf('broken'))).rejects.toBeInstanceOf(NotFoundError);
  });

  it('lets only admins and senders manage templates', async () => {
    await expect(putTemplate(deps, plainUser, idOf('x'), welcome)).rejects.toBeInstanceOf(ForbiddenError);
    await expect(getTemplate(deps, plainUser, idOf('x'))).rejects.toBeInstanceOf(ForbiddenError);
    await expect(listTemplates(deps, plainUser, { limit: 10 })).rejects.toBeInstanceOf(ForbiddenError);
    await expect(deleteTemplate(deps, plainUser, idOf('x'))).rejects.toBeInstanceOf(ForbiddenError);
  });

  it('refuses a version past the limit, and says so before it is tried', async () => {
    // Prepare
    await store.put(tenantId, idOf('many'), welcome, 'sam', new Date(), 2);
    const roomForSecond = await store.hasRoomForVersion(tenantId, idOf('many'), 2);
    await store.put(tenantId, idOf('many'), welcome, 'sam', new Date(), 2);

    // Act
    const roomForThird = await store.hasRoomForVersion(tenantId, idOf('many'), 2);
    const third = await store.put(tenantId, idOf('many'), welcome, 'sam', new Date(), 2);

    // Assess
    expect([roomForSecond, roomForThird]).toEqual([true, false]);
    expect(third).toBeUndefined();
    expect((await store.get(tenantId, idOf('many')))?.version).toBe(2);
  });

  it('checks what a PUT would refuse without writing: the role, a Liquid error, the version limit', async () => {
    // Prepare: a template at the limit, in a store whose limit is reached at once
    await putTemplate(deps, admin, idOf('checked'), welcome);
    const full: TemplateDeps = { ...deps, templates: Object.assign(Object.create(store) as DynamoTemplateStore, { hasRoomForVersion: async () => false }) };

    // Act
    const refusals = await Promise.all([
      checkPutTemplate(deps, plainUser, idOf('checked'), welcome).catch((e: unknown) => e),
      checkPutTemplate(deps, admin, idOf('checked'), { channels: { inbox: { title: '{{ x', message: 'm' } } }).catch((e: unknown) => e),
      checkPutTemplate(full, admin, idOf('checked'), welcome).catch((e: unknown) => e),
      checkPutTemplate(deps, admin, idOf('checked'), welcome).catch((e: unknown) => e),
    ]);

    // Assess
    expect(refusals.map((r) => (r as Error | undefined)?.constructor)).toEqual([ForbiddenError, ValidationError, ConflictError, undefined]);
    expect((await getTemplate(deps, admin, idOf('checked'))).version).toBe(1);
  });

  it('deletes every version, never reusing their numbers', async () => {
    // Prepare
    await putTemplate(deps, admin, idOf('gone'), welcome);
    await putTemplate(deps, admin, idOf('gone'), welcome);

    // Act
    await deleteTemplate(deps, admin, idOf('gone'));

    // Assess
    await expect(getTemplate(deps, admin, idOf('gone'))).rejects.toBeInstanceOf(NotFoundError);
    await expect(getTemplate(deps, admin, idOf('gone'), 1)).rejects.toBeInstanceOf(NotFoundError);
    await expect(deleteTemplate(deps, admin, idOf('gone'))).rejects.toBeInstanceOf(NotFoundError);
    expect((await putTemplate(deps, admin, idOf('gone'), welcome)).version).toBe(3);
  });

  it('says, on a latest read, where the template\'s current life began: a delete ends one', async () => {
    // Prepare
    await putTemplate(deps, admin, idOf('lives'), welcome);
    await putTemplate(deps, admin, idOf('lives'), welcome);
    const first = await store.get(tenantId, idOf('lives'));
    await deleteTemplate(deps, admin, idOf('lives'));

    // Act
    await putTemplate(deps, admin, idOf('lives'), welcome);
    const second = await store.get(tenantId, idOf('lives'));
    const pinned = await store.get(tenantId, idOf('lives'), 3);

    // Assess
    expect(first).toMatchObject({ version: 2, firstVersion: 1 });
    expect(second).toMatchObject({ version: 3, firstVersion: 3 });
    expect(pinned).not.toHaveProperty('firstVersion');
  });

  it('does not let two writers make the same version', async () => {
    // Act
    const versions = await Promise.all([1, 2, 3, 4].map(() => putTemplate(deps, admin, idOf('race'), welcome)));

    // Assess
    expect(versions.map((v) => v.version).sort()).toEqual([1, 2, 3, 4]);
  });
});

describe('listing templates', () => {
  it('pages through the live templates of the tenant in id order', async () => {
    // Prepare: a tenant of this test alone.
    const caller = { ...admin, tenantId: `list-${run}` };
    for (const id of ['c', 'a', 'b', 'd']) await putTemplate(deps, caller, id, welcome);
    await deleteTemplate(deps, caller, 'd');

    // Act
    const first = await listTemplates(deps, caller, { limit: 2 });
    const second = await listTemplates(deps, caller, { limit: 2, ...(first.nextCursor ? { cursor: first.nextCursor } : {}) });

    // Assess
    expect(first.items.map((t) => t.id)).toEqual(['a', 'b']);
    expect(first.items[0]).toMatchObject({ latestVersion: 1, description: 'Welcome' });
    expect(second.items.map((t) => t.id)).toEqual(['c']);
    await expect(listTemplates(deps, caller, { limit: 2, cursor: 'bogus' })).rejects.toBeInstanceOf(ValidationError);
  });
});

describe('previewing', () => {
  it("renders in the recipient's locale with their fields, naming what the payload lacks", async () => {
    // Prepare
    await putTemplate(deps, admin, idOf('preview'), welcome);

    // Act
    const preview = await previewTemplate(deps, admin, idOf('preview'), { payload: {}, recipientId: 'zoe' });
    const english = await previewTemplate(deps, admin, idOf('preview'), { payload: { name: 'Zoé' }, locale: 'en', recipientId: 'zoe' });

    // Assess
    expect(preview.locale).toBe('fr');
    expect(preview.missingVariables).toEqual(['name']);
    expect(preview.failures.inbox).toMatch(/missing variable "name"/);
    expect(english.channels.inbox).toEqual({ title: 'Welcome Zoé', message: 'Hello zoe' });
    // é is in the GSM 7-bit alphabet.
    expect(english.channels.sms).toEqual({ text: 'Hi Zoé', encoding: 'GSM-7', segments: 1 });
    await expect(previewTemplate(deps, admin, idOf('preview'), { payload: {}, recipientId: 'nobody' })).rejects.toBeInstanceOf(NotFoundError);
    await expect(previewTemplate(deps, admin, idOf('nope'), { payload: {} })).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe('a create naming a template', () => {
  it('keeps the pin as given, records the latest version without one, and summarises the inbox section for listings', async () => {
    // Prepare
    await putTemplate(deps, admin, idOf('admit'), welcome);

    // Act
    const unpinned = await admitTemplate(deps, tenantId, { id: idOf('admit'), payload: { name: 'Ann' } });
    const pinned = await admitTemplate(deps, tenantId, { id: idOf('admit'), version: 1, payload: { name: 'Ann' } });

    // Assess: the inbox message needs the recipient, so the summary falls back to the description.
    expect(unpinned).toEqual({ template: { id: idOf('admit'), payload: { name: 'Ann' }, latestAtCreate: 1 }, title: `Template ${idOf('admit')}`, message: 'Welcome' });
    expect(pinned.template).toEqual({ id: idOf('admit'), version: 1, payload: { name: 'Ann' } });
  });

  it('refuses a payload lacking a variable, an unknown template and an unknown version, with 400s naming them', async () => {
    // Prepare
    await putTemplate(deps, admin, idOf('refuse'), welcome);

    // Act
    const missing = await admitTemplate(deps, tenantId, { id: idOf('refuse'), payload: {} }).catch((e: unknown) => e);
    const unknown = await admitTemplate(deps, tenantId, { id: idOf('none'), payload: {} }).catch((e: unknown) => e);
    const noVersion = await admitTemplate(deps, tenantId, { id: idOf('refuse'), version: 9, payload: { name: 'x' } }).catch((e: unknown) => e);

    // Assess
    expect(missing).toBeInstanceOf(ValidationError);
    expect((missing as ValidationError).details).toEqual([{ field: 'template.payload', message: expect.stringContaining('"name"') as string, missing: ['name'] }]);
    expect(unknown).toBeInstanceOf(ValidationError);
    expect((unknown as ValidationError).details).toEqual([{ field: 'template.id', message: `template ${idOf('none')} does not exist` }]);
    expect((noVersion as ValidationError).details).toEqual([{ field: 'template.version', message: `template ${idOf('refuse')} has no version 9` }]);
  });
});

describe('ConflictError', () => {
  it('is what a PUT past the version limit answers', async () => {
    // Prepare: a store that says the limit is reached.
    const full: TemplateDeps = { ...deps, templates: { ...store, put: async () => undefined, hasRoomForVersion: store.hasRoomForVersion.bind(store), get: store.get.bind(store), list: store.list.bind(store), delete: store.delete.bind(store) } };

    // Act / Assess
    await expect(putTemplate(full, admin, idOf('full'), welcome)).rejects.toBeInstanceOf(ConflictError);
  });
});
