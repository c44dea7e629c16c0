/** `herald get` and `herald list` as text: a pending notification past its time says why it has not gone out yet. */
import { describe, expect, it } from 'vitest';
import type { HeraldSchema } from '../../../client/index.ts';
import { describeNotification, listLine, listPageLines } from '../../../cli/commands/notifications.ts';

const pending: HeraldSchema<'Notification'> = {
  id: 'ntf_01ARZ3NDEKTSV4RRFFQ69G5FAV',
  recipientId: 'alice',
  title: 'Invoice',
  message: 'Ready',
  type: 'system',
  priority: 'normal',
  channels: ['inbox', 'email'],
  data: {},
  template: null,
  relatedObject: null,
  status: 'pending',
  scheduledAt: '2030-01-01T21:30:00.000Z',
  sentAt: null,
  createdAt: '2030-01-01T21:29:00.000Z',
  attempts: 0,
  deliveries: {},
  lastError: null,
  lastErrorCategory: null,
  willRetry: false,
  nextAttemptAt: null,
  timezone: null,
  localScheduledAt: null,
  heldUntil: null,
  heldReason: null,
  recurringId: null,
};

describe('herald get', () => {
  it('shows a pending notification held by quiet hours, until when and why', () => {
    // Act
    const lines = describeNotification({ ...pending, heldUntil: '2030-01-02T07:00:00.000Z', heldReason: 'quiet hours 22:00-08:00 in Europe/Paris' });

    // Assess
    expect(lines).toContain('  held       until 2030-01-02T07:00:00.000Z (quiet hours 22:00-08:00 in Europe/Paris)');
  });

  it('shows when a notification waiting after a failed attempt is tried again', () => {
    // Act
    const lines = describeNotification({ ...pending, attempts: 1, lastError: 'ses: Throttling', nextAttemptAt: '2030-01-01T21:35:00.000Z' });

    // Assess
    expect(lines).toContain('  attempts   1  last error: ses: Throttling');
    expect(lines).toContain('  next try   2030-01-01T21:35:00.000Z');
  });

  it('shows an operator each failed channel in the provider’s words', () => {
    // Act
    const lines = describeNotification({
      ...pending,
      status: 'sent',
      deliveries: { email: { status: 'failed', at: pending.scheduledAt, error: 'MessageRejected: arn:aws:ses:eu-west-1:111122223333:identity/x', errorCategory: 'rejected' } },
    });

    // Assess
    expect(lines).toContain('  channels   email failed (MessageRejected: arn:aws:ses:eu-west-1:111122223333:identity/x)');
  });

  it('shows a plain user, whose token reads categories only, the category of each error', () => {
    // Prepare: the view a plain user's token gets, without `lastError` nor any channel's `error`
    const { lastError: _text, ...forRecipient } = pending;

    // Act
    const lines = describeNotification({
      ...forRecipient,
      status: 'pending',
      attempts: 1,
      lastErrorCategory: 'unavailable',
      willRetry: true,
      deliveries: { webhook: { status: 'failed', at: pending.scheduledAt, errorCategory: 'rejected' } },
    });

    // Assess
    expect(lines).toContain('  attempts   1  last error: unavailable');
    expect(lines).toContain('  channels   webhook failed (rejected)');
  });

  it('shows a wall time in a zone beside the instant it was read as', () => {
    // Act
    const lines = describeNotification({ ...pending, timezone: 'Europe/Paris', localScheduledAt: '2030-01-01T22:30:00+01:00' });

    // Assess
    expect(lines).toContain('  scheduled  2030-01-01T21:30:00.000Z (2030-01-01T22:30:00+01:00 in Europe/Paris)');
  });

  it('adds nothing for a notification that is neither held, nor waiting for a retry, nor in a zone', () => {
    // Act
    const lines = describeNotification(pending);

    // Assess
    expect(lines).toEqual([
      'ntf_01ARZ3NDEKTSV4RRFFQ69G5FAV  pending',
      '  to         alice',
      '  title      Invoice',
      '  scheduled  2030-01-01T21:30:00.000Z',
      '  attempts   0',
    ]);
  });
});

describe('herald list', () => {
  it('marks a held notification with the end of its hold', () => {
    // Act
    const line = listLine({ ...pending, heldUntil: '2030-01-02T07:00:00.000Z', heldReason: 'quiet hours 22:00-08:00 in Europe/Paris' });

    // Assess
    expect(line).toBe('ntf_01ARZ3NDEKTSV4RRFFQ69G5FAV  pending    2030-01-01T21:30:00.000Z  alice  Invoice  (held until 2030-01-02T07:00:00.000Z)');
  });

  it('adds nothing to one that is not held', () => {
    // Act + Assess
    expect(listLine(pending)).toBe('ntf_01ARZ3NDEKTSV4RRFFQ69G5FAV  pending    2030-01-01T21:30:00.000Z  alice  Invoice');
  });
});

describe('herald list', () => {
  it('says that nothing matched instead of printing a blank line, naming the filters', () => {
    // Act
    const filtered = listPageLines({ items: [], nextCursor: null }, { recipient: 'nobody', status: 'pending' });
    const unfiltered = listPageLines({ items: [], nextCursor: null }, {});

    // Assess
    expect(filtered).toEqual(['no notifications match --status pending --recipient nobody']);
    expect(unfiltered).toEqual(['no notifications']);
  });

  it('says an empty page that has a next one is empty, and how to ask for the next', () => {
    expect(listPageLines({ items: [], nextCursor: 'c1' }, { status: 'sent' })).toEqual(['none on this page', 'more: herald list --status sent --cursor c1']);
  });

  it('lists a page of notifications a line each', () => {
    expect(listPageLines({ items: [pending], nextCursor: null }, {})).toEqual([listLine(pending)]);
  });
});
