/**
 * The console of a deployment that reads Cognito's claims (`herald:tenantClaim` `custom:tenant`,
 * `herald:roleClaim` `cognito:groups`), in headless Chromium against a local stack: a pasted
 * Cognito-shaped operator token shows its tenant and role as the API reads them, and the Dead
 * letters tab the API opens to it. Chromium is required (test/e2e/support/chromium.ts).
 */
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimNamesOf } from '../../local/jwt-keys.ts';
import { chromiumPath } from './support/chromium.ts';
import { recordCspViolations } from './support/csp-violations.ts';
import { startHarness } from './support/harness.ts';
import type { Harness } from './support/harness.ts';

/** Generous: a loaded machine serves the page slowly. */
const seen = { timeout: 30_000 };

let h: Harness;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];
/** What the Content-Security-Policy the console is served with refused (it is AWS's too). */
const cspViolations: string[] = [];

beforeAll(async () => {
  const names = claimNamesOf('cognito');
  h = await startHarness({ environment: { HERALD_TENANT_CLAIM: names.tenantClaim, HERALD_ROLE_CLAIM: names.roleClaim, HERALD_SINGLE_TENANT: 'false' } });
  browser = await chromium.launch({ executablePath: chromiumPath(), args: ['--no-sandbox'] });
  page = await browser.newPage();
  page.on('pageerror', (error) => pageErrors.push(error.message));
  await recordCspViolations(page, cspViolations);
});

afterAll(async () => {
  await browser?.close();
  await h?.close();
});

describe('the console of a deployment that reads Cognito claims', () => {
  it("shows a pasted Cognito operator token's tenant and role, and the dead letters the API opens to it", async () => {
    // Prepare: `npm run token -- --sub cop --role operator --tenant acme --shape cognito`
    const token = await h.token('cop', { role: 'operator', tenant: 'acme', shape: 'cognito' });
    expect((await h.api('GET', '/v1/admin/dead-letters', { token })).status).toBe(200);

    // Act
    await page.goto(h.stack.httpUrl);
    await page.getByPlaceholder('eyJhbGciOi…').fill(token);
    await page.getByRole('button', { name: 'Use token' }).click();

    // Assess
    expect(await page.locator('[data-claim="tenant"]').textContent(seen)).toBe('acme');
    expect(await page.locator('[data-claim="roles"]').textContent()).toBe('operator');
    await page.getByRole('link', { name: 'Dead letters', exact: true }).click();
    await page.locator('tr[data-queue="delivery-dlq"]').waitFor(seen);
    expect(pageErrors).toEqual([]);
    expect(cspViolations).toEqual([]);
  }, 90_000);

  it('signs in locally under the configured claim names, with a token the API takes', async () => {
    // Act: the console's dev sign-in
    const minted = await fetch(`${h.stack.httpUrl}/_local/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sub: 'cop', tenant: 'acme', roles: ['operator'] }) });
    const { token } = (await minted.json()) as { token: string };

    // Assess
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as Record<string, unknown>;
    expect(claims).toMatchObject({ 'custom:tenant': 'acme', 'cognito:groups': ['operator'] });
    expect((await h.api('GET', '/v1/admin/dead-letters', { token })).status).toBe(200);
  });
});
