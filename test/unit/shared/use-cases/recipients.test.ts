import { describe, expect, it } from 'vitest';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../../../../shared/errors.ts';
import type { Caller } from '../../../../shared/domain/caller.ts';
import { getRecipient, putRecipient, upsertRecipients } from '../../../../shared/use-cases/recipients.ts';
import type { RecipientDeps } from '../../../../shared/use-cases/recipients.ts';
import { FakeClock, InMemoryRecipientStore } from '../../fakes/index.ts';
import { aRecipient, admin, plainUser, sender, tenantId } from '../../fakes/fixtures.ts';

function setUp(): { deps: RecipientDeps; clock: FakeClock; recipients: InMemoryRecipientStore } {
  const clock = new FakeClock('2030-01-01T12:00:00.000Z');
  const recipients = new InMemoryRecipientStore();
  return { deps: { recipients, clock }, clock, recipients };
}

/** The error a promise rejects with (fails the test when it resolves). */
async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('putRecipient', () => {
  it.each<[string, Caller]>([
    ['an admin', admin],
    ['a sender', sender],
  ])('lets %s register a recipient, saying it was created', async (_, caller) => {
    // Prepare
    const { deps, recipients } = setUp();

    // Act
    const result = await putRecipient(deps, caller, 'carol', { email: 'carol@example.com', timezone: 'Europe/Paris' });

    // Assess
    expect(result.created).toBe(true);
    expect(result.recipient).toEqual({
      tenantId,
      id: 'carol',
      email: 'carol@example.com',
      timezone: 'Europe/Paris',
      groups: [],
      createdAt: '2030-01-01T12:00:00.000Z',
      updatedAt: '2030-01-01T12:00:00.000Z',
    });
    expect(await recipients.get(tenantId, 'carol')).toEqual({ ...result.recipient, version: 1 });
  });

  it('keeps createdAt when it replaces a recipient, and says it was not created', async () => {
    // Prepare
    const { deps, clock, recipients } = setUp();
    await putRecipient(deps, admin, 'carol', { email: 'carol@example.com', groups: ['ops'] });
    clock.advanceSeconds(3600);

    // Act
    const result = await putRecipient(deps, admin, 'carol', { groups: ['eng'] });

    // Assess
    expect(result.created).toBe(false);
    expect(result.recipient).toEqual({
      tenantId,
      id: 'carol',
      groups: ['eng'],
      createdAt: '2030-01-01T12:00:00.000Z',
      updatedAt: '2030-01-01T13:00:00.000Z',
    });
    expect((await recipients.get(tenantId, 'carol'))?.email).toBeUndefined();
  });

  it('keeps the channel switches the recipient set for themself', async () => {
    // Prepare
    const { deps, recipients } = setUp();
    await recipients.put(aRecipient({ id: 'carol', channelPreferences: { email: false } }));

    // Act
    const result = await putRecipient(deps, admin, 'carol', { email: 'new@example.com' });

    // Assess
    expect(result.recipient.channelPreferences).toEqual({ email: false });
    expect((await recipients.get(tenantId, 'carol'))?.email).toBe('new@example.com');
  });

  it('re-applies its change when another write of the recipient came first, losing neither', async () => {
    // Prepare
    const { deps, recipients } = setUp();
    await recipients.put(aRecipient({ id: 'carol' }));
    recipients.beforeNextSave = async (): Promise<void> => {
      const current = await recipients.get(tenantId, 'carol');
      if (current) await recipients.save({ ...current, channelPreferences: { websocket: false } }, current);
    };

    // Act
    await putRecipient(deps, admin, 'carol', { groups: ['ops'] });

    // Assess
    expect(await recipients.get(tenantId, 'carol')).toMatchObject({ groups: ['ops'], channelPreferences: { websocket: false }, version: 3 });
    expect(recipients.membersOf(tenantId, 'ops')).toEqual(['carol']);
  });

  it('answers 409 when the recipient keeps changing under it', async () => {
    // Prepare
    const { deps, recipients } = setUp();
    await recipients.put(aRecipient({ id: 'carol' }));
    recipients.savesToLose = 100;

    // Act
    const error = await rejectionOf(putRecipient(deps, admin, 'carol', {}));

    // Assess
    expect(error).toBeInstanceOf(ConflictError);
  });

  it('forbids a plain user to manage the directory, even for themself', async () => {
    // Prepare
    const { deps, recipients } = setUp();

    // Act
    const error = await rejectionOf(putRecipient(deps, plainUser, plainUser.sub, { email: 'bob@example.com' }));

    // Assess
    expect(error).toBeInstanceOf(ForbiddenError);
    expect(await recipients.get(tenantId, plainUser.sub)).toBeUndefined();
  });
});

describe('getRecipient', () => {
  it('lets a plain user read themself', async () => {
    // Prepare
    const { deps } = setUp();
    await putRecipient(deps, admin, plainUser.sub, { email: 'bob@example.com' });

    // Act
    const recipient = await getRecipient(deps, plainUser, plainUser.sub);

    // Assess
    expect(recipient.email).toBe('bob@example.com');
  });

  it('hides anyone else from a plain user as not found', async () => {
    // Prepare
    const { deps } = setUp();
    await putRecipient(deps, admin, 'carol', {});

    // Act
    const error = await rejectionOf(getRecipient(deps, plainUser, 'carol'));

    // Assess
    expect(error).toBeInstanceOf(NotFoundError);
  });

  it('lets a sender read anyone of the tenant', async () => {
    // Prepare
    const { deps } = setUp();
    await putRecipient(deps, admin, 'carol', {});

    // Act
    const recipient = await getRecipient(deps, sender, 'carol');

    // Assess
    expect(recipient.id).toBe('carol');
  });

  it('does not find a recipient of another tenant', async () => {
    // Prepare
    const { deps } = setUp();
    await putRecipient(deps, { ...admin, tenantId: 'other-tenant' }, 'carol', {});

    // Act
    const error = await rejectionOf(getRecipient(deps, admin, 'carol'));

    // Assess
    expect(error).toBeInstanceOf(NotFoundError);
  });

  it('says not found for a recipient that was never registered', async () => {
    // Prepare
    const { deps } = setUp();

    // Act
    const error = await rejectionOf(getRecipient(deps, admin, 'nobody'));

    // Assess
    expect(error).toBeInstanceOf(NotFoundError);
  });
});

describe('webhook URLs a deployment would never post to', () => {
  it.each(['http://hooks.example.com/herald', 'https://10.0.0.7/hook', 'https://[::1]/hook', 'https://169.254.169.254/latest'])(
    'refuses %s on an AWS stage, naming webhookUrl and writing nothing',
    async (url) => {
      // Prepare
      const { deps, recipients } = setUp();

      // Act
      const refusal = await rejectionOf(putRecipient({ ...deps, webhookTargets: 'public-https' }, admin, 'carol', { webhookUrl: url }));
      const batch = await upsertRecipients(deps, admin, [{ id: 'dave', webhookUrl: url }]);

      // Assess
      expect(refusal).toBeInstanceOf(ValidationError);
      expect((refusal as ValidationError).details).toEqual([{ field: 'webhookUrl', message: expect.any(String) }]);
      expect(batch.failed).toEqual([expect.objectContaining({ index: 0, id: 'dave', error: expect.objectContaining({ details: [expect.objectContaining({ field: 'webhookUrl' })] }) })]);
      expect(await recipients.get(tenantId, 'carol')).toBeUndefined();
      expect(await recipients.get(tenantId, 'dave')).toBeUndefined();
    },
  );

  it('takes plain http to localhost on the local stack, and https to a public name anywhere', async () => {
    // Prepare
    const { deps } = setUp();

    // Act
    const local = await putRecipient({ ...deps, webhookTargets: 'any' }, admin, 'carol', { webhookUrl: 'http://127.0.0.1:4000/hook' });
    const aws = await putRecipient(deps, admin, 'dave', { webhookUrl: 'https://hooks.example.com/herald' });

    // Assess
    expect(local.recipient.webhookUrl).toBe('http://127.0.0.1:4000/hook');
    expect(aws.recipient.webhookUrl).toBe('https://hooks.example.com/herald');
  });
});
