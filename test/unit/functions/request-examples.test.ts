/**
 * Every route's documentation carries an example request (what the interactive docs fill in), and
 * each example passes the very schemas the route validates with: an example that drifts from
 * the API fails here, not in a reader's hands.
 */
import type * as z from 'zod';
import { describe, expect, it } from 'vitest';
import { routeDocs } from '../../../functions/api/route-docs.ts';
import { openApiDocument } from '../../../functions/api/api-documents.ts';
import { httpRoutes } from '../../../lib/app-description.ts';
import type { JsonObject } from '../../../shared/http/openapi.ts';

const routes = httpRoutes.map((route) => `${route.method} ${route.path}`);

function issues(schema: z.ZodType, value: unknown): string[] {
  const result = schema.safeParse(value);
  return result.success ? [] : result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
}

describe('request examples', () => {
  it.each(routes)('%s has an example that its schemas accept', (route) => {
    // Prepare
    const doc = routeDocs[route];
    const example = doc?.example;

    // Assess: present, complete and valid
    expect(example).toBeDefined();
    if (!doc || !example) return;
    if (doc.body && !doc.bodyOptional) expect(example.body).toBeDefined();
    if (doc.body && example.body !== undefined) expect(issues(doc.body, example.body)).toEqual([]);
    if (!doc.body) expect(example.body).toBeUndefined();
    for (const [name, schema] of Object.entries(doc.pathParameters ?? {})) {
      expect(example.path?.[name], `path parameter ${name}`).toBeDefined();
      expect(issues(schema, example.path?.[name])).toEqual([]);
    }
    if (example.query) {
      expect(doc.query).toBeDefined();
      if (doc.query) expect(issues(doc.query, example.query)).toEqual([]);
    }
  });

  it('are in the OpenAPI document, for the interactive docs to fill in', () => {
    // Act
    const { paths } = openApiDocument();
    const reschedule = paths['/v1/notifications/{id}']?.patch;
    const create = paths['/v1/notifications']?.post;

    // Assess
    expect(reschedule?.parameters?.find((p: JsonObject) => p.name === 'id')).toMatchObject({ example: expect.stringMatching(/^ntf_/) });
    const body = ((create?.requestBody?.content as JsonObject)['application/json'] as JsonObject).example as { recipients: string[] };
    expect(body.recipients).toEqual(['alice']);
    const scheduledAt = (((reschedule?.requestBody?.content as JsonObject)['application/json'] as JsonObject).example as { scheduledAt: string }).scheduledAt;
    expect(Date.parse(scheduledAt)).toBeGreaterThan(Date.now());
  });
});
