/** The Celery scheduler's words: its schedule body read as Herald's, and Herald's notification told in its terms. */
import { describe, expect, it } from 'vitest';
import { toCeleryScheduleStatus, toCeleryScheduledStatus } from '../../../../shared/domain/celery-scheduler.ts';
import { notificationStatuses } from '../../../../shared/domain/notification.ts';
import { celeryScheduleBodySchema } from '../../../../shared/domain/schemas.ts';
import { parseWith } from '../../../../shared/http/request.ts';
import { ValidationError } from '../../../../shared/errors.ts';
import { aNotification } from '../../fakes/fixtures.ts';

const valid = { recipients: ['alice'], title: 'Invoice ready', message: 'Your invoice is ready', scheduled_at: '2030-01-01T08:00:00Z' };

function refusal(body: unknown): { field: string; message: string }[] {
  try {
    parseWith(celeryScheduleBodySchema, body, 'body');
  } catch (error) {
    if (error instanceof ValidationError) return error.details as { field: string; message: string }[];
    throw error;
  }
  throw new Error('the body was accepted');
}

describe('the Celery scheduler schedule body', () => {
  it('reads as a POST /v1/notifications body, numbers becoming id strings', () => {
    // Act
    const body = celeryScheduleBodySchema.parse({
      ...valid,
      recipients: [1001, 'bob'],
      type: 'invoice.ready',
      priority: 'high',
      related_object_type: 'invoice',
      related_object_id: 42,
      data: { amount: 12 },
    });

    // Assess
    expect(body).toEqual({
      recipients: ['1001', 'bob'],
      title: 'Invoice ready',
      message: 'Your invoice is ready',
      scheduledAt: '2030-01-01T08:00:00Z',
      type: 'invoice.ready',
      priority: 'high',
      relatedObject: { type: 'invoice', id: '42' },
      data: { amount: 12 },
    });
  });

  it('reads null optional fields as absent, with the defaults of a Herald body', () => {
    // Act
    const body = celeryScheduleBodySchema.parse({ ...valid, type: null, priority: null, related_object_type: null, related_object_id: null, data: null });

    // Assess
    expect(body).toEqual({ recipients: ['alice'], title: 'Invoice ready', message: 'Your invoice is ready', scheduledAt: '2030-01-01T08:00:00Z', type: 'system', priority: 'normal' });
  });

  it.each([
    ['no recipients', { recipients: [] }, 'recipients', 'must name at least one recipient'],
    ['the same recipient as a number and a string', { recipients: [7, '7'] }, 'recipients', 'must not repeat a recipient'],
    ['a negative recipient number', { recipients: [-1] }, 'recipients.0', 'must be a recipient id (a string) or a whole number'],
    ['a time without an offset or a timezone', { scheduled_at: '2030-01-01T08:00:00' }, 'timezone', 'is required when scheduled_at has no offset'],
    ['a time that is not a date-time', { scheduled_at: 'tomorrow' }, 'scheduled_at', 'must be an ISO-8601 date-time with an offset, seconds included (2027-03-28T09:00:00Z), or a wall time without an offset (2027-03-28T09:00) given with timezone'],
    ['an unknown zone', { scheduled_at: '2030-01-01T08:00:00', timezone: 'Mars/Olympus_Mons' }, 'timezone', 'must be a known IANA time zone or "recipient"'],
    ['a time with an offset but no seconds', { scheduled_at: '2030-01-01T08:00Z' }, 'scheduled_at', 'must be an ISO-8601 date-time with an offset, seconds included (2027-03-28T09:00:00Z), or a wall time without an offset (2027-03-28T09:00) given with timezone'],
    ['a wall time at a leap second', { scheduled_at: '2027-06-30T23:59:60', timezone: 'UTC' }, 'scheduled_at', 'must be an ISO-8601 date-time with an offset, seconds included (2027-03-28T09:00:00Z), or a wall time without an offset (2027-03-28T09:00) given with timezone'],
    ['an object id without its type', { related_object_id: 42 }, 'related_object_type', 'must be given with related_object_id'],
    ['an object type without its id', { related_object_type: 'invoice' }, 'related_object_id', 'must be given with related_object_type'],
    ['a field Herald owns', { status: 'sent' }, 'status', 'is not a known field'],
    ['a title over 200 characters', { title: 'x'.repeat(201) }, 'title', 'must be at most 200 characters'],
  ])('refuses %s, naming the field in its own words', (_case, change, field, message) => {
    // Act
    const details = refusal({ ...valid, ...change });

    // Assess
    expect(details).toContainEqual({ field, message });
  });

  it('needs scheduled_at', () => {
    // Act
    const details = refusal({ recipients: ['alice'], title: 't', message: 'm' });

    // Assess
    expect(details.map((d) => d.field)).toEqual(['scheduled_at']);
  });
});

describe('a notification in the Celery scheduler terms', () => {
  it.each(notificationStatuses.map((status) => [status]))('shows %s as a status the scheduler knew', (status) => {
    // Act
    const shown = toCeleryScheduledStatus(status);

    // Assess
    expect(shown).toBe(status === 'sending' ? 'pending' : status);
  });

  it('says whether and when it was sent', () => {
    // Prepare
    const sent = aNotification({ status: 'sent', sentAt: '2030-01-01T08:00:01.000Z' });

    // Act
    const view = toCeleryScheduleStatus(sent);

    // Assess
    expect(view).toEqual({
      id: sent.id,
      title: sent.title,
      scheduled_at: sent.scheduledAt,
      scheduled_status: 'sent',
      is_sent: true,
      sent_at: '2030-01-01T08:00:01.000Z',
      created_at: sent.createdAt,
    });
  });

  it('has no sent time while pending', () => {
    // Act
    const view = toCeleryScheduleStatus(aNotification({ status: 'pending' }));

    // Assess
    expect(view).toMatchObject({ scheduled_status: 'pending', is_sent: false, sent_at: null });
  });
});
