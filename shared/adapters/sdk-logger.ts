/**
 * The AWS SDK v3's `loggerMiddleware` runs on every call, logger or not: with the default
 * `NoOpLogger` it still walks the input and the output through their schemas to redact sensitive
 * members, for a log line nobody writes ("Middleware stack", AWS SDK for JavaScript v3 developer
 * guide, lists it). In a burst of deliveries that walk was 2 % of the delivery sandbox's CPU and of
 * the local emulators' thread. Herald gives its clients no logger (it writes its own log lines),
 * so its clients do without the middleware.
 */
/** The part of an SDK v3 client this needs: its middleware stack. */
interface StackHolder {
  readonly middlewareStack: { remove(name: string): boolean };
}

/** Removes the SDK's `loggerMiddleware` from `client` (made without a `logger`) and returns it. */
export function withoutSdkLogger<C extends StackHolder>(client: C): C {
  client.middlewareStack.remove('loggerMiddleware');
  return client;
}
