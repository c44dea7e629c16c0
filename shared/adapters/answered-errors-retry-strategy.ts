/**
 * An AWS SDK retry strategy for requests that must not take effect twice (SES `SendEmail`).
 *
 * The SDK's standard strategy also retries timeouts and broken connections, after which the
 * request may already have been carried out: for an email that means a second copy. This one
 * retries only what the service answered with a throttling or transient error (it refused the
 * request, so nothing was sent) and hands anything unanswered back to the caller at once, who
 * then knows the outcome is unknown (see deliver-notification.ts, which records it `unconfirmed`).
 */
import type { RetryErrorInfo, RetryStrategyV2, RetryToken } from '@smithy/types';
import { wasAnsweredWithError } from '../domain/delivery-errors.ts';

export interface AnsweredErrorsRetryOptions {
  /** Attempts in all, the first included. @default 3 (as the SDK's standard mode) */
  readonly maxAttempts?: number;
  /** @default 100 */
  readonly baseDelayMs?: number;
  /** @default 5000 */
  readonly maxDelayMs?: number;
  /** @default Math.random */
  readonly random?: () => number;
}

function tokenOf(retryCount: number, delayMs: number): RetryToken {
  return { getRetryCount: () => retryCount, getRetryDelay: () => delayMs };
}

/** Thrown to the SDK's retry middleware to stop retrying; the middleware rethrows the request's own error. */
class NoRetryError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'NoRetryError';
  }
}

export class AnsweredErrorsRetryStrategy implements RetryStrategyV2 {
  readonly mode = 'standard';
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly random: () => number;

  constructor(options: AnsweredErrorsRetryOptions = {}) {
    this.maxAttempts = options.maxAttempts ?? 3;
    this.baseDelayMs = options.baseDelayMs ?? 100;
    this.maxDelayMs = options.maxDelayMs ?? 5_000;
    this.random = options.random ?? Math.random;
  }

  async acquireInitialRetryToken(): Promise<RetryToken> {
    return tokenOf(0, 0);
  }

  async refreshRetryTokenForRetry(previous: RetryToken, info: RetryErrorInfo): Promise<RetryToken> {
    const retryCount = previous.getRetryCount() + 1;
    if (retryCount >= this.maxAttempts) throw new NoRetryError('Out of attempts');
    if (info.errorType !== 'THROTTLING' && info.errorType !== 'TRANSIENT') throw new NoRetryError('Not retryable');
    if (!wasAnsweredWithError(info.error)) throw new NoRetryError('Unanswered: the request may have taken effect');
    const hinted = info.retryAfterHint ? info.retryAfterHint.getTime() - Date.now() : 0;
    // Full jitter (AWS's advice): a random delay up to the exponential ceiling.
    const ceiling = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** retryCount);
    return tokenOf(retryCount, Math.max(hinted, Math.floor(this.random() * ceiling)));
  }

  recordSuccess(): void {
    // No retry budget to replenish: attempts are bounded per request.
  }
}
