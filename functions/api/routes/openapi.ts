/** `GET /openapi.json` and `GET /docs`: the API documented, from the schemas it validates with. */
import { httpRoutes } from '../../../lib/app-description.ts';
import { once } from '../../../shared/config.ts';
import { docsPageContentSecurityPolicy, renderDocsPage } from '../../../shared/http/api-docs-page.ts';
import { buildOpenApiDocument } from '../../../shared/http/openapi.ts';
import type { OpenApiDocument } from '../../../shared/http/openapi.ts';
import { json } from '../../../shared/http/request.ts';
import type { HttpResult } from '../../../shared/http/request.ts';
import { apiDescription, routeDocs } from '../route-docs.ts';

/** The document, made once per cold start. */
export const openApiDocument = once((): OpenApiDocument => buildOpenApiDocument(httpRoutes, routeDocs, apiDescription));
const docsPage = once((): string => renderDocsPage(openApiDocument(), { documentUrl: '/openapi.json' }));

/** `GET /openapi.json` (public) */
export async function getOpenApiRoute(): Promise<HttpResult> {
  return json(200, openApiDocument());
}

/** `GET /docs` (public): one HTML page that loads nothing else. */
export async function getDocsRoute(): Promise<HttpResult> {
  return {
    statusCode: 200,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': docsPageContentSecurityPolicy,
      'x-content-type-options': 'nosniff',
    },
    body: docsPage(),
  };
}
