/**
 * What every AWS SDK client of Herald's functions is made with: its HTTP timeouts and its retry
 * strategy. The one home of both; the dependency modules (shared/adapters/dependencies/) pass
 * `sdkClientOptions()` to each client they make.
 *
 * Timeouts. The SDK's Node handler waits forever by default: a connection that hangs holds the
 * invocation until Lambda kills it, and the whole batch (or request) fails with it. With these,
 * a hung attempt ends as a `TimeoutError`, which the SDK retries (a transient error) while the
 * function still runs. `test/unit/shared/adapters/sdk-clients.test.ts` holds every function's
 * timeout (lib/app-description.ts) above one attempt's worst case.
 *
 * Retries. The SDK's standard strategy (3 attempts, jittered exponential backoff) does not
 * classify DynamoDB's `TransactionConflictException` as retryable: it is a 400 outside its
 * throttling and transient lists (`@smithy/core/retry`, service-error-classification constants).
 * DynamoDB answers it to a PutItem, UpdateItem or DeleteItem on an item an ongoing
 * TransactWriteItems holds ("Transaction conflict handling", DynamoDB Developer Guide), and it
 * means "try again": nothing was written. So it is retried, backed off as throttling is (a 1 s
 * base instead of 50 ms, a smaller share of the retry quota): it is contention on one item, and a
 * retry 50 ms later would meet the same run of transactions.
 */
import { StandardRetryStrategy } from '@smithy/core/retry';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { RetryErrorInfo, RetryStrategyV2, StandardRetryToken } from '@smithy/types';
import { sdkTimeoutsConfig } from '../config.ts';

/** The HTTP timeouts of every client, in ms. */
export const sdkTimeouts = {
  /** TCP and TLS to a regional endpoint take tens of ms; two seconds means it is unreachable. */
  connectionTimeoutMs: 2_000,
  /** One attempt, request sent to response read: AWS answers Herald's calls in well under a second. */
  requestTimeoutMs: 6_000,
} as const;

/** The SDK's default number of attempts (the first included), standard mode. */
export const defaultSdkAttempts = 3;

/** The errors the SDK would not retry that mean "nothing happened, try again". */
const retryableConflicts: ReadonlySet<string> = new Set(['TransactionConflictException']);

/** True when `info` is an error Herald retries although the SDK's classification does not. */
function isRetryableConflict(info: RetryErrorInfo): boolean {
  return info.error !== undefined && retryableConflicts.has(info.error.name);
}

/** The SDK's standard retry strategy, which also retries `TransactionConflictException`, as it retries throttling. */
export class ConflictRetryingStrategy implements RetryStrategyV2 {
  readonly mode = 'standard';
  private readonly standard: StandardRetryStrategy;

  /** `maxAttempts`: attempts in all, the first included. */
  constructor(maxAttempts: number = defaultSdkAttempts) {
    this.standard = new StandardRetryStrategy(maxAttempts);
  }

  acquireInitialRetryToken(scope: string): Promise<StandardRetryToken> {
    return this.standard.acquireInitialRetryToken(scope);
  }

  refreshRetryTokenForRetry(token: StandardRetryToken, info: RetryErrorInfo): Promise<StandardRetryToken> {
    return this.standard.refreshRetryTokenForRetry(token, isRetryableConflict(info) ? { ...info, errorType: 'THROTTLING' } : info);
  }

  recordSuccess(token: StandardRetryToken): void {
    this.standard.recordSuccess(token);
  }
}

/** A Node HTTP handler with Herald's timeouts (`sdkTimeouts`, unless the local stack widens them); a timed-out attempt throws `TimeoutError`. */
export function sdkRequestHandler(): NodeHttpHandler {
  const timeouts = sdkTimeoutsConfig(sdkTimeouts);
  return new NodeHttpHandler({
    connectionTimeout: timeouts.connectionTimeoutMs,
    requestTimeout: timeouts.requestTimeoutMs,
    // Without it the SDK only logs a warning when the request timeout passes.
    throwOnRequestTimeout: true,
  });
}

/** What every client is constructed with: Herald's timeouts, and the conflict-retrying strategy unless `retryStrategy` is given. */
export function sdkClientOptions(options: { readonly maxAttempts?: number; readonly retryStrategy?: RetryStrategyV2 } = {}): {
  readonly requestHandler: NodeHttpHandler;
  readonly retryStrategy: RetryStrategyV2;
} {
  return { requestHandler: sdkRequestHandler(), retryStrategy: options.retryStrategy ?? new ConflictRetryingStrategy(options.maxAttempts) };
}
