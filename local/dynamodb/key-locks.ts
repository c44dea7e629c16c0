/**
 * The DynamoDB endpoint's per-item locks. Every write (PutItem, UpdateItem, DeleteItem,
 * BatchWriteItem, TransactWriteItems) and every read AWS isolates from transactions (GetItem,
 * BatchGetItem, TransactGetItems) holds the locks of the items it touches for its whole run, so
 * nothing lands on an item between a transaction's condition and its effect, and no GetItem sees
 * a transaction half applied. Where AWS would cancel a conflicting request
 * (TransactionConflict), the local endpoint makes it wait its turn instead.
 */

/**
 * Per-key locks in arrival order. `acquire` queues on every key synchronously, so waiters queue
 * on all their keys in one global order and can never wait on each other in a cycle.
 */
export class KeyLocks {
  private readonly tails = new Map<string, Promise<void>>();

  /** Resolves once every key is free, with the function that frees them again. */
  async acquire(keys: readonly string[]): Promise<() => void> {
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const waits = [...new Set(keys)].map((key) => {
      const previous = this.tails.get(key) ?? Promise.resolve();
      const tail = previous.then(() => held);
      this.tails.set(key, tail);
      void tail.then(() => {
        if (this.tails.get(key) === tail) this.tails.delete(key);
      });
      return previous;
    });
    await Promise.all(waits);
    return release;
  }

  /** How many keys are held or awaited (for tests). */
  get size(): number {
    return this.tails.size;
  }
}
