import { describe, expect, it } from 'vitest';
import {
  classifyProviderError,
  decisiveFailure,
  dailyQuotaWaitMs,
  defaultThrottleWaitMs,
  describeError,
  isPermanentDeliveryError,
  loadBeforeSending,
  neverLeft,
} from '../../../../shared/domain/delivery-errors.ts';
import { awsError } from '../../fakes/fixtures.ts';

describe('isPermanentDeliveryError', () => {
  it.each([
    ['Throttling', 400],
    ['ThrottlingException', 400],
    ['TooManyRequestsException', 429],
    ['ProvisionedThroughputExceededException', 400],
    ['ServiceUnavailable', 503],
    ['InternalFailure', 500],
    ['SomethingNew', 500],
    ['SomethingNew', 502],
    ['SomethingNew', 429],
    ['RequestTimeout', 408],
  ])('retries %s (HTTP %i)', (name, status) => {
    // Prepare
    const error = awsError(name, status);

    // Act
    const permanent = isPermanentDeliveryError(error);

    // Assess
    expect(permanent).toBe(false);
  });

  it.each(['ECONNRESET', 'TimeoutError', 'Error'])('retries a network error without an HTTP status (%s)', (name) => {
    // Prepare
    const error = awsError(name);

    // Act
    const permanent = isPermanentDeliveryError(error);

    // Assess
    expect(permanent).toBe(false);
  });

  it.each([
    ['MessageRejected', 400],
    ['MessageRejected', undefined],
    ['MailFromDomainNotVerifiedException', 400],
    ['PayloadTooLargeException', 413],
    ['AccessDeniedException', 403],
    ['ValidationException', 400],
    ['NotFound', 404],
  ])('gives up at once on %s (HTTP %s)', (name, status) => {
    // Prepare
    const error = awsError(name, status);

    // Act
    const permanent = isPermanentDeliveryError(error);

    // Assess
    expect(permanent).toBe(true);
  });

  it.each([undefined, null, 'a string', 42])('retries what is not an error object (%j)', (value) => {
    // Prepare: the value comes from the table

    // Act
    const permanent = isPermanentDeliveryError(value);

    // Assess
    expect(permanent).toBe(false);
  });
});

describe('describeError', () => {
  it('names the error and its message', () => {
    // Prepare
    const error = awsError('MessageRejected', 400, 'Email address is not verified');

    // Act
    const text = describeError(error);

    // Assess
    expect(text).toBe('MessageRejected: Email address is not verified');
  });

  it('describes a thrown non-error as text', () => {
    // Prepare
    const value = 'plain failure';

    // Act
    const text = describeError(value);

    // Assess
    expect(text).toBe('plain failure');
  });
});

describe('decisiveFailure', () => {
  const timedOut = Object.assign(new Error('socket hang up'), { name: 'TimeoutError' });
  const busy = awsError('ServiceUnavailable', 503);
  const throttled = awsError('Throttling', 429);
  const refused = awsError('MessageRejected', 400);

  it.each([
    ['one that may have reached its target', [busy, refused, timedOut, throttled], timedOut],
    ['throttling, then a failure for now', [refused, busy, throttled], throttled],
    ['a failure for now before a refusal', [refused, busy], busy],
    ['a refusal when there is nothing else', [refused], refused],
  ])('reports %s first, in whatever order they came', (_case, failures, expected) => {
    // Act / Assess
    expect(decisiveFailure(failures)).toBe(expected);
    expect(decisiveFailure([...failures].reverse())).toBe(expected);
  });
});

describe('classifyProviderError', () => {
  const now = Date.parse('2030-01-01T12:00:00.000Z');

  it.each([
    ['Throttling', 400],
    ['ThrottlingException', 400],
    ['TooManyRequestsException', 429],
    ['LimitExceededException', 400],
    ['SlowDown', 503],
    ['SomethingNew', 429],
  ])('reads %s (%s) as throttling: wait a second when the provider gives no hint', (name, status) => {
    // Prepare
    const error = awsError(name, status);

    // Act
    const verdict = classifyProviderError(error, now);

    // Assess
    expect(verdict).toEqual({ kind: 'throttled', retryAfterMs: defaultThrottleWaitMs });
  });

  it.each<[string, Record<string, unknown>, number]>([
    ['a Retry-After in seconds', { $response: { headers: { 'retry-after': '7' } } }, 7_000],
    ['a Retry-After date', { $response: { headers: { 'retry-after': 'Tue, 01 Jan 2030 12:00:30 GMT' } } }, 30_000],
    ['a Retry-After date already past', { $response: { headers: { 'retry-after': 'Tue, 01 Jan 2030 11:00:00 GMT' } } }, 0],
    ['a channel\'s own retryAfterMs', { retryAfterMs: 2_500 }, 2_500],
  ])('waits as long as %s says', (_, hint, waitMs) => {
    // Prepare
    const error = Object.assign(awsError('TooManyRequestsException', 429), hint);

    // Act
    const verdict = classifyProviderError(error, now);

    // Assess
    expect(verdict).toEqual({ kind: 'throttled', retryAfterMs: waitMs });
  });

  it('ignores a Retry-After it cannot read, waiting the default', () => {
    // Prepare
    const error = Object.assign(awsError('Throttling', 400), { $response: { headers: { 'retry-after': 'soon' } } });

    // Act
    const verdict = classifyProviderError(error, now);

    // Assess
    expect(verdict).toEqual({ kind: 'throttled', retryAfterMs: defaultThrottleWaitMs });
  });

  it('waits an hour once SES\'s daily quota is spent, which rolls over 24 hours', () => {
    // Prepare
    const error = awsError('Throttling', 400, 'Daily message quota exceeded.');

    // Act
    const verdict = classifyProviderError(error, now);

    // Assess
    expect(verdict).toEqual({ kind: 'throttled', retryAfterMs: dailyQuotaWaitMs });
  });

  it.each([
    ['GoneException', 410],
    ['Anything', 410],
  ])('reads %s (%s) as a target that is gone', (name, status) => {
    // Act
    const verdict = classifyProviderError(awsError(name, status), now);

    // Assess
    expect(verdict).toEqual({ kind: 'gone' });
  });

  it.each([
    ['MessageRejected', 400],
    ['MailFromDomainNotVerifiedException', 400],
    ['PayloadTooLargeException', 413],
    ['BadRequestException', 400],
    ['ForbiddenException', 403],
  ])('reads %s (%s) as permanent', (name, status) => {
    // Act
    const verdict = classifyProviderError(awsError(name, status), now);

    // Assess
    expect(verdict).toEqual({ kind: 'permanent' });
  });

  it.each([
    ['ServiceUnavailable', 503],
    ['InternalFailure', 500],
    ['SomethingNew', 502],
  ])('reads %s (%s), an answered refusal, as transient: nothing was done, so trying again is safe', (name, status) => {
    // Act
    const verdict = classifyProviderError(awsError(name, status), now);

    // Assess
    expect(verdict).toEqual({ kind: 'transient' });
  });

  it('reads an error raised before the request left as transient', () => {
    // Prepare
    const error = Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:443'), { code: 'ECONNREFUSED' });

    // Act
    const verdict = classifyProviderError(error, now);

    // Assess
    expect(verdict).toEqual({ kind: 'transient' });
  });

  it.each<[string, unknown]>([
    ['a timeout with no answer', awsError('TimeoutError', undefined, 'socket hang up')],
    ['a reset connection', Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })],
    ['a thrown string', 'boom'],
    ['null', null],
  ])('reads %s as unknown: it may have gone out, so it never goes again', (_, error) => {
    // Act
    const verdict = classifyProviderError(error, now);

    // Assess
    expect(verdict).toEqual({ kind: 'unknown' });
  });
});

describe('neverLeft', () => {
  it.each<[string, unknown]>([
    ['a refused connection', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })],
    ['an unresolvable host', Object.assign(new Error('getaddrinfo ENOTFOUND ses'), { code: 'ENOTFOUND' })],
    ['a DNS hiccup', Object.assign(new Error('getaddrinfo EAI_AGAIN ses'), { code: 'EAI_AGAIN' })],
    ['an unreachable host', Object.assign(new Error('connect EHOSTUNREACH'), { code: 'EHOSTUNREACH' })],
    ['an unreachable network', Object.assign(new Error('connect ENETUNREACH'), { code: 'ENETUNREACH' })],
    ['the SDK\'s connection timeout', new Error('Connection timed out after 1000 ms without establishing a connection')],
    ['an error flagged $notSent', Object.assign(new Error('refused before sending'), { $notSent: true })],
  ])('knows %s never reached the provider', (_, error) => {
    // Act
    const left = neverLeft(error);

    // Assess
    expect(left).toBe(true);
  });

  it.each<[string, unknown]>([
    ['a reset connection', Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })],
    ['a timeout once connected', awsError('TimeoutError', undefined, 'socket hang up')],
    ['an answered error', awsError('ServiceUnavailable', 503)],
    ['$notSent false', Object.assign(new Error('x'), { $notSent: false })],
    ['a string', 'ECONNREFUSED'],
    ['undefined', undefined],
  ])('does not claim %s never left', (_, error) => {
    // Act
    const left = neverLeft(error);

    // Assess
    expect(left).toBe(false);
  });
});

describe('loadBeforeSending', () => {
  it('answers the module it loads', async () => {
    // Act
    const loaded = await loadBeforeSending(async () => ({ send: 'ready' }))();

    // Assess
    expect(loaded).toEqual({ send: 'ready' });
  });

  it.each<[string, () => Promise<unknown>]>([
    ['a module missing from the package', () => import('./no-such-provider-module.ts' as string)],
    ['a module that threw while it was evaluated', () => Promise.reject(new TypeError('Cannot read properties of undefined'))],
    ['a rejection with no error object', () => Promise.reject('gone')],
  ])('flags %s as never sent, which the provider errors classify as transient (tried again, not unconfirmed)', async (_, load) => {
    // Act
    const error = await loadBeforeSending(load)().catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(Error);
    expect(neverLeft(error)).toBe(true);
    expect(classifyProviderError(error)).toEqual({ kind: 'transient' });
    // Unflagged (each load here fails with a new error), the same failure reads as possibly sent.
    expect(classifyProviderError(await load().catch((e: unknown) => e))).toEqual({ kind: 'unknown' });
  });
});
