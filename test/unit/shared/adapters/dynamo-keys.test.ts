import { describe, expect, it } from 'vitest';
import { idOfKeyPart, keyPart } from '../../../../shared/adapters/dynamo-keys.ts';
import { inboxPartition } from '../../../../shared/adapters/dynamo-inbox-store.ts';
import { creatorListingKey, recipientListingKey } from '../../../../shared/adapters/dynamo-notification-store.ts';
import { membershipKey, recipientKey } from '../../../../shared/adapters/dynamo-recipient-store.ts';

describe('ids in composite keys', () => {
  it.each(['bob', 'user@example.com', 'auth0:x', 'a.b_c-d+e', 'x'.repeat(128)])('leaves the id %s, valid before ids could hold # or %, as it was', (id) => {
    // Act + Assess: keys already stored keep their value
    expect(keyPart(id)).toBe(id);
  });

  it.each(['auth0|64f1c2d3e4', 'a#b', '100%', '%23', '#%#', 'José Ünal', 'a%2523b'])('escapes %j reversibly', (id) => {
    // Act
    const part = keyPart(id);

    // Assess
    expect(part).not.toContain('#');
    expect(idOfKeyPart(part)).toBe(id);
  });

  it('keeps two recipients apart whose ids would otherwise make the same key', () => {
    // Prepare: unescaped, tenant "acme" + recipient "b#c" and tenant "acme#b" + recipient "c" meet
    const a = { tenant: 'acme', recipient: 'b#c' };
    const b = { tenant: 'acme', recipient: 'b%23c' };

    // Act
    const keys = [recipientKey, (t: string, r: string) => ({ pk: inboxPartition(t, r) }), (t: string, r: string) => ({ pk: recipientListingKey(t, r) })].map((make) => [
      make(a.tenant, a.recipient).pk,
      make(b.tenant, b.recipient).pk,
    ]);

    // Assess
    for (const [first, second] of keys) expect(first).not.toBe(second);
    expect(recipientKey('acme', 'b#c').pk).toBe('acme#b%23c');
  });

  it('escapes the creator and the group of listing and membership keys', () => {
    // Act + Assess
    expect(creatorListingKey('acme', 'auth0|x#1', 2)).toBe('acme#auth0|x%231#2');
    expect(membershipKey('acme', 'ops', 'a#b')).toEqual({ groupKey: 'acme#ops', recipientId: 'a#b' });
  });
});
