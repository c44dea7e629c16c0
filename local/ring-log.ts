/**
 * A bounded log for the local stack's stores: the newest `capacity` entries, each under a sequence
 * number that only grows, kept in a ring buffer. Appending is O(1) and, once full, overwrites the
 * oldest slot (where an array's `splice(0, 1)` moved every kept entry); a walk from a sequence
 * number finds its start by binary search and then reads only the entries it yields, so a page of
 * `limit` costs O(log capacity + limit) whatever the log holds.
 *
 * The log remembers the newest sequence number it has dropped or forgotten (`droppedThrough`), so
 * a reader holding a position can tell whether the entries older than it are still all there.
 */

/** The newest `capacity` entries appended, oldest overwritten first. */
export class RingLog<T> {
  /** How many entries the log keeps at most. */
  readonly capacity: number;
  private readonly slots: (T | undefined)[];
  private readonly seqOf: (entry: T) => number;
  /** The slot of the oldest kept entry. */
  private head = 0;
  private count = 0;
  private dropped = -1;
  private last = -1;

  /**
   * `seqOf` gives an entry's sequence number, which must grow with each append (the caller's own
   * counter, which may be shared with other logs). Throws RangeError on a capacity below 1.
   */
  constructor(capacity: number, seqOf: (entry: T) => number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a whole number of entries from 1, not ${capacity}`);
    this.capacity = capacity;
    this.seqOf = seqOf;
    this.slots = new Array<T | undefined>(capacity);
  }

  /** How many entries the log keeps now. */
  get size(): number {
    return this.count;
  }

  /** The newest sequence number dropped past the capacity or forgotten by `clear`; -1 when none ever was. */
  get droppedThrough(): number {
    return this.dropped;
  }

  /**
   * Appends `entry`, dropping the oldest when the log is full; answers the dropped entry, if any.
   * Throws RangeError when `entry`'s sequence number is not above the last one appended.
   */
  append(entry: T): T | undefined {
    const seq = this.seqOf(entry);
    if (!(seq > this.last)) throw new RangeError(`sequence numbers must grow: ${seq} after ${this.last}`);
    this.last = seq;
    if (this.count < this.capacity) {
      this.slots[(this.head + this.count) % this.capacity] = entry;
      this.count += 1;
      return undefined;
    }
    const oldest = this.slots[this.head] as T;
    this.dropped = this.seqOf(oldest);
    this.slots[this.head] = entry;
    this.head = (this.head + 1) % this.capacity;
    return oldest;
  }

  /** Forgets every entry; their sequence numbers count as dropped. */
  clear(): void {
    if (this.count > 0) this.dropped = this.last;
    this.slots.fill(undefined);
    this.head = 0;
    this.count = 0;
  }

  /**
   * The kept entries whose sequence number is below `before` (every one when absent), newest
   * first, read lazily: a caller that stops after `n` has read `n` entries and the log's binary
   * search, O(log capacity).
   */
  *newestFirst(before = Number.POSITIVE_INFINITY): Generator<T, void, undefined> {
    // Binary search for how many kept entries (from the oldest) are below `before`.
    let low = 0;
    let high = this.count;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.seqOf(this.at(middle)) < before) low = middle + 1;
      else high = middle;
    }
    for (let offset = low - 1; offset >= 0; offset -= 1) yield this.at(offset);
  }

  /** The kept entry `offset` places after the oldest. */
  private at(offset: number): T {
    return this.slots[(this.head + offset) % this.capacity] as T;
  }
}
