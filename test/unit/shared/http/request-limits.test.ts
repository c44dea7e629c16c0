import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { PayloadTooLargeError, ValidationError } from '../../../../shared/errors.ts';
import { maxRequestBodyBytes, parseBody, queryParameters, rawBody } from '../../../../shared/http/request.ts';
import type { HttpEvent } from '../../../../shared/http/request.ts';
import { anHttpEvent } from '../../fakes/lambda.ts';

function withBody(body: string | undefined, isBase64Encoded = false): HttpEvent {
  const event = anHttpEvent({ routeKey: 'POST /v1/notifications', ...(body !== undefined ? { body } : {}), claims: { sub: 'sam' } });
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

describe('rawBody', () => {
  it('reads a body of exactly the limit and refuses one byte more with 413', () => {
    // Prepare: multi-byte characters count as their UTF-8 bytes
    const atLimit = `${'é'.repeat(maxRequestBodyBytes / 2 - 1)}xy`;

    // Act
    const read = rawBody(withBody(atLimit));
    const error = thrownBy(() => rawBody(withBody(`${atLimit}z`)));

    // Assess
    expect(read).toBe(atLimit);
    expect(error).toBeInstanceOf(PayloadTooLargeError);
    expect((error as PayloadTooLargeError).statusCode).toBe(413);
  });

  it('measures a base64-encoded body by its decoded bytes', () => {
    // Prepare
    const encoded = Buffer.alloc(maxRequestBodyBytes + 1, 'a').toString('base64');

    // Act
    const error = thrownBy(() => rawBody(withBody(encoded, true)));

    // Assess
    expect(error).toBeInstanceOf(PayloadTooLargeError);
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

  it('still requires a body that is not optional', () => {
    // Act
    const error = thrownBy(() => parseBody(withBody(undefined), schema));

    // Assess
    expect(error).toBeInstanceOf(ValidationError);
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
