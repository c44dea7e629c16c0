import { describe, expect, it } from 'vitest';
import {
  broadcastDeliveryMessageSchema,
  createBroadcastBodySchema,
  fanoutMessageSchema,
  listBroadcastRecipientsQuerySchema,
  listBroadcastsQuerySchema,
  maxBroadcastGroups,
  maxBroadcastRecipientIds,
  scheduleBroadcastBodySchema,
} from '../../../../shared/domain/schemas.ts';
import { parseWith } from '../../../../shared/http/request.ts';
import { ValidationError } from '../../../../shared/errors.ts';

const valid = { audience: { groups: ['staff'] }, title: 'Maintenance', message: 'Tonight at 2am' };

/** The fields a ValidationError names. */
function fieldsOf(run: () => unknown): string[] {
  try {
    run();
  } catch (error) {
    if (error instanceof ValidationError) return (error.details as { field: string }[]).map((d) => d.field);
    throw error;
  }
  throw new Error('expected a ValidationError');
}

const ids = (n: number): string[] => Array.from({ length: n }, (_, i) => `user-${i}`);

describe('createBroadcastBodySchema', () => {
  it('fills the defaults of a notification: type system, priority normal, not a draft', () => {
    // Act
    const body = parseWith(createBroadcastBodySchema, valid, 'body');

    // Assess
    expect(body).toEqual({ ...valid, type: 'system', priority: 'normal', draft: false });
  });

  it('accepts every audience form: all, groups, an explicit list', () => {
    // Act / Assess
    for (const audience of [{ all: true }, { groups: ['a', 'b'] }, { recipientIds: ['bob'] }]) {
      expect(parseWith(createBroadcastBodySchema, { ...valid, audience }, 'body').audience).toEqual(audience);
    }
  });

  it('refuses an audience that names none or several forms', () => {
    // Act / Assess
    expect(fieldsOf(() => parseWith(createBroadcastBodySchema, { ...valid, audience: {} }, 'body'))).toEqual(['audience']);
    expect(fieldsOf(() => parseWith(createBroadcastBodySchema, { ...valid, audience: { all: true, groups: ['a'] } }, 'body'))).toEqual(['audience']);
  });

  it('refuses all: false, an empty group list and unknown audience fields', () => {
    // Act / Assess
    expect(fieldsOf(() => parseWith(createBroadcastBodySchema, { ...valid, audience: { all: false } }, 'body'))).toContain('audience.all');
    expect(fieldsOf(() => parseWith(createBroadcastBodySchema, { ...valid, audience: { groups: [] } }, 'body'))).toContain('audience.groups');
    expect(fieldsOf(() => parseWith(createBroadcastBodySchema, { ...valid, audience: { tenant: 'x' } }, 'body'))).toContain('audience.tenant');
  });

  it(`takes ${maxBroadcastRecipientIds} explicit recipients and refuses one more`, () => {
    // Act / Assess
    expect(parseWith(createBroadcastBodySchema, { ...valid, audience: { recipientIds: ids(maxBroadcastRecipientIds) } }, 'body')).toBeDefined();
    expect(
      fieldsOf(() => parseWith(createBroadcastBodySchema, { ...valid, audience: { recipientIds: ids(maxBroadcastRecipientIds + 1) } }, 'body')),
    ).toEqual(['audience.recipientIds']);
  });

  it(`takes ${maxBroadcastGroups} groups and refuses one more, or a repeated one`, () => {
    // Act / Assess
    expect(parseWith(createBroadcastBodySchema, { ...valid, audience: { groups: ids(maxBroadcastGroups) } }, 'body')).toBeDefined();
    expect(fieldsOf(() => parseWith(createBroadcastBodySchema, { ...valid, audience: { groups: ids(maxBroadcastGroups + 1) } }, 'body'))).toEqual([
      'audience.groups',
    ]);
    expect(fieldsOf(() => parseWith(createBroadcastBodySchema, { ...valid, audience: { groups: ['a', 'a'] } }, 'body'))).toEqual(['audience.groups']);
  });

  it('refuses a repeated recipient and a malformed id', () => {
    // Act / Assess
    expect(fieldsOf(() => parseWith(createBroadcastBodySchema, { ...valid, audience: { recipientIds: ['bob', 'bob'] } }, 'body'))).toEqual([
      'audience.recipientIds',
    ]);
    expect(fieldsOf(() => parseWith(createBroadcastBodySchema, { ...valid, audience: { recipientIds: ['a\tb'] } }, 'body'))).toEqual([
      'audience.recipientIds.0',
    ]);
  });

  it('applies the content rules of notifications (title, channels, data, scheduledAt)', () => {
    // Act / Assess
    expect(fieldsOf(() => parseWith(createBroadcastBodySchema, { ...valid, title: 'x'.repeat(201) }, 'body'))).toEqual(['title']);
    expect(fieldsOf(() => parseWith(createBroadcastBodySchema, { ...valid, channels: ['fax'] }, 'body'))).toEqual(['channels.0']);
    expect(fieldsOf(() => parseWith(createBroadcastBodySchema, { ...valid, data: { blob: 'x'.repeat(17_000) } }, 'body'))).toEqual(['data']);
    expect(fieldsOf(() => parseWith(createBroadcastBodySchema, { ...valid, scheduledAt: 'tomorrow' }, 'body'))).toEqual(['scheduledAt']);
  });

  it.each(['UTC', 'recipient'])('refuses a wall time at a leap second (in %s), naming scheduledAt', (timezone) => {
    // Act / Assess
    expect(fieldsOf(() => parseWith(createBroadcastBodySchema, { ...valid, scheduledAt: '2027-06-30T23:59:60', timezone }, 'body'))).toEqual(['scheduledAt']);
  });

  it('refuses fields it does not know and a draft flag that is not a boolean', () => {
    // Act / Assess
    expect(fieldsOf(() => parseWith(createBroadcastBodySchema, { ...valid, status: 'completed' }, 'body'))).toEqual(['status']);
    expect(fieldsOf(() => parseWith(createBroadcastBodySchema, { ...valid, draft: 'yes' }, 'body'))).toEqual(['draft']);
  });
});

describe('the other broadcast schemas', () => {
  it('takes an empty schedule body and refuses unknown fields in it', () => {
    // Act / Assess
    expect(parseWith(scheduleBroadcastBodySchema, {}, 'body')).toEqual({});
    expect(fieldsOf(() => parseWith(scheduleBroadcastBodySchema, { when: 'now' }, 'body'))).toEqual(['when']);
  });

  it('refuses a listing whose from is after its to, and an unknown status', () => {
    // Act / Assess
    expect(fieldsOf(() => parseWith(listBroadcastsQuerySchema, { from: '2030-01-02T00:00:00Z', to: '2030-01-01T00:00:00Z' }, 'query'))).toEqual([
      'from',
    ]);
    expect(fieldsOf(() => parseWith(listBroadcastsQuerySchema, { status: 'done' }, 'query'))).toEqual(['status']);
    expect(fieldsOf(() => parseWith(listBroadcastRecipientsQuerySchema, { status: 'sending' }, 'query'))).toEqual(['status']);
  });

  it('reads fan-out and delivery messages, and refuses foreign ones', () => {
    // Prepare
    const ref = { tenantId: 'acme', broadcastId: 'brd_01HZZZZZZZZZZZZZZZZZZZZZZZ' };

    // Act / Assess
    expect(fanoutMessageSchema.safeParse({ kind: 'resolve', ...ref, page: 2 }).success).toBe(true);
    expect(fanoutMessageSchema.safeParse({ kind: 'resolve', ...ref, page: -1 }).success).toBe(false);
    expect(fanoutMessageSchema.safeParse({ kind: 'explode', ...ref }).success).toBe(false);
    expect(broadcastDeliveryMessageSchema.safeParse({ ...ref, recipientIds: ['bob'] }).success).toBe(true);
    expect(broadcastDeliveryMessageSchema.safeParse({ ...ref, recipientIds: [] }).success).toBe(false);
  });
});
