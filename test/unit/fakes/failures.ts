/** A queue of errors a fake throws on its next calls, so a test can script failures. */
export class ScriptedFailures {
  private readonly queue: unknown[] = [];

  /** The next `errors.length` calls throw these errors, in order. */
  add(...errors: unknown[]): void {
    this.queue.push(...errors);
  }

  /** Throws the next scripted error, if any. */
  throwNext(): void {
    if (this.queue.length > 0) throw this.queue.shift();
  }

  get pending(): number {
    return this.queue.length;
  }
}
