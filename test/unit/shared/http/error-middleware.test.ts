import { describe, expect, it } from 'vitest';
import {
  ConflictError,
  ForbiddenError,
  NotFoundError,
  ServiceUnavailableError,
  UnauthorizedError,
  ValidationError,
} from '../../../../shared/errors.ts';
import { errorResponse } from '../../../../shared/http/error-middleware.ts';

describe('errorResponse', () => {
  it.each([
    [new ValidationError('bad'), 400, 'VALIDATION_ERROR'],
    [new UnauthorizedError('who'), 401, 'UNAUTHORIZED'],
    [new ForbiddenError('no'), 403, 'FORBIDDEN'],
    [new NotFoundError('gone'), 404, 'NOT_FOUND'],
    [new ConflictError('state'), 409, 'CONFLICT'],
    [new ServiceUnavailableError('later'), 503, 'SERVICE_UNAVAILABLE'],
  ])('maps %s to %i %s', (error, status, code) => {
    // Prepare: the error comes from the table

    // Act
    const response = errorResponse(error);

    // Assess
    expect(response.statusCode).toBe(status);
    expect(JSON.parse(response.body ?? '')).toEqual({ error: { code, message: error.message } });
  });

  it('shows the details of a ValidationError', () => {
    // Prepare
    const error = new ValidationError('Invalid body', { details: [{ field: 'title', message: 'must not be empty' }] });

    // Act
    const response = errorResponse(error);

    // Assess
    expect(JSON.parse(response.body ?? '')).toEqual({
      error: { code: 'VALIDATION_ERROR', message: 'Invalid body', details: [{ field: 'title', message: 'must not be empty' }] },
    });
  });

  it('tells when to try again after a 503 (Retry-After, whole seconds): the wait it knows, or 1 s, as README promises of every 503', () => {
    // Act
    const later = errorResponse(new ServiceUnavailableError('not yet', { retryAfterSeconds: 3.2 }));
    const unknown = errorResponse(new ServiceUnavailableError('down'));

    // Assess
    expect(later.statusCode).toBe(503);
    expect(later.headers?.['retry-after']).toBe('4');
    expect(unknown.headers?.['retry-after']).toBe('1');
  });

  it.each([
    ['DynamoDB throttling', Object.assign(new Error('Rate of requests exceeds the allowed throughput'), { name: 'ProvisionedThroughputExceededException', $metadata: { httpStatusCode: 400 } })],
    ['a 500 of an AWS service', Object.assign(new Error('Internal server error'), { name: 'InternalServerError', $metadata: { httpStatusCode: 500 } })],
    ['a 503 of an AWS service', Object.assign(new Error('Service unavailable'), { name: 'ServiceUnavailable', $metadata: { httpStatusCode: 503 } })],
    ['a connection never made', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:4566'), { code: 'ECONNREFUSED' })],
    ['an answer that did not come in time', Object.assign(new Error('Connection timed out after 1000 ms'), { name: 'TimeoutError' })],
    ['a transaction cancelled by another in the way', Object.assign(new Error('Transaction cancelled'), { name: 'TransactionCanceledException', $metadata: { httpStatusCode: 400 }, CancellationReasons: [{ Code: 'None' }, { Code: 'TransactionConflict' }] })],
    [
      'a throttle Powertools wrapped (the idempotency table)',
      Object.assign(new Error('Failed to put record for idempotency key'), { name: 'IdempotencyPersistenceLayerError', cause: Object.assign(new Error('Rate exceeded'), { name: 'ProvisionedThroughputExceededException', $metadata: { httpStatusCode: 400 } }) }),
    ],
  ])('answers %s with a 503 to retry after a second, saying nothing internal', (_case, error) => {
    // Act
    const response = errorResponse(error);

    // Assess
    expect(response.statusCode).toBe(503);
    expect(response.headers?.['retry-after']).toBe('1');
    expect(JSON.parse(response.body ?? '')).toEqual({ error: { code: 'SERVICE_UNAVAILABLE', message: 'A service Herald depends on could not take the request now; retry later' } });
  });

  it.each([
    ['an AWS refusal of the request itself (a 400 that is no throttling)', Object.assign(new Error('One or more parameter values were invalid'), { name: 'ValidationException', $metadata: { httpStatusCode: 400 } })],
    ['a transaction cancelled by its own condition', Object.assign(new Error('Transaction cancelled'), { name: 'TransactionCanceledException', $metadata: { httpStatusCode: 400 }, CancellationReasons: [{ Code: 'ConditionalCheckFailed' }] })],
    ['an error flagged unsent that no outage caused (a refusal before sending)', Object.assign(new TypeError('Cannot read properties of undefined'), { $notSent: true })],
  ])('keeps %s a 500: it is a bug, not an outage', (_case, error) => {
    // Act
    const response = errorResponse(error);

    // Assess
    expect(response.statusCode).toBe(500);
  });

  it('turns any other error into a 500 that says nothing internal', () => {
    // Prepare
    const error = new Error('connect ECONNREFUSED 10.0.0.12:443 table herald-prod-notifications');

    // Act
    const response = errorResponse(error);

    // Assess
    expect(response.statusCode).toBe(500);
    expect(response.body).toBe('{"error":{"code":"INTERNAL_ERROR","message":"Internal server error"}}');
  });
});
