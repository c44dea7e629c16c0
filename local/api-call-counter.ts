/**
 * Counts the AWS API calls the functions make, by service and operation, and by the function that
 * made them, as the emulators' faultable endpoints see them (`GET /_local/calls`; `npm run bench`
 * reports them per recipient). Each function's SDK signs with an access key id of its own
 * (`herald-local-<name>`, set by local/lambda-runtime.ts), so the caller is read from the
 * signature; unsigned calls and unknown keys count under `unknown`. The stack's own calls (the
 * event-source mapping's polling, the scheduler's firing, table and queue creation, the TTL
 * reaper) use the plain endpoints and are not counted, just as on AWS they are made by the Lambda
 * and Scheduler services, not the functions.
 */
export type ApiCallCounts = Readonly<Record<string, Readonly<Record<string, number>>>>;

/** The counts of each caller: `{ deliver: { dynamodb: { TransactWriteItems: 2 } } }`. */
export type ApiCallCountsByFunction = Readonly<Record<string, ApiCallCounts>>;

/** The caller of calls whose signer is not one of the functions. */
export const UNKNOWN_CALLER = 'unknown';

type Counts = Map<string, Map<string, number>>;

function add(counts: Counts, service: string, operation: string): void {
  const perOperation = counts.get(service) ?? new Map<string, number>();
  perOperation.set(operation, (perOperation.get(operation) ?? 0) + 1);
  counts.set(service, perOperation);
}

function plain(counts: Counts): ApiCallCounts {
  return Object.fromEntries([...counts].map(([service, ops]) => [service, Object.fromEntries(ops)]));
}

/** The functions' AWS calls, by service and operation, and by function. */
export class ApiCallCounter {
  private counts: Counts = new Map();
  private byCaller = new Map<string, Counts>();
  private readonly functionOf: (accessKeyId: string) => string | undefined;

  /** `functionOf` names the function that signs with an access key id, or undefined for a stranger. @default every caller is unknown */
  constructor(functionOf: (accessKeyId: string) => string | undefined = () => undefined) {
    this.functionOf = functionOf;
  }

  /** Counts one call, made by whoever signs with `accessKeyId` (undefined when unsigned). */
  count(service: string, operation: string, accessKeyId?: string): void {
    add(this.counts, service, operation);
    const caller = (accessKeyId !== undefined ? this.functionOf(accessKeyId) : undefined) ?? UNKNOWN_CALLER;
    const counts = this.byCaller.get(caller) ?? new Map<string, Map<string, number>>();
    add(counts, service, operation);
    this.byCaller.set(caller, counts);
  }

  /** The calls counted since start-up (or the last reset): `{ dynamodb: { UpdateItem: 3 } }`. */
  snapshot(): ApiCallCounts {
    return plain(this.counts);
  }

  /** The same calls by the function that made them: `{ deliver: { dynamodb: { UpdateItem: 3 } } }`. */
  byFunction(): ApiCallCountsByFunction {
    return Object.fromEntries([...this.byCaller].map(([caller, counts]) => [caller, plain(counts)]));
  }

  /** Starts counting from zero, by operation and by function. */
  reset(): void {
    this.counts = new Map();
    this.byCaller = new Map();
  }
}
