/**
 * Content-Security-Policy violations of the console in the browser tests. The console is served
 * locally under the policy CloudFront sets on AWS (lib/console-security-headers.ts); something the
 * page does that the policy refuses (an inline style or script, a call to another origin) works
 * nowhere but shows only as a `securitypolicyviolation` event, so the tests collect them and fail
 * on any.
 */
import type { Page } from 'playwright-core';

/** Name of the function the page calls on each violation; not one the console uses. */
const reporter = '__heraldCspViolation';

/**
 * Records in `violations`, from now on, every violation a document of `page` reports, as
 * `<directive> <blocked URI>` (e.g. `connect-src https://example.com/`).
 */
export async function recordCspViolations(page: Page, violations: string[]): Promise<void> {
  await page.exposeFunction(reporter, (text: string) => violations.push(text));
  // Run in the page before its own scripts, as text: the tests are type-checked without the DOM's types.
  await page.addInitScript({
    content: `document.addEventListener('securitypolicyviolation', (event) => window.${reporter}(event.effectiveDirective + ' ' + event.blockedURI));`,
  });
}
