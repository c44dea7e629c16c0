/**
 * What each caller sees of a delivery's errors, on every route that returns delivery records,
 * against a local stack: SES refuses every e-mail with a message naming the account's identity
 * ARN (as it does on AWS); admins (and senders) read that text, a plain user reading a
 * notification sent to them reads its category only (shared/domain/delivery-views.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { notificationViewSchema, broadcastRecipientPageSchema } from '../../shared/domain/response-schemas.ts';
import { eventually, inMs, startHarness } from './support/harness.ts';
import type { ApiResponse, Harness } from './support/harness.ts';

const account = '111122223333';
const sesText = `Email address is not verified. The following identities failed the check in region EU-WEST-1: arn:aws:ses:eu-west-1:${account}:identity/bob@example.com`;

let h: Harness;
let admin: string;
let sender: string;
let bob: string;

beforeAll(async () => {
  h = await startHarness();
  admin = await h.token('ops', { role: 'admin' });
  sender = await h.token('billing', { role: 'sender' });
  bob = await h.token('bob');
  expect((await h.api('PUT', '/v1/recipients/bob', { token: admin, body: { email: 'bob@example.com' } })).status).toBe(201);
  const fault = { service: 'ses', operation: 'SendEmail', probability: 1, error: { statusCode: 400, code: 'MessageRejected', message: sesText } };
  expect((await h.api('POST', '/_local/faults', { body: [fault] })).status).toBe(200);
});

afterAll(async () => {
  await h?.close();
});

/** A notification bob sends himself on `channels`, once it is `status`. */
async function bobsOwn(channels: readonly string[], status: string): Promise<string> {
  const created = await h.api('POST', '/v1/notifications', { token: bob, body: { recipients: ['bob'], title: 'Receipt', message: 'Thanks', channels } });
  expect(created.status).toBe(201);
  const id = (created.body.notificationIds as string[])[0] ?? '';
  await eventually(
    () => h.api('GET', `/v1/notifications/${id}`, { token: admin }),
    (read) => read.body.status === status,
  );
  return id;
}

/** Asserts what a plain user sees: categories, never the provider's text. */
function expectRecipientView(response: ApiResponse, view: Record<string, unknown>): void {
  expect(JSON.stringify(response.body)).not.toContain(account);
  expect(JSON.stringify(response.body)).not.toContain('MessageRejected');
  expect(view).not.toHaveProperty('lastError');
  expect(view).toMatchObject({ lastErrorCategory: expect.any(String) });
  expect(notificationViewSchema.safeParse(view).success).toBe(true);
}

/** Asserts what an admin sees: the provider's text, with its category. */
function expectDiagnosticView(view: Record<string, unknown>): void {
  expect(view).toMatchObject({ lastError: expect.stringContaining(`arn:aws:ses:eu-west-1:${account}`), lastErrorCategory: 'rejected' });
  expect(notificationViewSchema.safeParse(view).success).toBe(true);
}

describe('delivery errors by caller', () => {
  it('GET /v1/notifications/{id}: a failed channel is a category to its recipient and the SES text to an admin', async () => {
    // Prepare: the inbox takes it, e-mail is refused for good
    const id = await bobsOwn(['inbox', 'email'], 'sent');

    // Act
    const asBob = await h.api('GET', `/v1/notifications/${id}`, { token: bob });
    const asAdmin = await h.api('GET', `/v1/notifications/${id}`, { token: admin });

    // Assess
    expect(asBob.status).toBe(200);
    expect(asBob.body.deliveries).toEqual({
      inbox: { status: 'sent', at: expect.any(String) },
      email: { status: 'failed', at: expect.any(String), errorCategory: 'rejected' },
    });
    expect(asBob.body).toMatchObject({ lastErrorCategory: null, willRetry: false });
    expect(JSON.stringify(asBob.body)).not.toContain(account);
    expect(asBob.body).not.toHaveProperty('lastError');
    expect(asAdmin.body.deliveries).toMatchObject({ email: { status: 'failed', errorCategory: 'rejected', error: `MessageRejected: ${sesText}` } });
    expect(asAdmin.body).toMatchObject({ lastError: null, lastErrorCategory: null, willRetry: false });
  });

  it('GET /v1/notifications: the listing shows each caller the same view as the read', async () => {
    // Prepare
    const id = await bobsOwn(['email'], 'failed');

    // Act
    const asBob = await h.api('GET', '/v1/notifications?limit=50', { token: bob });
    const asAdmin = await h.api('GET', '/v1/notifications?limit=50', { token: admin });

    // Assess
    const bobs = (asBob.body.items as Record<string, unknown>[]).find((n) => n.id === id) ?? {};
    const admins = (asAdmin.body.items as Record<string, unknown>[]).find((n) => n.id === id) ?? {};
    expectRecipientView(asBob, bobs);
    expect(bobs).toMatchObject({ status: 'failed', lastErrorCategory: 'rejected', willRetry: false, deliveries: { email: { status: 'failed', errorCategory: 'rejected' } } });
    expectDiagnosticView(admins);
  });

  it('POST /v1/notifications/{id}/retry, PATCH and send-now: each answers its caller in their view', async () => {
    // Prepare: two failed notifications, one managed by bob (their creator), one by an admin
    const [mine, theirs] = await Promise.all([bobsOwn(['email'], 'failed'), bobsOwn(['email'], 'failed')]);

    // Act
    const retriedByBob = await h.api('POST', `/v1/notifications/${mine}/retry`, { token: bob, body: { delayMinutes: 60 } });
    const retriedByAdmin = await h.api('POST', `/v1/notifications/${theirs}/retry`, { token: admin, body: { delayMinutes: 60 } });
    const movedByBob = await h.api('PATCH', `/v1/notifications/${mine}`, { token: bob, body: { scheduledAt: inMs(2 * 60 * 60 * 1000) } });
    const movedByAdmin = await h.api('PATCH', `/v1/notifications/${theirs}`, { token: admin, body: { scheduledAt: inMs(2 * 60 * 60 * 1000) } });
    const sentByBob = await h.api('POST', `/v1/notifications/${mine}/send-now`, { token: bob });
    const sentByAdmin = await h.api('POST', `/v1/notifications/${theirs}/send-now`, { token: admin });

    // Assess: pending again after an error, so delivery tries again by itself
    for (const answer of [retriedByBob, movedByBob, sentByBob]) {
      expect([200, 202]).toContain(answer.status);
      expectRecipientView(answer, answer.body);
      expect(answer.body).toMatchObject({ status: 'pending', lastErrorCategory: 'rejected', willRetry: true });
    }
    for (const answer of [retriedByAdmin, movedByAdmin, sentByAdmin]) {
      expect([200, 202]).toContain(answer.status);
      expectDiagnosticView(answer.body);
      expect(answer.body).toMatchObject({ status: 'pending', willRetry: true });
    }
  });

  it('GET /v1/broadcasts/{id}/recipients: its managers read the SES text with its category; a plain user cannot read it', async () => {
    // Prepare
    const created = await h.api('POST', '/v1/broadcasts', { token: sender, body: { title: 'Invoice', message: 'Ready', audience: { recipientIds: ['bob'] }, channels: ['email'] } });
    expect(created.status).toBe(201);
    const id = String(created.body.broadcastId);
    await eventually(
      () => h.api('GET', `/v1/broadcasts/${id}`, { token: sender }),
      (read) => read.body.status === 'failed',
    );

    // Act
    const asSender = await h.api('GET', `/v1/broadcasts/${id}/recipients`, { token: sender });
    const asBob = await h.api('GET', `/v1/broadcasts/${id}/recipients`, { token: bob });

    // Assess
    expect(broadcastRecipientPageSchema.safeParse(asSender.body).success).toBe(true);
    expect(asSender.body.items).toEqual([
      expect.objectContaining({
        recipientId: 'bob',
        status: 'failed',
        error: expect.stringContaining(`arn:aws:ses:eu-west-1:${account}`),
        errorCategory: 'rejected',
        willRetry: false,
        channels: { email: expect.objectContaining({ status: 'failed', errorCategory: 'rejected', error: expect.stringContaining(account) }) },
      }),
    ]);
    expect(asBob.status).toBe(403);
    expect(JSON.stringify(asBob.body)).not.toContain(account);
  });

  it('the inbox carries no delivery record: its items never hold the SES text', async () => {
    // Prepare
    await bobsOwn(['inbox', 'email'], 'sent');

    // Act
    const inbox = await h.api('GET', '/v1/me/inbox', { token: bob });

    // Assess
    expect(inbox.status).toBe(200);
    expect((inbox.body.items as unknown[]).length).toBeGreaterThan(0);
    expect(JSON.stringify(inbox.body)).not.toContain(account);
  });
});
