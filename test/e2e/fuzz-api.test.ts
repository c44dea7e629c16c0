/**
 * Fuzzing the HTTP API on a local stack: requests derived from `/openapi.json` (every route, its
 * path and query parameters and its body schema), then mutated the ways bug reports against
 * notification systems break them (a field missing, unknown or of the wrong type, text one past
 * its limit, half an emoji, a line break, `data` nested 33, 888 or 20,000 levels, numbers no double
 * holds, bodies that are not JSON), sent as a random role. Every answer must be below 500, and a
 * 4xx must leave nothing written by the API function: no DynamoDB write, no SQS message, no
 * schedule, no e-mail, no frame (`GET /_local/calls`, `byFunction.api`).
 *
 * Seeded: the seed is printed; `HERALD_FUZZ_SEED=<seed>` replays a run. `HERALD_FUZZ_RUNS` sets
 * how many requests (at least 2,000 by default).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness } from './support/harness.ts';
import type { Harness } from './support/harness.ts';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Schema = { [key: string]: unknown };

interface Operation {
  readonly method: string;
  readonly path: string;
  readonly pathParameters: readonly { name: string; schema: Schema }[];
  readonly queryParameters: readonly { name: string; schema: Schema; required: boolean }[];
  readonly body?: { schema: Schema; required: boolean };
  readonly idempotent: boolean;
  readonly jwt: boolean;
}

interface FuzzRequest {
  readonly operation: Operation;
  readonly path: string;
  readonly query: string;
  readonly body?: string;
  readonly role: Role;
  readonly idempotencyKey?: string;
  readonly mutation: string;
}

type Role = 'admin' | 'sender' | 'user' | 'stranger' | 'none' | 'garbage';

const runs = Number(process.env.HERALD_FUZZ_RUNS ?? 2_000);
const seed = process.env.HERALD_FUZZ_SEED !== undefined ? Number(process.env.HERALD_FUZZ_SEED) : Math.floor(Math.random() * 2 ** 31);

/** What counts as the API function writing something. */
const writeOperations: Readonly<Record<string, readonly string[]>> = {
  dynamodb: ['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'TransactWriteItems'],
  sqs: ['SendMessage', 'SendMessageBatch', 'ChangeMessageVisibility', 'ChangeMessageVisibilityBatch', 'DeleteMessage', 'DeleteMessageBatch'],
  scheduler: ['CreateSchedule', 'UpdateSchedule', 'DeleteSchedule'],
  ses: ['SendEmail', 'SendRawEmail'],
  apigatewaymanagementapi: ['PostToConnection', 'DeleteConnection'],
};

let h: Harness;
let operations: Operation[];
let schemas: Record<string, Schema>;
const tokens = {} as Record<Role, string | undefined>;
const known = { notification: '', broadcast: '', recipient: 'bob' };

beforeAll(async () => {
  // The limits on what users send themselves stay out of the way: this test is about input.
  h = await startHarness({ environment: { HERALD_SELF_SEND_USER_PER_HOUR: '1000000', HERALD_SELF_SEND_TENANT_PER_HOUR: '1000000' } });
  tokens.admin = await h.token('fuzz-admin', { role: 'admin' });
  tokens.sender = await h.token('fuzz-sender', { role: 'sender' });
  tokens.user = await h.token('auth0|fuzz-user');
  tokens.stranger = await h.token('nobody-registered');
  tokens.none = undefined;
  tokens.garbage = 'not.a.token';
  for (const id of ['bob', 'auth0|fuzz-user', 'fuzz-admin', 'fuzz-sender']) {
    await h.api('PUT', `/v1/recipients/${encodeURIComponent(id)}`, { token: tokens.admin, body: { email: 'fuzz@example.com', groups: ['ops'] } });
  }
  const created = await h.api('POST', '/v1/notifications', { token: tokens.sender, body: { recipients: ['bob'], title: 'Hi', message: 'Hello', scheduledAt: new Date(Date.now() + 86_400_000).toISOString() } });
  known.notification = (created.body.notificationIds as string[])[0] ?? '';
  const broadcast = await h.api('POST', '/v1/broadcasts', { token: tokens.sender, body: { audience: { groups: ['ops'] }, title: 'Hi', message: 'Hello', draft: true } });
  known.broadcast = String(broadcast.body.broadcastId);

  const document = (await h.api('GET', '/openapi.json')).body as unknown as {
    paths: Record<string, Record<string, { parameters?: { name: string; in: string; required: boolean; schema: Schema }[]; requestBody?: { required: boolean; content: Record<string, { schema: Schema }> }; security?: unknown[] }>>;
    components: { schemas: Record<string, Schema> };
  };
  schemas = document.components.schemas;
  operations = Object.entries(document.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, operation]) => ({
      method: method.toUpperCase(),
      path,
      pathParameters: (operation.parameters ?? []).filter((p) => p.in === 'path').map((p) => ({ name: p.name, schema: p.schema })),
      queryParameters: (operation.parameters ?? []).filter((p) => p.in === 'query').map((p) => ({ name: p.name, schema: p.schema, required: p.required })),
      ...(operation.requestBody ? { body: { schema: operation.requestBody.content['application/json']?.schema ?? {}, required: operation.requestBody.required } } : {}),
      idempotent: (operation.parameters ?? []).some((p) => p.in === 'header' && p.name === 'Idempotency-Key'),
      jwt: (operation.security ?? []).length > 0,
    })),
  );
}, 120_000);

afterAll(async () => {
  await h?.close();
});

/** A schema with its `$ref` followed. */
function resolve(schema: Schema): Schema {
  const ref = schema.$ref;
  if (typeof ref === 'string') return resolve(schemas[ref.slice(ref.lastIndexOf('/') + 1)] ?? {});
  return schema;
}

const awkwardText = ['Sale \ud83d ends', 'line\r\nBcc: x@example.com', '\u0000', ' ', '', 'é'.repeat(3), 'a#b%c', '\u2028', '😀'.repeat(2)];
const awkwardNumbers = ['12345678901234567890', '1e400', '1e-200', '-0', '0.1', '9007199254740993', '-1', '1.5'];

/** A value the schema (roughly) accepts, with a fair share of edge values. */
function valueOf(input: Schema, depth = 0): fc.Arbitrary<Json> {
  const schema = resolve(input);
  if (depth > 6) return fc.constant(null);
  if (Array.isArray(schema.anyOf) || Array.isArray(schema.oneOf)) {
    const options = ((schema.anyOf ?? schema.oneOf) as Schema[]).filter((option) => !('not' in option));
    return options.length > 0 ? fc.oneof(...options.map((option) => valueOf(option, depth + 1))) : fc.constant(null);
  }
  if ('const' in schema) return fc.constant(schema.const as Json);
  if (Array.isArray(schema.enum)) return fc.constantFrom(...(schema.enum as Json[]));
  switch (schema.type) {
    case 'string':
      return stringOf(schema);
    case 'integer': {
      const min = typeof schema.minimum === 'number' ? schema.minimum : -1_000;
      const max = typeof schema.maximum === 'number' ? schema.maximum : 1_000_000;
      return fc.oneof(fc.integer({ min, max }), fc.constantFrom(min, max));
    }
    case 'number':
      return fc.double({ noNaN: true, noDefaultInfinity: true });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array': {
      const items = (schema.items ?? {}) as Schema;
      const minLength = typeof schema.minItems === 'number' ? schema.minItems : 0;
      const maxLength = Math.min(typeof schema.maxItems === 'number' ? schema.maxItems : 5, minLength + 4);
      return fc.array(valueOf(items, depth + 1), { minLength, maxLength });
    }
    case 'object':
    case undefined: {
      const properties = (schema.properties ?? {}) as Record<string, Schema>;
      const required = new Set((schema.required ?? []) as string[]);
      const entries = Object.entries(properties).filter(([, property]) => !('not' in property));
      if (entries.length === 0) {
        // A free-form object (`data`): opaque JSON.
        return fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json>, { maxKeys: 4 });
      }
      const fields = Object.fromEntries(entries.map(([name, property]) => [name, valueOf(property, depth + 1)]));
      return fc.record(fields, { requiredKeys: entries.map(([name]) => name).filter((name) => required.has(name)) }) as fc.Arbitrary<Json>;
    }
    default:
      return fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>;
  }
}

function stringOf(schema: Schema): fc.Arbitrary<Json> {
  const maxLength = typeof schema.maxLength === 'number' ? schema.maxLength : 40;
  const minLength = typeof schema.minLength === 'number' ? schema.minLength : 0;
  if (schema.format === 'date-time') {
    return fc.date({ min: new Date(Date.now() - 60_000), max: new Date(Date.now() + 3 * 365 * 86_400_000), noInvalidDate: true }).map((d) => d.toISOString());
  }
  if (schema.format === 'email') return fc.constantFrom('a@example.com', 'x.y+z@example.org', 'not-an-address');
  if (typeof schema.pattern === 'string' && schema.pattern.length < 200) {
    try {
      return fc.stringMatching(new RegExp(schema.pattern), { maxLength: Math.max(maxLength, 1) });
    } catch {
      // A pattern fast-check cannot generate from: plain text then.
    }
  }
  return fc.oneof(
    fc.string({ minLength, maxLength: Math.min(maxLength, 60) }),
    fc.constantFrom(known.recipient, 'auth0|fuzz-user', 'Europe/Paris', 'inbox', 'email'),
    fc.constant('m'.repeat(maxLength)),
  );
}

/** A value nested `levels` deep. */
function nested(levels: number): string {
  return `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;
}

/** The body text of a value, with `"__raw:<json>"` markers written as that raw JSON. */
function textOf(value: Json): string {
  return JSON.stringify(value).replace(/"__raw:((?:[^"\\]|\\.)*)"/g, (_match, raw: string) => JSON.parse(`"${raw}"`) as string);
}

/** The ways a body goes wrong. */
function mutatedBody(operation: Operation): fc.Arbitrary<{ body?: string; mutation: string }> {
  if (!operation.body) return fc.constantFrom({ mutation: 'no body' }, { body: '{"unexpected":true}', mutation: 'a body where none is expected' });
  const schema = resolve(operation.body.schema);
  const properties = Object.keys((schema.properties ?? {}) as Record<string, unknown>);
  const property = properties.length > 0 ? fc.constantFrom(...properties) : fc.constant('data');
  return valueOf(operation.body.schema).chain((valid) => {
    const object = typeof valid === 'object' && valid !== null && !Array.isArray(valid) ? valid : {};
    const withField = (mutation: string, make: fc.Arbitrary<Json>): fc.Arbitrary<{ body: string; mutation: string }> =>
      fc.tuple(property, make).map(([name, value]) => ({ body: textOf({ ...object, [name]: value }), mutation: `${mutation} in ${name}` }));
    return fc.oneof(
      fc.constant({ body: textOf(valid), mutation: 'none' }),
      property.map((name) => {
        const { [name]: _gone, ...rest } = object;
        return { body: textOf(rest), mutation: `without ${name}` };
      }),
      fc.constant({ body: textOf({ ...object, zz_unknown: 1 }), mutation: 'an unknown field' }),
      withField('a wrong type', fc.constantFrom<Json>(42, 'text', true, null, [], {}, [1, 2])),
      withField('awkward text', fc.constantFrom(...awkwardText)),
      withField('text one past a limit', fc.integer({ min: 64, max: 10_001 }).map((n) => 'x'.repeat(n + 1))),
      withField('an awkward number', fc.constantFrom(...awkwardNumbers).map((n) => `__raw:${n}`)),
      fc.constantFrom(33, 34, 888).map((levels) => ({ body: textOf({ ...object, data: `__raw:${nested(levels)}` }), mutation: `data nested ${levels} levels` })),
      fc.constant({ body: `{"data":${nested(20_000)}}`, mutation: 'data nested 20,000 levels' }),
      fc.constant({ body: textOf({ ...object, data: `__raw:{"n":12345678901234567890,"big":1e400,"tiny":1e-200}` }), mutation: 'data with numbers no double holds' }),
      fc.constantFrom('', '{', 'null', '[]', '"text"', '{"a":1}}', '\ud83d', ' '.repeat(100)).map((body) => ({ body, mutation: `the body ${JSON.stringify(body)}` })),
      fc.constant({ body: textOf({ ...object, recipients: Array.from({ length: 1_001 }, (_, i) => `u${i}`) }), mutation: 'a list one past its limit' }),
    );
  });
}

function pathValue(name: string, schema: Schema, operation: Operation): fc.Arbitrary<string> {
  const knownIds = operation.path.startsWith('/v1/broadcasts') ? [known.broadcast] : operation.path.startsWith('/v1/recipients') ? [known.recipient, 'auth0|fuzz-user'] : [known.notification];
  return fc.oneof(
    fc.constantFrom(...knownIds),
    valueOf(schema).map((value) => String(value)),
    fc.constantFrom('%ED%A0%BD', 'a%2Fb', 'x'.repeat(300), '..', '%00', name),
  );
}

function queryOf(operation: Operation): fc.Arbitrary<string> {
  if (operation.queryParameters.length === 0) return fc.constantFrom('', 'unexpected=1');
  const parameter = fc.constantFrom(...operation.queryParameters);
  const pair = parameter.chain((p) =>
    fc.oneof(valueOf(p.schema).map((value) => String(value)), fc.constantFrom('', 'x'.repeat(2_000), '-1', '1e400', 'true', '%ED%A0%BD')).map((value) => `${p.name}=${encodeURIComponent(value)}`),
  );
  return fc.array(pair, { maxLength: 3 }).map((pairs) => pairs.join('&'));
}

function requestOf(): fc.Arbitrary<FuzzRequest> {
  return fc.constantFrom(...operations).chain((operation) =>
    fc
      .record({
        parameters: fc.tuple(...operation.pathParameters.map((p) => pathValue(p.name, p.schema, operation))),
        query: queryOf(operation),
        body: mutatedBody(operation),
        role: fc.constantFrom<Role>('admin', 'sender', 'user', 'user', 'stranger', 'none', 'garbage'),
        idempotencyKey: operation.idempotent ? fc.option(fc.uuid(), { nil: undefined }) : fc.constant(undefined),
      })
      .map(({ parameters, query, body, role, idempotencyKey }) => {
        let path = operation.path;
        operation.pathParameters.forEach((p, index) => {
          const value = parameters[index] ?? '';
          path = path.replace(`{${p.name}}`, /%[0-9A-F]{2}/.test(value) ? value : encodeURIComponent(value));
        });
        return { operation, path, query, ...(body.body !== undefined ? { body: body.body } : {}), role, ...(idempotencyKey ? { idempotencyKey } : {}), mutation: body.mutation };
      }),
  );
}

type CallCounts = Record<string, Record<string, number>>;

async function apiCalls(): Promise<CallCounts> {
  const calls = (await (await fetch(`${h.stack.httpUrl}/_local/calls`)).json()) as { byFunction?: Record<string, CallCounts> };
  return calls.byFunction?.api ?? {};
}

function writesBetween(before: CallCounts, after: CallCounts): string[] {
  return Object.entries(writeOperations).flatMap(([service, names]) =>
    names.filter((name) => (after[service]?.[name] ?? 0) > (before[service]?.[name] ?? 0)).map((name) => `${service}.${name}`),
  );
}

async function send(request: FuzzRequest): Promise<{ status: number; text: string }> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  const token = tokens[request.role];
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  if (request.idempotencyKey) headers['idempotency-key'] = request.idempotencyKey;
  const url = `${h.stack.httpUrl}${request.path}${request.query ? `?${request.query}` : ''}`;
  const response = await fetch(url, { method: request.operation.method, headers, ...(request.body !== undefined && request.operation.method !== 'GET' ? { body: request.body } : {}) });
  return { status: response.status, text: await response.text() };
}

describe('the API under schema-derived, mutated requests', () => {
  it(`answers ${runs} of them below 500, and writes nothing for any 4xx`, async () => {
    // Prepare
    console.info(`fuzz: seed ${seed} (replay with HERALD_FUZZ_SEED=${seed}), ${runs} requests over ${operations.length} routes`);
    const seen = new Map<string, number>();
    let previous = await apiCalls();

    // Act + Assess: each request on its own, so that the calls counted between two are its own
    await fc.assert(
      fc.asyncProperty(requestOf(), async (request) => {
        const answer = await send(request);
        const now = await apiCalls();
        const writes = writesBetween(previous, now);
        previous = now;
        const key = `${request.operation.method} ${request.operation.path}`;
        seen.set(key, (seen.get(key) ?? 0) + 1);
        const what = `${key} as ${request.role}, ${request.mutation}: ${answer.status} ${answer.text.slice(0, 300)}`;
        expect(answer.status, what).toBeLessThan(500);
        // A wrong verification code uses up a try: the one 4xx that writes, by design (me.ts).
        const countedTry = key === 'POST /v1/me/verify' && answer.status === 400 && answer.text.includes('is not the code that was sent');
        if (answer.status >= 400 && !countedTry) expect(writes, what).toEqual([]);
      }),
      { seed, numRuns: runs, endOnFailure: true },
    );

    // Assess: every route of the document was tried
    expect([...seen.keys()].sort()).toEqual(operations.map((o) => `${o.method} ${o.path}`).sort());
  }, 600_000);
});
