/**
 * The DynamoDB endpoint's per-item locks. Every write (PutItem, UpdateItem, DeleteItem,
 * BatchWriteItem, TransactWriteItems) and every read AWS isolates from transactions (GetItem,
 * BatchGetItem, TransactGetItems) holds the locks of the items it touches for its whole run, so
 * nothing lands on an item between a transaction's condition and its effect, and no GetItem sees
 * a transaction half applied. As on AWS, a TransactWriteItems that meets another in progress
 * (`heldByTransaction`) is cancelled with `TransactionConflict` (transact-write-items.ts), and a
 * PutItem, UpdateItem or DeleteItem of an item that an ongoing transaction holds is refused with
 * `TransactionConflictException` (operations.ts); Herald's code must retry both. What meets a
 * plain write or a read holding an item waits its turn.
 */

/**
 * Per-key locks in arrival order. `acquire` queues on every key at once, synchronously, so
 * waiters queue on all their keys in one global order and can never wait on each other in a
 * cycle. A key is in the map while it is held; its array holds who waits for it next.
 */
export class KeyLocks {
  private readonly waiting = new Map<string, (() => void)[]>();
  /** Keys a TransactWriteItems holds (it got them, it has not let go), with how many hold each. */
  private readonly inTransaction = new Map<string, number>();

  /**
   * Resolves once every key is free, with the function that frees them again. `transaction`: the
   * holder is a TransactWriteItems, and `heldByTransaction` says so while it holds them.
   */
  acquire(keys: readonly string[], options: { readonly transaction?: boolean } = {}): Promise<() => void> {
    const unique = [...new Set(keys)];
    const markHeld = (): void => {
      if (!options.transaction) return;
      for (const key of unique) this.inTransaction.set(key, (this.inTransaction.get(key) ?? 0) + 1);
    };
    const release = (): void => {
      if (options.transaction) {
        for (const key of unique) {
          const holders = (this.inTransaction.get(key) ?? 1) - 1;
          if (holders > 0) this.inTransaction.set(key, holders);
          else this.inTransaction.delete(key);
        }
      }
      for (const key of unique) {
        const next = this.waiting.get(key)?.shift();
        if (next) next();
        else this.waiting.delete(key);
      }
    };
    let blocked = 0;
    let granted: (() => void) | undefined;
    const onGranted = (): void => {
      blocked -= 1;
      if (blocked === 0) granted?.();
    };
    for (const key of unique) {
      const queue = this.waiting.get(key);
      if (queue) {
        blocked += 1;
        queue.push(onGranted);
      } else {
        this.waiting.set(key, []);
      }
    }
    if (blocked === 0) {
      markHeld();
      return Promise.resolve(release);
    }
    return new Promise((resolve) => {
      granted = () => {
        markHeld();
        resolve(release);
      };
    });
  }

  /** True when an ongoing transaction holds one of `keys`. */
  heldByTransaction(keys: readonly string[]): boolean {
    return keys.some((key) => this.inTransaction.has(key));
  }

  /** How many keys are held (for tests). */
  get size(): number {
    return this.waiting.size;
  }
}
