/**
 * Which delivery errors are worth retrying. Transient: throttling, 5xx, timeouts, network
 * trouble. Permanent: the provider refused this message for good (a rejected address, a payload
 * it will never take). Judged from the error's name and HTTP status, with no AWS import.
 */
const transientNames = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'TooManyRequestsException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'LimitExceededException',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'InternalServerError',
  'InternalFailure',
  'InternalServerException',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  'TransactionConflictException',
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
}

/** True when retrying cannot help: the channel fails at once, with the reason. */
export function isPermanentDeliveryError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { name, $metadata } = error as ErrorShape;
  if (typeof name === 'string' && transientNames.has(name)) return false;
  if (typeof name === 'string' && permanentNames.has(name)) return true;
  const status = $metadata?.httpStatusCode;
  // Any other 4xx but 429 is the provider refusing this request; no status means the network.
  return typeof status === 'number' && status >= 400 && status < 500 && status !== 429;
}

/** A short, log-safe description of an error. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
