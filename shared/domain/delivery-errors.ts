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

/**
 * What a provider's error means for a delivery, as the engine acts on it:
 * - `throttled`: the provider asked us to slow down; nothing was sent. Try again after
 *   `retryAfterMs`, without spending an attempt.
 * - `transient`: refused this time (a 5xx, a network error before the request left); try again.
 * - `permanent`: refused for good (a rejected address, a payload it will never take).
 * - `gone`: the target no longer exists (a 410, a disabled endpoint): forget it, never try again.
 * - `unknown`: no answer (a timeout, a reset connection): it may have gone out, so it never goes again.
 */
export type ProviderVerdict =
  | { readonly kind: 'throttled'; readonly retryAfterMs: number }
  | { readonly kind: 'transient' }
  | { readonly kind: 'permanent' }
  | { readonly kind: 'gone' }
  | { readonly kind: 'unknown' };

const throttlingNames = new Set([
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'ThrottledException',
  'SlowDown',
  'LimitExceededException',
]);

/** DynamoDB's 400s that say "not now" rather than "not this": its throttling and transactions in the way. */
const busyDynamoDbNames = new Set(['ProvisionedThroughputExceededException', 'TransactionConflictException', 'TransactionInProgressException']);

/** SES's answer once the rolling 24-hour sending quota is spent (a `Throttling` error). */
const dailyQuotaMessage = /daily message quota exceeded/i;

/** How long a throttled send waits when the provider gives no hint (ms). */
export const defaultThrottleWaitMs = 1_000;
/** How long a send waits once a daily quota is spent: the quota rolls over 24 hours (ms). */
export const dailyQuotaWaitMs = 60 * 60 * 1000;

/** The `Retry-After` an error carries (seconds, or an HTTP date), in ms; `undefined` when none. */
function retryAfterOf(error: unknown, now: number): number | undefined {
  const { $response, retryAfterMs } = error as { $response?: { headers?: Record<string, string> }; retryAfterMs?: unknown };
  if (typeof retryAfterMs === 'number' && retryAfterMs >= 0) return retryAfterMs;
  const header = $response?.headers?.['retry-after'];
  if (header === undefined) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * Classifies a provider's error (an AWS SDK error, or one a channel raised with the same shape:
 * `name`, `$metadata.httpStatusCode`, optionally `retryAfterMs`). Sources: the SDK's retry
 * classification (@smithy/service-error-classification) and SES's "Sending quotas" page.
 */
export function classifyProviderError(error: unknown, now: number = Date.now()): ProviderVerdict {
  if (typeof error !== 'object' || error === null) return { kind: 'unknown' };
  const { name, $metadata, message } = error as ErrorShape & { message?: unknown };
  const status = $metadata?.httpStatusCode;
  if (status === 410) return { kind: 'gone' };
  if ((typeof name === 'string' && throttlingNames.has(name)) || status === 429) {
    const hint = retryAfterOf(error, now);
    const daily = typeof message === 'string' && dailyQuotaMessage.test(message);
    return { kind: 'throttled', retryAfterMs: hint ?? (daily ? dailyQuotaWaitMs : defaultThrottleWaitMs) };
  }
  if (isPermanentDeliveryError(error)) return { kind: 'permanent' };
  if (wasAnsweredWithError(error) || neverLeft(error)) return { kind: 'transient' };
  return { kind: 'unknown' };
}

/**
 * What a Telegram Bot API answer means for a send. 401 Unauthorized and 404 Not Found are the
 * bot's token, not the message: 401 for a token revoked or rotated in BotFather before the secret
 * was updated, 404 for one that is not a token at all (`<bot id>:<secret>`; the Bot API answers
 * an unknown path, as every method exists, "Not Found"). The adapter has dropped its cached token
 * (`forgetToken`), so the retry, after the retry policy's backoff, reads the secret again:
 * transient, so a rotation loses no message (a token that stays wrong fails the channel after the
 * last retry). The rest as for any provider ({@link classifyProviderError}): 429 waits
 * `parameters.retry_after`, 403 (the bot was blocked, or kicked from the group) and other 4xx fail
 * at once, 5xx is tried again, no answer at all is never sent again (it may have gone out).
 */
export function classifyTelegramError(error: unknown, now: number = Date.now()): ProviderVerdict {
  const status = (error as { $metadata?: { httpStatusCode?: unknown } } | null)?.$metadata?.httpStatusCode;
  return status === 401 || status === 404 ? { kind: 'transient' } : classifyProviderError(error, now);
}

/** How a failure weighs when a channel that reached none of its targets must report one. */
const reportOrder: Readonly<Record<ProviderVerdict['kind'], number>> = { unknown: 0, throttled: 1, transient: 2, gone: 3, permanent: 4 };

/**
 * The failure a channel that sent to several targets (a user's sockets, browsers and devices) and
 * reached none reports for them all: one that may have reached its target first (`unknown`, so the
 * channel is recorded unconfirmed and never sent again: a retry would repeat it there), then one
 * worth retrying (throttled, then transient), then a refusal. Whichever answered first would
 * otherwise decide, and a 503 answered before a timeout sent the push again to the target that
 * timed out.
 */
export function decisiveFailure(failures: readonly unknown[], now: number = Date.now()): unknown {
  let chosen: { error: unknown; rank: number } | undefined;
  for (const error of failures) {
    const rank = reportOrder[classifyProviderError(error, now).kind];
    if (chosen === undefined || rank < chosen.rank) chosen = { error, rank };
  }
  return chosen?.error;
}

/**
 * True when an AWS call failed because the service could not serve it now (its throttling, a 5xx,
 * or a connection never made), not because of the request: what an API answers 503 for, "retry
 * later", where anything else unexpected is a 500.
 */
export function isServiceUnavailable(error: unknown, depth = 0): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { name, $metadata, code, cause } = error as ErrorShape & { code?: unknown; cause?: unknown };
  const status = $metadata?.httpStatusCode;
  if (typeof name === 'string' && (throttlingNames.has(name) || busyDynamoDbNames.has(name))) return true;
  if (name === 'TransactionCanceledException' && transactionConflicted(error)) return true;
  if (status === 429 || (typeof status === 'number' && status >= 500)) return true;
  // A connection never made, or an answer that did not come in time (not any error flagged unsent:
  // a refusal before sending is no outage).
  if ((typeof code === 'string' && unconnectedCodes.has(code)) || name === 'TimeoutError') return true;
  // What a library wrapped (Powertools' idempotency wraps its table's errors): the cause decides.
  return depth < 3 && cause !== undefined && isServiceUnavailable(cause, depth + 1);
}

/** True when a cancelled transaction was cancelled by another one in the way (a reason `TransactionConflict`). */
function transactionConflicted(error: unknown): boolean {
  const reasons = (error as { CancellationReasons?: readonly { Code?: unknown }[] }).CancellationReasons ?? [];
  return reasons.some((reason) => reason.Code === 'TransactionConflict' || reason.Code === 'ThrottlingError' || reason.Code === 'ProvisionedThroughputExceeded');
}

/** Errors of a connection that was never made: the request never left, so nothing was sent. */
const unconnectedCodes = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/**
 * True when the request provably never reached the provider: the connection could not be made
 * (the SDK's connection timeout, a refused or unresolvable host), or the error was raised before
 * sending (flagged `$notSent` by whoever raised it).
 */
export function neverLeft(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, message, $notSent } = error as { code?: unknown; message?: unknown; $notSent?: unknown };
  if ($notSent === true) return true;
  if (typeof code === 'string' && unconnectedCodes.has(code)) return true;
  return typeof message === 'string' && /without establishing a connection/i.test(message);
}

/**
 * `load` (the module of a provider, imported on its first send) with a failure to load flagged as
 * nothing sent (`$notSent`): no request was made, so the engine tries the send again later rather
 * than record it `unconfirmed` and never send it. A module missing from the package fails each
 * import anew; one that threw while it was evaluated fails every later import the same way, so its
 * deliveries are retried until their attempts run out, then fail where they can be seen.
 * @throws what `load` rejects with, flagged (a value that is not an object, as an Error saying it)
 */
export function loadBeforeSending<T>(load: () => Promise<T>): () => Promise<T> {
  return () =>
    load().catch((error: unknown) => {
      const flagged = typeof error === 'object' && error !== null ? error : new Error(`The provider could not be loaded: ${String(error)}`);
      throw Object.assign(flagged, { $notSent: true });
    });
}

/**
 * What a plain user is told of a delivery error instead of the provider's text (which names the
 * AWS account, its identities, internal hosts, a webhook receiver's answer): a stable category.
 * Each provider error's category is its {@link ProviderVerdict}, in words for people:
 * - `rejected`: the provider refused this message for good (`permanent`).
 * - `gone`: the address no longer exists (`gone`: a 410, a disabled endpoint, an erased recipient).
 * - `unavailable`: the provider could not take it then (`transient`: a 5xx, a network error).
 * - `throttled`: the provider asked to slow down (`throttled`), or Herald's own send budget did.
 * - `no_answer`: no answer came (`unknown`), so it may have gone out; it is never sent again.
 * and three that are not the provider's:
 * - `unrenderable`: Herald could not make the message for the channel (a template's missing
 *   section, a webhook body that is not JSON); nothing was sent.
 * - `unreachable`: every channel was skipped (no address, switched off by the recipient, not
 *   connected, suppressed after a bounce): nothing was sent and nothing failed, but the
 *   notification reached nobody. Only a notification's or recipient row's own error has it.
 * - `unclassified`: an error recorded before categories were (old records), or one of Herald's own.
 */
export const deliveryErrorCategories = ['rejected', 'gone', 'unavailable', 'throttled', 'no_answer', 'unrenderable', 'unreachable', 'unclassified'] as const;
export type DeliveryErrorCategory = (typeof deliveryErrorCategories)[number];

/** The category of each verdict: the one rule by which provider errors are told to users. */
const verdictCategories: Readonly<Record<ProviderVerdict['kind'], DeliveryErrorCategory>> = {
  permanent: 'rejected',
  gone: 'gone',
  transient: 'unavailable',
  throttled: 'throttled',
  unknown: 'no_answer',
};

/** The category a plain user sees for an error of this verdict. */
export function categoryOfVerdict(verdict: ProviderVerdict): DeliveryErrorCategory {
  return verdictCategories[verdict.kind];
}
