/**
 * The delivery engine: one code path for notifications and for the recipients of a broadcast.
 *
 * For a batch of units it makes, in this order:
 * 1. one read of the units with their recipients, live state and broadcasts (`load`);
 * 2. one claim of every unit it may deliver, recording the intent of each send, after reserving
 *    the providers' send-rate budgets (`claim`); a unit changed meanwhile is left alone; then the
 *    status of each broadcast whose rows it claimed is read: a cancel that came first wins;
 * 3. the sends, through the channel modules (shared/delivery/channels), each provider error
 *    classified by its channel; a templated unit is first rendered for its recipient, in their
 *    locale (its template versions are read before the claim, so a failed read claims nothing);
 * 4. one write of every outcome, with the inbox item and its unread count, and the unit's next
 *    state: sent, failed, or pending again after a backoff (`commit`); units whose sends finish
 *    together are written together, one that waits for a slow send of another unit is written
 *    without it.
 * Units of one recipient go in separate rounds, so the unread count moves one item at a time.
 * What a provider's throttling held back comes back after its hint without spending an attempt.
 *
 * This module runs steps 1 and 2 and the rounds; step 3 is send.ts (a templated unit's content:
 * content.ts), step 4 commit.ts, when each unit's commit goes commit-as-ready.ts, and what they
 * share about a unit in its round work.ts.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleepMs } from 'node:timers/promises';
import { describeError } from '../domain/delivery-errors.ts';
import { quietHoldOf, readinessOf, recipientOfUnit, recordedStep, unitKey, openConnections } from '../domain/delivery.ts';
import type { ChannelStep, DeliveryUnit, LiveState, QuietHold, UnitOutcome, UnitRef } from '../domain/delivery.ts';
import { countAfterAdding } from '../domain/inbox.ts';
import type { UnreadCount } from '../domain/inbox.ts';
import { sleepUntil } from '../domain/sleep-until.ts';
import { templateOfRef } from '../domain/template.ts';
import { noTenantSettings } from '../domain/tenant-settings.ts';
import { noLiveState } from '../domain/delivery.ts';
import type { Channel, ChannelDelivery } from '../domain/notification.ts';
import { preferenceSkip } from '../domain/recipient.ts';
import type { Recipient } from '../domain/recipient.ts';
import { logger } from '../observability/logger.ts';
import type { ClaimRequest, ClaimResult, LoadedUnits } from '../ports.ts';
import { finishIfReady } from '../use-cases/fan-out-broadcast.ts';
import { isSkip } from './channel.ts';
import { afterCommit, commitAll } from './commit.ts';
import { realTimer, sendAndCommitAsReady } from './commit-as-ready.ts';
import { loadTemplates, templateKey } from './content.ts';
import { countInbox, sendAll } from './send.ts';
import type { Prepared } from './send.ts';
import { logFor, recipientKeyOf } from './work.ts';
import type { EngineDeps, Work } from './work.ts';

export type { EngineDeps, EngineSettings } from './work.ts';

/** What the invocation running the engine knows about itself. */
export interface EngineInvocation {
  /** When the invocation is stopped: a claim's lease outlives it. */
  readonly deadline: Date;
}

/** A lease outlives its holder's deadline by this much: a write sent just before it still lands first. */
const leaseMarginMs = 5_000;
/** Units whose sends run at once. */
const sendConcurrency = 10;
/** How soon a unit is looked at again when someone else changed it while it was being claimed or held, or when it was released unsent. */
const lostRetryMs = 1_000;

/** Delivers every unit `refs` names that is due and still deliverable; an outcome per unit key. */
export async function deliverUnits(deps: EngineDeps, refs: readonly UnitRef[], invocation: EngineInvocation): Promise<Map<string, UnitOutcome>> {
  try {
    return await deliverLoadedUnits(deps, refs, invocation);
  } finally {
    // One EMF line per channel per batch, whatever became of it.
    deps.metrics?.flush();
  }
}

async function deliverLoadedUnits(deps: EngineDeps, refs: readonly UnitRef[], invocation: EngineInvocation): Promise<Map<string, UnitOutcome>> {
  const outcomes = new Map<string, UnitOutcome>();
  const unique = [...new Map(refs.map((ref) => [unitKey(ref), ref])).values()];
  if (unique.length === 0) return outcomes;
  const loaded = await deps.store.load(unique);
  const now = deps.clock.now();
  const claimable: DeliveryUnit[] = [];
  const toCancel: DeliveryUnit[] = [];
  const toHold: { unit: DeliveryUnit; hold: QuietHold }[] = [];
  for (const ref of unique) {
    const key = unitKey(ref);
    const unit = loaded.units.get(key);
    if (!unit) {
      outcomes.set(key, { kind: 'done', status: 'missing' });
      continue;
    }
    const broadcast = ref.kind === 'broadcast' ? loaded.broadcasts.get(recipientKeyOf(ref.tenantId, ref.broadcastId)) : undefined;
    if (ref.kind === 'broadcast' && broadcast?.status !== 'sending') {
      const readiness = readinessOf(unit, now);
      // A cancel settles every row: a pending one, or one a dead worker left (its lease ran out);
      // one a live worker holds is looked at again when its lease ends, in case that worker dies.
      if (broadcast?.status === 'cancelled' && readiness.kind !== 'final' && readiness.kind !== 'leased') toCancel.push(unit);
      else if (broadcast?.status === 'cancelled' && readiness.kind === 'leased') outcomes.set(key, { kind: 'later', at: readiness.until, cause: 'leased', reason: 'held by another worker' });
      else outcomes.set(key, readiness.kind === 'final' ? { kind: 'done', status: unit.status } : { kind: 'done', status: 'superseded' });
      continue;
    }
    const readiness = readinessOf(unit, now, deps.settings.holdMs);
    if (readiness.kind === 'final') outcomes.set(key, { kind: 'done', status: readiness.status });
    else if (readiness.kind === 'notYetDue') outcomes.set(key, { kind: 'later', at: readiness.at, cause: 'notYetDue', reason: 'not yet due' });
    else if (readiness.kind === 'leased') outcomes.set(key, { kind: 'later', at: readiness.until, cause: 'leased', reason: 'held by another worker' });
    else {
      // Quiet hours are read now, not when it was created: a change of them or of the zone applies.
      const recipient = recipientOfUnit(unit, loaded.recipients.get(recipientKeyOf(unit.tenantId, unit.recipientId)));
      const hold = readiness.takeover ? undefined : quietHoldOf(unit, recipient, loaded.tenantSettings?.get(unit.tenantId) ?? noTenantSettings, now);
      if (hold) toHold.push({ unit, hold });
      else claimable.push(unit);
    }
  }
  if (toCancel.length > 0) await cancelUnits(deps, toCancel, outcomes);
  if (toHold.length > 0) await holdUnits(deps, toHold, outcomes);
  // Each wave starts at its own time, so a unit due now never waits for one due a second later.
  // What each round learns of a recipient's count is what the next round of theirs starts from.
  const live = new Map(loaded.live);
  let longestRoundMs = 0;
  await Promise.all(
    wavesByDueTime(claimable).map(async (wave) => {
      const rounds = roundsByRecipient(wave);
      for (const [index, round] of rounds.entries()) {
        const started = deps.clock.now().getTime();
        if (index > 0 && invocation.deadline.getTime() - started < roundsLeftReserve * longestRoundMs) {
          // A round cut short by the timeout would leave its units leased until their lease ends:
          // what is left goes back to the queue now, for an invocation with time to deliver it.
          for (const unit of rounds.slice(index).flat()) {
            outcomes.set(unitKey(unit.ref), { kind: 'later', at: started, cause: 'deadline', reason: 'the invocation ran short of time' });
          }
          return;
        }
        const counts = await deliverRound(deps, { ...loaded, live }, round, invocation, outcomes);
        await carryLiveState(deps, round, counts, live);
        longestRoundMs = Math.max(longestRoundMs, deps.clock.now().getTime() - started);
      }
    }),
  );
  return outcomes;
}

/**
 * A further round of an invocation starts only with this many times its longest round so far
 * left before the deadline: rounds of one batch are alike, and one that starves for CPU (a loaded
 * CI machine) is the likeliest to run long.
 */
const roundsLeftReserve = 2;

/** Units due within this many ms of each other are delivered together. */
const waveWidthMs = 25;

/** Groups units by when they are due (a unit taken over from a dead worker is due now). */
function wavesByDueTime(units: readonly DeliveryUnit[]): DeliveryUnit[][] {
  const dueOf = (unit: DeliveryUnit): number => (unit.status === 'pending' ? unit.dueAt : 0);
  const sorted = [...units].sort((a, b) => dueOf(a) - dueOf(b));
  const waves: DeliveryUnit[][] = [];
  let waveStart = Number.NEGATIVE_INFINITY;
  for (const unit of sorted) {
    if (dueOf(unit) - waveStart > waveWidthMs) {
      waves.push([]);
      waveStart = dueOf(unit);
    }
    waves[waves.length - 1]?.push(unit);
  }
  return waves;
}

/** Splits units so that no round holds two units of one recipient (their inbox counter moves one at a time). */
function roundsByRecipient(units: readonly DeliveryUnit[]): DeliveryUnit[][] {
  const rounds: DeliveryUnit[][] = [];
  const seen = new Map<string, number>();
  for (const unit of units) {
    const key = recipientKeyOf(unit.tenantId, unit.recipientId);
    const index = seen.get(key) ?? 0;
    seen.set(key, index + 1);
    (rounds[index] ??= []).push(unit);
  }
  return rounds;
}

async function cancelUnits(deps: EngineDeps, units: readonly DeliveryUnit[], outcomes: Map<string, UnitOutcome>): Promise<void> {
  const { landed, failed } = await deps.store.cancel(units, deps.clock.now());
  for (const unit of units) {
    const key = unitKey(unit.ref);
    // Not landed and not failed: it changed since it was read (another worker settled it).
    outcomes.set(key, failed.has(key) ? afterFailedWrite(unit, 'cancel', failed.get(key)) : { kind: 'done', status: 'cancelled' });
  }
  await countCancelled(deps, units.filter((unit) => landed.has(unitKey(unit.ref))));
}

/**
 * A unit whose write (`what`: its cancel or hold) threw is logged and answered `error`: the
 * message naming it fails and comes back under the queue's retry policy. The writes that landed
 * beside it are counted as usual.
 */
function afterFailedWrite(unit: DeliveryUnit, what: string, error: unknown): UnitOutcome {
  logFor(unit).warn(`Could not write its ${what}; its message is tried again`, { error: describeError(error) });
  return { kind: 'error', error };
}

/** Counts rows just cancelled on their broadcasts (one ADD per broadcast), and ends each broadcast that is then complete. */
async function countCancelled(deps: EngineDeps, units: readonly DeliveryUnit[]): Promise<void> {
  const perBroadcast = new Map<string, { tenantId: string; broadcastId: string; n: number; released: number }>();
  for (const unit of units) {
    if (unit.ref.kind !== 'broadcast') continue;
    const id = recipientKeyOf(unit.tenantId, unit.ref.broadcastId);
    const entry = perBroadcast.get(id) ?? { tenantId: unit.tenantId, broadcastId: unit.ref.broadcastId, n: 0, released: 0 };
    entry.n++;
    if (unit.heldUntil !== undefined) entry.released++;
    perBroadcast.set(id, entry);
  }
  for (const { tenantId, broadcastId, n, released } of perBroadcast.values()) {
    await finishIfReady({ broadcasts: deps.broadcasts, clock: deps.clock }, await deps.broadcasts.addCounts(tenantId, broadcastId, { cancelled: n, held: -released }));
  }
}

/**
 * Holds units for their recipients' quiet hours: still pending, back at the window's end (the
 * queue's later-work path: a delayed message, or a schedule beyond 15 minutes). A broadcast counts
 * the rows it holds for the first time, and counts them off when they settle.
 */
async function holdUnits(deps: EngineDeps, holds: readonly { unit: DeliveryUnit; hold: QuietHold }[], outcomes: Map<string, UnitOutcome>): Promise<void> {
  const { landed: held, failed } = await deps.store.hold(holds, deps.clock.now());
  const perBroadcast = new Map<string, { tenantId: string; broadcastId: string; n: number }>();
  for (const { unit, hold } of holds) {
    const key = unitKey(unit.ref);
    if (failed.has(key)) {
      outcomes.set(key, afterFailedWrite(unit, 'hold', failed.get(key)));
      continue;
    }
    if (!held.has(key)) {
      outcomes.set(key, { kind: 'later', at: deps.clock.now().getTime() + lostRetryMs, cause: 'changed', reason: 'changed while being held' });
      continue;
    }
    logFor(unit).info('Held by quiet hours', { heldUntil: new Date(hold.until).toISOString(), reason: hold.reason });
    outcomes.set(key, { kind: 'later', at: hold.until, cause: 'quietHours', reason: hold.reason });
    if (unit.ref.kind !== 'broadcast' || unit.heldUntil !== undefined) continue;
    const id = recipientKeyOf(unit.tenantId, unit.ref.broadcastId);
    const entry = perBroadcast.get(id) ?? { tenantId: unit.tenantId, broadcastId: unit.ref.broadcastId, n: 0 };
    entry.n++;
    perBroadcast.set(id, entry);
  }
  for (const { tenantId, broadcastId, n } of perBroadcast.values()) await deps.broadcasts.addCounts(tenantId, broadcastId, { held: n });
}

/** What each channel of a unit will do, and where its sends go. */
function planChannels(
  deps: EngineDeps,
  unit: DeliveryUnit,
  recipient: Recipient | undefined,
  live: LiveState,
  now: Date,
): { steps: Map<Channel, ChannelStep>; targets: Map<Channel, unknown> } {
  const steps = new Map<Channel, ChannelStep>();
  const targets = new Map<Channel, unknown>();
  for (const name of unit.channels) {
    const recorded = recordedStep(unit.deliveries[name], deps.channels[name].repeatsSafely === true);
    if (recorded) {
      steps.set(name, recorded);
      continue;
    }
    // A recipient who left the directory gets nothing: the unit fails under its claim.
    if (!recipient) continue;
    // A channel decided anew after an attempt stopped mid-send (a webhook, repeated safely) may have
    // gone out then: with nothing to send to now, it is unconfirmed, not skipped (it may have reached them).
    const skip = (detail: string): ChannelStep =>
      unit.deliveries[name]?.status === 'sending' ? { kind: 'unconfirmed', detail: `an earlier attempt stopped while sending; not sent again: ${detail}` } : { kind: 'skip', detail };
    const switchedOff = preferenceSkip(recipient, name, unit.content.type);
    if (switchedOff !== undefined) {
      steps.set(name, skip(switchedOff));
      continue;
    }
    const target = deps.channels[name].target({ tenantId: unit.tenantId, recipient, live, now });
    if (isSkip(target)) {
      steps.set(name, skip(target.skip));
      continue;
    }
    steps.set(name, { kind: 'deliver' });
    targets.set(name, target);
  }
  return { steps, targets };
}

/**
 * After a round, the count each of its recipients now has, with its version: the pair its write
 * was conditioned on plus the item it added. A count the round could not know exactly (its write went without the
 * condition) is read again, so the next round's frame announces the right one.
 */
async function carryLiveState(deps: EngineDeps, round: readonly DeliveryUnit[], counts: ReadonlyMap<string, CountAfter>, live: Map<string, LiveState>): Promise<void> {
  for (const unit of round) {
    const key = recipientKeyOf(unit.tenantId, unit.recipientId);
    const seen = live.get(key);
    const step = counts.get(unitKey(unit.ref));
    if (!seen || step === undefined) continue;
    if (step.kind === 'exact') live.set(key, { ...seen, ...step.count });
    // Nobody connected: no frame announces the count, so it need not be known.
    else if (openConnections(seen, deps.clock.now()).length > 0) {
      const fresh = await deps.live.get(unit.tenantId, unit.recipientId).catch(() => undefined);
      // Unknown: the next write's condition then fails and that round tells the count it finds.
      live.set(key, fresh ?? seen);
    }
  }
}

/** What a committed write did to its recipient's count: known exactly, or to be read again. */
type CountAfter = { readonly kind: 'exact'; readonly count: UnreadCount } | { readonly kind: 'reread' };

async function deliverRound(
  deps: EngineDeps,
  loaded: LoadedUnits,
  units: readonly DeliveryUnit[],
  invocation: EngineInvocation,
  outcomes: Map<string, UnitOutcome>,
): Promise<Map<string, CountAfter>> {
  const counts = new Map<string, CountAfter>();
  const sleep = deps.sleep ?? ((ms: number): Promise<void> => sleepMs(ms));
  // Units due within the hold are waited for here, to the millisecond: until the clock reads their
  // time, not for a timer's length, which may end a millisecond short (the claim's `due` condition
  // would then refuse them, and they would come back a second late).
  const latestDue = Math.max(...units.map((unit) => (unit.status === 'pending' ? unit.dueAt : 0)));
  await sleepUntil(() => deps.clock.now().getTime(), latestDue, sleep);
  const now = deps.clock.now();
  const leaseUntil = Math.max(now.getTime() + deps.settings.leaseSeconds * 1000, invocation.deadline.getTime() + leaseMarginMs);
  const templates = await loadTemplates(deps, units);

  const work: Work[] = units.map((unit) => {
    const recipientKey = recipientKeyOf(unit.tenantId, unit.recipientId);
    const recipient = recipientOfUnit(unit, loaded.recipients.get(recipientKey));
    const live = loaded.live.get(recipientKey) ?? noLiveState;
    const { steps, targets } = planChannels(deps, unit, recipient, live, now);
    return {
      unit,
      key: unitKey(unit.ref),
      recipient,
      live,
      steps,
      targets,
      takeover: unit.status === 'sending',
      token: randomUUID(),
      ...(unit.content.template ? { template: templateOfRef(unit.content.template, templates.get(templateKey(unit.tenantId, unit.content.template.id, unit.content.template.version))) } : {}),
    };
  });

  const intent: ChannelDelivery = { status: 'sending', at: now.toISOString() };
  const requests: ClaimRequest[] = work.map((w) => {
    const sends = [...w.steps].filter(([name, step]) => step.kind === 'deliver' && deps.channels[name].kind === 'send').map(([name]) => name);
    return {
      unit: w.unit,
      token: w.token,
      takeover: w.takeover,
      leaseUntil,
      intents: sends,
      intent: { ...intent, detail: `attempt ${w.unit.attempts + 1}` },
      providers: sends.flatMap((name) => {
        const provider = deps.channels[name].provider;
        return provider ? [provider] : [];
      }),
    };
  });
  const claimed = await deps.store.claim(requests, now);
  for (const w of work) {
    if (claimed.lost.has(w.key)) outcomes.set(w.key, { kind: 'later', at: now.getTime() + lostRetryMs, cause: 'changed', reason: 'changed while being claimed' });
    const deferredTo = claimed.deferred.get(w.key);
    if (deferredTo !== undefined) outcomes.set(w.key, { kind: 'later', at: deferredTo, cause: 'budget', reason: 'provider send budget spent' });
  }
  const intents = new Map(requests.map((request) => [unitKey(request.unit.ref), request.intents]));
  const held = await withdrawCancelled(
    deps,
    work.filter((w) => claimed.claimed.has(w.key)),
    intents,
    claimed.claimed,
    outcomes,
    sleep,
  );
  if (held.length === 0) return counts;

  // Each unit's outcome is written soon after its own sends are done, not after the slowest unit's:
  // a webhook answering at its timeout holds back no other recipient's inbox item and `sent`.
  await sendAndCommitAsReady(
    held,
    { concurrency: sendConcurrency, setTimer: deps.setTimer ?? realTimer },
    (w) => sendAll(deps, w, claimed.claimed.get(w.key) ?? { sendAt: now.getTime() }, sleep),
    async (entries) => {
      const verdicts = await commitAll(deps, entries, sleep);
      for (const p of entries) {
        if (verdicts.get(p.work.key) !== 'committed') continue;
        countInbox(deps.metrics, p.entry, deps.clock.now());
        const inbox = p.entry.inbox;
        if (!inbox) continue;
        counts.set(p.work.key, inbox.before !== undefined ? { kind: 'exact', count: countAfterAdding(inbox.before) } : { kind: 'reread' });
      }
      await afterCommit(deps, entries, verdicts, outcomes);
    },
  );
  return counts;
}

/**
 * After the claim committed, reads the status of each broadcast whose rows were claimed (one
 * consistent GetItem per broadcast and round). The rows of a broadcast found cancelled are
 * withdrawn (cancelled, nothing sent, counted) and the rest go on. So a cancel that committed
 * before this read wins; only rows whose read came before the cancel are sent. The check is a read
 * after the claim, not a condition inside the claim's transaction, because an item in every claim
 * of a broadcast would make its concurrent claims cancel each other (`TransactionConflict`). A read
 * that fails releases that broadcast's rows unsent (attempt handed back, intents dropped).
 */
async function withdrawCancelled(
  deps: EngineDeps,
  held: readonly Work[],
  intents: ReadonlyMap<string, readonly Channel[]>,
  claims: ClaimResult['claimed'],
  outcomes: Map<string, UnitOutcome>,
  sleep: (ms: number) => Promise<void>,
): Promise<Work[]> {
  const byBroadcast = new Map<string, { tenantId: string; broadcastId: string; works: Work[] }>();
  for (const w of held) {
    const ref = w.unit.ref;
    if (ref.kind !== 'broadcast') continue;
    const id = recipientKeyOf(ref.tenantId, ref.broadcastId);
    const entry = byBroadcast.get(id) ?? { tenantId: ref.tenantId, broadcastId: ref.broadcastId, works: [] };
    entry.works.push(w);
    byBroadcast.set(id, entry);
  }
  if (byBroadcast.size === 0) return [...held];
  const stopped = new Set<string>();
  const unread: Work[] = [];
  const withdrawing: Work[] = [];
  // Released unsent, with the reason: rows whose broadcast could not be read, and rows whose withdrawal threw.
  const releasing: { work: Work; error: string }[] = [];
  await Promise.all(
    [...byBroadcast.values()].map(async ({ tenantId, broadcastId, works }) => {
      try {
        const broadcast = await deps.broadcasts.get(tenantId, broadcastId);
        if (broadcast?.status === 'cancelled') withdrawing.push(...works);
      } catch (error) {
        logger.warn('Could not read the broadcast after claiming its rows; they go back unsent', { tenantId, broadcastId, error: describeError(error) });
        unread.push(...works);
      }
    }),
  );
  if (withdrawing.length > 0) {
    const now = deps.clock.now();
    const { landed: withdrawn, failed } = await deps.store.withdraw(
      withdrawing.map((w) => ({ unit: w.unit, token: w.token, intents: intents.get(w.key) ?? [] })),
      now,
    );
    // A withdrawn row will never send on its claim: what it reserved in the send budgets goes
    // back. One whose claim no longer holds (another worker took it over) keeps it. One whose
    // withdrawal threw is released unsent, as a row whose broadcast could not be read: back to
    // pending, its attempt and its reservations given back, and cancelled when it comes back.
    await deps.store.giveBack(withdrawing.filter((w) => withdrawn.has(w.key)).flatMap((w) => claims.get(w.key)?.spends ?? []));
    for (const w of withdrawing) {
      const error = failed.get(w.key);
      if (failed.has(w.key)) {
        logFor(w.unit).warn('Could not write its withdrawal; it is released unsent', { error: describeError(error) });
        releasing.push({ work: w, error: 'its withdrawal could not be written after its broadcast was cancelled' });
        continue;
      }
      stopped.add(w.key);
      // Not withdrawn: the claim no longer holds (its lease ran out and another worker took it).
      outcomes.set(w.key, { kind: 'done', status: withdrawn.has(w.key) ? 'cancelled' : 'sending' });
      if (withdrawn.has(w.key)) logFor(w.unit).info('Cancelled after its claim: the broadcast was cancelled first');
    }
    await countCancelled(
      deps,
      withdrawing.filter((w) => withdrawn.has(w.key)).map((w) => w.unit),
    );
  }
  releasing.push(...unread.map((work) => ({ work, error: 'the broadcast could not be read after the claim' })));
  if (releasing.length > 0) {
    const at = deps.clock.now().getTime() + lostRetryMs;
    const released: Prepared[] = releasing.map(({ work: w, error }) => ({
      entry: {
        unit: w.unit,
        token: w.token,
        deliveries: {},
        forget: [...(intents.get(w.key) ?? [])],
        // Herald's own store could not answer: to the recipient, a service that was unavailable.
        settlement: { kind: 'release', error, category: 'unavailable', nextAttemptAt: at, refundAttempt: true },
      },
      work: w,
      recount: false,
    }));
    for (const { work } of releasing) stopped.add(work.key);
    const verdicts = await commitAll(deps, released, sleep);
    // Released unsent: what they reserved in the send budgets goes back.
    await deps.store.giveBack(releasing.filter(({ work }) => verdicts.get(work.key) === 'committed').flatMap(({ work }) => claims.get(work.key)?.spends ?? []));
    await afterCommit(deps, released, verdicts, outcomes);
  }
  return held.filter((w) => !stopped.has(w.key));
}
