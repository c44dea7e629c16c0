/**
 * The DynamoDB endpoint's per-item locks. Every write (PutItem, UpdateItem, DeleteItem,
 * BatchWriteItem, TransactWriteItems) and every read AWS isolates from transactions (GetItem,
 * BatchGetItem, TransactGetItems) holds the locks of the items it touches for its whole run, so
 * nothing lands on an item between a transaction's condition and its effect, and no GetItem sees
 * a transaction half applied. Where AWS would cancel a conflicting request
 * (TransactionConflict), the local endpoint makes it wait its turn instead.
 */

/**
 * Per-key locks in arrival order. `acquire` queues on every key at once, synchronously, so
 * waiters queue on all their keys in one global order and can never wait on each other in a
 * cycle. A key is in the map while it is held; its array holds who waits for it next.
 */
export class KeyLocks {
  private readonly waiting = new Map<string, (() => void)[]>();

  /** Resolves once every key is free, with the function that frees them again. */
  acquire(keys: readonly string[]): Promise<() => void> {
    const unique = [...new Set(keys)];
    const release = (): void => {
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
    if (blocked === 0) return Promise.resolve(release);
    return new Promise((resolve) => {
      granted = () => resolve(release);
    });
  }

  /** How many keys are held (for tests). */
  get size(): number {
    return this.waiting.size;
  }
}
