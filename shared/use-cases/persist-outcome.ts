/**
 * Writes that record something already done in the world (an email sent, a frame posted) are
 * retried hard: if such a write were lost, a later attempt could not know and would do it again.
 */
import { setTimeout as sleepMs } from 'node:timers/promises';
import { isPermanentDeliveryError } from '../domain/delivery-errors.ts';
import { ClaimLostError } from '../ports.ts';

export interface PersistOptions {
  /** Attempts in all, the first included (each is itself an SDK call with its own retries). @default 6 */
  readonly attempts?: number;
  /** Delay before the first retry, doubled before each next one. @default 100 */
  readonly baseDelayMs?: number;
  /** @default node's timers/promises setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** Runs `write`, retrying transient failures with backoff; a lost claim or a permanent error is thrown at once. */
export async function persistOutcome<T>(write: () => Promise<T>, options: PersistOptions = {}): Promise<T> {
  const attempts = options.attempts ?? 6;
  const baseDelayMs = options.baseDelayMs ?? 100;
  const sleep = options.sleep ?? ((ms: number): Promise<void> => sleepMs(ms));
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (error) {
      const hopeless = error instanceof ClaimLostError || isPermanentDeliveryError(error);
      if (hopeless || attempt >= attempts) throw error;
      await sleep(baseDelayMs * 2 ** (attempt - 1));
    }
  }
}
