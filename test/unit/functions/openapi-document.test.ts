/**
 * `/openapi.json` against the app description: every route is documented, with its method, path
 * and security, the document is valid OpenAPI 3.1, and what it says of idempotency is what the
 * handlers do. A route added without documentation fails here.
 */
import { compileErrors, validate } from '@readme/openapi-parser';
import { describe, expect, it } from 'vitest';
import { httpRoutes } from '../../../lib/app-description.ts';
import type { HttpRoute } from '../../../lib/app-description.ts';
import { routeLoaders } from '../../../functions/api/routes.ts';
import { apiDescription, routeDocs } from '../../../functions/api/route-docs.ts';
import { openApiDocument } from '../../../functions/api/api-documents.ts';
import { honoursIdempotencyKey } from '../../../shared/http/idempotency.ts';
import { bearerSchemeName, buildOpenApiDocument } from '../../../shared/http/openapi.ts';
import type { JsonObject, OperationObject } from '../../../shared/http/openapi.ts';

const routeKey = (route: HttpRoute): string => `${route.method} ${route.path}`;

function operationOf(route: HttpRoute): OperationObject | undefined {
  return openApiDocument().paths[route.path]?.[route.method.toLowerCase()];
}

function allOperations(): { key: string; operation: OperationObject }[] {
  return Object.entries(openApiDocument().paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, operation]) => ({ key: `${method.toUpperCase()} ${path}`, operation })),
  );
}

describe('the OpenAPI document of the api function', () => {
  it.each(httpRoutes.map((route) => [routeKey(route), route] as const))('documents %s with its security', (_key, route) => {
    // Act
    const operation = operationOf(route);

    // Assess
    expect(operation, `no operation for ${routeKey(route)}`).toBeDefined();
    expect(operation?.security).toEqual(route.auth === 'jwt' ? [{ [bearerSchemeName]: [] }] : []);
    if (route.auth === 'jwt') expect(Object.keys(operation?.responses ?? {})).toContain('401');
  });

  it.each(httpRoutes.filter((route) => route.auth === 'jwt').map((route) => [routeKey(route), route] as const))(
    "documents the tenant request quota's 429 with Retry-After on %s, a route with a token",
    (_key, route) => {
      // Act
      const tooMany = operationOf(route)?.responses['429'] as JsonObject | undefined;

      // Assess
      expect(tooMany, `${routeKey(route)} documents no 429`).toBeDefined();
      expect(tooMany?.headers).toHaveProperty('Retry-After');
    },
  );

  it('documents no operation that the app description does not declare', () => {
    // Act
    const documented = allOperations().map(({ key }) => key);

    // Assess
    expect(documented.sort()).toEqual(httpRoutes.map(routeKey).sort());
  });

  it('is a valid OpenAPI 3.1 document', async () => {
    // Prepare: the validator dereferences in place
    const document = structuredClone(openApiDocument()) as unknown as Parameters<typeof validate>[0];

    // Act
    const result = await validate(document);

    // Assess
    expect(result.valid, result.valid ? '' : compileErrors(result)).toBe(true);
    expect(openApiDocument().openapi).toBe('3.1.0');
  });

  it('cannot be made while a route of the description has no documentation', () => {
    // Prepare
    const routes: HttpRoute[] = [...httpRoutes, { method: 'GET', path: '/v1/undocumented', auth: 'jwt' }];

    // Act
    const build = (): unknown => buildOpenApiDocument(routes, routeDocs, apiDescription);

    // Assess
    expect(build).toThrow('Routes without API documentation: GET /v1/undocumented');
  });

  it('cannot be made while documentation names a route the description does not declare', () => {
    // Prepare
    const routes = httpRoutes.filter((route) => routeKey(route) !== 'GET /v1/metrics');

    // Act
    const build = (): unknown => buildOpenApiDocument(routes, routeDocs, apiDescription);

    // Assess
    expect(build).toThrow('API documentation of routes that do not exist: GET /v1/metrics');
  });

  it.each(httpRoutes.map((route) => [routeKey(route)]))('says %s honours Idempotency-Key exactly when its handler does', async (key) => {
    // Prepare
    const handler = await routeLoaders[key]?.();
    const [method = '', path = ''] = key.split(' ');

    // Act
    const parameters = openApiDocument().paths[path]?.[method.toLowerCase()]?.parameters ?? [];

    // Assess
    expect(handler).toBeDefined();
    const documented = parameters.some((parameter) => parameter.in === 'header' && parameter.name === 'Idempotency-Key');
    expect(documented).toBe(honoursIdempotencyKey(handler as NonNullable<typeof handler>));
  });

  it("answers every error of every operation in Herald's error shape, and 401 in the gateway's too", () => {
    // Prepare
    const error = { $ref: '#/components/schemas/Error' };

    // Act
    const errorSchemas = allOperations().flatMap(({ key, operation }) =>
      Object.entries(operation.responses)
        .filter(([status]) => Number(status) >= 400)
        .map(([status, response]) => ({ key, status, schema: ((response.content as JsonObject)['application/json'] as JsonObject).schema })),
    );

    // Assess
    for (const { key, status, schema } of errorSchemas) {
      const expected = status === '401' ? { anyOf: [{ $ref: '#/components/schemas/GatewayError' }, error] } : error;
      expect(schema, `${key} ${status}`).toEqual(expected);
    }
    expect(openApiDocument().components.schemas.Error).toMatchObject({
      properties: { error: { properties: { code: { type: 'string' }, message: { type: 'string' } }, required: ['code', 'message'] } },
    });
  });

  it('documents a request body with the schema its handler parses: limits, defaults and rules', () => {
    // Act
    const body = openApiDocument().components.schemas.CreateNotificationsRequest;

    // Assess
    expect(body).toMatchObject({
      additionalProperties: false,
      // `title` and `message`, or a `template` (issue 13): the either-or is the server's check.
      required: ['recipients'],
      properties: {
        recipients: { type: 'array', minItems: 1, maxItems: 1000, description: 'Checked by the server: "must not repeat a recipient".' },
        title: { maxLength: 200 },
        template: { required: ['id'], properties: { version: { minimum: 1 } } },
        // An instant with an offset, or a wall time read in `timezone` (issue 12).
        scheduledAt: { anyOf: [{ type: 'string', format: 'date-time' }, { type: 'string', pattern: expect.any(String) as string }] },
        timezone: { type: 'string', maxLength: 64 },
        priority: { default: 'normal', enum: ['low', 'normal', 'high', 'urgent'] },
      },
    });
  });

  it('names the fields the server owns as refused on a reschedule, without listing them as properties', () => {
    // Act
    const body = openApiDocument().components.schemas.RescheduleNotificationRequest as { properties: Record<string, JsonObject>; description: string };

    // Assess: a property of type `not: {}` showed on /docs as a row reading "never", 13 times
    expect(Object.keys(body.properties)).toEqual(['scheduledAt']);
    expect(body).toMatchObject({ additionalProperties: false });
    for (const field of ['status', 'sentAt', 'attempts', 'recipientId']) expect(body.description).toContain(`\`${field}\``);
    expect(body.description).toContain('("is set by the server and cannot be changed")');
    expect(JSON.stringify(openApiDocument())).not.toContain('"not":{}');
  });

  it('documents the Celery scheduler routes under the paths their clients call, trailing slash included, as they are declared', () => {
    // Act
    const { paths } = openApiDocument();
    const schedule = paths['/api/notifications/schedule/']?.post;

    // Assess
    expect(Object.keys(schedule?.responses ?? {})).toEqual(expect.arrayContaining(['201', '400', '401', '404']));
    expect(paths['/api/notifications/{id}/cancel_scheduled/']?.delete).toBeDefined();
    expect(paths['/api/notifications/{id}/schedule_status/']?.get).toBeDefined();
    expect(Object.keys(paths).filter((path) => path.startsWith('/api/') && !path.endsWith('/'))).toEqual([]);
  });
});
