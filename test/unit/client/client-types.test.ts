import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { openApiDocument } from '../../../functions/api/api-documents.ts';
import { httpRoutes } from '../../../lib/app-description.ts';
import { clientTypesFile, generateClientTypes } from '../../../scripts/client-types.ts';

describe('the client types (client/schema.d.ts)', () => {
  it('are what openapi-typescript makes of /openapi.json now (run npm run client:types after changing the API)', async () => {
    // Act
    const generated = await generateClientTypes();

    // Assess
    expect(readFileSync(clientTypesFile, 'utf8')).toBe(generated);
  }, 30_000);

  it('type every route of the API', () => {
    // Prepare
    const text = readFileSync(clientTypesFile, 'utf8');
    const document = openApiDocument();

    // Act
    const untyped = Object.keys(document.paths).filter((path) => !text.includes(`"${path}": {`));

    // Assess
    expect(Object.keys(document.paths).sort()).toEqual([...new Set(httpRoutes.map((route) => route.path))].sort());
    expect(untyped).toEqual([]);
  });
});
