import { describe, expect, it } from 'vitest';
import { toBroadcastRecipientView } from '../../../../shared/domain/broadcast.ts';
import type { BroadcastRecipient } from '../../../../shared/domain/broadcast.ts';
import type { Role } from '../../../../shared/domain/caller.ts';
import { categoryOfVerdict, classifyProviderError, deliveryErrorCategories } from '../../../../shared/domain/delivery-errors.ts';
import { channelDeliveryView, deliveryAudienceOf } from '../../../../shared/domain/delivery-views.ts';
import type { DeliveryAudience } from '../../../../shared/domain/delivery-views.ts';
import { toNotificationView } from '../../../../shared/domain/notification.ts';
import type { ChannelDelivery } from '../../../../shared/domain/notification.ts';
import {
  broadcastRecipientViewSchema,
  diagnosticBroadcastRecipientViewSchema,
  diagnosticNotificationViewSchema,
  notificationViewSchema,
  recipientBroadcastRecipientViewSchema,
  recipientNotificationViewSchema,
} from '../../../../shared/domain/response-schemas.ts';
import { aNotification, awsError } from '../../fakes/fixtures.ts';

const at = '2030-01-01T12:00:00.000Z';
const arn = 'arn:aws:ses:eu-west-1:111122223333:identity/example.com';
const sesRejection = `MessageRejected: Email address is not verified. The following identities failed the check in region EU-WEST-1: ${arn}`;

describe('who sees the providers’ text', () => {
  it.each<[Role[], DeliveryAudience]>([
    [['admin'], 'diagnostic'],
    [['sender'], 'diagnostic'],
    [['operator'], 'diagnostic'],
    [[], 'recipient'],
  ])('a caller with roles %j gets the %s view', (roles, audience) => {
    // Act
    const got = deliveryAudienceOf({ sub: 'bob', tenantId: 'acme', roles });

    // Assess
    expect(got).toBe(audience);
  });
});

describe('the category of a provider error', () => {
  it.each([
    [awsError('MessageRejected', 400), 'rejected'],
    [awsError('Gone', 410), 'gone'],
    [awsError('ServiceUnavailable', 503), 'unavailable'],
    [awsError('Throttling', 400), 'throttled'],
    [awsError('TimeoutError'), 'no_answer'],
  ])('follows the verdict of %s: %s', (error, category) => {
    // Act
    const got = categoryOfVerdict(classifyProviderError(error, 0));

    // Assess
    expect(got).toBe(category);
    expect(deliveryErrorCategories).toContain(got);
  });
});

describe('one channel’s record', () => {
  const failed: ChannelDelivery = { status: 'failed', at, error: sesRejection, errorCategory: 'rejected', locale: 'fr' };

  it('shows those who run the tenant the provider’s text with its category', () => {
    // Act
    const view = channelDeliveryView(failed, 'diagnostic');

    // Assess
    expect(view).toEqual({ status: 'failed', at, error: sesRejection, errorCategory: 'rejected', locale: 'fr' });
  });

  it('shows a plain user the category and never the provider’s text', () => {
    // Act
    const view = channelDeliveryView(failed, 'recipient');

    // Assess
    expect(view).toEqual({ status: 'failed', at, errorCategory: 'rejected', locale: 'fr' });
    expect(JSON.stringify(view)).not.toContain('111122223333');
  });

  it('hides from a plain user the provider text an unconfirmed or sent channel notes, and keeps why a channel was skipped', () => {
    // Prepare
    const unconfirmed: ChannelDelivery = { status: 'unconfirmed', at, detail: 'TimeoutError: connect ETIMEDOUT 10.0.3.7:443', errorCategory: 'no_answer' };
    const sent: ChannelDelivery = { status: 'sent', at, detail: '1 target(s), 1 failed (WebPushError: Received unexpected response code 500 from push.internal)' };
    const skipped: ChannelDelivery = { status: 'skipped', at, detail: 'disabled by preference' };

    // Act
    const views = [unconfirmed, sent, skipped].map((d) => channelDeliveryView(d, 'recipient'));

    // Assess
    expect(views).toEqual([
      { status: 'unconfirmed', at, errorCategory: 'no_answer' },
      { status: 'sent', at },
      { status: 'skipped', at, detail: 'disabled by preference' },
    ]);
  });

  it('reads a record written before categories were as unclassified (failed) or no answer (unconfirmed), in both views', () => {
    // Prepare: what Herald stored before this change
    const oldFailed: ChannelDelivery = { status: 'failed', at, error: sesRejection };
    const oldUnconfirmed: ChannelDelivery = { status: 'unconfirmed', at, detail: 'TimeoutError: socket hang up' };

    // Act
    const views = [channelDeliveryView(oldFailed, 'recipient'), channelDeliveryView(oldFailed, 'diagnostic'), channelDeliveryView(oldUnconfirmed, 'recipient')];

    // Assess
    expect(views).toEqual([
      { status: 'failed', at, errorCategory: 'unclassified' },
      { status: 'failed', at, error: sesRejection, errorCategory: 'unclassified' },
      { status: 'unconfirmed', at, errorCategory: 'no_answer' },
    ]);
  });
});

describe('a notification’s view', () => {
  const retrying = aNotification({
    status: 'pending',
    attempts: 1,
    lastError: `email: ${sesRejection.replace('MessageRejected', 'ServiceUnavailable')}`,
    lastErrorCategory: 'unavailable',
    nextAttemptAt: '2030-01-01T12:05:00.000Z',
    deliveries: { inbox: { status: 'sent', at }, webhook: { status: 'failed', at, error: 'HTTP 400: {"debug":"db01.corp.internal"}', errorCategory: 'rejected' } },
  });

  it('gives a plain user categories and whether it is tried again, no `lastError`, and documents that shape', () => {
    // Act
    const view = toNotificationView(retrying, 'recipient');

    // Assess
    expect(view).not.toHaveProperty('lastError');
    expect(view).toMatchObject({
      lastErrorCategory: 'unavailable',
      willRetry: true,
      deliveries: { inbox: { status: 'sent', at }, webhook: { status: 'failed', at, errorCategory: 'rejected' } },
    });
    expect(JSON.stringify(view)).not.toMatch(/111122223333|corp\.internal/);
    expect(recipientNotificationViewSchema.safeParse(view).success).toBe(true);
    expect(diagnosticNotificationViewSchema.safeParse(view).success).toBe(false);
    expect(notificationViewSchema.safeParse(view).success).toBe(true);
  });

  it('gives those who run the tenant the text too, in the documented diagnostic shape', () => {
    // Act
    const view = toNotificationView(retrying, 'diagnostic');

    // Assess
    expect(view).toMatchObject({
      lastError: expect.stringContaining(arn),
      lastErrorCategory: 'unavailable',
      willRetry: true,
      deliveries: { webhook: { error: 'HTTP 400: {"debug":"db01.corp.internal"}', errorCategory: 'rejected' } },
    });
    expect(diagnosticNotificationViewSchema.safeParse(view).success).toBe(true);
    expect(recipientNotificationViewSchema.safeParse(view).success).toBe(false);
  });

  it('reads an old failed notification without a category as unclassified and not tried again', () => {
    // Prepare: stored before categories were
    const old = aNotification({ status: 'failed', attempts: 4, lastError: `Every channel failed (email: ${sesRejection})`, deliveries: { email: { status: 'failed', at, error: sesRejection } } });

    // Act
    const [forUser, forAdmin] = [toNotificationView(old, 'recipient'), toNotificationView(old, 'diagnostic')];

    // Assess
    expect(forUser).toMatchObject({ lastErrorCategory: 'unclassified', willRetry: false, deliveries: { email: { status: 'failed', at, errorCategory: 'unclassified' } } });
    expect(JSON.stringify(forUser)).not.toContain('111122223333');
    expect(forAdmin).toMatchObject({ lastError: old.lastError, lastErrorCategory: 'unclassified', willRetry: false });
    expect(notificationViewSchema.safeParse(forUser).success).toBe(true);
    expect(notificationViewSchema.safeParse(forAdmin).success).toBe(true);
  });

  it('says nothing failed when nothing did', () => {
    // Act
    const view = toNotificationView(aNotification(), 'recipient');

    // Assess
    expect(view).toMatchObject({ lastErrorCategory: null, willRetry: false, deliveries: {} });
  });
});

describe('a broadcast recipient’s view', () => {
  const row: BroadcastRecipient = {
    tenantId: 'acme',
    broadcastId: 'brd_x',
    recipientId: 'bob',
    status: 'failed',
    attempts: 1,
    deliveries: { email: { status: 'failed', at, error: sesRejection } },
    lastError: `Every channel failed (email: ${sesRejection})`,
    run: 0,
    createdAt: at,
    updatedAt: at,
  };

  it('keeps the text for those who run the tenant and gives anyone else the category, old rows read as unclassified', () => {
    // Act
    const [diagnostic, recipient] = [toBroadcastRecipientView(row, 'diagnostic'), toBroadcastRecipientView(row, 'recipient')];

    // Assess
    expect(diagnostic).toMatchObject({ error: row.lastError, errorCategory: 'unclassified', willRetry: false, channels: { email: { error: sesRejection } } });
    expect(recipient).not.toHaveProperty('error');
    expect(recipient).toMatchObject({ errorCategory: 'unclassified', channels: { email: { status: 'failed', at, errorCategory: 'unclassified' } } });
    expect(JSON.stringify(recipient)).not.toContain('111122223333');
    expect(diagnosticBroadcastRecipientViewSchema.safeParse(diagnostic).success).toBe(true);
    expect(recipientBroadcastRecipientViewSchema.safeParse(recipient).success).toBe(true);
    expect(broadcastRecipientViewSchema.safeParse(recipient).success).toBe(true);
  });
});
