/** The OpenAPI generator on a small API of its own: what it makes of routes, schemas and errors. */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { buildOpenApiDocument } from '../../../../shared/http/openapi.ts';
import type { ApiDescription, DocumentedRoute, JsonObject, RouteDoc } from '../../../../shared/http/openapi.ts';

const thingSchema = z.strictObject({ id: z.string(), size: z.int() });
const api: ApiDescription = {
  title: 'Things',
  version: '1.0.0',
  description: 'A test API.',
  tags: [{ name: 'Things', description: 'Things.' }],
  bearerDescription: 'A JWT.',
  namedSchemas: { Thing: thingSchema },
  errorSchema: z.strictObject({ error: z.strictObject({ code: z.string(), message: z.string() }) }),
  gatewayErrorSchema: z.strictObject({ message: z.string() }),
};

const routes: DocumentedRoute[] = [
  { method: 'POST', path: '/things/{id}', auth: 'jwt' },
  { method: 'GET', path: '/things', auth: 'none' },
];

const createBody = z
  .strictObject({
    size: z.int().min(1).max(10).default(3),
    tags: z
      .array(z.string())
      .refine((list) => new Set(list).size === list.length, 'must not repeat a tag')
      .optional(),
    at: z.iso.datetime({ offset: true }),
    status: z.never({ error: 'is set by the server' }).optional(),
  })
  .refine((body) => body.size !== 7, 'must not be seven');

const docs: Record<string, RouteDoc> = {
  'POST /things/{id}': {
    operationId: 'createThing',
    summary: 'Creates a thing',
    tag: 'Things',
    pathParameters: { id: z.string().regex(/^t_\d+$/) },
    body: createBody,
    idempotent: true,
    responses: { 201: { description: 'Created.', schema: thingSchema } },
    errors: { 404: 'No such place.', 409: 'Already there.' },
  },
  'GET /things': {
    operationId: 'listThings',
    summary: 'Lists things',
    tag: 'Things',
    query: z.strictObject({ limit: z.coerce.number().int().max(100).default(20), cursor: z.string().optional() }),
    responses: { 200: { description: 'Some.', schema: z.strictObject({ items: z.array(thingSchema) }) } },
  },
};

function responseSchema(response: JsonObject | undefined): unknown {
  return ((response?.content as JsonObject | undefined)?.['application/json'] as JsonObject | undefined)?.schema;
}

describe('buildOpenApiDocument', () => {
  it('turns a body schema into a component, with limits, defaults, the rules JSON Schema cannot say and refused fields', () => {
    // Act
    const document = buildOpenApiDocument(routes, docs, api);

    // Assess
    expect(document.paths['/things/{id}']?.post?.requestBody).toEqual({
      description: 'JSON of at most 16384 bytes, nested at most 33 levels.',
      required: true,
      content: { 'application/json': { schema: { $ref: '#/components/schemas/CreateThingRequest' } } },
    });
    expect(document.components.schemas.CreateThingRequest).toMatchObject({
      type: 'object',
      additionalProperties: false,
      required: ['at'],
      description: 'Checked by the server: "must not be seven". Refused: `status` ("is set by the server").',
      properties: {
        size: { type: 'integer', minimum: 1, maximum: 10, default: 3 },
        tags: { type: 'array', description: 'Checked by the server: "must not repeat a tag".' },
        at: { type: 'string', format: 'date-time' },
      },
    });
    expect(document.components.schemas.CreateThingRequest?.properties).not.toHaveProperty('status');
    expect(document.components.schemas.CreateThingRequest).not.toHaveProperty('$id');
  });

  it('refers to a named schema wherever it is used, and names the others after their operation', () => {
    // Act
    const document = buildOpenApiDocument(routes, docs, api);

    // Assess
    expect(responseSchema(document.paths['/things/{id}']?.post?.responses['201'])).toEqual({ $ref: '#/components/schemas/Thing' });
    expect(responseSchema(document.paths['/things']?.get?.responses['200'])).toEqual({ $ref: '#/components/schemas/ListThingsResponse' });
    expect(document.components.schemas.ListThingsResponse).toMatchObject({ properties: { items: { items: { $ref: '#/components/schemas/Thing' } } } });
  });

  it('makes one parameter of each path and query field, required as the schema says', () => {
    // Act
    const document = buildOpenApiDocument(routes, docs, api);

    // Assess
    expect(document.paths['/things/{id}']?.post?.parameters).toEqual([
      { name: 'id', in: 'path', required: true, schema: { type: 'string', pattern: '^t_\\d+$' } },
      expect.objectContaining({ name: 'Idempotency-Key', in: 'header', required: false }),
    ]);
    expect(document.paths['/things']?.get?.parameters).toEqual([
      { name: 'limit', in: 'query', required: false, schema: { type: 'integer', maximum: 100, default: 20, minimum: expect.any(Number) } },
      { name: 'cursor', in: 'query', required: false, schema: { type: 'string' } },
    ]);
  });

  it('adds the errors every route of its kind answers to those it names, and the bearer scheme to a jwt route', () => {
    // Act
    const document = buildOpenApiDocument(routes, docs, api);
    const create = document.paths['/things/{id}']?.post;
    const list = document.paths['/things']?.get;

    // Assess
    expect(Object.keys(create?.responses ?? {})).toEqual(['201', '400', '401', '404', '409', '413', '415', '422', '429', '500', '503']);
    expect(create?.responses['503']?.headers).toHaveProperty('Retry-After');
    expect(create?.responses['429']?.headers).toHaveProperty('Retry-After');
    expect(create?.responses['409']?.description).toMatch(/IDEMPOTENCY_IN_PROGRESS.*Already there\./);
    expect(responseSchema(create?.responses['401'])).toEqual({
      anyOf: [{ $ref: '#/components/schemas/GatewayError' }, { $ref: '#/components/schemas/Error' }],
    });
    expect(create?.security).toEqual([{ bearerJwt: [] }]);
    expect(create?.responses['201']?.headers).toHaveProperty('idempotent-replayed');
    expect(Object.keys(list?.responses ?? {})).toEqual(['200', '400', '500', '503']);
    expect(list?.security).toEqual([]);
    expect(document.components.securitySchemes.bearerJwt).toEqual({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'A JWT.' });
  });

  it('refuses documentation whose path parameters are not those of the path', () => {
    // Prepare
    const wrong = { ...docs, 'POST /things/{id}': { ...(docs['POST /things/{id}'] as RouteDoc), pathParameters: { thingId: z.string() } } };

    // Act
    const build = (): unknown => buildOpenApiDocument(routes, wrong, api);

    // Assess
    expect(build).toThrow('POST /things/{id}: documented path parameters [thingId] are not the path\'s [id]');
  });

  it('refuses a tag the API does not describe', () => {
    // Prepare
    const wrong = { ...docs, 'GET /things': { ...(docs['GET /things'] as RouteDoc), tag: 'Stuff' } };

    // Act
    const build = (): unknown => buildOpenApiDocument(routes, wrong, api);

    // Assess
    expect(build).toThrow('Tags used by routes but not described: Stuff');
  });

  it('refuses two different schemas under one name', () => {
    // Prepare
    const clash = { ...api, namedSchemas: { ...api.namedSchemas, CreateThingRequest: z.strictObject({ other: z.string() }) } };

    // Act
    const build = (): unknown => buildOpenApiDocument(routes, docs, clash);

    // Assess
    expect(build).toThrow('Two schemas of the API documentation are named CreateThingRequest');
  });
});
