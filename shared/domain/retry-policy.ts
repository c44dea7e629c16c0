/**
 * When to try a failed delivery again: exponential backoff with jitter. The defaults follow the
 * scheduler Herald replaces (retries after 5, 10 and 20 minutes).
 */
export interface RetryPolicy {
  readonly baseSeconds: number;
  readonly factor: number;
  /** Retries after the first attempt; attempt `maxRetries + 1` is the last. */
  readonly maxRetries: number;
  /** Fraction of each delay drawn at random (0.1 = ±10 %), so retries do not stampede. */
  readonly jitter: number;
  /** No delay exceeds this (SQS visibility caps at 12 h). */
  readonly capSeconds: number;
}

export const defaultRetryPolicy: RetryPolicy = {
  baseSeconds: 300,
  factor: 2,
  maxRetries: 3,
  jitter: 0.1,
  capSeconds: 12 * 60 * 60,
};

/** Seconds to wait after failed attempt number `attempt` (1-based); `undefined` when it was the last. */
export function retryDelaySeconds(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number | undefined {
  if (attempt > policy.maxRetries) return undefined;
  const nominal = Math.min(policy.capSeconds, policy.baseSeconds * policy.factor ** (attempt - 1));
  const spread = nominal * policy.jitter * (2 * random() - 1);
  return Math.max(0, Math.min(policy.capSeconds, Math.round(nominal + spread)));
}
