/**
 * The documents `GET /openapi.json` and `GET /docs` answer with, each made once per cold start on
 * first use. routes/openapi.ts imports this module lazily: the route docs and the response schemas
 * they name (classic zod, built at module evaluation) are then evaluated on the first docs request
 * instead of in every cold start of `api` (see docs/architecture.md, "Bundles").
 */
import { httpRoutes } from '../../lib/app-description.ts';
import { once } from '../../shared/config.ts';
import { renderDocsPage } from '../../shared/http/api-docs-page.ts';
import { buildOpenApiDocument } from '../../shared/http/openapi.ts';
import type { OpenApiDocument } from '../../shared/http/openapi.ts';
import { renderTryItPage } from '../../shared/http/try-it-page.ts';
import { apiDescription, routeDocs } from './route-docs.ts';

/** The OpenAPI 3.1 document of every route, made once. */
export const openApiDocument = once((): OpenApiDocument => buildOpenApiDocument(httpRoutes, routeDocs, apiDescription));

/** The static reference page (HTML), made once from {@link openApiDocument}. */
export const docsPage = once((): string => renderDocsPage(openApiDocument(), { documentUrl: '/openapi.json', tryItUrl: '/docs?view=try' }));

/** The interactive reference page (HTML), made once. */
export const tryItPage = once((): string =>
  renderTryItPage({ title: `${openApiDocument().info.title} API`, documentUrl: '/openapi.json', staticUrl: '/docs' }),
);
