/**
 * The OpenAPI 3.1 document of an HTTP API, made from the routes it serves and, for each, the
 * zod schemas that its handler validates with (zod's own `z.toJSONSchema`, whose JSON Schema
 * 2020-12 is OpenAPI 3.1's dialect). Nothing is written twice: a body, a query or a response is
 * described by the very schema that parses or shapes it.
 *
 * How zod's schemas come out: strict objects say `additionalProperties: false`; defaults are
 * `default` (and the field is optional); `z.iso.datetime` is `format: date-time` with its pattern;
 * a field a body must not carry (`z.never()`, e.g. `status` on a reschedule) is left out of
 * `properties` (a strict object's `additionalProperties: false` refuses it) and named in the
 * object's description ("Refused: ..."), rather than listed as a property of type `not: {}` that
 * every reader shows as one more row reading "never". A `.refine` has no JSON Schema
 * equivalent, so its message is added to the description ("Checked by the server: ...").
 */
import * as z from 'zod';
import type { core } from 'zod';
import { bodyCapOf } from './body-limits.ts';
import { requestBodyBounds } from './request.ts';

/** A JSON Schema (2020-12) or any other part of the document, as plain JSON. */
export type JsonObject = { [key: string]: unknown };

/** What the generator needs of a route: the app description's `HttpRoute` fits. */
export interface DocumentedRoute {
  readonly method: string;
  readonly path: string;
  readonly auth: 'jwt' | 'none';
}

/** One response of a route. */
export interface ResponseDoc {
  readonly description: string;
  /** The body's schema; absent for a body the document does not describe. */
  readonly schema?: z.ZodType;
  /** @default 'application/json' */
  readonly contentType?: string;
}

/** What the documentation says of one route, next to its registration (see functions/api/route-docs.ts). */
export interface RouteDoc {
  /** Unique among the routes: clients generated from the document name their methods after it. */
  readonly operationId: string;
  /** One line: what the route does. */
  readonly summary: string;
  /** More: who may call it, the rules it applies (CommonMark). */
  readonly description?: string;
  /** The group the route is listed under. */
  readonly tag: string;
  /** The schema of each `{param}` of the path: exactly the path's parameters. */
  readonly pathParameters?: Readonly<Record<string, z.ZodType>>;
  /** The schema of the query string: an object, one field per parameter. */
  readonly query?: z.ZodType;
  /** The schema of the JSON body. */
  readonly body?: z.ZodType;
  /** The body may be left out (it then reads as `{}`). @default false */
  readonly bodyOptional?: boolean;
  /** The route honours an `Idempotency-Key` header. @default false */
  readonly idempotent?: boolean;
  /**
   * A request a reader can send as it is (the interactive docs fill it in): a value for each path
   * parameter, a query, a body. Every value must pass the route's own schemas
   * (test/unit/functions/request-examples.test.ts).
   */
  readonly example?: RequestExample;
  /** The answers of a request that succeeds, by status. */
  readonly responses: Readonly<Record<number, ResponseDoc>>;
  /**
   * Why the route answers each error status of its own (403, 404, 409, ...). The errors every
   * route of its kind may answer (400 for bad input, 401, 413, the idempotency errors, 500) are
   * added by the generator.
   */
  readonly errors?: Readonly<Record<number, string>>;
}

/** One example request of a route (see `RouteDoc.example`). */
export interface RequestExample {
  readonly path?: Readonly<Record<string, string>>;
  readonly query?: Readonly<Record<string, string>>;
  readonly body?: unknown;
}

/** The parts of the document that are not per route. */
export interface ApiDescription {
  readonly title: string;
  readonly version: string;
  readonly description: string;
  /** Tags in the order the documentation lists them, with what they group. */
  readonly tags: readonly { readonly name: string; readonly description: string }[];
  /** How a bearer token is obtained and what it must carry. */
  readonly bearerDescription: string;
  /** Schemas worth a name of their own in `components` (`Notification`, `Recipient`, ...). */
  readonly namedSchemas: Readonly<Record<string, z.ZodType>>;
  /** Herald's error body, `{ error: { code, message, details? } }`. */
  readonly errorSchema: z.ZodType;
  /** The body API Gateway answers by itself, `{ message }`. */
  readonly gatewayErrorSchema: z.ZodType;
}

/** The root of an OpenAPI 3.1 document (only what Herald's documents hold). */
export interface OpenApiDocument {
  readonly openapi: '3.1.0';
  readonly info: { readonly title: string; readonly version: string; readonly description: string };
  readonly tags: readonly { readonly name: string; readonly description: string }[];
  readonly paths: Readonly<Record<string, Readonly<Record<string, OperationObject>>>>;
  readonly components: {
    readonly schemas: Readonly<Record<string, JsonObject>>;
    readonly securitySchemes: Readonly<Record<string, JsonObject>>;
  };
}

export interface OperationObject {
  readonly operationId: string;
  readonly summary: string;
  readonly description?: string;
  readonly tags: readonly string[];
  readonly security: readonly Readonly<Record<string, readonly string[]>>[];
  readonly parameters?: readonly JsonObject[];
  readonly requestBody?: JsonObject;
  readonly responses: Readonly<Record<string, JsonObject>>;
}

/** The name of the bearer JWT security scheme. */
export const bearerSchemeName = 'bearerJwt';
/** The header a route that honours idempotency reads, and the one its replayed answers carry. */
const idempotencyHeaders = { request: 'Idempotency-Key', replayed: 'idempotent-replayed' } as const;

const componentsPrefix = '#/components/schemas/';

/** The message a check's or a schema's `error` gives (zod keeps it as a function of the issue). */
function messageOf(error: unknown): string | undefined {
  if (typeof error !== 'function') return undefined;
  try {
    const produced: unknown = (error as (issue: JsonObject) => unknown)({ code: 'custom', input: undefined, path: [] });
    if (typeof produced === 'string') return produced;
    if (typeof produced === 'object' && produced !== null && 'message' in produced && typeof produced.message === 'string') {
      return produced.message;
    }
  } catch {
    // An error map that needs a real issue says nothing useful here.
  }
  return undefined;
}

function appendDescription(json: JsonObject, text: string): void {
  json.description = typeof json.description === 'string' && json.description !== '' ? `${json.description} ${text}` : text;
}

/** Says in the description what JSON Schema cannot: `.refine` rules, and why a field is refused. */
function describeWhatJsonSchemaCannot(context: { zodSchema: core.$ZodTypes; jsonSchema: core.JSONSchema.BaseSchema }): void {
  const { def } = context.zodSchema._zod;
  const json = context.jsonSchema as JsonObject;
  const rules = (def.checks ?? [])
    .filter((check) => check._zod.def.check === 'custom')
    .map((check) => messageOf(check._zod.def.error))
    .filter((message): message is string => message !== undefined);
  if (rules.length > 0) appendDescription(json, `Checked by the server: ${rules.map((rule) => `"${rule}"`).join('; ')}.`);
  if (def.type === 'never') appendDescription(json, `Refused: "${messageOf(def.error) ?? 'not accepted'}".`);
  if (def.type === 'object') leaveOutRefusedFields(def.shape, json);
}

/** The `z.never()` under a field's `.optional()`, if the field is one a body must not carry. */
function refusedField(schema: core.$ZodType): core.$ZodNever | undefined {
  let current = schema;
  while (current._zod.def.type === 'optional') current = (current._zod.def as core.$ZodOptionalDef).innerType;
  return current._zod.def.type === 'never' ? (current as core.$ZodNever) : undefined;
}

/** Drops the refused fields from an object's `properties` and names them, with why, in its description. */
function leaveOutRefusedFields(shape: Readonly<Record<string, core.$ZodType>>, json: JsonObject): void {
  const refused = new Map<string, string[]>();
  for (const [field, schema] of Object.entries(shape)) {
    const never = refusedField(schema);
    if (!never) continue;
    const reason = messageOf(never._zod.def.error) ?? 'not accepted';
    refused.set(reason, [...(refused.get(reason) ?? []), field]);
    if (typeof json.properties === 'object' && json.properties !== null) {
      json.properties = Object.fromEntries(Object.entries(json.properties).filter(([name]) => name !== field));
    }
    if (Array.isArray(json.required)) json.required = json.required.filter((name) => name !== field);
  }
  for (const [reason, fields] of refused) appendDescription(json, `Refused: ${fields.map((field) => `\`${field}\``).join(', ')} ("${reason}").`);
}

/** JSON Schema of one schema, inline (parameters), without the `$schema` that the document does not need. */
function inlineJsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonObject {
  const { $schema: _dialect, ...json } = z.toJSONSchema(schema, { io, unrepresentable: 'any', override: describeWhatJsonSchemaCannot }) as JsonObject;
  return json;
}

/** Schemas that become `components/schemas` entries, referred to by `$ref`, converted in one pass per direction. */
class SchemaComponents {
  private readonly registry = z.registry<{ id: string }>();
  private readonly ids = new Map<z.ZodType, string>();
  private readonly io: 'input' | 'output';
  private readonly taken: Set<string>;

  constructor(io: 'input' | 'output', taken: Set<string>) {
    this.io = io;
    this.taken = taken;
  }

  /** A `$ref` to the schema, named `name` unless it already has a name. */
  ref(schema: z.ZodType, name: string): JsonObject {
    let id = this.ids.get(schema);
    if (id === undefined) {
      if (this.taken.has(name)) throw new Error(`Two schemas of the API documentation are named ${name}`);
      id = name;
      this.taken.add(id);
      this.ids.set(schema, id);
      this.registry.add(schema, { id });
    }
    return { $ref: `${componentsPrefix}${id}` };
  }

  toJsonSchemas(): Record<string, JsonObject> {
    const { schemas } = z.toJSONSchema(this.registry, {
      io: this.io,
      unrepresentable: 'any',
      uri: (id) => `${componentsPrefix}${id}`,
      override: describeWhatJsonSchemaCannot,
    });
    // `$id` would be a URI with a fragment, which JSON Schema 2020-12 forbids; the document's paths name them.
    return Object.fromEntries(
      Object.entries(schemas).map(([id, json]) => {
        const { $schema: _dialect, $id: _id, ...rest } = json as JsonObject;
        return [id, rest];
      }),
    );
  }
}

function pascalCase(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** `{ name, in, required, schema, description }` for each field of an object schema. */
function parametersOf(schema: z.ZodType, location: 'path' | 'query'): { parameters: JsonObject[]; rules?: string } {
  const json = inlineJsonSchema(schema, 'input');
  const properties = (json.properties ?? {}) as Record<string, JsonObject>;
  const required = new Set((json.required ?? []) as string[]);
  const parameters = Object.entries(properties).map(([name, { description, ...fieldSchema }]) => ({
    name,
    in: location,
    required: location === 'path' || required.has(name),
    ...(typeof description === 'string' ? { description } : {}),
    schema: fieldSchema,
  }));
  return typeof json.description === 'string' ? { parameters, rules: json.description } : { parameters };
}

function pathParameterNames(path: string): string[] {
  return [...path.matchAll(/\{([^}]+)\}/g)].map((match) => match[1] ?? '');
}

function jsonContent(schema: JsonObject, contentType = 'application/json'): JsonObject {
  return { [contentType]: { schema } };
}

/** Makes the document; throws when a route has no documentation, or documentation names no route. */
export function buildOpenApiDocument(
  routes: readonly DocumentedRoute[],
  docs: Readonly<Record<string, RouteDoc>>,
  api: ApiDescription,
): OpenApiDocument {
  const keys = routes.map((route) => `${route.method} ${route.path}`);
  const undocumented = keys.filter((key) => docs[key] === undefined);
  if (undocumented.length > 0) throw new Error(`Routes without API documentation: ${undocumented.join(', ')}`);
  const stale = Object.keys(docs).filter((key) => !keys.includes(key));
  if (stale.length > 0) throw new Error(`API documentation of routes that do not exist: ${stale.join(', ')}`);

  const taken = new Set<string>();
  const requests = new SchemaComponents('input', taken);
  const responses = new SchemaComponents('output', taken);
  for (const [name, schema] of Object.entries(api.namedSchemas)) responses.ref(schema, name);
  const error = responses.ref(api.errorSchema, 'Error');
  const gatewayError = responses.ref(api.gatewayErrorSchema, 'GatewayError');
  const errorResponse = (description: string): JsonObject => ({ description, content: jsonContent(error) });

  const paths: Record<string, Record<string, OperationObject>> = {};
  for (const route of routes) {
    const doc = docs[`${route.method} ${route.path}`] as RouteDoc;
    const operation = pascalCase(doc.operationId);

    const declared = Object.keys(doc.pathParameters ?? {}).sort();
    const inPath = pathParameterNames(route.path).sort();
    if (declared.join() !== inPath.join()) {
      throw new Error(`${route.method} ${route.path}: documented path parameters [${declared.join()}] are not the path's [${inPath.join()}]`);
    }

    const parameters: JsonObject[] = [];
    const rules: string[] = [];
    const withExample = (parameter: JsonObject, values: Readonly<Record<string, string>> | undefined): JsonObject => {
      const value = values?.[String(parameter.name)];
      return value === undefined ? parameter : { ...parameter, example: value };
    };
    if (doc.pathParameters) parameters.push(...parametersOf(z.object(doc.pathParameters), 'path').parameters.map((p) => withExample(p, doc.example?.path)));
    if (doc.query) {
      const query = parametersOf(doc.query, 'query');
      parameters.push(...query.parameters.map((p) => withExample(p, doc.example?.query)));
      if (query.rules) rules.push(`Query: ${query.rules}`);
    }
    if (doc.idempotent) {
      parameters.push({
        name: idempotencyHeaders.request,
        in: 'header',
        required: false,
        description:
          'Any unique string (a UUID is a good choice). The same key with the same body within 24 h answers the first response again and creates nothing; with another body, 422.',
        schema: { type: 'string', pattern: '^[\\x21-\\x7E]{1,255}$' },
      });
    }

    const answers: Record<string, JsonObject> = {};
    for (const [status, response] of Object.entries(doc.responses)) {
      const contentType = response.contentType ?? 'application/json';
      let schema: JsonObject = {};
      if (response.schema && contentType !== 'application/json') schema = inlineJsonSchema(response.schema, 'output');
      else if (response.schema) {
        const name = taken.has(`${operation}Response`) ? `${operation}Response${status}` : `${operation}Response`;
        schema = responses.ref(response.schema, name);
      }
      answers[status] = {
        description: response.description,
        content: jsonContent(schema, contentType),
        ...(doc.idempotent
          ? {
              headers: {
                [idempotencyHeaders.replayed]: {
                  description: '`true` on an answer replayed for a repeated Idempotency-Key.',
                  schema: { type: 'string', enum: ['true'] },
                },
              },
            }
          : {}),
      };
    }

    const errors = new Map<number, string[]>();
    const addError = (status: number, why: string): void => void errors.set(status, [...(errors.get(status) ?? []), why]);
    if (doc.pathParameters || doc.query || doc.body || doc.idempotent) {
      addError(400, 'Invalid input: `error.details` names each bad field (`{ field, message }`), and nothing is written.');
    }
    const bodyCap = bodyCapOf(`${route.method} ${route.path}`);
    if (doc.body) {
      addError(413, `The body is larger than ${bodyCap} bytes, this route's cap (computed from its field limits).`);
      addError(415, '`UNSUPPORTED_MEDIA_TYPE`: the body\'s `Content-Type` is not `application/json` (or a `+json` type), or names a charset other than UTF-8; a body without the header is read as JSON.');
    }
    if (doc.idempotent) {
      addError(409, '`IDEMPOTENCY_IN_PROGRESS`: a request with the same Idempotency-Key is still running; retry shortly.');
      addError(422, '`IDEMPOTENCY_KEY_REUSED`: the Idempotency-Key was used with another body.');
    }
    for (const [status, why] of Object.entries(doc.errors ?? {})) addError(Number(status), why);
    // The tenant's request quota (tenant-quota.ts) answers before any route runs: every route with a token may meet it.
    if (route.auth === 'jwt') addError(429, "The caller's tenant passed its requests per second (all its callers together): retry after `Retry-After` seconds.");
    addError(500, 'Something failed inside Herald; the message says nothing internal.');
    addError(503, 'An AWS service Herald depends on could not take the request now (its throttling, a 5xx, no connection): retry after `Retry-After` seconds.');
    for (const [status, whys] of [...errors].sort(([a], [b]) => a - b)) answers[String(status)] = errorResponse(whys.join(' '));
    if (answers['429']) {
      answers['429'] = {
        ...answers['429'],
        headers: { 'Retry-After': { description: 'Seconds until the limit allows another request (RFC 9110).', schema: { type: 'integer', minimum: 1 } } },
      };
    }
    answers['503'] = {
      ...answers['503'],
      headers: { 'Retry-After': { description: 'Seconds to wait before repeating the request (RFC 9110): the wait the dependency named, or 1.', schema: { type: 'integer', minimum: 1 } } },
    };
    if (route.auth === 'jwt') {
      answers['401'] = {
        description:
          "No valid bearer token: API Gateway's JWT authorizer answers `{ \"message\": \"Unauthorized\" }` (and a `www-authenticate` header); a valid token that names no usable subject or tenant gets Herald's error shape.",
        content: jsonContent({ anyOf: [gatewayError, error] }),
      };
    }

    const description = [doc.description, ...rules].filter((text): text is string => text !== undefined).join('\n\n');
    const byMethod = (paths[route.path] ??= {});
    byMethod[route.method.toLowerCase()] = {
      operationId: doc.operationId,
      summary: doc.summary,
      ...(description ? { description } : {}),
      tags: [doc.tag],
      security: route.auth === 'jwt' ? [{ [bearerSchemeName]: [] }] : [],
      ...(parameters.length > 0 ? { parameters } : {}),
      ...(doc.body
        ? {
            requestBody: {
              description: `JSON of at most ${bodyCap} bytes, nested at most ${requestBodyBounds.maxDepth} levels.`,
              required: !doc.bodyOptional,
              content: {
                'application/json': {
                  schema: requests.ref(doc.body, `${operation}Request`),
                  ...(doc.example?.body !== undefined ? { example: doc.example.body } : {}),
                },
              },
            },
          }
        : {}),
      responses: Object.fromEntries(Object.entries(answers).sort(([a], [b]) => Number(a) - Number(b))),
    };
  }

  const usedTags = new Set(Object.values(docs).map((doc) => doc.tag));
  const undeclaredTags = [...usedTags].filter((tag) => !api.tags.some((declared) => declared.name === tag));
  if (undeclaredTags.length > 0) throw new Error(`Tags used by routes but not described: ${undeclaredTags.join(', ')}`);

  return {
    openapi: '3.1.0',
    info: { title: api.title, version: api.version, description: api.description },
    tags: api.tags.filter((tag) => usedTags.has(tag.name)),
    paths,
    components: {
      schemas: { ...requests.toJsonSchemas(), ...responses.toJsonSchemas() },
      securitySchemes: {
        [bearerSchemeName]: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: api.bearerDescription },
      },
    },
  };
}
