/**
 * An in-memory IdempotencyStore with the semantics of PowertoolsIdempotencyStore: one record per
 * key, taken before the work runs, completed with its result, forgotten when the work throws,
 * expired after 24 h by the clock it is given.
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { IdempotencyConflictError, IdempotencyInProgressError } from '../../../shared/errors.ts';
import type { Clock, IdempotencyStore, IdempotentRequest } from '../../../shared/ports.ts';

interface KeyRecord {
  readonly fingerprint: string;
  readonly expiresAt: number;
  done?: { readonly result: string };
}

export class InMemoryIdempotencyStore implements IdempotencyStore {
  private readonly records = new Map<string, KeyRecord>();
  private readonly clock: Clock;
  private readonly retentionMs: number;
  /** How many times a `work` was run (replays excluded). */
  runs = 0;

  constructor(clock: Clock = { now: () => new Date() }, retentionSeconds = 24 * 60 * 60) {
    this.clock = clock;
    this.retentionMs = retentionSeconds * 1000;
  }

  async has(request: IdempotentRequest): Promise<boolean> {
    const existing = this.records.get(request.key);
    return existing !== undefined && existing.expiresAt > this.clock.now().getTime();
  }

  async run<T>(request: IdempotentRequest, work: () => Promise<T>): Promise<{ readonly result: T; readonly replayed: boolean }> {
    await yieldToEventLoop();
    const now = this.clock.now().getTime();
    const existing = this.records.get(request.key);
    if (existing && existing.expiresAt > now) {
      if (existing.fingerprint !== request.fingerprint) throw new IdempotencyConflictError('Key reused with another body');
      if (!existing.done) throw new IdempotencyInProgressError('First request still running');
      return { result: JSON.parse(existing.done.result) as T, replayed: true };
    }
    const record: KeyRecord = { fingerprint: request.fingerprint, expiresAt: now + this.retentionMs };
    this.records.set(request.key, record);
    this.runs++;
    try {
      const result = await work();
      record.done = { result: JSON.stringify(result) };
      return { result, replayed: false };
    } catch (error) {
      this.records.delete(request.key);
      throw error;
    }
  }

  /** The keys it holds (completed or running). */
  keys(): string[] {
    return [...this.records.keys()];
  }
}
