/** `GET /openapi.json` and `GET /docs`: the API documented, from the schemas it validates with. */
import { httpRoutes } from '../../../lib/app-description.ts';
import { once } from '../../../shared/config.ts';
import { docsPageContentSecurityPolicy, renderDocsPage } from '../../../shared/http/api-docs-page.ts';
import { buildOpenApiDocument } from '../../../shared/http/openapi.ts';
import type { OpenApiDocument } from '../../../shared/http/openapi.ts';
import { json, queryParameters } from '../../../shared/http/request.ts';
import type { HttpEvent, HttpResult } from '../../../shared/http/request.ts';
import { renderTryItPage, tryItPageContentSecurityPolicy } from '../../../shared/http/try-it-page.ts';
import { apiDescription, docsQuerySchema, routeDocs } from '../route-docs.ts';

/** The document, made once per cold start. */
export const openApiDocument = once((): OpenApiDocument => buildOpenApiDocument(httpRoutes, routeDocs, apiDescription));
const docsPage = once((): string => renderDocsPage(openApiDocument(), { documentUrl: '/openapi.json', tryItUrl: '/docs?view=try' }));

/** `GET /openapi.json` (public) */
export async function getOpenApiRoute(): Promise<HttpResult> {
  return json(200, openApiDocument());
}

const tryItPage = once((): string =>
  renderTryItPage({ title: `${openApiDocument().info.title} API`, documentUrl: '/openapi.json', staticUrl: '/docs' }),
);

function htmlPage(body: string, contentSecurityPolicy: string): HttpResult {
  return {
    statusCode: 200,
    headers: { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': contentSecurityPolicy, 'x-content-type-options': 'nosniff' },
    body,
  };
}

/**
 * `GET /docs` (public): one HTML page that loads nothing else; `GET /docs?view=try`, the
 * interactive reference (shared/http/try-it-page.ts).
 */
export async function getDocsRoute(event: HttpEvent): Promise<HttpResult> {
  const { view } = queryParameters(event, docsQuerySchema);
  return view === 'try' ? htmlPage(tryItPage(), tryItPageContentSecurityPolicy) : htmlPage(docsPage(), docsPageContentSecurityPolicy);
}
