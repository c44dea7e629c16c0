/**
 * `GET /docs?view=try`: the API as an interactive reference (Scalar), where a reader can send any
 * request with their token and see the answer. Scalar's one-file browser build (4.3 MB) is far
 * too big for the API function, so the page loads it from jsDelivr, pinned to one version and
 * checked by Subresource Integrity: the browser refuses any other bytes. It is the only page that
 * loads it; the function itself carries a few hundred bytes of HTML. The plain `/docs` page needs
 * no network at all.
 */
import { escapeHtml } from './api-docs-page.ts';

/**
 * Scalar's standalone browser build, as published on npm (`@scalar/api-reference`,
 * `dist/browser/standalone.js`), which jsDelivr serves byte for byte. The hash is the SHA-384 of
 * that file (`openssl dgst -sha384 -binary standalone.js | openssl base64 -A`); to upgrade, change
 * both together.
 */
export const scalarScript = {
  version: '1.72.1',
  url: 'https://cdn.jsdelivr.net/npm/@scalar/api-reference@1.72.1/dist/browser/standalone.js',
  integrity: 'sha384-U11tb2XnKvmwt8RlTvnwUnYgrN+ur4Xyh9htLhjajWNR/Oyl5AX5DEz00qRmlrmK',
} as const;

/**
 * What the page may load: Scalar's script from jsDelivr only, the document and the requests a
 * reader sends to this API (`connect-src 'self'`), Scalar's injected styles; no fonts or images from
 * elsewhere (its default fonts are switched off).
 */
export const tryItPageContentSecurityPolicy = [
  "default-src 'none'",
  `script-src ${new URL(scalarScript.url).origin}`,
  "style-src 'unsafe-inline'",
  "connect-src 'self'",
  'img-src data:',
  'font-src data:',
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** The interactive page, reading the OpenAPI document at `documentUrl` (same origin). */
export function renderTryItPage(options: { readonly title: string; readonly documentUrl: string; readonly staticUrl: string }): string {
  // Scalar reads its configuration from this element: no inline script, so the policy needs none.
  const configuration = JSON.stringify({ url: options.documentUrl, withDefaultFonts: false, hideClientButton: true, telemetry: false });
  return (
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">' +
    `<title>${escapeHtml(options.title)}: try it</title></head><body>` +
    `<noscript><p>This view needs JavaScript. The <a href="${escapeHtml(options.staticUrl)}">plain reference</a> does not.</p></noscript>` +
    // Said before the script loads, so that a browser that cannot reach jsDelivr (offline, a local stack on a plane) is not left with a blank page.
    `<p class="try-it-source" style="font: 14px system-ui, sans-serif; margin: 8px 16px">This view loads Scalar from ${escapeHtml(new URL(scalarScript.url).host)}; without the network, the <a href="${escapeHtml(options.staticUrl)}">plain reference</a> shows every route.</p>` +
    `<script id="api-reference" data-url="${escapeHtml(options.documentUrl)}" data-configuration="${escapeHtml(configuration)}"></script>` +
    `<script src="${scalarScript.url}" integrity="${scalarScript.integrity}" crossorigin="anonymous"></script>` +
    '</body></html>'
  );
}
