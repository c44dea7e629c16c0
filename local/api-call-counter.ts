/**
 * Counts the AWS API calls the functions make, by service and operation, as the emulators'
 * faultable endpoints see them (`GET /_local/calls`; `npm run bench` reports them per recipient).
 * The stack's own calls (the event-source mapping's polling, the scheduler's firing, table and
 * queue creation, the TTL reaper) use the plain endpoints and are not counted, just as on AWS they
 * are made by the Lambda and Scheduler services, not the functions.
 */
export type ApiCallCounts = Readonly<Record<string, Readonly<Record<string, number>>>>;

export class ApiCallCounter {
  private counts = new Map<string, Map<string, number>>();

  /** Counts one call. */
  count(service: string, operation: string): void {
    const perOperation = this.counts.get(service) ?? new Map<string, number>();
    perOperation.set(operation, (perOperation.get(operation) ?? 0) + 1);
    this.counts.set(service, perOperation);
  }

  /** The calls counted since start-up (or the last reset): `{ dynamodb: { UpdateItem: 3 } }`. */
  snapshot(): ApiCallCounts {
    return Object.fromEntries([...this.counts].map(([service, ops]) => [service, Object.fromEntries(ops)]));
  }

  /** Starts counting from zero. */
  reset(): void {
    this.counts = new Map();
  }
}
