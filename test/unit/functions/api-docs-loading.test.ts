/**
 * The `api` function's cold start does not build its documentation: the route docs and the response
 * schemas they name (classic zod, ~20 ms of module evaluation) load on the first `/openapi.json` or
 * `/docs` request (functions/api/routes/openapi.ts). Run in a fresh Node process that notes every
 * module it loads, as a cold start loads the handler.
 */
import { describe, expect, it } from 'vitest';
import { runInRepo } from '../support/processes.ts';

const docsModules = /\/(route-docs|response-schemas|api-documents)\.ts$/;

const script = `
import { registerHooks } from 'node:module';
const loaded = [];
registerHooks({ load(url, context, next) { loaded.push(url); return next(url, context); } });
const docs = () => loaded.filter((url) => ${docsModules}.test(url)).map((url) => url.split('/').pop());
await import('./functions/api/handler.ts');
const atColdStart = docs();
const { getOpenApiRoute } = await import('./functions/api/routes/openapi.ts');
const answer = await getOpenApiRoute();
process.stdout.write(JSON.stringify({ atColdStart, afterDocsRequest: docs(), status: answer.statusCode }));
`;

describe('the api function at its cold start', () => {
  it('loads the route docs and the response schemas on the first docs request, not when the handler loads', async () => {
    // Act
    const run = await runInRepo(['node', '--input-type=module', '--eval', script]);

    // Assess
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual({
      atColdStart: [],
      afterDocsRequest: expect.arrayContaining(['api-documents.ts', 'route-docs.ts', 'response-schemas.ts']),
      status: 200,
    });
  }, 60_000);
});
