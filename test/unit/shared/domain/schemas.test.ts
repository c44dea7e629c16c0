import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../../shared/errors.ts';
import { newNotificationId } from '../../../../shared/domain/ids.ts';
import {
  batchRecipientEntrySchema,
  celeryScheduleBodySchema,
  createBroadcastBodySchema,
  createNotificationsBodySchema,
  createRecurringBodySchema,
  deliveryMessageSchema,
  idSchema,
  listBroadcastsQuerySchema,
  listNotificationsQuerySchema,
  maxRecipientsPerRequest,
  notificationIdSchema,
  patchRecurringBodySchema,
  putRecipientBodySchema,
  recurringScheduleChangeSchema,
  recurringScheduleSchema,
  tenantSettingsBodySchema,
  updateMeBodySchema,
} from '../../../../shared/domain/schemas.ts';
import { parseWith } from '../../../../shared/http/request.ts';

const validBody = { recipients: ['bob'], title: 'Standup', message: 'Starts in 5 minutes' };

/** The ValidationError that parsing `value` raises (fails the test if none is raised). */
function validationErrorOf(parse: () => unknown): ValidationError {
  try {
    parse();
  } catch (error) {
    if (error instanceof ValidationError) return error;
    throw error;
  }
  throw new Error('expected a ValidationError, but parsing succeeded');
}

describe('createNotificationsBodySchema', () => {
  it('accepts a minimal body and fills in the type and priority', () => {
    // Prepare
    const body = validBody;

    // Act
    const parsed = createNotificationsBodySchema.parse(body);

    // Assess
    expect(parsed).toEqual({ ...validBody, type: 'system', priority: 'normal' });
  });

  it('accepts a title of exactly 200 characters', () => {
    // Prepare
    const body = { ...validBody, title: 'x'.repeat(200) };

    // Act
    const result = createNotificationsBodySchema.safeParse(body);

    // Assess
    expect(result.success).toBe(true);
  });

  it('rejects a title of 201 characters, naming the title', () => {
    // Prepare
    const body = { ...validBody, title: 'x'.repeat(201) };

    // Act
    const error = validationErrorOf(() => parseWith(createNotificationsBodySchema, body, 'body'));

    // Assess
    expect(error.details).toEqual([{ field: 'title', message: 'must be at most 200 characters' }]);
  });

  it('rejects a title of only spaces', () => {
    // Prepare
    const body = { ...validBody, title: '   ' };

    // Act
    const result = createNotificationsBodySchema.safeParse(body);

    // Assess
    expect(result.success).toBe(false);
  });

  it('rejects an empty recipient list', () => {
    // Prepare
    const body = { ...validBody, recipients: [] };

    // Act
    const error = validationErrorOf(() => parseWith(createNotificationsBodySchema, body, 'body'));

    // Assess
    expect(error.details).toEqual([{ field: 'recipients', message: 'must name at least one recipient' }]);
  });

  it('rejects a recipient named twice', () => {
    // Prepare
    const body = { ...validBody, recipients: ['bob', 'carol', 'bob'] };

    // Act
    const error = validationErrorOf(() => parseWith(createNotificationsBodySchema, body, 'body'));

    // Assess
    expect(error.details).toEqual([{ field: 'recipients', message: 'must not repeat a recipient' }]);
  });

  it('rejects more recipients than one request may name', () => {
    // Prepare
    const recipients = Array.from({ length: maxRecipientsPerRequest + 1 }, (_, i) => `user-${i}`);

    // Act
    const result = createNotificationsBodySchema.safeParse({ ...validBody, recipients });

    // Assess
    expect(result.success).toBe(false);
  });

  it('rejects an unknown field and names it', () => {
    // Prepare
    const body = { ...validBody, sendAt: '2030-01-01T00:00:00Z' };

    // Act
    const error = validationErrorOf(() => parseWith(createNotificationsBodySchema, body, 'body'));

    // Assess
    expect(error.details).toEqual([{ field: 'sendAt', message: 'is not a known field' }]);
    expect(error.message).toContain('sendAt');
  });

  it.each(['2030-01-01T12:00:00Z', '2030-01-01T12:00:00.250Z', '2030-01-01T14:00:00+02:00'])(
    'accepts scheduledAt with an offset (%s)',
    (scheduledAt) => {
      // Prepare
      const body = { ...validBody, scheduledAt };

      // Act
      const result = createNotificationsBodySchema.safeParse(body);

      // Assess
      expect(result.success).toBe(true);
    },
  );

  it.each(['2030-01-01', 'tomorrow', '2030-13-01T12:00:00Z', '2030-01-01T12:00:00+25:00', '2030-01-01T12:00Z', '2030-01-01T12:00+02:00'])(
    'rejects scheduledAt that is not a date-time (%s), naming scheduledAt and saying an offset needs seconds',
    (scheduledAt) => {
      // Prepare
      const body = { ...validBody, scheduledAt };

      // Act
      const error = validationErrorOf(() => parseWith(createNotificationsBodySchema, body, 'body'));

      // Assess
      expect(error.details).toEqual([
        { field: 'scheduledAt', message: 'must be an ISO-8601 date-time with an offset, seconds included (2027-03-28T09:00:00Z), or a wall time without an offset (2027-03-28T09:00) given with timezone' },
      ]);
    },
  );

  it.each([
    ['lower-case t and z', '2030-06-01t09:00:00z', undefined, '2030-06-01T09:00:00Z'],
    ['a space for T, with an offset', '2030-06-01 09:00:00.250+02:00', undefined, '2030-06-01T09:00:00.250+02:00'],
    ['a wall time with a space for T', '2030-06-01 09:00', 'Europe/Paris', '2030-06-01T09:00'],
    ['a wall time with a lower-case t', '2030-06-01t09:00:30', 'Europe/Paris', '2030-06-01T09:00:30'],
  ])('reads scheduledAt in every spelling RFC 3339 allows (%s), as Herald spells it', (_case, scheduledAt, timezone, spelled) => {
    // Act
    const body = parseWith(createNotificationsBodySchema, { ...validBody, scheduledAt, ...(timezone ? { timezone } : {}) }, 'body');

    // Assess
    expect(body.scheduledAt).toBe(spelled);
  });

  it.each(['4086-61-03T10:32:62', '2027-02-29T09:00', '2030-04-31T12:00', '2030-01-01T24:00', '2030-01-01T12:60', '2027-06-30T23:59:60', '2028-12-31T23:59:60.5'])(
    'rejects a wall time that names no real day and time (%s), with its zone given, naming scheduledAt',
    (scheduledAt) => {
      // Act: found by the fuzz test on the Celery route, which answered 500 from Temporal's parser
      const error = validationErrorOf(() => parseWith(createNotificationsBodySchema, { ...validBody, scheduledAt, timezone: 'Europe/Paris' }, 'body'));
      const celery = validationErrorOf(() =>
        parseWith(celeryScheduleBodySchema, { recipients: [4], title: 't', message: 'm', scheduled_at: scheduledAt, timezone: 'Europe/Paris' }, 'body'),
      );

      // Assess
      expect(error.details).toEqual([expect.objectContaining({ field: 'scheduledAt' })]);
      expect(celery.details).toEqual([expect.objectContaining({ field: 'scheduled_at' })]);
    },
  );

  it('takes a wall time on a leap day, and at the last second of a day', () => {
    // Act / Assess
    expect(parseWith(createNotificationsBodySchema, { ...validBody, scheduledAt: '2028-02-29T09:00', timezone: 'Europe/Paris' }, 'body').scheduledAt).toBe('2028-02-29T09:00');
    expect(parseWith(createNotificationsBodySchema, { ...validBody, scheduledAt: '2028-06-30T23:59:59', timezone: 'UTC' }, 'body').scheduledAt).toBe('2028-06-30T23:59:59');
  });

  it('refuses a leap second with an offset as without one, naming scheduledAt', () => {
    // Act
    const instant = validationErrorOf(() => parseWith(createNotificationsBodySchema, { ...validBody, scheduledAt: '2027-06-30T23:59:60Z' }, 'body'));
    const wallTime = validationErrorOf(() => parseWith(createNotificationsBodySchema, { ...validBody, scheduledAt: '2027-06-30T23:59:60', timezone: 'UTC' }, 'body'));

    // Assess
    expect(wallTime.details).toEqual(instant.details);
    expect(wallTime.details).toEqual([expect.objectContaining({ field: 'scheduledAt' })]);
  });

  it('rejects a wall time without an offset when no timezone says where, naming timezone', () => {
    // Act
    const error = validationErrorOf(() => parseWith(createNotificationsBodySchema, { ...validBody, scheduledAt: '2030-01-01T12:00:00' }, 'body'));

    // Assess
    expect(error.details).toEqual([{ field: 'timezone', message: 'is required when scheduledAt has no offset' }]);
  });

  it.each(['Mars/Olympus_Mons', '+01:00', 'x'.repeat(65)])('rejects an unknown zone (%s), naming timezone', (timezone) => {
    // Act
    const error = validationErrorOf(() => parseWith(createNotificationsBodySchema, { ...validBody, scheduledAt: '2030-01-01T12:00:00', timezone }, 'body'));

    // Assess
    expect((error.details as { field: string }[])[0]?.field).toBe('timezone');
  });

  it.each([
    ['2030-01-01T12:00', 'Europe/Paris'],
    ['2030-01-01T12:00:00.250', 'recipient'],
    ['2030-01-01T12:00:00Z', 'America/New_York'],
  ])('accepts %s with timezone %s', (scheduledAt, timezone) => {
    // Act
    const result = createNotificationsBodySchema.safeParse({ ...validBody, scheduledAt, timezone });

    // Assess
    expect(result.success).toBe(true);
  });

  it('rejects an unknown channel and a repeated one', () => {
    // Prepare
    const unknown = { ...validBody, channels: ['fax'] };
    const repeated = { ...validBody, channels: ['email', 'email'] };

    // Act
    const unknownResult = createNotificationsBodySchema.safeParse(unknown);
    const repeatedResult = createNotificationsBodySchema.safeParse(repeated);

    // Assess
    expect(unknownResult.success).toBe(false);
    expect(repeatedResult.success).toBe(false);
  });

  it.each([
    ['', 'must not be empty'],
    ['   ', 'must not be blank'],
    ['s'.repeat(256), 'must be at most 255 characters'],
    ['bob\nadmin', 'must be one line of text: no control characters or line breaks'],
    ['bob\u2028admin', 'must be one line of text: no control characters or line breaks'],
    ['half \ud83d', 'must be well-formed Unicode (it holds a lone surrogate, half a character)'],
  ])('rejects the recipient id %j', (id, message) => {
    // Prepare
    const body = { ...validBody, recipients: [id] };

    // Act
    const error = validationErrorOf(() => parseWith(createNotificationsBodySchema, body, 'body'));

    // Assess
    expect(error.details).toEqual([{ field: 'recipients.0', message }]);
  });
});

describe('instants in order (from/to, startAt/endAt)', () => {
  const schedule = { cron: '0 9 * * *' };
  it.each([
    ['GET /v1/notifications', listNotificationsQuerySchema, {}, 'from', 'to', 'from', 'must not be after to'],
    ['GET /v1/broadcasts', listBroadcastsQuerySchema, {}, 'from', 'to', 'from', 'must not be after to'],
    ['a recurring schedule', recurringScheduleSchema, schedule, 'startAt', 'endAt', 'endAt', 'must be after startAt'],
    ['a recurring schedule change', recurringScheduleChangeSchema, {}, 'startAt', 'endAt', 'endAt', 'must be after startAt'],
  ] as const)('%s: names an instant that is not one alone, not also out of order, and two valid ones out of order', (_, schema, base, first, second, field, order) => {
    const issues = (value: Record<string, unknown>): { field: string; message: string }[] =>
      (validationErrorOf(() => parseWith(schema, { ...base, ...value }, 'body')).details as { field: string; message: string }[]).map((d) => ({ field: d.field, message: d.message }));
    const instantMessage = 'must be an ISO-8601 date-time with an offset, seconds included (2027-03-28T09:00:00Z)';
    // `Date.parse` reads these, and would have put them after (or NaN not before) the other.
    for (const bad of ['2030-01-01 10:00', 'garbage', '2030-01-01T10:00:00 02:00']) {
      expect(issues({ [first]: bad, [second]: '2020-01-01T00:00:00Z' }), bad).toEqual([{ field: first, message: instantMessage }]);
      expect(issues({ [first]: '2040-01-01T00:00:00Z', [second]: bad }), bad).toEqual([{ field: second, message: instantMessage }]);
    }
    expect(issues({ [first]: '2030-01-02T00:00:00Z', [second]: '2030-01-01T00:00:00Z' })).toEqual([{ field, message: order }]);
  });
});

describe('idSchema', () => {
  it.each(['bob', 'user@example.com', 'auth0:x', 'auth0|64f1c2d3e4', 'acme#bob', 'bob smith', '100%', 'José', '-leading-dash', 'x'.repeat(255)])('accepts %s', (id) => {
    // Prepare: the id comes from the table

    // Act
    const result = idSchema.safeParse(id);

    // Assess
    expect(result.success).toBe(true);
  });

  it.each(['', 'x'.repeat(256), 'a\u0000b', 'a\u0085b'])('rejects %j', (id) => {
    // Prepare: the id comes from the table

    // Act
    const result = idSchema.safeParse(id);

    // Assess
    expect(result.success).toBe(false);
  });
});

describe('putRecipientBodySchema', () => {
  it('accepts an address, a known time zone and groups', () => {
    // Prepare
    const body = { email: 'bob@example.com', timezone: 'Europe/Paris', groups: ['ops', 'eng'] };

    // Act
    const result = putRecipientBodySchema.safeParse(body);

    // Assess
    expect(result.success).toBe(true);
  });

  it.each(['Mars/Olympus_Mons', 'GMT+25', 'not a zone'])('rejects the time zone %s, naming timezone', (timezone) => {
    // Prepare
    const body = { timezone };

    // Act
    const error = validationErrorOf(() => parseWith(putRecipientBodySchema, body, 'body'));

    // Assess
    expect(error.details).toEqual([{ field: 'timezone', message: 'is not a known IANA time zone' }]);
  });

  it('rejects a malformed address and a group id with #', () => {
    // Prepare
    const body = { email: 'not-an-address', groups: ['ops#1'] };

    // Act
    const error = validationErrorOf(() => parseWith(putRecipientBodySchema, body, 'body'));

    // Assess
    expect(error.details).toEqual([
      { field: 'email', message: 'must be an email address' },
      { field: 'groups.0', message: expect.stringContaining('letters, digits') },
    ]);
  });

  it('rejects an unknown field and names it', () => {
    // Prepare
    const body = { email: 'bob@example.com', fax: '+331234' };

    // Act
    const error = validationErrorOf(() => parseWith(putRecipientBodySchema, body, 'body'));

    // Assess
    expect(error.details).toEqual([{ field: 'fax', message: 'is not a known field' }]);
  });
});

/** Every body that takes a time zone: a body with `zone` in it, and the field of the parsed body that holds it. */
const zoneBodies = [
  ['POST /v1/notifications', createNotificationsBodySchema, (zone: string) => ({ ...validBody, scheduledAt: '2030-01-01T09:00', timezone: zone }), 'timezone'],
  ['POST /v1/broadcasts', createBroadcastBodySchema, (zone: string) => ({ audience: { all: true }, title: 't', message: 'm', scheduledAt: '2030-01-01T09:00', timezone: zone }), 'timezone'],
  ['POST /api/notifications/schedule/', celeryScheduleBodySchema, (zone: string) => ({ recipients: [4], title: 't', message: 'm', scheduled_at: '2030-01-01T09:00', timezone: zone }), 'timezone'],
  ['PUT /v1/settings', tenantSettingsBodySchema, (zone: string) => ({ defaultTimezone: zone }), 'defaultTimezone'],
  ['PUT /v1/recipients/{id}', putRecipientBodySchema, (zone: string) => ({ timezone: zone }), 'timezone'],
  ['a POST /v1/recipients/batch entry', batchRecipientEntrySchema, (zone: string) => ({ id: 'bob', timezone: zone }), 'timezone'],
  ['PATCH /v1/me', updateMeBodySchema, (zone: string) => ({ timezone: zone }), 'timezone'],
  ['POST /v1/recurring-notifications', createRecurringBodySchema, (zone: string) => ({ ...validBody, schedule: { rate: '1 day', timezone: zone } }), 'schedule.timezone'],
  ['PATCH /v1/recurring-notifications/{id}', patchRecurringBodySchema, (zone: string) => ({ schedule: { timezone: zone } }), 'schedule.timezone'],
] as const;

/** The value at `field` (`schedule.timezone`) of a parsed body. */
function valueAt(parsed: unknown, field: string): unknown {
  return field.split('.').reduce<unknown>((value, key) => (value as Record<string, unknown> | undefined)?.[key], parsed);
}

describe('time zones, in every body that takes one', () => {
  it.each(
    zoneBodies.flatMap(([route, schema, body, field]) =>
      ([['europe/paris', 'Europe/Paris'], ['UTC', 'UTC'], ['utc', 'UTC'], ['asia/calcutta', 'Asia/Calcutta']] as const).map(([given, spelled]) => [route, given, spelled, schema, body, field] as const),
    ),
  )('%s reads the zone %s as the tz database spells it, %s', (_, given, spelled, schema, body, field) => {
    // Act
    const parsed = parseWith(schema, body(given), 'body');

    // Assess
    expect(valueAt(parsed, field)).toBe(spelled);
  });

  it.each(zoneBodies.slice(0, 3))('%s keeps "recipient", which names no zone but each recipient\'s own', (_, schema, body, field) => {
    // Act
    const parsed = parseWith(schema, body('recipient'), 'body');

    // Assess
    expect(valueAt(parsed, field)).toBe('recipient');
  });
});

describe('notification ids and delivery messages', () => {

  it('accepts the ids Herald makes and nothing else', () => {
    // Prepare
    const id = newNotificationId(new Date('2030-01-01T00:00:00Z'));

    // Act
    const ours = notificationIdSchema.safeParse(id);
    const foreign = notificationIdSchema.safeParse('brd_01JABCDEFGHJKMNPQRSTVWXYZ0');
    const withHash = notificationIdSchema.safeParse(`${id}#x`);

    // Assess
    expect(id).toMatch(/^ntf_[0-9A-Z]{26}$/);
    expect(id.length).toBeLessThanOrEqual(64);
    expect(ours.success).toBe(true);
    expect(foreign.success).toBe(false);
    expect(withHash.success).toBe(false);
  });

  it('makes ids that sort by creation time', () => {
    // Prepare
    const earlier = new Date('2030-01-01T00:00:00Z');
    const later = new Date('2030-01-01T00:00:01Z');

    // Act
    const first = newNotificationId(earlier);
    const second = newNotificationId(later);

    // Assess
    expect(first < second).toBe(true);
  });

  it('rejects a delivery message whose tenant carries a #', () => {
    // Prepare
    const message = { tenantId: 'acme#other', notificationId: newNotificationId(new Date()) };

    // Act
    const result = deliveryMessageSchema.safeParse(message);

    // Assess
    expect(result.success).toBe(false);
  });
});
