/**
 * The console in headless Chromium when things go wrong or grow, as an operator meets them: an
 * API that cannot be reached or answers a page that is not JSON, a token the API refuses or that
 * expires while the page is open, more notifications than one page holds, a broadcast whose
 * counters include cancelled and held recipients, an answer overtaken by a newer filter, the
 * Back button, and a session that asks for nothing the server does not have (no 404, not even
 * `/favicon.ico`).
 *
 * Where a failure cannot be made for real without breaking the stack, the browser's own request
 * interception (`page.route`) stands in for the network, as a proxy or a dropped link would.
 */
import { chromium } from 'playwright-core';
import type { Browser, BrowserContext, Page, Route } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { chromiumPath } from './support/chromium.ts';
import { recordCspViolations } from './support/csp-violations.ts';
import { startHarness } from './support/harness.ts';
import type { Harness } from './support/harness.ts';

/** Generous: the page polls every 2-5 s and a loaded machine answers slowly. */
const seen = { timeout: 30_000 };
const step = 90_000;

let h: Harness;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let admin = '';
const pageErrors: string[] = [];
/** Responses of 4xx and 5xx, and what the browser logged as errors (it logs the favicon's 404 there only). */
const failedResponses: string[] = [];
const consoleErrors: string[] = [];
/** What the Content-Security-Policy the console is served with refused (it is AWS's too): none, after each test. */
const cspViolations: string[] = [];
/** The page's reads of the notification list: every one, and the unfiltered first page. */
const notificationLists = /\/v1\/notifications\?/;
const unfilteredList = /\/v1\/notifications\?limit=50$/;
const tomorrow = (): string => new Date(Date.now() + 86_400_000).toISOString();

beforeAll(async () => {
  h = await startHarness();
  browser = await chromium.launch({ executablePath: chromiumPath(), args: ['--no-sandbox'] });
  admin = await h.token('console', { role: ['admin', 'operator'] });
  // More notifications than the page's 50 per page, pending so nothing is delivered meanwhile.
  const recipients = Array.from({ length: 60 }, (_, i) => ({ id: `pager-${String(i).padStart(2, '0')}` }));
  expect((await h.api('POST', '/v1/recipients/batch', { token: admin, body: { recipients } })).status).toBe(200);
  const created = await h.api('POST', '/v1/notifications', {
    token: admin,
    body: { recipients: recipients.map((r) => r.id), title: 'Paged', message: 'One of many', scheduledAt: tomorrow(), channels: ['inbox'] },
  });
  expect(created.status).toBe(201);
}, 60_000);

afterEach(async () => {
  await context?.close();
  expect(cspViolations.splice(0)).toEqual([]);
});

afterAll(async () => {
  await browser?.close();
  await h?.close();
});

async function openPage(): Promise<void> {
  context = await browser.newContext();
  page = await context.newPage();
  await recordCspViolations(page, cspViolations);
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  page.on('response', (response) => {
    if (response.status() >= 400 && !response.fromServiceWorker()) failedResponses.push(`${response.status()} ${response.url()}`);
  });
  await page.goto(h.stack.httpUrl);
}

async function signInLocally(): Promise<void> {
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.locator('[data-claim="tenant"]').waitFor(seen);
}

async function signInWith(token: string): Promise<void> {
  await page.getByPlaceholder('eyJhbGciOi…').fill(token);
  await page.getByRole('button', { name: 'Use token' }).click();
}

describe('the console when things go wrong or grow', () => {
  it('loads, signs in and reads every tab without a request the server answers 4xx or 5xx', async () => {
    await openPage();
    await signInLocally();
    for (const tab of ['Broadcasts', 'Dead letters', 'Lateness', 'Sent mail', 'Outbox', 'Notifications']) {
      await page.getByRole('link', { name: tab, exact: true }).click();
      await page.getByRole('heading', { name: tab, exact: true }).waitFor(seen);
    }
    await page.locator('tr[data-notification]').first().waitFor(seen);
    expect(failedResponses).toEqual([]);
    expect(consoleErrors).toEqual([]);
  }, step);

  it("runs under the distribution's Content-Security-Policy, which refuses a call to another origin and says so", async () => {
    await openPage();
    await signInLocally();
    const refused = await page.evaluate(() => fetch('http://example.com/').then(() => 'fetched', () => 'refused'));
    await expect.poll(() => cspViolations).toEqual(['connect-src http://example.com/']);
    expect(refused).toBe('refused');
    cspViolations.length = 0;
  }, step);

  it('says when the API cannot be reached or answers a page that is not JSON, keeps the last list, and recovers', async () => {
    await openPage();
    await signInLocally();
    const rows = page.locator('tr[data-notification]');
    await rows.first().waitFor(seen);

    await page.route(notificationLists, (route) => route.abort('connectionrefused'));
    await page.getByRole('alert').filter({ hasText: 'The API cannot be reached' }).waitFor(seen);
    expect(await rows.count()).toBe(50);

    await page.unroute(notificationLists);
    await page.route(notificationLists, (route) => route.fulfill({ status: 502, contentType: 'text/html', body: '<html><body>Bad gateway</body></html>' }));
    await page.getByRole('alert').filter({ hasText: '502: Bad Gateway, an answer that is not JSON.' }).waitFor(seen);
    expect(await page.getByRole('alert').textContent()).not.toContain('Unexpected token');

    await page.unroute(notificationLists);
    await page.getByRole('alert').waitFor({ state: 'detached', ...seen });
    expect(await rows.count()).toBe(50);
  }, step);

  it('asks for a new token, saying why, when the API refuses the one in use', async () => {
    await openPage();
    // Signed by the stack's key, then altered: the page reads its claims, the API refuses it.
    const [header, payload] = admin.split('.');
    await signInWith(`${header}.${payload}.${'A'.repeat(86)}`);
    await page.getByRole('alert').filter({ hasText: 'The API refused the token (401' }).waitFor(seen);
    expect(await page.getByRole('button', { name: 'Use token' }).isVisible()).toBe(true);
  }, step);

  it('signs out when the token expires while the page is open, saying so, and refuses a pasted expired token', async () => {
    await openPage();
    await signInWith(await h.token('console', { role: 'admin', expiresIn: 10 }));
    await page.locator('[data-claim="tenant"]').waitFor(seen);
    // The Lateness tab reads once and does not poll: only the page's own clock can notice.
    await page.getByRole('link', { name: 'Lateness', exact: true }).click();
    await page.getByRole('alert').filter({ hasText: /^The token expired at .* \(UTC\)\. Sign in again\.$/ }).waitFor(seen);

    await signInWith(await h.token('console', { role: 'admin', expiresIn: -60 }));
    await page.getByRole('alert').filter({ hasText: /^That token expired at .* \(UTC\)\.$/ }).waitFor(seen);
  }, step);

  it('pages through more notifications than one page holds, and back', async () => {
    await openPage();
    await signInLocally();
    const rows = page.locator('tr[data-notification]');
    await page.getByText('page 1').waitFor(seen);
    expect(await rows.count()).toBe(50);
    const firstPage = await rows.first().getAttribute('data-notification');

    await page.getByRole('button', { name: 'Older' }).click();
    await page.getByText('page 2').waitFor(seen);
    await page.locator(`tr[data-notification="${firstPage}"]`).waitFor({ state: 'detached', ...seen });
    expect(await rows.count()).toBe(10);
    expect(await page.getByRole('button', { name: 'Older' }).isDisabled()).toBe(true);

    await page.getByRole('button', { name: 'Newer' }).click();
    await page.locator(`tr[data-notification="${firstPage}"]`).waitFor(seen);
    expect(await rows.count()).toBe(50);
  }, step);

  it("shows every counter of a broadcast's progress, so they add up to its total", async () => {
    const created = await h.api('POST', '/v1/broadcasts', {
      token: admin,
      body: { audience: { recipientIds: ['pager-00'] }, title: 'Counted', message: 'x', channels: ['inbox'], scheduledAt: tomorrow() },
    });
    expect(created.status).toBe(201);
    await openPage();
    // The API's own answer, with counters a cancelled and quiet-hours-held run would have.
    await page.route(/\/v1\/broadcasts\?/, async (route: Route) => {
      const answer = (await (await route.fetch()).json()) as { items: Array<Record<string, unknown>>; nextCursor: string | null };
      const progress = { total: 10, sent: 4, failed: 1, cancelled: 3, pending: 2, held: 2, percent: 80 };
      await route.fulfill({ json: { ...answer, items: answer.items.map((b) => ({ ...b, progress })) } });
    });
    await signInLocally();
    await page.getByRole('link', { name: 'Broadcasts', exact: true }).click();
    const text = page.locator(`[data-broadcast="${String(created.body.broadcastId)}"] .progress-text`);
    await text.waitFor(seen);
    expect(await text.textContent()).toBe('80% · 4 sent · 1 failed · 3 cancelled · 2 pending (2 held by quiet hours) of 10');
  }, step);

  it('drops an answer overtaken by a newer filter, so a list never shows under the wrong filter', async () => {
    await openPage();
    await signInLocally();
    const rows = page.locator('tr[data-notification]');
    await rows.first().waitFor(seen);

    // Unfiltered reads are held back, as a slow network would, while the operator filters.
    const held: Route[] = [];
    await page.route(unfilteredList, (route) => {
      held.push(route);
    });
    await page.getByRole('button', { name: 'Refresh' }).click();
    await expect.poll(() => held.length, seen).toBeGreaterThan(0);
    await page.getByLabel('Status').selectOption('failed');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.getByText('No notifications match.').waitFor(seen);

    const arrived = held.map((route) => route.request().url());
    const answered = page.waitForResponse((response) => arrived.includes(response.url()));
    for (const route of held) await route.continue();
    await (await answered).finished();
    await page.unroute(unfilteredList);
    // Rendering an answer takes milliseconds; a second leaves it every chance to show.
    await page.waitForTimeout(1000);
    expect(await rows.count()).toBe(0);
    expect(await page.getByText('No notifications match.').isVisible()).toBe(true);
  }, step);

  it('asks the local stores for the newest 200 only, not the whole store, then only whether they changed, and says where the rest are', async () => {
    for (let i = 0; i < 1500; i += 1) h.stack.outbox.record({ channel: 'sms', provider: 'sns', to: `+1555${String(1_000_000 + i)}`, body: { Message: `Message ${i}` } });
    await openPage();
    await signInLocally();
    // Every read of the two local stores, as the page sent it.
    const reads: URL[] = [];
    page.on('request', (request) => {
      const url = new URL(request.url());
      if (url.pathname === '/_local/outbox' || url.pathname === '/_local/mail') reads.push(url);
    });
    await page.getByRole('link', { name: 'Sent mail', exact: true }).click();
    await page.waitForResponse((response) => new URL(response.url()).pathname === '/_local/mail', seen);
    const answered = page.waitForResponse((response) => new URL(response.url()).pathname === '/_local/outbox', seen);
    await page.getByRole('link', { name: 'Outbox', exact: true }).click();
    const answer = (await (await answered).json()) as { entries: unknown[]; total: number };
    const note = page.getByText(/^The newest 200 of \d+; every one is on the outbox page\.$/);
    await note.waitFor(seen);
    const rows = page.locator('section[aria-label="Outbox"] tbody tr');
    expect(await rows.count()).toBe(200);
    expect(reads.map((url) => url.searchParams.get('limit'))).toEqual(reads.map(() => '200'));
    expect(answer.entries).toHaveLength(200);
    // The first 200 of the store's answer, which is newest first.
    const store = await h.api('GET', '/_local/outbox?limit=200');
    const recipients = (store.body.entries as Array<{ to: string }>).map((entry) => entry.to);
    expect(await rows.locator('td:nth-child(4)').allTextContents()).toEqual(recipients);
    expect(store.body.total).toBeGreaterThanOrEqual(1500);
    expect(await note.textContent()).toBe(`The newest 200 of ${String(store.body.total)}; every one is on the outbox page.`);

    // Nothing new since: the next read names what the page holds, and the stack answers 304 with no
    // body (the browser hands the page the answer it holds, so Playwright shows a 200 without the body's headers)
    const etag = (await (await answered).allHeaders()).etag;
    const again = await page.waitForResponse((response) => new URL(response.url()).pathname === '/_local/outbox', seen);
    expect(etag).toMatch(/^".+"$/);
    expect((await again.request().allHeaders())['if-none-match']).toBe(etag);
    expect((await again.allHeaders())['content-length']).toBeUndefined();
    expect(await rows.count()).toBe(200);
  }, step);

  it("writes out a failed channel's reason, and names each Redrive button's queue, for those who do not hover", async () => {
    const other = await h.token('console', { role: 'admin', tenant: 'a11y' });
    expect((await h.api('PUT', '/v1/recipients/hooked', { token: other, body: { webhookUrl: `${h.stack.httpUrl}/no-such-hook` } })).status).toBe(201);
    const created = await h.api('POST', '/v1/notifications', { token: other, body: { recipients: ['hooked'], title: 'Refused', message: 'x', channels: ['webhook'] } });
    expect(created.status).toBe(201);
    await openPage();
    await page.getByLabel('Tenant').fill('a11y');
    await signInLocally();
    const outcome = page.locator(`tr[data-notification="${(created.body.notificationIds as string[])[0]}"] .outcome.failed`);
    await outcome.waitFor(seen);
    expect(await outcome.textContent()).toBe('webhook: failed: WebhookAnswerError: the webhook answered 404');

    await page.getByRole('link', { name: 'Dead letters', exact: true }).click();
    await page.getByRole('button', { name: 'Redrive delivery-dlq', exact: true }).waitFor(seen);
  }, step);

  it('says so when it cannot read its config.json, instead of loading for ever', async () => {
    context = await browser.newContext();
    page = await context.newPage();
    await recordCspViolations(page, cspViolations);
    await page.route(/\/config\.json$/, (route) => route.fulfill({ status: 503, contentType: 'text/html', body: '<html>Service Unavailable</html>' }));
    await page.goto(h.stack.httpUrl);
    await page.getByRole('alert').filter({ hasText: 'The console could not read its config.json (its server answered 503' }).waitFor(seen);
    expect(await page.getByText('Loading the console…').count()).toBe(0);
  }, step);

  it('moves between tabs with Back and Forward', async () => {
    await openPage();
    await signInLocally();
    await page.getByRole('link', { name: 'Broadcasts', exact: true }).click();
    await page.getByRole('heading', { name: 'Broadcasts', exact: true }).waitFor(seen);
    await page.getByRole('link', { name: 'Outbox', exact: true }).click();
    await page.getByRole('heading', { name: 'Outbox', exact: true }).waitFor(seen);

    await page.goBack();
    await page.getByRole('heading', { name: 'Broadcasts', exact: true }).waitFor(seen);
    await page.goForward();
    await page.getByRole('heading', { name: 'Outbox', exact: true }).waitFor(seen);
    expect(pageErrors).toEqual([]);
  }, step);
});
