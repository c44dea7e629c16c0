import { describe, expect, it } from 'vitest';
import { toNotificationView } from '../../../../shared/domain/notification.ts';
import { countFitting, maxListingPayloadBytes } from '../../../../shared/domain/payload-budget.ts';
import { lambdaPayloadQuotaBytes } from '../../../../shared/http/body-limits.ts';
import { maxDataBytes, maxMessageLength, maxPageSize, maxSubjectLength, maxTitleLength } from '../../../../shared/domain/schemas.ts';
import { aNotification } from '../../fakes/fixtures.ts';

/** A notification with every free-form field at its limit, in the characters that grow most when escaped. */
function aLargestNotification(): ReturnType<typeof aNotification> {
  return aNotification({
    recipientId: '"'.repeat(maxSubjectLength),
    title: '"'.repeat(maxTitleLength),
    message: '\u0000'.repeat(maxMessageLength),
    data: { k: '"'.repeat(maxDataBytes / 2 - 8) },
  });
}

describe('the payload budget of a listing', () => {
  it('would be broken by a full page of the largest notifications, which is why it exists', () => {
    // Prepare
    const views = Array.from({ length: maxPageSize }, () => toNotificationView(aLargestNotification(), 'diagnostic'));

    // Act
    const whole = Buffer.byteLength(JSON.stringify(JSON.stringify({ items: views })));

    // Assess
    expect(whole).toBeGreaterThan(lambdaPayloadQuotaBytes);
  });

  it('keeps a page of the largest notifications under the Lambda response quota', () => {
    // Prepare
    const views = Array.from({ length: maxPageSize }, () => toNotificationView(aLargestNotification(), 'diagnostic'));

    // Act
    const fitting = countFitting(views);
    const answer = Buffer.byteLength(JSON.stringify({ statusCode: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ items: views.slice(0, fitting), nextCursor: 'x'.repeat(200) }) }));

    // Assess
    expect(fitting).toBeGreaterThan(0);
    expect(fitting).toBeLessThan(maxPageSize);
    expect(answer).toBeLessThanOrEqual(lambdaPayloadQuotaBytes);
    expect(maxListingPayloadBytes).toBeLessThan(lambdaPayloadQuotaBytes);
  });

  it('takes a whole page of ordinary items, and always at least one', () => {
    // Act + Assess
    expect(countFitting(Array.from({ length: 100 }, () => ({ id: 'x' })))).toBe(100);
    expect(countFitting([{ big: 'x'.repeat(100) }], 10)).toBe(1);
  });
});
