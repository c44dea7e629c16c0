/**
 * A log kept oldest first whose oldest entries expire (a time window: the local SES's sends of the
 * last 24 hours, a DynamoDB stream's 24 hours of records). Dropping expired entries advances a
 * start index instead of `splice(0, n)`, which moved every entry still kept on each drop: once a
 * window is full, every append drops one, so that was O(kept) per append. The array is compacted
 * only when the dropped front is at least half of it, so each entry is moved at most once per
 * halving: O(1) amortized per drop.
 */

/** Below this many dropped entries the front is left in place (compacting a small array gains nothing). */
const minCompaction = 1024;

/** Entries oldest first; append at the end, expire from the front. */
export class FifoLog<T> {
  private entries: T[] = [];
  private start = 0;

  /** How many entries it keeps. */
  get length(): number {
    return this.entries.length - this.start;
  }

  /** Appends `entry` as the newest. */
  push(entry: T): void {
    this.entries.push(entry);
  }

  /** The entry `index` places after the oldest (negative: from the newest, -1 the newest); undefined outside. */
  at(index: number): T | undefined {
    const offset = index < 0 ? this.length + index : index;
    return offset >= 0 && offset < this.length ? this.entries[this.start + offset] : undefined;
  }

  /** Drops the oldest entries while `expired` holds for them; answers the last one dropped, if any. */
  dropWhile(expired: (entry: T) => boolean): T | undefined {
    let last: T | undefined;
    while (this.start < this.entries.length) {
      const oldest = this.entries[this.start] as T;
      if (!expired(oldest)) break;
      last = oldest;
      this.start += 1;
    }
    if (this.start >= minCompaction && this.start * 2 >= this.entries.length) {
      this.entries = this.entries.slice(this.start);
      this.start = 0;
    }
    return last;
  }

  /**
   * Removes one entry wherever it is (O(kept): for the rare take-back, not for expiry); true when
   * it was there.
   */
  remove(entry: T): boolean {
    const index = this.entries.indexOf(entry, this.start);
    if (index === -1) return false;
    this.entries.splice(index, 1);
    return true;
  }

  /** The entries from `index` places after the oldest, up to (not including) `end`, oldest first. */
  slice(index = 0, end = this.length): T[] {
    return this.entries.slice(this.start + index, this.start + Math.min(end, this.length));
  }
}
