import { describe, expect, it } from 'vitest';
import { defaultRetryPolicy, retryDelaySeconds } from '../../../../shared/domain/retry-policy.ts';
import type { RetryPolicy } from '../../../../shared/domain/retry-policy.ts';

const middle = (): number => 0.5;
const lowest = (): number => 0;
const highest = (): number => 0.999_999;

describe('retryDelaySeconds', () => {
  it.each([
    [1, 300],
    [2, 600],
    [3, 1200],
  ])('waits the nominal delay after attempt %i with the default policy and no jitter drawn (%i s)', (attempt, expected) => {
    // Prepare: a random source at the middle of its range draws no jitter

    // Act
    const delay = retryDelaySeconds(defaultRetryPolicy, attempt, middle);

    // Assess
    expect(delay).toBe(expected);
  });

  it.each([
    [1, 270, 330],
    [2, 540, 660],
    [3, 1080, 1320],
  ])('keeps the default delay after attempt %i within ±10 %% (%i..%i s)', (attempt, low, high) => {
    // Prepare: the two ends of the random range

    // Act
    const atLowest = retryDelaySeconds(defaultRetryPolicy, attempt, lowest);
    const atHighest = retryDelaySeconds(defaultRetryPolicy, attempt, highest);
    const withMathRandom = retryDelaySeconds(defaultRetryPolicy, attempt);

    // Assess
    expect(atLowest).toBe(low);
    expect(atHighest).toBe(high);
    expect(withMathRandom).toBeGreaterThanOrEqual(low);
    expect(withMathRandom).toBeLessThanOrEqual(high);
  });

  it('gives up after the third retry with the default policy', () => {
    // Prepare
    const lastAttempt = defaultRetryPolicy.maxRetries + 1;

    // Act
    const delay = retryDelaySeconds(defaultRetryPolicy, lastAttempt, middle);

    // Assess
    expect(lastAttempt).toBe(4);
    expect(delay).toBeUndefined();
  });

  it('never waits longer than the cap, jitter included', () => {
    // Prepare
    const policy: RetryPolicy = { baseSeconds: 1000, factor: 10, maxRetries: 5, jitter: 0.5, capSeconds: 3600 };

    // Act
    const uncapped = retryDelaySeconds(policy, 1, highest);
    const capped = retryDelaySeconds(policy, 3, highest);
    const cappedLow = retryDelaySeconds(policy, 3, lowest);

    // Assess
    expect(uncapped).toBe(1500);
    expect(capped).toBe(3600);
    expect(cappedLow).toBe(1800);
  });

  it('does not retry at all when maxRetries is 0', () => {
    // Prepare
    const policy: RetryPolicy = { ...defaultRetryPolicy, maxRetries: 0 };

    // Act
    const delay = retryDelaySeconds(policy, 1, middle);

    // Assess
    expect(delay).toBeUndefined();
  });

  it('never returns a negative delay', () => {
    // Prepare
    const policy: RetryPolicy = { baseSeconds: 1, factor: 1, maxRetries: 1, jitter: 1, capSeconds: 10 };

    // Act
    const delay = retryDelaySeconds(policy, 1, lowest);

    // Assess
    expect(delay).toBe(0);
  });
});
