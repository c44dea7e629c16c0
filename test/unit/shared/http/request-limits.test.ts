import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createNotificationsBodySchema, retryNotificationBodySchema } from '../../../../shared/domain/schemas.ts';
import { PayloadTooLargeError, UnsupportedMediaTypeError, ValidationError } from '../../../../shared/errors.ts';
import { bodyCapBytes, bodyCapOf, defaultBodyCapBytes, lambdaPayloadQuotaBytes, maxBodyCapBytes } from '../../../../shared/http/body-limits.ts';
import { parseBody, queryParameters, rawBody } from '../../../../shared/http/request.ts';
import type { HttpEvent } from '../../../../shared/http/request.ts';
import { anHttpEvent } from '../../fakes/lambda.ts';

function withBody(body: string | undefined, isBase64Encoded = false, routeKey = 'POST /v1/notifications'): HttpEvent {
  const event = anHttpEvent({ routeKey, ...(body !== undefined ? { body } : {}), claims: { sub: 'sam' } });
  event.isBase64Encoded = isBase64Encoded;
  return event;
}

function thrownBy(read: () => unknown): unknown {
  try {
    read();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

function detailsOf(read: () => unknown): unknown {
  const error = thrownBy(read);
  expect(error).toBeInstanceOf(ValidationError);
  return (error as ValidationError).details;
}

const validBody = { recipients: ['bob'], title: 'Hi', message: 'Hello' };

describe('rawBody', () => {
  it("reads a body of exactly the route's cap and refuses one byte more with 413 naming the body", () => {
    // Prepare: multi-byte characters count as their UTF-8 bytes
    const cap = bodyCapOf('POST /v1/notifications');
    const atLimit = `${'é'.repeat(cap / 2 - 1)}xy`;

    // Act
    const read = rawBody(withBody(atLimit));
    const error = thrownBy(() => rawBody(withBody(`${atLimit}z`)));

    // Assess
    expect(read).toBe(atLimit);
    expect(error).toBeInstanceOf(PayloadTooLargeError);
    expect((error as PayloadTooLargeError).statusCode).toBe(413);
    expect((error as PayloadTooLargeError).details).toEqual([{ field: 'body', message: `must be at most ${cap} bytes` }]);
  });

  it('gives each route its own cap, and a small one to routes without a computed cap', () => {
    // Prepare
    const small = 'x'.repeat(defaultBodyCapBytes + 1);

    // Act
    const refused = thrownBy(() => rawBody(withBody(small, false, 'POST /v1/me/inbox/read-all')));
    const accepted = rawBody(withBody(small, false, 'POST /v1/notifications'));

    // Assess
    expect(refused).toBeInstanceOf(PayloadTooLargeError);
    expect(accepted).toBe(small);
  });

  it('caps no route above half the Lambda payload quota, where the event doubles the body', () => {
    for (const [route, cap] of Object.entries(bodyCapBytes)) expect(cap, route).toBeLessThanOrEqual(maxBodyCapBytes);
    expect(2 * maxBodyCapBytes).toBeLessThanOrEqual(lambdaPayloadQuotaBytes);
  });

  it('measures a base64-encoded body by its decoded bytes', () => {
    // Prepare
    const encoded = Buffer.alloc(bodyCapOf('POST /v1/notifications') + 1, 'a').toString('base64');

    // Act
    const error = thrownBy(() => rawBody(withBody(encoded, true)));

    // Assess
    expect(error).toBeInstanceOf(PayloadTooLargeError);
  });

  it('refuses a base64 body that is not UTF-8 with a 400 naming the body', () => {
    // Prepare
    const encoded = Buffer.from([0x7b, 0xff, 0xfe, 0x7d]).toString('base64');

    // Act
    const details = detailsOf(() => rawBody(withBody(encoded, true)));

    // Assess
    expect(details).toEqual([{ field: 'body', message: 'must be UTF-8 text' }]);
  });

  it('reads no body as undefined', () => {
    // Act + Assess
    expect(rawBody(withBody(undefined))).toBeUndefined();
    expect(rawBody(withBody(''))).toBeUndefined();
  });
});

describe('parseBody', () => {
  const schema = z.strictObject({ delayMinutes: z.number().default(0) });

  it('reads a missing optional body as an empty object', () => {
    // Act + Assess
    expect(parseBody(withBody(undefined), schema, { optional: true })).toEqual({ delayMinutes: 0 });
  });

  it('still requires a body that is not optional, naming the body', () => {
    // Act + Assess
    expect(detailsOf(() => parseBody(withBody(undefined), schema))).toEqual([{ field: 'body', message: 'is required' }]);
  });

  it('names the body when it is not JSON', () => {
    // Act
    const details = detailsOf(() => parseBody(withBody('{"recipients": ['), createNotificationsBodySchema));

    // Assess
    expect(details).toEqual([{ field: 'body', message: expect.stringContaining('must be valid JSON') }]);
  });

  it.each([
    ['data nested 20,000 levels', `{"data":${'{"a":'.repeat(20_000)}1${'}'.repeat(20_000)}}`, /^data(\.a){32}$/],
    ['an array nested 888 levels', `{"data":{"x":${'['.repeat(888)}${']'.repeat(888)}}}`, /^data\.x(\.0){31}$/],
  ])('refuses %s with a 400 naming where the bound broke, before parsing it', (_case, text, field) => {
    // Act
    const details = detailsOf(() => parseBody(withBody(text), createNotificationsBodySchema)) as { field: string }[];

    // Assess
    expect(details).toHaveLength(1);
    expect(details[0]?.field).toMatch(field);
  });

  it('takes data nested exactly 32 levels', () => {
    // Prepare: data is level 1, like a map attribute in DynamoDB
    const data = `${'{"a":'.repeat(31)}{}${'}'.repeat(31)}`;

    // Act
    const body = parseBody(withBody(`{"recipients":["bob"],"title":"t","message":"m","data":${data}}`), createNotificationsBodySchema);

    // Assess
    expect(JSON.stringify(body.data)).toBe(data);
  });

  it.each([
    ['an object of more members than any data could hold', `{"data":{${Array.from({ length: 4097 }, (_, i) => `"k${i}":0`).join(',')}}}`, 'data', 'must have at most 4096 members'],
    ['an array of more elements than any data could hold', `{"data":{"x":[${Array.from({ length: 8193 }, () => '0').join(',')}]}}`, 'data.x', 'must have at most 8192 elements'],
    ['data nested 34 levels, deeper than any body may be', `{"data":${'{"a":'.repeat(33)}{}${'}'.repeat(33)}}`, `data${'.a'.repeat(32)}`, 'nests too deep: a body holds objects and arrays at most 33 levels deep'],
  ])('refuses %s naming it', (_case, text, field, message) => {
    // Act + Assess
    expect(detailsOf(() => parseBody(withBody(text), createNotificationsBodySchema))).toEqual([{ field, message }]);
  });

  it('keeps numbers a double cannot hold exactly as they were written', () => {
    // Prepare: the example, and numbers beyond DynamoDB's range
    const text = '{"recipients":["bob"],"title":"t","message":"m","data":{"orderId":12345678901234567890,"big":1e400,"tiny":1e-200,"plain":42.5}}';

    // Act
    const body = parseBody(withBody(text), createNotificationsBodySchema);

    // Assess
    expect(JSON.stringify(body.data)).toBe('{"orderId":12345678901234567890,"big":1e400,"tiny":1e-200,"plain":42.5}');
  });

  it.each([
    ['a title with half an emoji', { ...validBody, title: 'Sale \ud83d ends' }, 'title'],
    ['a lone surrogate deep in data', { ...validBody, data: { items: [{ name: 'ok' }, { name: 'x\udc00' }] } }, 'data.items.1.name'],
    ['a member name of data with a lone surrogate', { ...validBody, data: { 'k\ud800': 1 } }, 'data.k\ufffd'],
  ])('refuses %s with a 400 naming the field', (_case, body, field) => {
    // Act
    const details = detailsOf(() => parseBody(withBody(JSON.stringify(body)), createNotificationsBodySchema));

    // Assess
    expect(details).toEqual([{ field, message: expect.stringContaining('well-formed Unicode') }]);
  });

  it.each([
    ['a member given twice', '{"recipients":["bob"],"title":"x","message":"m","title":"dup"}', 'title'],
    ['one given twice with another spelling', '{"recipients":["bob"],"title":"x","message":"m","\\u0074itle":"dup"}', 'title'],
    ['one given twice deep in data', '{"recipients":["bob"],"title":"t","message":"m","data":{"items":[{"id":1,"id":2}]}}', 'data.items.0.id'],
  ])('refuses %s with a 400 naming it, whichever JSON.parse would keep', (_case, text, field) => {
    // Act + Assess
    expect(detailsOf(() => parseBody(withBody(text), createNotificationsBodySchema))).toEqual([{ field, message: expect.stringContaining('is given twice') }]);
  });

  it('takes one name in two objects', () => {
    // Act
    const body = parseBody(withBody('{"recipients":["bob"],"title":"t","message":"m","data":{"a":{"id":1},"b":{"id":2}}}'), createNotificationsBodySchema);

    // Assess
    expect(body.data).toEqual({ a: { id: 1 }, b: { id: 2 } });
  });

  it.each([
    ['-0', 0],
    ['-0.0', 0],
    ['1.0000000000000000001', 1],
  ])('reads %s in a field that takes a number as the number it is', (written, read) => {
    // Act
    const body = parseBody(withBody(`{"delayMinutes":${written}}`), schema);

    // Assess
    expect(body).toEqual({ delayMinutes: read });
    expect(Object.is(body.delayMinutes, -0)).toBe(false);
  });

  it.each([
    ['1e400', 'must be at most 43200 (30 days)'],
    ['12345678901234567890', 'must be at most 43200 (30 days)'],
    ['-1e400', 'must not be negative'],
    ['100000000000000000000.5', 'must be at most 43200 (30 days)'],
    ['100000000000000000000', 'must be at most 43200 (30 days)'],
  ])('checks %s in a field that takes a number against its range, not its spelling', (written, message) => {
    // Act + Assess
    expect(detailsOf(() => parseBody(withBody(`{"delayMinutes":${written}}`), retryNotificationBodySchema))).toEqual([{ field: 'delayMinutes', message }]);
  });

  it('names the range of whole numbers a double holds for a whole-number field without a bound of its own', () => {
    // Prepare
    const versioned = z.strictObject({ version: z.int('must be a whole number').min(1) });

    // Act + Assess
    expect(detailsOf(() => parseBody(withBody('{"version":1e400}'), versioned))).toEqual([{ field: 'version', message: 'must be at most 9007199254740991' }]);
    expect(detailsOf(() => parseBody(withBody('{"version":1.5}'), versioned))).toEqual([{ field: 'version', message: 'must be a whole number' }]);
  });

  it('says a value of the wrong type is of the wrong type, without measuring it against the bound of the right one', () => {
    // Prepare: zod measures a string's length against an array's max
    const listed = z.strictObject({ roles: z.array(z.string()).max(3).default([]) });

    // Act + Assess
    expect(detailsOf(() => parseBody(withBody('{"roles":"admin"}'), listed))).toEqual([{ field: 'roles', message: 'must be an array' }]);
    expect(detailsOf(() => parseBody(withBody('{"roles":["a","b","c","d"]}'), listed))).toEqual([{ field: 'roles', message: 'must have at most 3 items' }]);
  });

  it('parses a body once per event and schema', () => {
    // Prepare
    const event = withBody(JSON.stringify(validBody));

    // Act
    const first = parseBody(event, createNotificationsBodySchema);
    const second = parseBody(event, createNotificationsBodySchema);

    // Assess
    expect(second).toBe(first);
  });
});

describe('the Content-Type of a body', () => {
  function withType(type: string | undefined): HttpEvent {
    const event = withBody(JSON.stringify(validBody));
    const { 'content-type': _type, ...others } = event.headers;
    event.headers = type === undefined ? others : { ...others, 'content-type': type };
    return event;
  }

  it.each([['application/json'], ['application/json; charset=utf-8'], ['Application/JSON;charset="UTF-8"'], ['application/merge-patch+json'], [''], [undefined]])('reads a body sent as %s', (type) => {
    // Act + Assess
    expect(parseBody(withType(type), createNotificationsBodySchema)).toMatchObject(validBody);
  });

  it.each([
    ['text/plain', 'must be application/json, not text/plain'],
    ['application/x-www-form-urlencoded', 'must be application/json, not application/x-www-form-urlencoded'],
    ['multipart/form-data; boundary=x', 'must be application/json, not multipart/form-data'],
    ['application/json; charset=utf-16', 'must name no charset or UTF-8, not utf-16'],
    ['json', 'must be application/json, not json'],
  ])('refuses a body sent as %s with a 415 naming the header, before reading it', (type, message) => {
    // Act
    const error = thrownBy(() => parseBody(withType(type), createNotificationsBodySchema));

    // Assess
    expect(error).toBeInstanceOf(UnsupportedMediaTypeError);
    expect(error).toMatchObject({ statusCode: 415, code: 'UNSUPPORTED_MEDIA_TYPE', details: [{ field: 'content-type', message }] });
  });

  it('says nothing of the header of a request without a body', () => {
    // Prepare
    const event = withBody(undefined);
    event.headers = { ...event.headers, 'content-type': 'text/plain' };

    // Act + Assess
    expect(parseBody(event, z.strictObject({}), { optional: true })).toEqual({});
  });
});

describe('queryParameters', () => {
  it('validates the query string, naming what is wrong', () => {
    // Prepare
    const event = withBody(undefined);
    event.queryStringParameters = { limit: '500' };
    const schema = z.strictObject({ limit: z.coerce.number().max(100) });

    // Act
    const error = thrownBy(() => queryParameters(event, schema));

    // Assess
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).details).toEqual([expect.objectContaining({ field: 'limit' })]);
  });

  it('reads no query string as an empty one', () => {
    // Act + Assess
    expect(queryParameters(withBody(undefined), z.strictObject({ limit: z.coerce.number().default(20) }))).toEqual({ limit: 20 });
  });
});
