/** What the console's notifications panel shows for a channel that has no outcome yet. */
import { describe, expect, it } from 'vitest';
import { unattemptedChannelStatus } from '../../../console/outcomes.js';

describe('unattemptedChannelStatus', () => {
  it('says a cancelled notification will never try the channel, whatever hold it had', () => {
    expect(unattemptedChannelStatus({ status: 'cancelled' })).toBe('cancelled');
    expect(unattemptedChannelStatus({ status: 'cancelled', heldUntil: '2026-12-03T07:00:00.000Z' })).toBe('cancelled');
  });

  it('says a notification that ended without trying the channel did not attempt it', () => {
    expect(unattemptedChannelStatus({ status: 'sent' })).toBe('not attempted');
    expect(unattemptedChannelStatus({ status: 'failed', heldUntil: null })).toBe('not attempted');
  });

  it('says quiet hours hold a pending one, and that one without a hold waits', () => {
    expect(unattemptedChannelStatus({ status: 'pending', heldUntil: '2026-12-03T07:00:00.000Z' })).toBe('held');
    expect(unattemptedChannelStatus({ status: 'pending', heldUntil: null })).toBe('waiting');
    expect(unattemptedChannelStatus({ status: 'sending' })).toBe('waiting');
  });
});
