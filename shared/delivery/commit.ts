/**
 * Step 4 of the engine (engine.ts): the commit. One write of every outcome of the sends (send.ts)
 * of a round's units that finished together (commit-as-ready.ts), with the inbox item and its
 * unread count and the unit's next state, written again, adjusted, until every outcome is
 * recorded; then each unit's outcome for the queue, its broadcast's counts, and its recipient told
 * their new unread count.
 */
import { describeError } from '../domain/delivery-errors.ts';
import { openConnections } from '../domain/delivery.ts';
import type { DeliveryUnit, LiveState, Settlement, UnitOutcome } from '../domain/delivery.ts';
import { countAfterAdding, inboxChangedMessage } from '../domain/inbox.ts';
import type { UnreadCount } from '../domain/inbox.ts';
import type { CommitResult, CommitVerdict } from '../ports.ts';
import { finishIfReady } from '../use-cases/fan-out-broadcast.ts';
import { postFrame } from '../use-cases/socket-frames.ts';
import type { Prepared } from './send.ts';
import { logFor, recipientKeyOf } from './work.ts';
import type { EngineDeps } from './work.ts';

/** Rounds of a commit before its failure is thrown (each retries what the last could not write). */
const commitRounds = 6;

/**
 * Writes every entry, adjusting those a transaction refused and writing again: these outcomes
 * record what already happened in the world, so they must not be lost. The verdict of each, by unit
 * key: `committed`, or `claimLost` to another worker.
 */
export async function commitAll(deps: EngineDeps, prepared: Prepared[], sleep: (ms: number) => Promise<void>): Promise<Map<string, CommitVerdict>> {
  const final = new Map<string, CommitVerdict>();
  let pending = prepared;
  let lastError: unknown;
  let threw = false;
  for (let round = 0; pending.length > 0 && round < commitRounds; round++) {
    // A refusal was answered and its entries adjusted: they are written again at once. Only a
    // write that threw (a throttle, a network fault) waits before the next.
    if (threw) await sleep(Math.min(2_000, 50 * 2 ** round) * (0.5 + Math.random()));
    threw = false;
    let result: CommitResult;
    try {
      result = await deps.store.commit(
        pending.map((p) => p.entry),
        deps.clock.now(),
      );
    } catch (error) {
      lastError = error;
      threw = true;
      continue;
    }
    const next: Prepared[] = [];
    for (const p of pending) {
      const verdict = result.verdicts.get(p.work.key) ?? 'notAttempted';
      if (verdict === 'committed' || verdict === 'claimLost') {
        final.set(p.work.key, verdict);
        continue;
      }
      adjust(p, verdict, deps.clock.now(), result.unreadFound.get(p.work.key));
      next.push(p);
    }
    pending = next;
  }
  if (pending.length > 0) throw lastError ?? new Error(`Could not record the outcome of ${pending.length} deliveries`);
  return final;
}

/** Changes an entry a transaction refused so that it can be written; `found` is the unread count and version the refusal found. */
function adjust(p: Prepared, verdict: CommitVerdict, now: Date, found: UnreadCount | undefined): void {
  const { entry } = p;
  if (verdict === 'recipientGone') {
    // Erased since it was read: no inbox item, and nothing more goes out.
    const error = `Recipient ${entry.unit.recipientId} no longer exists`;
    const { inbox: _inbox, ...rest } = entry;
    p.entry = {
      ...rest,
      deliveries: { ...entry.deliveries, inbox: { status: 'failed', at: now.toISOString(), error, errorCategory: 'gone' } },
      settlement: { kind: 'fail', error, category: 'gone' },
    };
    return;
  }
  if (verdict === 'inboxExists') {
    const { inbox: _inbox, ...rest } = entry;
    // The frame announced a count and version this write will not make: the write raises the
    // version past the announced one, so the count read and told after it is the newer.
    p.entry = {
      ...rest,
      deliveries: { ...entry.deliveries, inbox: { status: 'sent', at: now.toISOString(), detail: 'already in the inbox' } },
      ...(p.announced !== undefined ? { outdates: p.announced.unreadVersion } : {}),
    };
    p.recount = p.announced !== undefined;
    return;
  }
  if (verdict === 'unreadMoved' && entry.inbox) {
    // Written again on the count and version the refusal found, so the pair after it is known
    // without a read; refused once more (the count keeps moving), it goes without the condition
    // and the pair is read after.
    const again = found !== undefined && !p.recount;
    p.entry = { ...entry, inbox: again ? { item: entry.inbox.item, before: found } : { item: entry.inbox.item } };
    p.recount = true;
  }
}

function outcomeOf(settlement: Settlement): UnitOutcome {
  switch (settlement.kind) {
    case 'finish':
      return { kind: 'done', status: 'sent' };
    case 'fail':
      return { kind: 'done', status: 'failed' };
    case 'release':
      return { kind: 'later', at: settlement.nextAttemptAt, cause: 'retry', reason: settlement.error };
  }
}

/** After the commit: each unit's outcome set in `outcomes` (by unit key) and logged, its broadcast's sent and failed counts added (ending it when complete), its recipient told their unread count. */
export async function afterCommit(
  deps: EngineDeps,
  prepared: readonly Prepared[],
  verdicts: ReadonlyMap<string, CommitVerdict>,
  outcomes: Map<string, UnitOutcome>,
): Promise<void> {
  const broadcastCounts = new Map<string, { tenantId: string; broadcastId: string; sent: number; failed: number; released: number; lastError?: string }>();
  const tells: Promise<void>[] = [];

  for (const p of prepared) {
    const { unit, settlement } = p.entry;
    const key = p.work.key;
    const log = logFor(unit);
    if (verdicts.get(key) === 'claimLost') {
      log.warn('Lost the claim to another worker');
      outcomes.set(key, { kind: 'done', status: 'sending' });
      continue;
    }
    const outcome = outcomeOf(settlement);
    outcomes.set(
      key,
      settlement.kind === 'fail' && settlement.exhausted ? { kind: 'done', status: 'failed', deadLetter: { reason: settlement.error, attempts: unit.attempts + 1 } } : outcome,
    );
    if (settlement.kind === 'finish') log.info('Delivered', { deliveries: { ...unit.deliveries, ...p.entry.deliveries } });
    // Nowhere to deliver (no address, switched off, not connected) is the recipient's state, not a fault: a warning.
    else if (settlement.kind === 'fail' && settlement.category === 'unreachable') log.warn('Delivered to nobody', { error: settlement.error, errorCategory: settlement.category });
    else if (settlement.kind === 'fail') log.error('Delivery failed', { error: settlement.error });
    else log.info('Delivery will be retried', { nextAttemptAt: new Date(settlement.nextAttemptAt).toISOString(), refundAttempt: settlement.refundAttempt });

    // A notification's metrics are counted from the table's stream (functions/metrics), not here.
    // A row held by quiet hours is counted off when the attempt it held back is made, whatever
    // came of it (the commit takes its hold away): one released to a retry waits for that, not
    // for a window, and is counted again if quiet hours hold the retry.
    if (unit.ref.kind === 'broadcast' && (settlement.kind !== 'release' || unit.heldUntil !== undefined)) {
      const id = recipientKeyOf(unit.tenantId, unit.ref.broadcastId);
      const entry = broadcastCounts.get(id) ?? { tenantId: unit.tenantId, broadcastId: unit.ref.broadcastId, sent: 0, failed: 0, released: 0 };
      if (unit.heldUntil !== undefined) entry.released++;
      if (settlement.kind === 'finish') entry.sent++;
      else if (settlement.kind === 'fail') {
        entry.failed++;
        entry.lastError = settlement.error;
      }
      broadcastCounts.set(id, entry);
    }

    // Tell the new count where the frame did not, or announced it wrong (then with a greater
    // version than the frame's, so a client keeps this one whatever order they arrive in).
    // The pair after the write is known when the write was conditioned on the one before it.
    const before = p.entry.inbox?.before;
    const known = before === undefined ? undefined : countAfterAdding(before);
    if ((known !== undefined && p.announced === undefined) || p.recount) tells.push(tellUnread(deps, unit, known, p.work.live));
  }
  await Promise.all(tells);
  for (const { tenantId, broadcastId, sent, failed, released, lastError } of broadcastCounts.values()) {
    const updated = await deps.broadcasts.addCounts(tenantId, broadcastId, { sent, failed, held: -released }, lastError);
    await finishIfReady({ broadcasts: deps.broadcasts, clock: deps.clock }, updated);
  }
}

/**
 * Tells every open connection of the unit's recipient their unread count and its version: `known`
 * when the write made a known pair, else the pair read again (one consistent read of the live
 * item, so count and version agree); a connection that answers 410 is forgotten, as the WebSocket
 * channel forgets one (else it would hold one of the user's places under the connection limit
 * until its two hours are over); a failure only logs.
 */
async function tellUnread(deps: EngineDeps, unit: DeliveryUnit, known: UnreadCount | undefined, seen: LiveState): Promise<void> {
  try {
    const live = known === undefined ? await deps.live.get(unit.tenantId, unit.recipientId) : seen;
    const count = known ?? live;
    await postFrame(deps, { tenantId: unit.tenantId, userId: unit.recipientId }, openConnections(live, deps.clock.now()), inboxChangedMessage(count));
  } catch (error) {
    logFor(unit).warn('Could not tell the recipient their unread count', { error: describeError(error) });
  }
}
