/**
 * End to end on the local stack: SES's mailbox simulator addresses bounce and complain, the
 * feedback comes back through the configuration set's events (the `ses-feedback` queue and
 * function), the address is suppressed and the e-mail channel skips it; an admin lists and lifts
 * suppressions; `/v1/metrics` reports the SES account's sandbox status and quota.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startHarness } from './support/harness.ts';
import type { Harness } from './support/harness.ts';

let h: Harness;
let admin: string;

beforeAll(async () => {
  h = await startHarness({ sesMaxSendRate: 25 });
  admin = await h.token('ops', { role: 'admin' });
  const batch = await h.api('POST', '/v1/recipients/batch', {
    token: admin,
    body: {
      recipients: [
        { id: 'bouncy', email: 'bounce@simulator.amazonses.com' },
        { id: 'plaintiff', email: 'complaint+herald@simulator.amazonses.com' },
        { id: 'happy', email: 'success@simulator.amazonses.com' },
      ],
    },
  });
  expect(batch.status).toBe(200);
});

afterAll(async () => {
  await h?.close();
});

/** Sends an e-mail notification to `recipient` now and waits for its e-mail outcome. */
async function emailOutcome(recipient: string): Promise<Record<string, unknown>> {
  const created = await h.api('POST', '/v1/notifications', { token: admin, body: { recipients: [recipient], title: 'Hi', message: 'News', channels: ['email'] } });
  expect(created.status).toBe(201);
  const id = (created.body.notificationIds as string[])[0] as string;
  const done = await eventually(
    () => h.api('GET', `/v1/notifications/${id}`, { token: admin }),
    (r) => r.body.status === 'sent' || r.body.status === 'failed',
  );
  return (done.body.deliveries as Record<string, Record<string, unknown>>).email ?? {};
}

async function suppressedIds(): Promise<string[]> {
  const listed = await h.api('GET', '/v1/suppressions', { token: admin });
  expect(listed.status).toBe(200);
  return (listed.body.items as { id: string }[]).map((item) => item.id);
}

describe('bounces and complaints', () => {
  it('suppresses a bounced and a complained-of address, and sends them nothing more', async () => {
    // Act
    const first = await Promise.all([emailOutcome('bouncy'), emailOutcome('plaintiff'), emailOutcome('happy')]);
    await eventually(suppressedIds, (ids) => ids.includes('bouncy') && ids.includes('plaintiff'));
    const again = await Promise.all([emailOutcome('bouncy'), emailOutcome('plaintiff'), emailOutcome('happy')]);

    // Assess
    expect(first.map((outcome) => outcome.status)).toEqual(['sent', 'sent', 'sent']);
    expect(await suppressedIds()).toEqual(['bouncy', 'plaintiff']);
    const bouncy = await h.api('GET', '/v1/recipients/bouncy', { token: admin });
    expect(bouncy.body.emailSuppression).toMatchObject({ address: 'bounce@simulator.amazonses.com', reason: 'bounce' });
    const plaintiff = await h.api('GET', '/v1/recipients/plaintiff', { token: admin });
    expect(plaintiff.body.emailSuppression).toMatchObject({ reason: 'complaint' });
    expect(again).toEqual([
      expect.objectContaining({ status: 'skipped', detail: 'address suppressed (bounce)' }),
      expect.objectContaining({ status: 'skipped', detail: 'address suppressed (complaint)' }),
      expect.objectContaining({ status: 'sent' }),
    ]);
  });

  it('lets an admin lift a suppression, after which e-mail goes out again', async () => {
    // Prepare
    await eventually(suppressedIds, (ids) => ids.includes('plaintiff'));

    // Act
    const lifted = await h.api('DELETE', '/v1/suppressions/plaintiff', { token: admin });

    // Assess
    expect(lifted.status).toBe(200);
    expect(lifted.body.emailSuppression).toBeNull();
    await eventually(suppressedIds, (ids) => !ids.includes('plaintiff'));
    expect((await emailOutcome('plaintiff')).status).toBe('sent');
  });

  it('refuses the suppression routes to a non-admin, and a lift where nothing is suppressed', async () => {
    // Prepare
    const sender = await h.token('billing', { role: 'sender' });

    // Act
    const [list, lift, nothing] = await Promise.all([
      h.api('GET', '/v1/suppressions', { token: sender }),
      h.api('DELETE', '/v1/suppressions/bouncy', { token: sender }),
      h.api('DELETE', '/v1/suppressions/happy', { token: admin }),
    ]);

    // Assess
    expect([list.status, lift.status, nothing.status]).toEqual([403, 403, 404]);
    expect(nothing.body.error?.code).toBeDefined();
  });
});

describe('the SES account in /v1/metrics', () => {
  it('reports whether the account is in the sandbox, and its quota', async () => {
    // Act
    const metrics = await h.api('GET', '/v1/metrics', { token: admin });

    // Assess
    expect(metrics.status).toBe(200);
    expect(metrics.body.email).toMatchObject({ sandbox: false, sendingEnabled: true, maxSendRate: 25 });
  });
});

describe('a recipient whose id fills more than one SES tag', () => {
  it('is e-mailed, and found again by the bounce of that e-mail', async () => {
    // Prepare: 255 characters of two bytes each, 680 characters base64url-encoded (SES tag values hold 255)
    const id = 'ü'.repeat(255);
    const put = await h.api('PUT', `/v1/recipients/${encodeURIComponent(id)}`, { token: admin, body: { email: 'bounce@simulator.amazonses.com' } });
    expect(put.status).toBeLessThan(300);

    // Act
    const outcome = await emailOutcome(id);

    // Assess
    expect(outcome.status).toBe('sent');
    await eventually(suppressedIds, (ids) => ids.includes(id));
  });
});
