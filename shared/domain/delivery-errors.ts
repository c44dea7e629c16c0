/**
 * Which delivery errors are worth retrying. Transient: throttling, 5xx, timeouts, network
 * trouble. Permanent: the provider refused this message for good (a rejected address, a payload
 * it will never take). Judged from the error's name and HTTP status, with no AWS import.
 */
// Throttling, transient and clock-skew codes as the AWS SDK's own retry classification lists them
// (@smithy/service-error-classification), plus the 5xx names AWS services answer with. Several
// come with a 400 status, so the name must win over the status.
const transientNames = new Set([
  'BandwidthLimitExceeded',
  'EC2ThrottledException',
  'LimitExceededException',
  'PriorRequestNotComplete',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
  'ThrottledException',
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'TransactionInProgressException',
  'TransactionConflictException',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'InternalServerError',
  'InternalFailure',
  'InternalServerException',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  // A clock out of step or credentials that expired mid-rotation: the next attempt signs afresh.
  'RequestExpired',
  'RequestInTheFuture',
  'RequestTimeTooSkewed',
  'ExpiredToken',
  'ExpiredTokenException',
]);

const permanentNames = new Set([
  'MessageRejected',
  'MailFromDomainNotVerifiedException',
  'ConfigurationSetDoesNotExistException',
  'InvalidParameterValue',
  'PayloadTooLargeException',
]);

/** The parts of an error that classify it (AWS SDK errors carry `name` and `$metadata`). */
interface ErrorShape {
  readonly name?: unknown;
  readonly $metadata?: { readonly httpStatusCode?: unknown };
  /** Set by the SDK on errors its service model marks retryable. */
  readonly $retryable?: unknown;
}

/** True when retrying cannot help: the channel fails at once, with the reason. */
export function isPermanentDeliveryError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { name, $metadata, $retryable } = error as ErrorShape;
  if (typeof name === 'string' && transientNames.has(name)) return false;
  if ($retryable !== undefined && $retryable !== null) return false;
  if (typeof name === 'string' && permanentNames.has(name)) return true;
  const status = $metadata?.httpStatusCode;
  // Any other 4xx but 429 is the provider refusing this request; no status means the network.
  return typeof status === 'number' && status >= 400 && status < 500 && status !== 429;
}

/**
 * True when the service answered the request with an error (the error carries an HTTP status):
 * it refused the request, so nothing was done and trying again cannot do it twice. False for a
 * timeout or a broken connection, after which the request may or may not have taken effect.
 */
export function wasAnsweredWithError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const status = (error as ErrorShape).$metadata?.httpStatusCode;
  return typeof status === 'number' && status >= 400;
}

/** A short, log-safe description of an error. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
