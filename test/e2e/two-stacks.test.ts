/**
 * Two local stacks in one process. Each function sees only its own stack's environment (nothing
 * goes through the process's own), so each stack delivers through its own emulators, neither learns
 * of the other's notifications, and the process's environment is left as it was.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startHarness } from './support/harness.ts';
import type { Harness } from './support/harness.ts';

let stacks: Harness[] = [];
let environmentBefore: Record<string, string | undefined>;

beforeAll(async () => {
  environmentBefore = { ...process.env };
  stacks = await Promise.all([startHarness(), startHarness()]);
});

afterAll(async () => {
  await Promise.all(stacks.map((h) => h.close()));
});

/** Registers erin, notifies her in her inbox, and answers the notification's id. */
async function notifyErin(h: Harness, title: string): Promise<string> {
  const admin = await h.token('ops', { role: 'admin' });
  expect((await h.api('PUT', '/v1/recipients/erin', { token: admin, body: {} })).status).toBe(201);
  const created = await h.api('POST', '/v1/notifications', {
    token: admin,
    body: { recipients: ['erin'], title, message: 'Delivered by this stack alone', channels: ['inbox'] },
  });
  expect(created.status).toBe(201);
  return (created.body.notificationIds as string[])[0] ?? '';
}

describe('two local stacks in one process', () => {
  it('each deliver a notification through their own endpoints, and know nothing of the other’s', async () => {
    // Prepare
    const [first, second] = stacks as [Harness, Harness];

    // Act
    const [firstId, secondId] = await Promise.all([notifyErin(first, 'From the first'), notifyErin(second, 'From the second')]);

    // Assess
    for (const [h, id, other] of [[first, firstId, secondId], [second, secondId, firstId]] as const) {
      const admin = await h.token('ops', { role: 'admin' });
      await eventually(async () => (await h.api('GET', `/v1/notifications/${id}`, { token: admin })).body.status, (status) => status === 'sent');
      expect((await h.api('GET', `/v1/notifications/${other}`, { token: admin })).status).toBe(404);
      const inbox = await h.api('GET', '/v1/me/inbox', { token: await h.token('erin') });
      expect((inbox.body.items as { id: string }[]).map((item) => item.id)).toEqual([id]);
    }
    expect(first.stack.endpoints.dynamodb).not.toBe(second.stack.endpoints.dynamodb);
  });

  it('leave the process’s own environment as they found it', () => {
    // Assess
    expect(process.env).toEqual(environmentBefore);
  });
});
