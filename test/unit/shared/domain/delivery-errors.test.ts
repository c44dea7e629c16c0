import { describe, expect, it } from 'vitest';
import { describeError, isPermanentDeliveryError } from '../../../../shared/domain/delivery-errors.ts';
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
