import { describe, expect, it } from 'vitest';
import { applyRecipientChanges, isChannelEnabled, preferenceSkip, switchableChannels, toRecipientView } from '../../../../shared/domain/recipient.ts';
import { aRecipient, tenantId } from '../../fakes/fixtures.ts';

const now = new Date('2030-01-01T12:00:00.000Z');

describe('channel switches', () => {
  it('leaves every channel on until the recipient switches one off, and never the inbox', () => {
    // Prepare
    const off = aRecipient({ channelPreferences: { email: false, websocket: false } });

    // Act + Assess
    expect(['inbox', 'websocket', 'email'].map((c) => isChannelEnabled(aRecipient(), c as 'inbox'))).toEqual([true, true, true]);
    expect(['inbox', 'websocket', 'email'].map((c) => isChannelEnabled(off, c as 'inbox'))).toEqual([true, false, false]);
    expect(toRecipientView(off).channels).toEqual({ ...Object.fromEntries(switchableChannels.map((c) => [c, true])), email: false, websocket: false });
  });
});

describe('preferenceSkip', () => {
  it('lets the switch of the notification type win over the switch of the channel, either way', () => {
    // Prepare
    const bob = aRecipient({ channelPreferences: { telegram: false }, typePreferences: { marketing: { webhook: false, telegram: true } } });

    // Act + Assess
    expect(preferenceSkip(bob, 'telegram', 'marketing')).toBeUndefined();
    expect(preferenceSkip(bob, 'webhook', 'marketing')).toBe('switched off for type marketing by preference');
    expect(preferenceSkip(bob, 'telegram', 'invoice')).toBe('disabled by preference');
    expect(preferenceSkip(bob, 'webhook', 'invoice')).toBeUndefined();
  });

  it('never skips the inbox, and reads no inherited key as a type', () => {
    // Prepare
    const bob = aRecipient({ typePreferences: { marketing: { email: false } } });

    // Act + Assess
    expect(preferenceSkip(bob, 'inbox', 'marketing')).toBeUndefined();
    expect(preferenceSkip(bob, 'email', 'constructor')).toBeUndefined();
    expect(preferenceSkip(bob, 'email', 'toString')).toBeUndefined();
  });

  it('merges type switches, forgets a type given null, and drops a type left without switches', () => {
    // Prepare
    const existing = aRecipient({ typePreferences: { marketing: { email: false }, digest: { telegram: false } } });

    // Act
    const next = applyRecipientChanges(tenantId, existing.id, existing, { types: { marketing: { webhook: false }, digest: null } }, now);

    // Assess
    expect(next.typePreferences).toEqual({ marketing: { email: false, webhook: false } });
  });
});

describe('applyRecipientChanges', () => {
  it('creates a recipient with the given fields and no groups', () => {
    // Act
    const created = applyRecipientChanges(tenantId, 'carol', undefined, { email: 'carol@example.com' }, now);

    // Assess
    expect(created).toEqual({ tenantId, id: 'carol', email: 'carol@example.com', groups: [], createdAt: now.toISOString(), updatedAt: now.toISOString() });
  });

  it('sets what is given, clears what is null, keeps the rest and the creation time', () => {
    // Prepare
    const existing = aRecipient({ timezone: 'Europe/Paris', groups: ['ops'], channelPreferences: { email: false }, version: 3 });

    // Act
    const changed = applyRecipientChanges(tenantId, 'bob', existing, { email: null, channels: { websocket: false } }, now);

    // Assess
    expect(changed).toEqual({
      tenantId,
      id: 'bob',
      timezone: 'Europe/Paris',
      groups: ['ops'],
      channelPreferences: { email: false, websocket: false },
      createdAt: existing.createdAt,
      updatedAt: now.toISOString(),
    });
  });
});
