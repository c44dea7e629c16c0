import { describe, expect, it } from 'vitest';
import type { Caller } from '../../../../shared/domain/caller.ts';
import { ConflictError, NotFoundError } from '../../../../shared/errors.ts';
import { getMe, updateMe } from '../../../../shared/use-cases/me.ts';
import type { MeDeps } from '../../../../shared/use-cases/me.ts';
import { FakeClock, InMemoryRecipientStore } from '../../fakes/index.ts';
import { aRecipient, admin, plainUser, tenantId } from '../../fakes/fixtures.ts';

function aWorld(): { deps: MeDeps; recipients: InMemoryRecipientStore } {
  const recipients = new InMemoryRecipientStore();
  return { deps: { recipients, clock: new FakeClock('2030-01-01T12:00:00.000Z') }, recipients };
}

describe('getMe', () => {
  it('reads the caller own record', async () => {
    // Prepare
    const { deps, recipients } = aWorld();
    await recipients.put(aRecipient({ id: plainUser.sub, timezone: 'Europe/Paris' }));

    // Act
    const me = await getMe(deps, plainUser);

    // Assess
    expect(me).toMatchObject({ id: plainUser.sub, email: 'bob@example.com', timezone: 'Europe/Paris' });
  });

  it.each<[string, Caller]>([
    ['a user not in the directory', { ...plainUser, sub: 'newcomer' }],
    ['the same id in another tenant', { ...plainUser, tenantId: 'other' }],
  ])('answers 404 for %s', async (_, caller) => {
    // Prepare
    const { deps, recipients } = aWorld();
    await recipients.put(aRecipient({ id: plainUser.sub }));

    // Act
    const result = getMe(deps, caller);

    // Assess
    await expect(result).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe('updateMe', () => {
  it('sets email, time zone and channel switches, keeping what the body leaves out', async () => {
    // Prepare
    const { deps, recipients } = aWorld();
    await recipients.put(aRecipient({ id: plainUser.sub, groups: ['ops'], channelPreferences: { websocket: false } }));

    // Act
    const me = await updateMe(deps, plainUser, { timezone: 'Asia/Tokyo', channels: { email: false } });

    // Assess
    expect(me).toMatchObject({
      email: 'bob@example.com',
      timezone: 'Asia/Tokyo',
      groups: ['ops'],
      channelPreferences: { email: false, websocket: false },
      updatedAt: '2030-01-01T12:00:00.000Z',
    });
    expect(await recipients.get(tenantId, plainUser.sub)).toMatchObject({ timezone: 'Asia/Tokyo', channelPreferences: { email: false, websocket: false } });
    expect(recipients.membersOf(tenantId, 'ops')).toEqual([plainUser.sub]);
  });

  it('clears the email and time zone set to null, and switches a channel back on', async () => {
    // Prepare
    const { deps, recipients } = aWorld();
    await recipients.put(aRecipient({ id: plainUser.sub, timezone: 'Europe/Paris', channelPreferences: { email: false } }));

    // Act
    const me = await updateMe(deps, plainUser, { email: null, timezone: null, channels: { email: true } });

    // Assess
    expect(me.email).toBeUndefined();
    expect(me.timezone).toBeUndefined();
    expect(me.channelPreferences).toEqual({ email: true });
  });

  it('does not enrol a user who is not in the directory', async () => {
    // Prepare
    const { deps, recipients } = aWorld();

    // Act
    const result = updateMe(deps, admin, { timezone: 'Asia/Tokyo' });

    // Assess
    await expect(result).rejects.toBeInstanceOf(NotFoundError);
    expect(await recipients.get(tenantId, admin.sub)).toBeUndefined();
  });

  it('re-applies the change over a racing write of the record, and gives up with 409 if it never settles', async () => {
    // Prepare
    const { deps, recipients } = aWorld();
    await recipients.put(aRecipient({ id: plainUser.sub }));
    recipients.beforeNextSave = async (): Promise<void> => {
      const current = await recipients.get(tenantId, plainUser.sub);
      if (current) await recipients.save({ ...current, groups: ['eng'] }, current);
    };

    // Act
    await updateMe(deps, plainUser, { timezone: 'Asia/Tokyo' });
    recipients.savesToLose = 5;
    const stuck = updateMe(deps, plainUser, { timezone: 'Europe/Paris' });

    // Assess
    expect(await recipients.get(tenantId, plainUser.sub)).toMatchObject({ timezone: 'Asia/Tokyo', groups: ['eng'] });
    await expect(stuck).rejects.toBeInstanceOf(ConflictError);
  });
});
