/**
 * The delivery engine rendering templated notifications at delivery (issue 13), on in-memory fakes:
 * each recipient in their locale, the locale recorded on every outcome, the inbox item and the
 * WebSocket frame from the rendered inbox section, a section that cannot be rendered failing its
 * channel alone, and a template that cannot be read claiming nothing.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { deliverUnits } from '../../../../shared/delivery/engine.ts';
import { unitKey } from '../../../../shared/domain/delivery.ts';
import type { UnitRef } from '../../../../shared/domain/delivery.ts';
import type { TemplateVersion } from '../../../../shared/domain/template.ts';
import { logger } from '../../../../shared/observability/logger.ts';
import type { TemplateStore } from '../../../../shared/ports.ts';
import { aNotification, aRecipient, tenantId } from '../../fakes/fixtures.ts';
import { aDeliveryWorld } from '../../fakes/index.ts';
import { emailTags } from '../../../../shared/domain/email-feedback.ts';

beforeAll(() => {
  logger.setLogLevel('SILENT');
});

const noon = '2030-01-01T12:00:00.000Z';

const welcome: TemplateVersion = {
  tenantId,
  id: 'welcome',
  version: 3,
  createdAt: noon,
  createdBy: 'sam',
  definition: {
    defaultLocale: 'en',
    channels: {
      inbox: { title: 'Welcome {{ name }}', message: 'Hello {{ recipient.id }}' },
      email: { subject: 'Welcome {{ name }}', html: '<p>Hi {{ name }}</p>' },
      websocket: { title: 'Live: {{ name }}', message: 'Your zone is {{ recipient.timezone }}' },
    },
    locales: { fr: { inbox: { title: 'Bienvenue {{ name }}' }, email: { subject: 'Bienvenue {{ name }}' } } },
  },
};

/** Templates the engine reads, each read counted; `fail` makes every read throw. */
function templates(fail = false): Pick<TemplateStore, 'get'> & { reads: number } {
  const source = {
    reads: 0,
    async get(tenant: string, id: string, version?: number): Promise<TemplateVersion | undefined> {
      source.reads++;
      if (fail) throw new Error('DynamoDB is down');
      return tenant === tenantId && id === welcome.id && (version === undefined || version === welcome.version) ? welcome : undefined;
    },
  };
  return source;
}

async function setUp(locale: string | undefined, source = templates()) {
  const world = aDeliveryWorld({ start: noon });
  await world.recipients.put(aRecipient({ id: 'bob', email: 'bob@example.com', ...(locale ? { locale } : {}) }));
  await world.live.connect(tenantId, 'bob', { connectionId: 'conn-1', connectedAt: noon });
  world.sockets.open('conn-1');
  const n = aNotification({ scheduledAt: noon, title: 'Template welcome', message: '', template: { id: 'welcome', payload: { name: '<Ann>' } } });
  world.notifications.seed(n);
  const ref: UnitRef = { kind: 'notification', tenantId, notificationId: n.id };
  const deliver = async () => (await deliverUnits({ ...world.deps, templates: source }, [ref], world.invocation())).get(unitKey(ref));
  return { world, n, deliver, source };
}

describe('the engine delivering a templated notification', () => {
  it("renders it in the recipient's language, records the locale, and fills the inbox from the inbox section", async () => {
    // Prepare
    const { world, n, deliver } = await setUp('fr-FR');

    // Act
    const outcome = await deliver();

    // Assess
    expect(outcome).toEqual({ kind: 'done', status: 'sent' });
    expect(world.mailer.sent).toEqual([{ to: 'bob@example.com', subject: 'Bienvenue <Ann>', html: '<p>Hi &lt;Ann&gt;</p>', text: 'Hi <Ann>', tags: emailTags(tenantId, 'bob') }]);
    const stored = await world.notifications.get(tenantId, n.id);
    expect(stored?.deliveries.email).toMatchObject({ status: 'sent', locale: 'fr' });
    expect(stored?.deliveries.inbox).toMatchObject({ status: 'sent', locale: 'fr' });
    const [item] = await world.inbox.list(tenantId, 'bob');
    expect(item).toMatchObject({ title: 'Bienvenue <Ann>', message: 'Hello bob' });
  });

  it('fails only the channel whose section cannot be rendered, with the reason, and sends nothing there', async () => {
    // Prepare: the WebSocket section needs recipient.timezone, which Bob has not set.
    const { world, n, deliver } = await setUp(undefined);

    // Act
    const outcome = await deliver();

    // Assess
    expect(outcome).toEqual({ kind: 'done', status: 'sent' });
    const stored = await world.notifications.get(tenantId, n.id);
    expect(stored?.deliveries.websocket).toMatchObject({ status: 'failed', locale: 'en' });
    expect(stored?.deliveries.websocket?.error).toContain('missing variable "recipient.timezone"');
    expect(world.sockets.posted.filter((p) => (p.payload as { type?: string }).type === 'notification')).toEqual([]);
    expect(world.mailer.sent.map((m) => m.subject)).toEqual(['Welcome <Ann>']);
  });

  it('fails every channel, with no inbox item, when the pinned version no longer exists', async () => {
    // Prepare
    const { world, n } = await setUp('fr');
    world.notifications.seed({ ...n, template: { id: 'welcome', version: 2, payload: { name: 'x' } } });
    const ref: UnitRef = { kind: 'notification', tenantId, notificationId: n.id };

    // Act
    const outcome = (await deliverUnits({ ...world.deps, templates: templates() }, [ref], world.invocation())).get(unitKey(ref));

    // Assess
    expect(outcome).toEqual({ kind: 'done', status: 'failed' });
    const stored = await world.notifications.get(tenantId, n.id);
    expect(stored?.lastError).toContain('template welcome version 2 no longer exists');
    expect(await world.inbox.list(tenantId, 'bob')).toEqual([]);
    expect(world.mailer.sent).toEqual([]);
  });

  it('fails, not sent, when the template was deleted and the channels it did not fail had nobody to reach', async () => {
    // Prepare: bob is not connected, so the WebSocket is skipped; the inbox and the e-mail cannot be rendered
    const world = aDeliveryWorld({ start: noon });
    await world.recipients.put(aRecipient({ id: 'bob', email: 'bob@example.com' }));
    const n = aNotification({ scheduledAt: noon, channels: ['inbox', 'websocket', 'email'], template: { id: 'deleted', payload: {} } });
    world.notifications.seed(n);
    const ref: UnitRef = { kind: 'notification', tenantId, notificationId: n.id };

    // Act
    const outcome = (await deliverUnits({ ...world.deps, templates: templates() }, [ref], world.invocation())).get(unitKey(ref));

    // Assess
    expect(outcome).toEqual({ kind: 'done', status: 'failed' });
    const stored = await world.notifications.get(tenantId, n.id);
    expect(stored).toMatchObject({ status: 'failed', lastErrorCategory: 'unrenderable' });
    expect(stored?.lastError).toMatch(/^No channel delivered it \(inbox: .*no longer exists.*; websocket: skipped, not connected; email: .*no longer exists.*\)$/);
    expect(stored?.deliveries.websocket?.status).toBe('skipped');
    expect(world.mailer.sent).toEqual([]);
  });

  it('fails every channel, recording no locale, when the template was deleted and stored again since the notification was made', async () => {
    // Prepare: made from version 2; the template was then deleted, and its id stored again as version 3.
    const { world, n } = await setUp('fr');
    world.notifications.seed({ ...n, template: { id: 'welcome', payload: { name: 'x' }, latestAtCreate: 2 } });
    const recreated: Pick<TemplateStore, 'get'> = { get: async (_t, _id, version) => (version === undefined ? { ...welcome, firstVersion: 3 } : undefined) };
    const ref: UnitRef = { kind: 'notification', tenantId, notificationId: n.id };

    // Act
    const outcome = (await deliverUnits({ ...world.deps, templates: recreated }, [ref], world.invocation())).get(unitKey(ref));

    // Assess
    expect(outcome).toEqual({ kind: 'done', status: 'failed' });
    const stored = await world.notifications.get(tenantId, n.id);
    expect(stored?.lastError).toContain('template welcome no longer exists');
    expect(stored?.deliveries.inbox).toMatchObject({ status: 'failed', errorCategory: 'unrenderable', error: 'the inbox section of template welcome: template welcome no longer exists' });
    for (const delivery of Object.values(stored?.deliveries ?? {})) expect(delivery).not.toHaveProperty('locale');
    expect(await world.inbox.list(tenantId, 'bob')).toEqual([]);
    expect(world.mailer.sent).toEqual([]);
  });

  it('renders the latest version of the life the notification was made in', async () => {
    // Prepare: made when version 2 was the latest of a life that began at 1; version 3 came since.
    const { world, n } = await setUp('fr');
    world.notifications.seed({ ...n, template: { id: 'welcome', payload: { name: 'x' }, latestAtCreate: 2 } });
    const later: Pick<TemplateStore, 'get'> = { get: async (_t, _id, version) => (version === undefined ? { ...welcome, firstVersion: 1 } : undefined) };
    const ref: UnitRef = { kind: 'notification', tenantId, notificationId: n.id };

    // Act
    const outcome = (await deliverUnits({ ...world.deps, templates: later }, [ref], world.invocation())).get(unitKey(ref));

    // Assess
    expect(outcome).toEqual({ kind: 'done', status: 'sent' });
    expect(world.mailer.sent.map((m) => m.subject)).toEqual(['Bienvenue x']);
  });

  it('claims nothing when the template cannot be read: the message comes back', async () => {
    // Prepare
    const { world, n, deliver, source } = await setUp('fr', templates(true));

    // Act / Assess
    await expect(deliver()).rejects.toThrow('DynamoDB is down');
    expect(source.reads).toBe(1);
    expect(await world.notifications.get(tenantId, n.id)).toMatchObject({ status: 'pending', attempts: 0 });
    expect(world.mailer.sent).toEqual([]);
  });
});
