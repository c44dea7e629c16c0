/**
 * `/docs?view=try`: the interactive reference. Its script comes from one pinned URL, checked by
 * Subresource Integrity, and the page's policy lets nothing else run; the plain `/docs` links to it.
 */
import { describe, expect, it } from 'vitest';
import { getDocsRoute } from '../../../functions/api/routes/openapi.ts';
import type { HttpEvent } from '../../../shared/http/request.ts';
import { scalarScript } from '../../../shared/http/try-it-page.ts';

const docsEvent = (query?: Record<string, string>): HttpEvent => ({ routeKey: 'GET /docs', ...(query ? { queryStringParameters: query } : {}) }) as unknown as HttpEvent;

describe('GET /docs?view=try', () => {
  it('loads Scalar from its pinned URL with its integrity hash, reading /openapi.json', async () => {
    // Act
    const result = await getDocsRoute(docsEvent({ view: 'try' }));

    // Assess
    expect(result.statusCode).toBe(200);
    expect(result.body).toContain(`<script src="${scalarScript.url}" integrity="${scalarScript.integrity}" crossorigin="anonymous"></script>`);
    expect(result.body).toContain('data-url="/openapi.json"');
    // Offline, the script never comes: the page says where it loads from and links to the plain reference.
    expect(result.body).toMatch(/<p class="try-it-source"[^>]*>This view loads Scalar from cdn\.jsdelivr\.net; without the network, the <a href="\/docs">plain reference<\/a>/);
    expect(scalarScript.url).toContain(`@scalar/api-reference@${scalarScript.version}/`);
    expect(scalarScript.integrity).toMatch(/^sha384-[A-Za-z0-9+/]{64}$/);
  });

  it('lets only that script origin run, and requests go to this API alone', async () => {
    // Act
    const result = await getDocsRoute(docsEvent({ view: 'try' }));

    // Assess
    const policy = String(result.headers?.['content-security-policy']);
    expect(policy).toContain("script-src https://cdn.jsdelivr.net;");
    expect(policy).toContain("connect-src 'self'");
    expect(policy).not.toContain('unsafe-eval');
    expect(result.body).not.toMatch(/<script>(?!<\/script>)/);
  });

  it('links to it from the plain reference, which still loads nothing', async () => {
    // Act
    const result = await getDocsRoute(docsEvent());

    // Assess
    expect(result.body).toContain('<a href="/docs?view=try">try it</a>');
    expect(result.body).not.toContain('<script');
    expect(String(result.headers?.['content-security-policy'])).toContain("default-src 'none'");
  });

  it('refuses a view it does not know, naming the parameter', async () => {
    // Act
    const error = await getDocsRoute(docsEvent({ view: 'fancy' })).catch((e: unknown) => e);

    // Assess
    expect(error).toMatchObject({ statusCode: 400, details: [expect.objectContaining({ field: 'view' })] });
  });
});
