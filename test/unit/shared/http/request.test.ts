import type { APIGatewayProxyEventV2WithJWTAuthorizer } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { UnauthorizedError, ValidationError } from '../../../../shared/errors.ts';
import { routeDocs } from '../../../../functions/api/route-docs.ts';
import { listBroadcastsQuerySchema, listNotificationsQuerySchema, metricsQuerySchema, templateVersionSchema } from '../../../../shared/domain/schemas.ts';
import { callerFrom, json, parseBody, pathParameter, plusReadAsSpace, queryParameters } from '../../../../shared/http/request.ts';

function anEvent(overrides: Partial<APIGatewayProxyEventV2WithJWTAuthorizer> = {}): APIGatewayProxyEventV2WithJWTAuthorizer {
  return {
    version: '2.0',
    routeKey: 'POST /v1/things',
    rawPath: '/v1/things',
    rawQueryString: '',
    headers: {},
    isBase64Encoded: false,
    requestContext: {
      accountId: '111122223333',
      apiId: 'api',
      domainName: 'api.example.com',
      domainPrefix: 'api',
      http: { method: 'POST', path: '/v1/things', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' },
      requestId: 'r1',
      routeKey: 'POST /v1/things',
      stage: '$default',
      time: '01/Jan/2030:12:00:00 +0000',
      timeEpoch: 1_893_499_200_000,
      authorizer: { principalId: '', integrationLatency: 0, jwt: { claims: { sub: 'bob', tenant: 'acme' }, scopes: [] } },
    },
    ...overrides,
  };
}

const schema = z.strictObject({ name: z.string().min(1, 'must not be empty') });

/** The error `read` throws (fails the test when it throws none). */
function errorOf(read: () => unknown): unknown {
  try {
    read();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}

describe('reading HTTP requests', () => {
  it('parses a JSON body with the schema', () => {
    // Prepare
    const event = anEvent({ body: '{"name":"Herald"}' });

    // Act
    const body = parseBody(event, schema);

    // Assess
    expect(body).toEqual({ name: 'Herald' });
  });

  it('decodes a base64 body first', () => {
    // Prepare
    const event = anEvent({ body: Buffer.from('{"name":"Herald"}').toString('base64'), isBase64Encoded: true });

    // Act
    const body = parseBody(event, schema);

    // Assess
    expect(body).toEqual({ name: 'Herald' });
  });

  it.each([
    ['a missing body', undefined, 'Request body is required'],
    ['invalid JSON', '{"name":', 'Invalid body: body must be valid JSON (Unexpected end of JSON input)'],
    // V8 quotes the text around an unexpected token: the message leaves it out.
    ['invalid JSON quoting the body', '{"email":bob@example.com}', "Invalid body: body must be valid JSON (Unexpected token 'b')"],
    // JavaScript would read it as the prototype and drop it wherever the value is copied.
    ['a member named __proto__', '{"name":"x","data":{"k":1,"__proto__":{"b":2}}}', 'Invalid body: data.__proto__ is not an accepted member name'],
    ['invalid JSON quoting the middle of a long body', `{"note":"${'x'.repeat(40)}","a":secret}`, "Invalid body: body must be valid JSON (Unexpected token 's')"],
  ])('refuses %s with a ValidationError', (_, body, message) => {
    // Prepare
    const event = anEvent({ body });

    // Act
    const error = errorOf(() => parseBody(event, schema));

    // Assess
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).message).toBe(message);
  });

  it('names each field that is wrong, unknown ones included', () => {
    // Prepare
    const event = anEvent({ body: '{"name":"","colour":"red"}' });

    // Act
    const error = errorOf(() => parseBody(event, schema)) as ValidationError;

    // Assess
    expect(error.details).toEqual(
      expect.arrayContaining([
        { field: 'name', message: 'must not be empty' },
        { field: 'colour', message: 'is not a known field' },
      ]),
    );
    expect(error.message).toMatch(/^Invalid body: /);
  });

  it('says a field left out "is required", whatever its type and message, and keeps the message of one of the wrong type or null', () => {
    // Prepare: fields whose schemas say only what a wrong value would be (a type, an enum, a union)
    const typed = z
      .strictObject({
        recipients: z.array(z.string()),
        at: z.string('must be an ISO-8601 date-time with an offset'),
        nested: z.strictObject({ count: z.number('must be a number') }),
        platform: z.enum(['fcm', 'apns'], 'must be fcm or apns'),
        when: z.union([z.number(), z.string()], 'must be a number or a string'),
        note: z.string().optional(),
      })
      .refine((body) => body.note !== undefined, { path: ['note'], message: 'is required with a platform' });

    // Act
    const missing = errorOf(() => parseBody(anEvent({ body: '{"nested":{}}' }), typed)) as ValidationError;
    const wrong = errorOf(() => parseBody(anEvent({ body: '{"recipients":"bob","at":null,"nested":{"count":"1"},"platform":"x","when":true}' }), typed)) as ValidationError;

    // Assess: a rule of the schema's own keeps its words; the values sent are kept nowhere
    expect(missing.details).toEqual([
      { field: 'recipients', message: 'is required' },
      { field: 'at', message: 'is required' },
      { field: 'nested.count', message: 'is required' },
      { field: 'platform', message: 'is required' },
      { field: 'when', message: 'is required' },
    ]);
    expect(missing.message).toBe('Invalid body: recipients is required; at is required; nested.count is required; platform is required; when is required');
    expect(wrong.details).toEqual([
      { field: 'recipients', message: 'must be an array' },
      { field: 'at', message: 'must be an ISO-8601 date-time with an offset' },
      { field: 'nested.count', message: 'must be a number' },
      { field: 'platform', message: 'must be fcm or apns' },
      { field: 'when', message: 'must be a number or a string' },
    ]);
    expect(wrong.cause).toBeUndefined();
    const refined = errorOf(() => parseBody(anEvent({ body: '{"recipients":[],"at":"x","nested":{"count":1},"platform":"fcm","when":1}' }), typed)) as ValidationError;
    expect(refined.details).toEqual([{ field: 'note', message: 'is required with a platform' }]);
  });

  it("says what a field must be in Herald's words where the schema left zod's default message, and keeps the schema's own", () => {
    // Prepare: fields that give no message of their own, and one that does
    const plain = z.strictObject({
      recipients: z.array(z.string()).max(2),
      tags: z.array(z.string()).min(1),
      priority: z.enum(['low', 'normal']),
      kind: z.literal('email'),
      probability: z.number().min(0).max(1),
      count: z.number().int().positive(),
      title: z.string().min(1).max(3),
      flag: z.boolean(),
      data: z.strictObject({}),
      platform: z.enum(['fcm', 'apns'], 'must be fcm or apns'),
    });

    // Act
    const error = errorOf(() =>
      parseBody(anEvent({ body: '{"recipients":["a","b","c"],"tags":[],"priority":"top","kind":"sms","probability":2,"count":1.5,"title":"four","flag":"yes","data":[],"platform":"x"}' }), plain),
    ) as ValidationError;
    const wrongTypes = errorOf(() => parseBody(anEvent({ body: '{"recipients":"bob","probability":-1,"count":0,"title":""}' }), plain.partial().extend({ recipients: z.array(z.string()).optional() }))) as ValidationError;
    const notAnObject = errorOf(() => parseBody(anEvent({ body: '[]' }), plain)) as ValidationError;

    // Assess
    expect(error.details).toEqual([
      { field: 'recipients', message: 'must have at most 2 items' },
      { field: 'tags', message: 'must have at least 1 item' },
      { field: 'priority', message: 'must be one of "low", "normal"' },
      { field: 'kind', message: 'must be "email"' },
      { field: 'probability', message: 'must be at most 1' },
      { field: 'count', message: 'must be a whole number' },
      { field: 'title', message: 'must be at most 3 characters' },
      { field: 'flag', message: 'must be true or false' },
      { field: 'data', message: 'must be a JSON object' },
      { field: 'platform', message: 'must be fcm or apns' },
    ]);
    expect(wrongTypes.details).toEqual([
      { field: 'recipients', message: 'must be an array' },
      { field: 'probability', message: 'must be at least 0' },
      { field: 'count', message: 'must be more than 0' },
      { field: 'title', message: 'must be at least 1 character' },
    ]);
    expect(notAnObject.details).toEqual([{ field: 'body', message: 'must be a JSON object' }]);
  });

  it("says what a map's keys and values must be in Herald's words: a JSON object, and each key's own rule, not zod's \"Invalid key in record\"", () => {
    // Prepare: a map whose keys have a rule of their own, and one whose keys have none
    const schema = z.strictObject({
      locales: z.record(z.string().refine((tag) => tag.length === 2, 'is not a language'), z.string()).optional(),
      sizes: z.record(z.string().max(2), z.number()).optional(),
    });

    // Act
    const notAMap = errorOf(() => parseBody(anEvent({ body: '{"locales":"fr"}' }), schema)) as ValidationError;
    const badKeys = errorOf(() => parseBody(anEvent({ body: '{"locales":{"french":"x"},"sizes":{"huge":1}}' }), schema)) as ValidationError;

    // Assess
    expect(notAMap.details).toEqual([{ field: 'locales', message: 'must be a JSON object' }]);
    expect(badKeys.details).toEqual([
      { field: 'locales.french', message: 'is not a language' },
      { field: 'sizes.huge', message: 'must be at most 2 characters' },
    ]);
  });

  it('names a bad path parameter', () => {
    // Prepare
    const event = anEvent({ pathParameters: { id: 'a#b' } });

    // Act
    const error = errorOf(() => pathParameter(event, 'id', z.string().regex(/^[a-z]+$/, 'is not an id'))) as ValidationError;

    // Assess
    expect(error.details).toEqual([{ field: 'path parameter id', message: 'is not an id' }]);
  });

  it.each(['0x10', '1e1', '+10', ' 10', '10 ', '', 'Infinity', '1_0', '١٠'])('refuses a query number not written in decimal digits (limit=%j), naming it', (limit) => {
    // Act
    const error = errorOf(() => queryParameters(anEvent({ queryStringParameters: { limit } }), listNotificationsQuerySchema)) as ValidationError;

    // Assess: a space may be a '+' sent unencoded (`limit=+10`), and is told so
    expect(error.details).toEqual([{ field: 'limit', message: limit.includes(' ') ? `must be a number ${plusReadAsSpace}` : 'must be a number' }]);
  });

  it("tells a refused query value with a space that a '+' reads as one, wherever the route reads it, and nothing more to one without", () => {
    // Prepare: offsets sent with an unencoded '+', as API Gateway decodes them (a recipient id or a
    // type may hold a space: `recipientId=bob+work` is read as `bob work`, which nothing can tell)
    const read = (query: Record<string, string>, schema: z.ZodType): ValidationError => errorOf(() => queryParameters(anEvent({ queryStringParameters: query }), schema)) as ValidationError;

    // Act
    const offset = read({ from: '2027-03-28T09:00:00 02:00', to: '2027-03-29T09:00:00Z' }, listNotificationsQuerySchema);
    const broadcasts = read({ to: '2027-03-28T09:00:00.250 05:30' }, listBroadcastsQuerySchema);
    const plain = read({ from: 'yesterday' }, listNotificationsQuerySchema);

    // Assess
    expect(offset.details).toEqual([{ field: 'from', message: `must be an ISO-8601 date-time with an offset, seconds included (2027-03-28T09:00:00Z) ${plusReadAsSpace}` }]);
    expect(offset.message).toBe(`Invalid query: from must be an ISO-8601 date-time with an offset, seconds included (2027-03-28T09:00:00Z) ${plusReadAsSpace}`);
    expect(broadcasts.details).toEqual([{ field: 'to', message: expect.stringMatching(/ \(a '\+' in a query string reads as a space: write it %2B\)$/) }]);
    expect(plain.details).toEqual([{ field: 'from', message: 'must be an ISO-8601 date-time with an offset, seconds included (2027-03-28T09:00:00Z)' }]);
    // Encoded, the same values are read.
    expect(queryParameters(anEvent({ queryStringParameters: { from: '2027-03-28T09:00:00+02:00' } }), listNotificationsQuerySchema)).toMatchObject({ from: '2027-03-28T09:00:00+02:00' });
  });

  it('reads a query number in decimal digits, and leaves a sign or a fraction to the schema\'s own words', () => {
    const read = (limit: string): unknown => queryParameters(anEvent({ queryStringParameters: { limit } }), listNotificationsQuerySchema);
    expect(read('10')).toMatchObject({ limit: 10 });
    expect(read('010')).toMatchObject({ limit: 10 });
    expect((errorOf(() => read('-1')) as ValidationError).details).toEqual([{ field: 'limit', message: 'must be at least 1' }]);
    expect((errorOf(() => read('1.5')) as ValidationError).details).toEqual([{ field: 'limit', message: 'must be a whole number' }]);
    expect(queryParameters(anEvent({ queryStringParameters: { period: '7200' } }), metricsQuerySchema)).toEqual({ period: 7200 });
    const hex = errorOf(() => queryParameters(anEvent({ queryStringParameters: { period: '0xe10' } }), metricsQuerySchema)) as ValidationError;
    expect(hex.details).toEqual([{ field: 'period', message: 'must be a number of seconds' }]);
    // A string field is left as it was sent.
    expect(queryParameters(anEvent({ queryStringParameters: { cursor: '0x10' } }), listNotificationsQuerySchema)).toMatchObject({ cursor: '0x10' });
  });

  it.each(Object.entries(routeDocs).flatMap(([route, doc]) => (doc.query ? [[route, doc.query] as const] : [])))(
    'holds every number of the %s query to decimal digits',
    (route, query) => {
      // Prepare: the query's numeric fields, which the screen reads from its object shape
      const shape = (query._zod.def as { type: string; shape?: Record<string, z.ZodType> }).shape ?? {};
      const typeOf = (schema: z.ZodType | undefined): string | undefined => {
        const def = schema?._zod.def as { type: string; innerType?: z.ZodType } | undefined;
        return def?.type === 'default' || def?.type === 'optional' ? typeOf(def.innerType) : def?.type;
      };
      const numeric = Object.keys(shape).filter((name) => typeOf(shape[name]) === 'number');

      // Act
      const answers = numeric.map((name) => errorOf(() => queryParameters(anEvent({ queryStringParameters: { [name]: '0x0c' } }), query)) as ValidationError);

      // Assess: a shape to read (not a pipe), and each number refused in hexadecimal
      expect((query._zod.def as { type: string }).type).toBe('object');
      if (['GET /v1/notifications', 'GET /v1/metrics'].includes(route)) expect(numeric.length).toBeGreaterThan(0);
      for (const [i, name] of numeric.entries()) expect(answers[i]?.details, name).toEqual([{ field: name, message: expect.stringMatching(/^must be a number/) }]);
    },
  );

  it('refuses a path number not written in decimal digits, and reads one that is', () => {
    const read = (version: string): unknown => pathParameter(anEvent({ pathParameters: { version } }), 'version', templateVersionSchema);
    expect(read('12')).toBe(12);
    expect((errorOf(() => read('0x0c')) as ValidationError).details).toEqual([{ field: 'path parameter version', message: 'must be a number' }]);
    expect((errorOf(() => read('1e1')) as ValidationError).details).toEqual([{ field: 'path parameter version', message: 'must be a number' }]);
  });

  it('reads the caller from the JWT claims', () => {
    // Prepare
    const event = anEvent();

    // Act
    const caller = callerFrom(event);

    // Assess
    expect(caller).toEqual({ sub: 'bob', tenantId: 'acme', roles: [] });
  });

  it('refuses a request whose token names no subject', () => {
    // Prepare
    const event = anEvent();
    event.requestContext.authorizer.jwt.claims = { tenant: 'acme' };

    // Act
    const error = errorOf(() => callerFrom(event));

    // Assess
    expect(error).toBeInstanceOf(UnauthorizedError);
  });

  it('answers JSON with its content type', () => {
    // Prepare
    const body = { ok: true };

    // Act
    const result = json(201, body);

    // Assess
    expect(result).toEqual({ statusCode: 201, headers: { 'content-type': 'application/json' }, body: '{"ok":true}' });
  });
});
