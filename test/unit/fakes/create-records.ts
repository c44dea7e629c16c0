/**
 * An in-memory CreateRecords with the semantics of DynamoCreateRecords: one record per key, put
 * only when none is live, replaced and removed only while still as given, alive 24 h after its
 * last write by the clock it is given.
 */
import type { CreateRecord, CreateRecords } from '../../../shared/ports.ts';

interface Stored {
  readonly record: CreateRecord;
  readonly expiresAt: number;
}

function same(a: CreateRecord, b: CreateRecord): boolean {
  return a.fingerprint === b.fingerprint && a.state === b.state && a.ids.join() === b.ids.join();
}

export class InMemoryCreateRecords implements CreateRecords {
  private readonly records = new Map<string, Stored>();
  private readonly lifeMs: number;
  /** Calls made, of any method: what a create pays in writes of its record. */
  calls = 0;

  constructor(lifeSeconds = 24 * 60 * 60) {
    this.lifeMs = lifeSeconds * 1000;
  }

  async put(record: CreateRecord, now: Date): Promise<CreateRecord | undefined> {
    this.calls++;
    const stored = this.records.get(record.key);
    if (stored && stored.expiresAt >= now.getTime()) return structuredClone(stored.record);
    this.records.set(record.key, { record: structuredClone(record), expiresAt: now.getTime() + this.lifeMs });
    return undefined;
  }

  async replace(previous: CreateRecord, next: CreateRecord, now: Date): Promise<boolean> {
    this.calls++;
    const stored = this.records.get(previous.key);
    if (!stored || !same(stored.record, previous)) return false;
    this.records.set(previous.key, { record: structuredClone(next), expiresAt: now.getTime() + this.lifeMs });
    return true;
  }

  async remove(record: CreateRecord): Promise<void> {
    this.calls++;
    const stored = this.records.get(record.key);
    if (stored && same(stored.record, record)) this.records.delete(record.key);
  }

  /** The record under `key`, if any (live or not). */
  get(key: string): CreateRecord | undefined {
    return this.records.get(key)?.record;
  }
}
