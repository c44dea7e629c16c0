/**
 * The console in a real headless Chromium (Debian's `chromium`, driven by playwright-core),
 * against a local stack: what a person sees after signing in. A notification and a broadcast made
 * through the API show their outcome and progress; a dead-lettered message shows in the DLQ count
 * and leaves it on Redrive; the lateness chart and the sent mail show the delivery.
 *
 * Chromium is required, not optional: `.ci/run` installs it when `chromium` is missing.
 */
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_REGION } from '../../local/stack.ts';
import { chromiumPath } from './support/chromium.ts';
import { recordCspViolations } from './support/csp-violations.ts';
import { inMs, startHarness } from './support/harness.ts';
import type { Harness } from './support/harness.ts';

/** Generous: the page polls every 2-5 s and a loaded machine delivers slowly. */
const seen = { timeout: 30_000 };
/** Each step may wait `seen` more than once. */
const step = 90_000;

let h: Harness;
let browser: Browser;
let page: Page;
let sqs: SQSClient;
let notificationId = '';
/** A notification cancelled before its time: none of its channels was ever attempted. */
let cancelledId = '';
let broadcastId = '';
const pageErrors: string[] = [];
/** What the Content-Security-Policy the console is served with refused (it is AWS's too). */
const cspViolations: string[] = [];

beforeAll(async () => {
  h = await startHarness();
  browser = await chromium.launch({ executablePath: chromiumPath(), args: ['--no-sandbox'] });
  page = await browser.newPage();
  page.on('pageerror', (error) => pageErrors.push(error.message));
  await recordCspViolations(page, cspViolations);
  sqs = new SQSClient({ endpoint: h.stack.endpoints.sqs, region: LOCAL_REGION, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });

  // What the console will show, made through the API as a client would.
  const admin = await h.token('alice', { role: 'admin' });
  expect((await h.api('PUT', '/v1/recipients/dave', { token: admin, body: { email: 'dave@example.com' } })).status).toBe(201);
  const created = await h.api('POST', '/v1/notifications', {
    token: admin,
    body: { recipients: ['dave'], title: 'Console check', message: 'Seen in the console', scheduledAt: inMs(1500), channels: ['inbox', 'email'] },
  });
  expect(created.status).toBe(201);
  notificationId = (created.body.notificationIds as string[])[0] ?? '';
  const later = await h.api('POST', '/v1/notifications', {
    token: admin,
    body: { recipients: ['dave'], title: 'Console cancel', message: 'Never sent', scheduledAt: inMs(3_600_000), channels: ['inbox', 'email'] },
  });
  expect(later.status).toBe(201);
  cancelledId = (later.body.notificationIds as string[])[0] ?? '';
  expect((await h.api('DELETE', `/v1/notifications/${cancelledId}`, { token: admin })).status).toBe(200);
  await sqs.send(new SendMessageCommand({ QueueUrl: h.stack.queueUrls['delivery-dlq'], MessageBody: JSON.stringify({ tenantId: 'other', notificationId: 'ntf_01JAAAAAAAAAAAAAAAAAAAAAAA' }) }));
});

afterAll(async () => {
  await browser?.close();
  sqs?.destroy();
  await h?.close();
});

async function openTab(name: string): Promise<void> {
  await page.getByRole('link', { name, exact: true }).click();
  await page.getByRole('heading', { name, exact: true }).waitFor(seen);
}

describe('the console', () => {
  it('refuses a pasted text that is no token, and signs in locally for a chosen tenant and roles', async () => {
    await page.goto(h.stack.httpUrl);
    await page.getByPlaceholder('eyJhbGciOi…').fill('not a token');
    await page.getByRole('button', { name: 'Use token' }).click();
    await page.getByRole('alert').filter({ hasText: 'That is not a JWT' }).waitFor(seen);

    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    expect(await page.locator('[data-claim="tenant"]').textContent(seen)).toBe('default');
    expect(await page.locator('.who').textContent()).toContain('admin, operator');
  }, step);

  it('shows the notification made through the API, with its outcome on each channel', async () => {
    const row = page.locator(`tr[data-notification="${notificationId}"]`);
    await row.locator('.outcome.sent', { hasText: 'email: sent' }).waitFor(seen);
    expect(await row.locator('.status').textContent()).toBe('sent');
    expect(await row.locator('.outcome').allTextContents()).toEqual(['inbox: sent', 'email: sent']);
    // A cancelled one says so on each channel, not "waiting".
    const cancelled = page.locator(`tr[data-notification="${cancelledId}"]`);
    expect(await cancelled.locator('.status').textContent(seen)).toBe('cancelled');
    expect(await cancelled.locator('.outcome').allTextContents()).toEqual(['inbox: cancelled', 'email: cancelled']);

    // A filter that leaves it out, then one that keeps it.
    await page.getByLabel('Status').selectOption('failed');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.getByText('No notifications match.').waitFor(seen);
    await page.getByLabel('Recipient').fill('dave');
    await page.getByLabel('Status').selectOption('sent');
    await page.getByRole('button', { name: 'Filter' }).click();
    await row.waitFor(seen);
  }, step);

  it("moves the progress bar of a broadcast its user created with the WebSocket's frames, to 100%", async () => {
    await openTab('Broadcasts');
    await page.locator('.socket.open').waitFor(seen);
    // Created by the signed-in subject (the local sign-in's default), after the socket opened.
    const own = await h.token('console', { role: ['admin', 'operator'] });
    const broadcast = await h.api('POST', '/v1/broadcasts', {
      token: own,
      body: { audience: { recipientIds: ['dave'] }, title: 'Console broadcast', message: 'To everyone', channels: ['inbox'] },
    });
    expect(broadcast.status).toBe(201);
    broadcastId = String(broadcast.body.broadcastId);

    const card = page.locator(`[data-broadcast="${broadcastId}"]`);
    await card.locator('progress[value="100"]').waitFor(seen);
    await page.locator(`[data-broadcast="${broadcastId}"]:not([data-live-frames="0"])`).waitFor(seen);
    expect(await card.locator('.progress-text').textContent()).toContain('1 sent');
  }, step);

  it('shows the dead-letter count to an operator, and empties the queue on Redrive', async () => {
    await openTab('Dead letters');
    const row = page.locator('tr[data-queue="delivery-dlq"]');
    await row.locator('.count', { hasText: /^1$/ }).waitFor(seen);
    await row.getByRole('button', { name: 'Redrive' }).click();
    await page.getByRole('status').filter({ hasText: 'delivery-dlq: moved 1 to delivery, 0 left.' }).waitFor(seen);
    await row.locator('.count', { hasText: /^0$/ }).waitFor(seen);
  }, step);

  it('draws the lateness of what was delivered, and lists the sent mail', async () => {
    await openTab('Lateness');
    await page.getByRole('img', { name: 'Delivery lateness, p50 and p99 over time' }).waitFor(seen);
    expect(await page.locator('[data-stat="p50"]').textContent()).toMatch(/^\d+(\.\d)? m?s$/);

    await openTab('Sent mail');
    await page.getByRole('cell', { name: 'dave@example.com' }).waitFor(seen);
  }, step);

  it('lists what the local providers received, by channel', async () => {
    // What a local SMS provider records when Herald sends it a message.
    h.stack.outbox.record({ channel: 'sms', provider: 'sns', to: '+15550100', body: { Message: 'Your code is 123456' } });
    h.stack.outbox.record({ channel: 'webhook', provider: 'webhook', to: 'https://example.com/hook', body: { event: 'notification' } });
    await openTab('Outbox');
    await page.getByRole('cell', { name: '+15550100' }).waitFor(seen);
    await page.getByLabel('Channel').selectOption('webhook');
    await page.getByRole('cell', { name: '+15550100' }).waitFor({ state: 'detached', ...seen });
    expect(await page.getByRole('cell', { name: 'https://example.com/hook' }).count()).toBe(1);
  }, step);

  it("shows only the token's tenant, and the dead letters only to an operator", async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Tenant').fill('acme');
    await page.getByLabel('operator').uncheck();
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    expect(await page.locator('[data-claim="tenant"]').textContent(seen)).toBe('acme');
    await page.getByRole('link', { name: 'Notifications', exact: true }).click();
    await page.getByText('No notifications match.').waitFor(seen);
    expect(await page.locator(`tr[data-notification="${notificationId}"]`).count()).toBe(0);
    expect(await page.getByRole('link', { name: 'Dead letters' }).count()).toBe(0);
    expect(pageErrors).toEqual([]);
    expect(cspViolations).toEqual([]);
  }, step);
});
