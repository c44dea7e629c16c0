/**
 * The rules delivery reliability rests on, at their boundaries: the backoff (last retry against
 * one past it, factor, cap), its configuration, the classification of errors (transient,
 * permanent, answered or not), when a notification is next due, and the sweeps' arithmetic.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, cleanupConfig, deliveryDeadLetterQueueUrl, retryPolicyConfig, stuckRetryConfig } from '../../../../shared/config.ts';
import { isPermanentDeliveryError, wasAnsweredWithError } from '../../../../shared/domain/delivery-errors.ts';
import { nextDueAt } from '../../../../shared/domain/notification.ts';
import { defaultRetryPolicy, retryDelaySeconds } from '../../../../shared/domain/retry-policy.ts';
import type { RetryPolicy } from '../../../../shared/domain/retry-policy.ts';
import { cancelledCutoff, stuckCriteria } from '../../../../shared/domain/sweeps.ts';
import { awsError } from '../../fakes/fixtures.ts';

const noJitter = (): number => 0.5;
const exact: RetryPolicy = { ...defaultRetryPolicy, jitter: 0 };

function errorOf(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('the backoff at its boundaries', () => {
  it.each([1, 2, 3, 5])('with maxRetries %i, waits after the last retry and gives up one past it', (maxRetries) => {
    // Prepare
    const policy: RetryPolicy = { ...exact, maxRetries };

    // Act
    const lastRetry = retryDelaySeconds(policy, maxRetries, noJitter);
    const onePast = retryDelaySeconds(policy, maxRetries + 1, noJitter);

    // Assess
    expect(lastRetry).toBe(300 * 2 ** (maxRetries - 1));
    expect(onePast).toBeUndefined();
  });

  it('waits the same each time with a factor of 1', () => {
    // Prepare
    const policy: RetryPolicy = { ...exact, factor: 1, maxRetries: 4 };

    // Act
    const delays = [1, 2, 3, 4].map((attempt) => retryDelaySeconds(policy, attempt, noJitter));

    // Assess
    expect(delays).toEqual([300, 300, 300, 300]);
  });

  it('grows by the factor: 3 gives 10 s, 30 s, 90 s', () => {
    // Prepare
    const policy: RetryPolicy = { ...exact, baseSeconds: 10, factor: 3 };

    // Act
    const delays = [1, 2, 3].map((attempt) => retryDelaySeconds(policy, attempt, noJitter));

    // Assess
    expect(delays).toEqual([10, 30, 90]);
  });

  it('waits exactly the cap when the nominal delay reaches it, and the cap when it passes it', () => {
    // Prepare: 300, 600, 1200 against a cap of 600
    const policy: RetryPolicy = { ...exact, capSeconds: 600 };

    // Act
    const below = retryDelaySeconds(policy, 1, noJitter);
    const atCap = retryDelaySeconds(policy, 2, noJitter);
    const beyond = retryDelaySeconds(policy, 3, noJitter);

    // Assess
    expect([below, atCap, beyond]).toEqual([300, 600, 600]);
  });

  it('runs the same policy in seconds for the local stack', () => {
    // Prepare: what the end-to-end tests configure
    const policy = retryPolicyConfig({ HERALD_RETRY_BASE_SECONDS: '1', HERALD_RETRY_FACTOR: '2', HERALD_RETRY_MAX_RETRIES: '2', HERALD_RETRY_JITTER: '0' });

    // Act
    const delays = [1, 2, 3].map((attempt) => retryDelaySeconds(policy, attempt));

    // Assess
    expect(delays).toEqual([1, 2, undefined]);
  });
});

describe('the retry configuration', () => {
  it('reads the cap, up to the 12 hours SQS allows', () => {
    // Prepare
    const env = { HERALD_RETRY_CAP_SECONDS: '43200' };

    // Act
    const policy = retryPolicyConfig(env);

    // Assess
    expect(policy.capSeconds).toBe(43_200);
  });

  it.each([
    ['HERALD_RETRY_CAP_SECONDS', '43201'],
    ['HERALD_RETRY_CAP_SECONDS', '0'],
    ['HERALD_RETRY_JITTER', '-0.1'],
    ['HERALD_RETRY_FACTOR', '0.99'],
    ['HERALD_RETRY_MAX_RETRIES', '-1'],
  ])('refuses %s=%s, naming it', (variable, value) => {
    // Prepare
    const env = { [variable]: value };

    // Act
    const error = errorOf(() => retryPolicyConfig(env));

    // Assess
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toContain(variable);
  });

  it('accepts the edges: factor 1, jitter 0 and 1, no retries', () => {
    // Prepare
    const env = { HERALD_RETRY_FACTOR: '1', HERALD_RETRY_JITTER: '1', HERALD_RETRY_MAX_RETRIES: '0' };

    // Act
    const policy = retryPolicyConfig(env);

    // Assess
    expect(policy).toMatchObject({ factor: 1, jitter: 1, maxRetries: 0 });
  });
});

describe('the sweeps configuration', () => {
  it('defaults to 5 minutes and 1,000 items for stuck-retry, 30 days and 10,000 items for cleanup', () => {
    // Prepare
    const env = {};

    // Act
    const stuck = stuckRetryConfig(env);
    const cleanup = cleanupConfig(env);

    // Assess
    expect(stuck).toEqual({ stuckAfterSeconds: 300, maxItems: 1000 });
    expect(cleanup).toEqual({ cancelledRetentionDays: 30, maxItems: 10_000 });
  });

  it('reads its variables', () => {
    // Prepare
    const env = {
      HERALD_STUCK_AFTER_SECONDS: '1',
      HERALD_SWEEP_MAX_ITEMS: '50',
      HERALD_CANCELLED_RETENTION_DAYS: '0',
      HERALD_CLEANUP_MAX_ITEMS: '7',
    };

    // Act
    const stuck = stuckRetryConfig(env);
    const cleanup = cleanupConfig(env);

    // Assess
    expect(stuck).toEqual({ stuckAfterSeconds: 1, maxItems: 50 });
    expect(cleanup).toEqual({ cancelledRetentionDays: 0, maxItems: 7 });
  });

  it.each([
    ['HERALD_SWEEP_MAX_ITEMS', () => stuckRetryConfig({ HERALD_SWEEP_MAX_ITEMS: '0' })],
    ['HERALD_STUCK_AFTER_SECONDS', () => stuckRetryConfig({ HERALD_STUCK_AFTER_SECONDS: '' })],
    ['HERALD_CANCELLED_RETENTION_DAYS', () => cleanupConfig({ HERALD_CANCELLED_RETENTION_DAYS: 'a month' })],
    ['HERALD_CLEANUP_MAX_ITEMS', () => cleanupConfig({ HERALD_CLEANUP_MAX_ITEMS: '-5' })],
    ['HERALD_QUEUE_DELIVERY_DLQ_URL', () => deliveryDeadLetterQueueUrl({})],
  ])('refuses a bad or missing %s, naming it', (variable, read) => {
    // Prepare: the reading comes from the table

    // Act
    const error = errorOf(read);

    // Assess
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toContain(variable);
  });
});

describe('error classification', () => {
  it.each(['SlowDown', 'RequestThrottled', 'RequestThrottledException', 'ExpiredTokenException', 'RequestTimeTooSkewed', 'TransactionInProgressException'])(
    'retries %s though it comes with a 400',
    (name) => {
      // Prepare
      const error = awsError(name, 400);

      // Act
      const permanent = isPermanentDeliveryError(error);

      // Assess
      expect(permanent).toBe(false);
    },
  );

  it('retries an error the SDK marks retryable, whatever its status', () => {
    // Prepare
    const error = Object.assign(awsError('SomeServiceSpecificError', 400), { $retryable: { throttling: false } });

    // Act
    const permanent = isPermanentDeliveryError(error);

    // Assess
    expect(permanent).toBe(false);
  });

  it.each([
    ['a throttling answer', awsError('Throttling', 400), true],
    ['a 503', awsError('ServiceUnavailable', 503), true],
    ['a rejection', awsError('MessageRejected', 400), true],
    ['a socket timeout', awsError('TimeoutError'), false],
    ['a reset connection', Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }), false],
    ['a 2xx metadata (no error status)', awsError('Weird', 200), false],
    ['a non-error', 'boom', false],
  ])('tells %s answered: %s', (_, error, answered) => {
    // Act
    const result = wasAnsweredWithError(error);

    // Assess
    expect(result).toBe(answered);
  });
});

describe('when a notification is next due', () => {
  it.each([
    ['its scheduled time when it never failed', { scheduledAt: '2030-01-01T12:00:00.000Z' }, '2030-01-01T12:00:00.000Z'],
    ['its retry time after a failed attempt', { scheduledAt: '2030-01-01T12:00:00.000Z', nextAttemptAt: '2030-01-01T12:05:00.000Z' }, '2030-01-01T12:05:00.000Z'],
    ['its scheduled time when it was moved past an old retry', { scheduledAt: '2030-01-02T09:00:00.000Z', nextAttemptAt: '2030-01-01T12:05:00.000Z' }, '2030-01-02T09:00:00.000Z'],
  ])('is %s', (_, n, expected) => {
    // Act
    const due = nextDueAt(n);

    // Assess
    expect(due.toISOString()).toBe(expected);
  });
});

describe('the sweeps arithmetic', () => {
  it('calls a pending notification stuck from 5 minutes past due, and a sending one from the end of its lease', () => {
    // Prepare
    const now = new Date('2030-01-01T12:00:00.000Z');

    // Act
    const criteria = stuckCriteria(now, 300);

    // Assess
    expect(criteria).toEqual({ pendingDueBy: new Date('2030-01-01T11:55:00.000Z'), leaseEndedBefore: now });
  });

  it('deletes what was cancelled more than the retention ago', () => {
    // Act
    const cutoff = cancelledCutoff(new Date('2030-03-01T03:00:00.000Z'), 30);

    // Assess
    expect(cutoff.toISOString()).toBe('2030-01-30T03:00:00.000Z');
  });
});
