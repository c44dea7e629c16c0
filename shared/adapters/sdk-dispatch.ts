/**
 * Telling "never sent" from "may have been sent" for an AWS SDK v3 call. An error thrown while the
 * request is being built (a `URIError` from encoding text the provider's protocol cannot carry, a
 * serializer's own error) leaves the process with nothing sent; the delivery engine may then retry
 * it safely (shared/domain/delivery-errors.ts, `neverLeft`). Two middlewares mark it, on the SDK's
 * middleware stack ("Middleware stack" in the AWS SDK for JavaScript v3 developer guide):
 * - at the `finalizeRequest` step with the lowest priority, the request is marked dispatched (on
 *   every retry attempt): the last of the client's own middlewares before the HTTP handler (a
 *   command's `checkBeforeEachAttempt` comes after it, and its refusal is told by its own class);
 * - at the `initialize` step, around everything, an error of a request never marked dispatched gets
 *   `$notSent = true`.
 */
import type { SESClient } from '@aws-sdk/client-ses';
import type { MiddlewareStack } from '@smithy/types';

const dispatched = Symbol('herald.requestDispatched');

type Flags = { [dispatched]?: boolean };

/** The part of an SDK v3 client this needs: its middleware stack. */
interface StackHolder {
  readonly middlewareStack: SESClient['middlewareStack'];
}

/** Adds the two middlewares to `client` (once) and returns it. */
export function flagErrorsBeforeDispatch<C extends StackHolder>(client: C): C {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      (context as Flags)[dispatched] = false;
      try {
        return await next(args);
      } catch (error) {
        if ((context as Flags)[dispatched] !== true && typeof error === 'object' && error !== null) {
          Object.assign(error, { $notSent: true });
        }
        throw error;
      }
    },
    { step: 'initialize', name: 'heraldNotSentMiddleware', override: true },
  );
  client.middlewareStack.add(
    (next, context) => async (args) => {
      (context as Flags)[dispatched] = true;
      return next(args);
    },
    { step: 'finalizeRequest', priority: 'low', name: 'heraldDispatchedMiddleware', override: true },
  );
  return client;
}

/** True for an error flagged by {@link flagErrorsBeforeDispatch}: the request never left. */
export function failedBeforeDispatch(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { $notSent?: unknown }).$notSent === true;
}

/**
 * Runs `check` before each attempt of `command` leaves, the SDK's own retries included: at the
 * `finalizeRequest` step, inside the retry middleware (which runs at its `high` priority, so every
 * attempt passes here after its backoff). What `check` throws fails the call with nothing sent on
 * that attempt. A send that must go out within a reserved second (shared/domain/rate-budget.ts)
 * passes its check here: an attempt retried after SES or SNS throttled the first would otherwise
 * go out in a second its budget never reserved. The error `check` throws on a retry carries the
 * answer that made it (`cause`).
 */
export function checkBeforeEachAttempt<I extends object, O extends object>(command: { readonly middlewareStack: MiddlewareStack<I, O> }, check: () => void): void {
  // What the provider answered the attempt before, kept as the `cause` of a check that stops the
  // retry: a throttled send then waits as long as the provider asked, not a second.
  let previous: unknown;
  command.middlewareStack.add(
    (next) => async (args) => {
      try {
        check();
      } catch (error) {
        if (previous !== undefined && error instanceof Error && error.cause === undefined) Object.defineProperty(error, 'cause', { value: previous, writable: true, configurable: true });
        throw error;
      }
      try {
        return await next(args);
      } catch (error) {
        previous = error;
        throw error;
      }
    },
    { step: 'finalizeRequest', priority: 'low', name: 'heraldBeforeAttemptMiddleware', override: true },
  );
}
