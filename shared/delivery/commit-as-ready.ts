/**
 * Steps 3 and 4 of a round (engine.ts), joined: each unit's sends (send.ts) and the commit of its
 * outcome (commit.ts), written as units become ready rather than once the slowest unit of the round
 * is done. A webhook that answers only at its 10 s timeout then no longer keeps the other units of
 * its round `sending`, their inbox items unwritten, for 10 s.
 */
import { mapLimited } from '../use-cases/map-limited.ts';

/**
 * How long (ms) a unit whose sends are done may wait for the rest of its round before its outcome
 * is written without them. Each commit is an AWS call (a TransactWriteItems per 25 units, plus a
 * count per broadcast): units of a round finishing within this much of the first one are written
 * together, as one commit, so a round whose sends all answer promptly costs what it did. A longer
 * bound spares commits when sends spread further (many webhooks, each answering in its own time);
 * a shorter one writes sooner: until its commit, a unit is `sending`, its inbox item missing while
 * the WebSocket frame that went out with its sends already announced it.
 */
export const readyWaitMs = 250;

/** Calls `callback` once `delayMs` have passed, unless cancelled first. */
export type SetTimer = (callback: () => void, delayMs: number) => { cancel(): void };

/** A real timer. */
export const realTimer: SetTimer = (callback, delayMs) => {
  const timer = setTimeout(callback, delayMs);
  return { cancel: () => clearTimeout(timer) };
};

export interface CommitAsReadyOptions {
  /** Items whose `send` runs at once. */
  readonly concurrency: number;
  /** How the wait of the first ready result is timed (`readyWaitMs`). */
  readonly setTimer: SetTimer;
}

/**
 * Runs `send` over `items`, at most `concurrency` at once, and hands the results to `commit` as
 * they come: a group is committed once every send is done, or once its first result has waited
 * `readyWaitMs`; what becomes ready meanwhile goes in the next. One `commit` runs at a time.
 *
 * A failure does not stop the others from being written: these are outcomes of sends that already
 * went out. After a `commit` or a `send` that threw, what is left is committed in one last group
 * once every started send is done (a failing store is not made to fail once per group), and then
 * the first error is thrown.
 */
export async function sendAndCommitAsReady<T, R>(
  items: readonly T[],
  options: CommitAsReadyOptions,
  send: (item: T) => Promise<R>,
  commit: (group: R[]) => Promise<void>,
): Promise<void> {
  const ready: R[] = [];
  let unfinished = items.length;
  let allSent = false;
  /** The first of `ready` has waited `readyWaitMs`. */
  let waited = false;
  let timer: { cancel(): void } | undefined;
  let failure: { readonly error: unknown } | undefined;
  let wake: () => void = () => undefined;

  const sends = mapLimited(items, options.concurrency, async (item) => {
    ready.push(await send(item));
    // The last one needs no timer: every send is done, the group goes now.
    if (--unfinished > 0) {
      timer ??= options.setTimer(() => {
        waited = true;
        wake();
      }, readyWaitMs);
    }
    wake();
  });
  void sends
    .catch((error: unknown) => {
      failure ??= { error };
    })
    .finally(() => {
      allSent = true;
      wake();
    });

  for (;;) {
    // Nothing else runs between this test and the wait, so no wake-up is missed. After a failure,
    // only the end of the sends is waited for.
    while (!allSent && !(waited && failure === undefined)) await new Promise<void>((resolve) => (wake = resolve));
    timer?.cancel();
    timer = undefined;
    waited = false;
    if (ready.length === 0) {
      if (allSent) break;
      continue;
    }
    try {
      await commit(ready.splice(0));
    } catch (error) {
      failure ??= { error };
    }
  }
  if (failure) throw failure.error;
}
