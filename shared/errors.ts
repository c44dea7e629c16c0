/**
 * The one error hierarchy of Herald. Use cases throw these; the HTTP error middleware maps
 * them to status codes in one place (shared/http/error-middleware.ts). 4xx messages are shown
 * to callers, so they must say what was wrong; anything else becomes a 500 that says nothing.
 */

/** Base of every error Herald shows to a caller. */
export abstract class AppError extends Error {
  abstract readonly statusCode: number;
  abstract readonly code: string;
  readonly details?: unknown;

  constructor(message: string, options?: { cause?: unknown; details?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.details = options?.details;
  }
}

/** The request is malformed or breaks a rule (400). */
export class ValidationError extends AppError {
  readonly statusCode = 400;
  readonly code = 'VALIDATION_ERROR';
}

/** No valid credentials (401). */
export class UnauthorizedError extends AppError {
  readonly statusCode = 401;
  readonly code = 'UNAUTHORIZED';
}

/** The caller is known but may not do this (403). */
export class ForbiddenError extends AppError {
  readonly statusCode = 403;
  readonly code = 'FORBIDDEN';
}

/** The thing does not exist, or the caller may not know that it does (404). */
export class NotFoundError extends AppError {
  readonly statusCode = 404;
  readonly code = 'NOT_FOUND';
}

/** The thing is not in a state that allows this (409). */
export class ConflictError extends AppError {
  readonly statusCode = 409;
  readonly code = 'CONFLICT';
}

/**
 * The notification is no longer pending, said the way the Celery scheduler said it (400): its
 * routes (`/api/notifications/...`) answer this where Herald's own answer 409 (ConflictError).
 */
export class NotPendingError extends AppError {
  readonly statusCode = 400;
  readonly code = 'NOT_PENDING';
}

/** The request is well-formed but cannot be processed as it stands (422). */
export class UnprocessableEntityError extends AppError {
  readonly statusCode = 422;
  readonly code: string = 'UNPROCESSABLE_ENTITY';
}

/** An `Idempotency-Key` already used with a different request body (422). */
export class IdempotencyConflictError extends UnprocessableEntityError {
  override readonly code: string = 'IDEMPOTENCY_KEY_REUSED';
}

/** The first request with this `Idempotency-Key` is still running; retry shortly (409). */
export class IdempotencyInProgressError extends AppError {
  readonly statusCode = 409;
  readonly code = 'IDEMPOTENCY_IN_PROGRESS';
}

/** The request body is larger than allowed (413). */
export class PayloadTooLargeError extends AppError {
  readonly statusCode = 413;
  readonly code = 'PAYLOAD_TOO_LARGE';
}

/** The request body is not of a media type the route reads (415): Herald reads JSON. */
export class UnsupportedMediaTypeError extends AppError {
  readonly statusCode = 415;
  readonly code = 'UNSUPPORTED_MEDIA_TYPE';
}

/**
 * The caller sent more than its limit allows for now (429); `retryAfterSeconds` says when it may
 * try again (the `Retry-After` header, RFC 9110 section 10.2.3).
 */
export class TooManyRequestsError extends AppError {
  readonly statusCode = 429;
  readonly code = 'TOO_MANY_REQUESTS';
  readonly retryAfterSeconds: number;

  constructor(message: string, options: { retryAfterSeconds: number; cause?: unknown; details?: unknown }) {
    super(message, options);
    this.retryAfterSeconds = Math.max(1, Math.ceil(options.retryAfterSeconds));
  }
}

/**
 * A dependency is unavailable; the caller may retry (503) after `retryAfterSeconds` (the
 * `Retry-After` header, RFC 9110 section 10.2.3): the wait the dependency named, or 1 s.
 */
export class ServiceUnavailableError extends AppError {
  readonly statusCode = 503;
  readonly code = 'SERVICE_UNAVAILABLE';
  /** Whole seconds, at least 1: the wait given, or 1 (retry shortly) when none is known. */
  readonly retryAfterSeconds: number;

  constructor(message: string, options?: { retryAfterSeconds?: number; cause?: unknown; details?: unknown }) {
    super(message, options);
    this.retryAfterSeconds = Math.max(1, Math.ceil(options?.retryAfterSeconds ?? 1));
  }
}
