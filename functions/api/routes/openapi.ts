/** `GET /openapi.json` and `GET /docs`: the API documented, from the schemas it validates with. */
import * as z from 'zod';
import { once } from '../../../shared/config.ts';
import { docsPageContentSecurityPolicy } from '../../../shared/http/api-docs-page.ts';
import { json, queryParameters } from '../../../shared/http/request.ts';
import type { HttpEvent, HttpResult } from '../../../shared/http/request.ts';
import { tryItPageContentSecurityPolicy } from '../../../shared/http/try-it-page.ts';

/** The query of `GET /docs`: `view=try` asks for the interactive reference. */
export const docsQuerySchema = z.strictObject({ view: z.enum(['try']).optional() });

// Loaded on the first docs request: building the route docs' schemas is a large part of the
// function's module init, which every other request would otherwise pay for at its cold start.
const documents = once(() => import('../api-documents.ts'));

/** `GET /openapi.json` (public) */
export async function getOpenApiRoute(): Promise<HttpResult> {
  return json(200, (await documents()).openApiDocument());
}

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
  const { docsPage, tryItPage } = await documents();
  return view === 'try' ? htmlPage(tryItPage(), tryItPageContentSecurityPolicy) : htmlPage(docsPage(), docsPageContentSecurityPolicy);
}
