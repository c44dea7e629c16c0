/** Every limit of the notifications API, at the limit and one past it. */
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import {
  createNotificationsBodySchema,
  listNotificationsQuerySchema,
  maxDataBytes,
  metricsQuerySchema,
  rescheduleNotificationBodySchema,
  retryNotificationBodySchema,
  sendNowBodySchema,
  serverOwnedNotificationFields,
} from '../../../../shared/domain/schemas.ts';

const base = { recipients: ['bob'], title: 'Hi', message: 'Hello' };

/** The fields a parse complains about, or `[]` when it succeeds. */
function complaints(schema: z.ZodType, value: unknown): string[] {
  const result = schema.safeParse(value);
  if (result.success) return [];
  return result.error.issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys' ? issue.keys.map((key) => [...issue.path, key].join('.')) : [issue.path.join('.')],
  );
}

describe('the body of POST /v1/notifications', () => {
  it.each([
    ['recipients', { recipients: Array.from({ length: 1_000 }, (_, i) => `u${i}`) }, { recipients: Array.from({ length: 1_001 }, (_, i) => `u${i}`) }],
    ['recipients', { recipients: ['a'] }, { recipients: [] }],
    ['title', { title: 't'.repeat(200) }, { title: 't'.repeat(201) }],
    ['title', { title: 't' }, { title: '   ' }],
    ['message', { message: 'm'.repeat(10_000) }, { message: 'm'.repeat(10_001) }],
    ['message', { message: 'm' }, { message: '' }],
    // `{"k":"…"}` is 8 bytes plus the value; `é` is two bytes in UTF-8.
    ['data', { data: { k: 'x'.repeat(maxDataBytes - 8) } }, { data: { k: 'x'.repeat(maxDataBytes - 7) } }],
    ['data', { data: { k: 'é'.repeat((maxDataBytes - 8) / 2) } }, { data: { k: `${'é'.repeat((maxDataBytes - 8) / 2)}x` } }],
    ['data', { data: {} }, { data: ['not', 'an', 'object'] }],
    ['relatedObject.id', { relatedObject: { type: 'invoice', id: 'i'.repeat(128) } }, { relatedObject: { type: 'invoice', id: 'i'.repeat(129) } }],
    ['relatedObject.type', { relatedObject: { type: 't'.repeat(64), id: '1' } }, { relatedObject: { type: 't'.repeat(65), id: '1' } }],
  ])('accepts %s at its limit and names it past the limit', (field, atLimit, pastLimit) => {
    // Act
    const accepted = complaints(createNotificationsBodySchema, { ...base, ...atLimit });
    const refused = complaints(createNotificationsBodySchema, { ...base, ...pastLimit });

    // Assess
    expect(accepted).toEqual([]);
    expect(refused).toEqual([field]);
  });

  it('names a repeated recipient', () => {
    // Act + Assess
    expect(complaints(createNotificationsBodySchema, { ...base, recipients: ['bob', 'bob'] })).toEqual(['recipients']);
  });

  it('names every unknown field, inside relatedObject too', () => {
    // Act
    const refused = complaints(createNotificationsBodySchema, { ...base, status: 'sent', relatedObject: { type: 'a', id: 'b', url: 'c' } });

    // Assess
    expect(refused.sort()).toEqual(['relatedObject.url', 'status']);
  });
});

describe('the body of PATCH /v1/notifications/{id}', () => {
  it('takes a new time', () => {
    // Act + Assess
    expect(complaints(rescheduleNotificationBodySchema, { scheduledAt: '2030-01-01T12:00:00Z' })).toEqual([]);
  });

  it.each(serverOwnedNotificationFields)('refuses %s as set by the server', (field) => {
    // Act
    const result = rescheduleNotificationBodySchema.safeParse({ scheduledAt: '2030-01-01T12:00:00Z', [field]: 'x' });

    // Assess
    expect(result.success).toBe(false);
    expect(result.error?.issues).toEqual([
      expect.objectContaining({ path: [field], message: 'is set by the server and cannot be changed' }),
    ]);
  });

  it('names a field it does not know and a missing time', () => {
    // Act + Assess
    expect(complaints(rescheduleNotificationBodySchema, { title: 'x' }).sort()).toEqual(['scheduledAt', 'title']);
  });
});

describe('the body of POST /v1/notifications/{id}/retry', () => {
  it.each([
    [{}, 0],
    [{ delayMinutes: 0 }, 0],
    [{ delayMinutes: 43_200 }, 43_200],
  ])('takes %j as a delay of %i minutes', (body, minutes) => {
    // Act + Assess
    expect(retryNotificationBodySchema.parse(body)).toEqual({ delayMinutes: minutes });
  });

  it.each([[{ delayMinutes: -1 }], [{ delayMinutes: 43_201 }], [{ delayMinutes: 1.5 }], [{ delayMinutes: '5' }]])(
    'names delayMinutes in %j',
    (body) => {
      // Act + Assess
      expect(complaints(retryNotificationBodySchema, body)).toEqual(['delayMinutes']);
    },
  );

  it('refuses anything in the body of send-now', () => {
    // Act + Assess
    expect(complaints(sendNowBodySchema, {})).toEqual([]);
    expect(complaints(sendNowBodySchema, { delayMinutes: 5 })).toEqual(['delayMinutes']);
  });
});

describe('the query of GET /v1/notifications', () => {
  it('pages by 20 unless told, up to 100', () => {
    // Act + Assess
    expect(listNotificationsQuerySchema.parse({}).limit).toBe(20);
    expect(listNotificationsQuerySchema.parse({ limit: '100' }).limit).toBe(100);
    expect(listNotificationsQuerySchema.parse({ limit: '1' }).limit).toBe(1);
  });

  it.each([
    [{ limit: '101' }, 'limit'],
    [{ limit: '0' }, 'limit'],
    [{ limit: 'ten' }, 'limit'],
    [{ limit: '2.5' }, 'limit'],
    [{ status: 'lost' }, 'status'],
    [{ recipientId: 'x'.repeat(256) }, 'recipientId'],
    [{ from: 'yesterday' }, 'from'],
    [{ from: '2030-01-02T00:00:00Z', to: '2030-01-01T00:00:00Z' }, 'from'],
    [{ page: '2' }, 'page'],
  ])('names the parameter wrong in %j', (query, field) => {
    // Act + Assess
    expect(complaints(listNotificationsQuerySchema, query)).toEqual([field]);
  });
});

describe('the query of GET /v1/metrics', () => {
  it.each([
    [{}, 3_600],
    [{ period: '3600' }, 3_600],
    [{ period: '2678400' }, 2_678_400],
  ])('takes %j as a period of %i s', (query, period) => {
    // Act + Assess
    expect(metricsQuerySchema.parse(query)).toEqual({ period });
  });

  it.each([[{ period: '3599' }], [{ period: '2678401' }], [{ period: 'hour' }]])('names period in %j', (query) => {
    // Act + Assess
    expect(complaints(metricsQuerySchema, query)).toEqual(['period']);
  });
});
