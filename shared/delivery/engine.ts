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
 *    state: sent, failed, or pending again after a backoff (`commit`).
 * Units of one recipient go in separate rounds, so the unread count moves one item at a time.
 * What a provider's throttling held back comes back after its hint without spending an attempt.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleepMs } from 'node:timers/promises';
import { describeError } from '../domain/delivery-errors.ts';
import { quietHoldOf, readinessOf, recordedStep, settle, unitKey, openConnections } from '../domain/delivery.ts';
import type { ChannelResult, ChannelStep, DeliveryUnit, LiveState, QuietHold, Settlement, UnitOutcome, UnitRef } from '../domain/delivery.ts';
import { noTenantSettings } from '../domain/tenant-settings.ts';
import { noLiveState } from '../domain/delivery.ts';
import { inboxChangedMessage } from '../domain/inbox.ts';
import type { Channel, ChannelDelivery } from '../domain/notification.ts';
import { preferenceSkip } from '../domain/recipient.ts';
import type { Recipient } from '../domain/recipient.ts';
import type { RetryPolicy } from '../domain/retry-policy.ts';
import { logger } from '../observability/logger.ts';
import { deliveryMetrics } from '../observability/metric-names.ts';
import type { DeliveryContent } from '../domain/delivery.ts';
import type { TemplateChannel, TemplateVersion } from '../domain/template.ts';
import { BudgetSecondPassedError, isSlotOver } from '../domain/rate-budget.ts';
import type { ReservedSlot } from '../domain/rate-budget.ts';
import { recipientScope, tenantScope } from '../templates/scope.ts';
import type {
  DeliveryMetricsRecorder,
  BroadcastStore,
  ClaimRequest,
  Clock,
  CommitEntry,
  CommitResult,
  CommitVerdict,
  DeliveryStore,
  LiveStateStore,
  LoadedUnits,
  SocketPoster,
  TemplateStore,
} from '../ports.ts';
import { finishIfReady } from '../use-cases/fan-out-broadcast.ts';
import { mapLimited } from '../use-cases/map-limited.ts';
import { isSkip } from './channel.ts';
import type { ChannelRegistry, DeliveryChannel, RecipientContext } from './channel.ts';

export interface EngineSettings {
  readonly leaseSeconds: number;
  readonly retry: RetryPolicy;
  /** A unit due within this many ms is waited for here rather than sent back to the queue. */
  readonly holdMs: number;
}

export interface EngineDeps {
  readonly store: DeliveryStore;
  readonly channels: ChannelRegistry;
  readonly live: Pick<LiveStateStore, 'get'>;
  readonly sockets: SocketPoster;
  /** `get` reads a broadcast's status after its rows were claimed (a consistent read). */
  readonly broadcasts: Pick<BroadcastStore, 'addCounts' | 'finish' | 'get'>;
  readonly clock: Clock;
  readonly settings: EngineSettings;
  /**
   * Where templated units find their template's version. @default none: a templated unit's
   * channels fail, its template not found (what the functions that deliver always set)
   */
  readonly templates?: Pick<TemplateStore, 'get'>;
  /** @default a real timer */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Where each channel's outcomes are counted (delivered, failed, retried, throttled, and lateness). @default none */
  readonly metrics?: DeliveryMetricsRecorder;
}

/** What the invocation running the engine knows about itself. */
export interface EngineInvocation {
  /** When the invocation is stopped: a claim's lease outlives it. */
  readonly deadline: Date;
}

/** A lease outlives its holder's deadline by this much: a write sent just before it still lands first. */
const leaseMarginMs = 5_000;
/** Units whose sends run at once. */
const sendConcurrency = 10;
/** Rounds of a commit before its failure is thrown (each retries what the last could not write). */
const commitRounds = 6;
/** How soon a unit changed by someone else while being claimed is looked at again. */
const lostRetryMs = 1_000;

/** A unit on its way through one round. */
interface Work {
  readonly unit: DeliveryUnit;
  readonly key: string;
  readonly recipient: Recipient | undefined;
  readonly live: LiveState;
  readonly steps: ReadonlyMap<Channel, ChannelStep>;
  readonly targets: ReadonlyMap<Channel, unknown>;
  readonly takeover: boolean;
  readonly token: string;
  /** A templated unit's template version (undefined: it no longer exists). */
  readonly template?: TemplateVersion | undefined;
}

function recipientKeyOf(tenantId: string, recipientId: string): string {
  return `${tenantId}#${recipientId}`;
}

/** The log lines of one unit, each naming it: its tenant and notification, or broadcast and recipient. */
interface UnitLog {
  info(message: string, attributes?: Record<string, unknown>): void;
  warn(message: string, attributes?: Record<string, unknown>): void;
  error(message: string, attributes?: Record<string, unknown>): void;
}

/**
 * The unit's keys go with each line rather than into a child logger: building a Powertools child
 * for every unit of a batch, lines logged or not, was a twentieth of a burst's CPU.
 */
function logFor(unit: Pick<DeliveryUnit, 'ref'>): UnitLog {
  const ref = unit.ref;
  const keys =
    ref.kind === 'notification'
      ? { tenantId: ref.tenantId, notificationId: ref.notificationId }
      : { tenantId: ref.tenantId, broadcastId: ref.broadcastId, recipientId: ref.recipientId };
  return {
    info: (message, attributes) => logger.info(message, { ...keys, ...attributes }),
    warn: (message, attributes) => logger.warn(message, { ...keys, ...attributes }),
    error: (message, attributes) => logger.error(message, { ...keys, ...attributes }),
  };
}

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
      const recipient = loaded.recipients.get(recipientKeyOf(unit.tenantId, unit.recipientId));
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
  const cancelled = new Set(await deps.store.cancel(units, deps.clock.now()));
  for (const unit of units) outcomes.set(unitKey(unit.ref), { kind: 'done', status: 'cancelled' });
  await countCancelled(deps, units.filter((unit) => cancelled.has(unitKey(unit.ref))));
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
  const held = await deps.store.hold(holds, deps.clock.now());
  const perBroadcast = new Map<string, { tenantId: string; broadcastId: string; n: number }>();
  for (const { unit, hold } of holds) {
    const key = unitKey(unit.ref);
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
    const recorded = recordedStep(unit.deliveries[name]);
    if (recorded) {
      steps.set(name, recorded);
      continue;
    }
    // A recipient who left the directory gets nothing: the unit fails under its claim.
    if (!recipient) continue;
    const switchedOff = preferenceSkip(recipient, name, unit.content.type);
    if (switchedOff !== undefined) {
      steps.set(name, { kind: 'skip', detail: switchedOff });
      continue;
    }
    const target = deps.channels[name].target({ tenantId: unit.tenantId, recipient, live, now });
    if (isSkip(target)) {
      steps.set(name, { kind: 'skip', detail: target.skip });
      continue;
    }
    steps.set(name, { kind: 'deliver' });
    targets.set(name, target);
  }
  return { steps, targets };
}

/**
 * After a round, the count each of its recipients now has: the count its write was conditioned on
 * plus the item it added. A count the round could not know exactly (its write went without the
 * condition) is read again, so the next round's frame announces the right one.
 */
async function carryLiveState(deps: EngineDeps, round: readonly DeliveryUnit[], counts: ReadonlyMap<string, CountAfter>, live: Map<string, LiveState>): Promise<void> {
  for (const unit of round) {
    const key = recipientKeyOf(unit.tenantId, unit.recipientId);
    const seen = live.get(key);
    const step = counts.get(unitKey(unit.ref));
    if (!seen || step === undefined) continue;
    if (step.kind === 'exact') live.set(key, { ...seen, unread: step.unread });
    // Nobody connected: no frame announces the count, so it need not be known.
    else if (openConnections(seen, deps.clock.now()).length > 0) {
      const fresh = await deps.live.get(unit.tenantId, unit.recipientId).catch(() => undefined);
      // Unknown: the next write's condition then fails and that round tells the count it finds.
      live.set(key, fresh ?? seen);
    }
  }
}

/** What a committed write did to its recipient's count: known exactly, or to be read again. */
type CountAfter = { readonly kind: 'exact'; readonly unread: number } | { readonly kind: 'reread' };

async function deliverRound(
  deps: EngineDeps,
  loaded: LoadedUnits,
  units: readonly DeliveryUnit[],
  invocation: EngineInvocation,
  outcomes: Map<string, UnitOutcome>,
): Promise<Map<string, CountAfter>> {
  const counts = new Map<string, CountAfter>();
  const sleep = deps.sleep ?? ((ms: number): Promise<void> => sleepMs(ms));
  // Units due within the hold are waited for here, to the millisecond.
  const latestDue = Math.max(...units.map((unit) => (unit.status === 'pending' ? unit.dueAt : 0)));
  const wait = latestDue - deps.clock.now().getTime();
  if (wait > 0) await sleep(wait);
  const now = deps.clock.now();
  const leaseUntil = Math.max(now.getTime() + deps.settings.leaseSeconds * 1000, invocation.deadline.getTime() + leaseMarginMs);
  const templates = await loadTemplates(deps, units);

  const work: Work[] = units.map((unit) => {
    const recipientKey = recipientKeyOf(unit.tenantId, unit.recipientId);
    const recipient = loaded.recipients.get(recipientKey);
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
      ...(unit.content.template ? { template: templates.get(templateKey(unit.tenantId, unit.content.template.id, unit.content.template.version)) } : {}),
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
    outcomes,
    sleep,
  );
  if (held.length === 0) return counts;

  const entries = await mapLimited(held, sendConcurrency, (w) => sendAll(deps, w, claimed.claimed.get(w.key) ?? { sendAt: now.getTime() }, sleep));
  const verdicts = await commitAll(deps, entries, sleep);
  for (const p of entries) {
    if (verdicts.get(p.work.key) !== 'committed') continue;
    countInbox(deps.metrics, p.entry, deps.clock.now());
    const inbox = p.entry.inbox;
    if (!inbox) continue;
    counts.set(p.work.key, inbox.unreadBefore !== undefined ? { kind: 'exact', unread: inbox.unreadBefore + 1 } : { kind: 'reread' });
  }
  await afterCommit(deps, entries, verdicts, outcomes);
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
    const withdrawn = new Set(await deps.store.withdraw(withdrawing.map((w) => ({ unit: w.unit, token: w.token, intents: intents.get(w.key) ?? [] })), now));
    for (const w of withdrawing) {
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
  if (unread.length > 0) {
    const at = deps.clock.now().getTime() + lostRetryMs;
    const released: Prepared[] = unread.map((w) => ({
      entry: {
        unit: w.unit,
        token: w.token,
        deliveries: {},
        forget: [...(intents.get(w.key) ?? [])],
        settlement: { kind: 'release', error: 'the broadcast could not be read after the claim', nextAttemptAt: at, refundAttempt: true },
      },
      work: w,
      recount: false,
    }));
    for (const w of unread) stopped.add(w.key);
    await afterCommit(deps, released, await commitAll(deps, released, sleep), outcomes);
  }
  return held.filter((w) => !stopped.has(w.key));
}

/** A unit's commit entry, plus what the engine must remember about it after the write. */
interface Prepared {
  entry: CommitEntry;
  readonly work: Work;
  /** The unread count the WebSocket frame announced, when one went out with it. */
  readonly announced?: number;
  /** The count must be read and told again after the write (it moved, or the item was there). */
  recount: boolean;
}

/**
 * Sends one claimed unit's channels. Its budgeted sends wait for the start of the second they
 * reserved (`slot.sendAt`), and go out only while it lasts (`slot.reserved`): one that would start
 * after it is not sent but planned again (`replan`), so no second sees more than its budget.
 */
async function sendAll(deps: EngineDeps, w: Work, slot: { readonly sendAt: number; readonly reserved?: ReservedSlot }, sleep: (ms: number) => Promise<void>): Promise<Prepared> {
  const { unit, recipient, live } = w;
  const log = logFor(unit);
  const attempts = unit.attempts + 1;
  if (!recipient) {
    const error = `Recipient ${unit.recipientId} no longer exists`;
    log.error('Delivery failed: the recipient left the directory', { error });
    return { entry: { unit, token: w.token, deliveries: {}, forget: [], settlement: { kind: 'fail', error } }, work: w, recount: false };
  }
  await sleepUntil(deps.clock, slot.sendAt, sleep);
  const now = deps.clock.now();
  // Its turn came after the second it reserved (a late claim, a slow machine): none of its
  // channels goes now, so the inbox and the frame do not run ahead of a budgeted send planned again.
  if (slot.reserved !== undefined && now.getTime() >= slot.reserved.until) return replanned(deps, w, slot.reserved, attempts, now);
  const context: RecipientContext = { tenantId: unit.tenantId, recipient, live, now };
  const content = await renderedFor(unit, w, recipient);
  const inboxUnrenderable = content.rendered !== undefined && content.rendered.channels.inbox === undefined;
  const addsToInbox = w.steps.get('inbox')?.kind === 'deliver' && !inboxUnrenderable;
  const connected = openConnections(live, now).length > 0;
  // The frame tells the new count when the inbox gains the item; the write then checks that count held.
  const unreadBefore = addsToInbox && connected ? live.unread : undefined;
  const announced = unreadBefore !== undefined && w.steps.get('websocket')?.kind === 'deliver' ? unreadBefore + 1 : undefined;

  const deliveries: Partial<Record<Channel, ChannelDelivery>> = {};
  const results: ChannelResult[] = [];
  const forget: Channel[] = [];
  await Promise.all(
    [...w.steps].map(async ([name, step]) => {
      const at = (): string => deps.clock.now().toISOString();
      if (step.kind === 'keep') return;
      if (step.kind === 'unconfirmed' || step.kind === 'skip') {
        deliveries[name] = { status: step.kind === 'skip' ? 'skipped' : 'unconfirmed', at: at(), detail: step.detail };
        if (step.kind === 'unconfirmed') log.warn('Channel outcome unknown: an earlier attempt stopped mid-send, so it is not sent again', { channel: name });
        return;
      }
      const channel: DeliveryChannel = deps.channels[name];
      if (channel.kind === 'store') return;
      const result = await sendOne(channel, w.targets.get(name), content, withBudgetCheck(context, channel, slot.reserved, deps.clock), name === 'websocket' ? announced : undefined, deps.clock);
      results.push(result);
      if (result.kind === 'recorded') deliveries[name] = result.delivery;
      else forget.push(name);
      logResult(log, name, result);
      countResult(deps.metrics, name, result, unit, deps.clock.now());
    }),
  );
  const inboxItem = addsToInbox
    ? {
        tenantId: unit.tenantId,
        recipientId: unit.recipientId,
        notificationId: content.id,
        title: content.title,
        message: content.message,
        type: content.type,
        priority: content.priority,
        ...(content.data ? { data: content.data } : {}),
        createdAt: content.createdAt,
        deliveredAt: now.toISOString(),
      }
    : undefined;
  // The inbox is recorded sent with the write that adds it; a retry of other channels keeps it.
  if (inboxItem) deliveries.inbox = { status: 'sent', at: now.toISOString() };
  // An inbox the template cannot fill gets no empty item: it fails, with the reason.
  if (inboxUnrenderable && w.steps.get('inbox')?.kind === 'deliver') {
    deliveries.inbox = { status: 'failed', at: now.toISOString(), error: `the inbox section of template ${content.rendered?.templateId ?? ''} (${content.rendered?.locale ?? ''}): ${content.rendered?.failures.inbox ?? 'no inbox section'}` };
  }
  // Which locale the template was rendered in goes with each outcome of this attempt.
  if (content.rendered) {
    for (const [name, delivery] of Object.entries(deliveries) as [Channel, ChannelDelivery][]) deliveries[name] = { ...delivery, locale: content.rendered.locale };
  }
  const outcomesAfter = Object.fromEntries(
    Object.entries({ ...unit.deliveries, ...deliveries }).filter(([name]) => !forget.includes(name as Channel)),
  ) as Partial<Record<Channel, ChannelDelivery>>;
  const settlement = settle(unit.channels, outcomesAfter, results, attempts, deps.settings.retry, deps.clock.now());
  return {
    entry: {
      unit,
      token: w.token,
      deliveries,
      forget,
      ...(inboxItem ? { inbox: { item: inboxItem, ...(unreadBefore !== undefined ? { unreadBefore } : {}) } } : {}),
      settlement,
    },
    work: w,
    ...(announced !== undefined ? { announced } : {}),
    recount: false,
  };
}

/** Most sleeps it takes to reach an instant (a sleep that returns at once, as a test's may, does not loop forever). */
const maxSleeps = 10;

/**
 * Sleeps until the clock reads `at` (epoch ms), again if it woke early: Node's timers count from
 * the event loop's cached time, which on a busy loop lags the clock, so a timer can fire before its
 * instant by as long as the tick that set it ran; a send woken then would land in the second
 * before the one it reserved.
 */
async function sleepUntil(clock: Clock, at: number, sleep: (ms: number) => Promise<void>): Promise<void> {
  for (let i = 0, wait = at - clock.now().getTime(); wait > 0 && i < maxSleeps; i++, wait = at - clock.now().getTime()) await sleep(wait);
}

/**
 * The entry of a unit whose reserved second passed before any of its channels went: nothing is
 * recorded but the removal of its intents, and it is released at once, its attempt handed back.
 */
function replanned(deps: EngineDeps, w: Work, reserved: ReservedSlot, attempts: number, now: Date): Prepared {
  const { unit } = w;
  const intents = [...w.steps].filter(([name, step]) => step.kind === 'deliver' && deps.channels[name].kind === 'send').map(([name]) => name);
  const error = `its send-budget second ended at ${new Date(reserved.until).toISOString()} before it could be sent`;
  logFor(unit).info('Delivery held back: its budget second passed before its turn; planned again without spending an attempt', { error });
  const settlement = settle(unit.channels, unit.deliveries, [{ kind: 'replan', error }], attempts, deps.settings.retry, now);
  return { entry: { unit, token: w.token, deliveries: {}, forget: intents, settlement }, work: w, recount: false };
}

/** `context` with the check of the second `channel`'s budget reserved, when it reserved one. */
function withBudgetCheck(context: RecipientContext, channel: DeliveryChannel, reserved: ReservedSlot | undefined, clock: Clock): RecipientContext {
  const provider = channel.provider;
  if (!reserved || !provider) return context;
  return {
    ...context,
    checkBudgetSecond: () => {
      if (isSlotOver(reserved, provider, clock.now().getTime())) throw new BudgetSecondPassedError(provider, reserved.until);
    },
  };
}

async function sendOne(
  channel: DeliveryChannel,
  target: unknown,
  content: DeliveryContent,
  context: RecipientContext,
  unread: number | undefined,
  clock: Clock,
): Promise<ChannelResult> {
  // The engine's clock, as for every other instant it records (a test's clock, or the system's).
  const at = (): string => clock.now().toISOString();
  let body: unknown;
  try {
    body = channel.render(content, unread !== undefined ? { unread } : {});
  } catch (error) {
    // Rendering is pure: what cannot be rendered now never can, and nothing is sent empty.
    return { kind: 'recorded', delivery: { status: 'failed', at: at(), error: error instanceof Error ? error.message : String(error) } };
  }
  try {
    // Just before the provider call: a budgeted send goes out only within the second it reserved.
    context.checkBudgetSecond?.();
    const receipt = await channel.send(target, body, context);
    const detail = [receipt.detail, receipt.providerMessageId ? `id ${receipt.providerMessageId}` : undefined].filter(Boolean).join('; ');
    return { kind: 'recorded', delivery: { status: receipt.status ?? 'sent', at: at(), ...(detail ? { detail } : {}) } };
  } catch (error) {
    if (error instanceof BudgetSecondPassedError) return { kind: 'replan', error: `${channel.name}: ${error.message}` };
    const verdict = channel.classify(error);
    const text = describeError(error);
    switch (verdict.kind) {
      case 'throttled':
        return { kind: 'throttled', error: `${channel.name}: ${text}`, retryAfterMs: verdict.retryAfterMs };
      case 'transient':
        return { kind: 'retry', error: `${channel.name}: ${text}` };
      case 'permanent':
        return { kind: 'recorded', delivery: { status: 'failed', at: at(), error: text } };
      case 'gone':
        return { kind: 'recorded', delivery: { status: 'failed', at: at(), error: `the target is gone: ${text}` } };
      case 'unknown':
        // No answer: it may have gone out, so it never goes again.
        return { kind: 'recorded', delivery: { status: 'unconfirmed', at: at(), detail: text } };
    }
  }
}

/** Counts one channel's outcome: delivered (with how late), failed, retried or throttled. */
function countResult(metrics: DeliveryMetricsRecorder | undefined, channel: Channel, result: ChannelResult, unit: DeliveryUnit, now: Date): void {
  if (!metrics) return;
  if (result.kind === 'retry') return metrics.count(channel, deliveryMetrics.counts.retried);
  if (result.kind === 'throttled') return metrics.count(channel, deliveryMetrics.counts.throttled);
  // Held back by Herald's own budget, not by the provider: nothing to count for it.
  if (result.kind === 'replan') return;
  if (result.delivery.status === 'failed') return metrics.count(channel, deliveryMetrics.counts.failed);
  if (result.delivery.status !== 'sent') return;
  metrics.count(channel, deliveryMetrics.counts.delivered);
  // Lateness only from a known due time (a retried broadcast's rows have none: see DeliveryUnit.dueAt).
  if (unit.status === 'pending' && unit.dueAt > 0) metrics.lateness(channel, now.getTime() - unit.dueAt);
}

/** Counts the inbox's outcome, which the commit made: delivered (with how late) when it added the item, or failed. */
function countInbox(metrics: DeliveryMetricsRecorder | undefined, entry: CommitEntry, now: Date): void {
  if (!metrics) return;
  if (entry.inbox) {
    metrics.count('inbox', deliveryMetrics.counts.delivered);
    if (entry.unit.status === 'pending' && entry.unit.dueAt > 0) metrics.lateness('inbox', now.getTime() - entry.unit.dueAt);
  } else if (entry.deliveries.inbox?.status === 'failed') {
    metrics.count('inbox', deliveryMetrics.counts.failed);
  }
}

function logResult(log: UnitLog, channel: Channel, result: ChannelResult): void {
  if (result.kind === 'retry') log.warn('Channel delivery failed; will retry', { channel, error: result.error });
  else if (result.kind === 'throttled') log.warn('Provider throttled the send; it waits without spending an attempt', { channel, error: result.error, retryAfterMs: result.retryAfterMs });
  else if (result.kind === 'replan') log.info('Send held back: its budget second passed before it could start; planned again without spending an attempt', { channel, error: result.error });
  else if (result.delivery.status === 'failed') log.error('Channel delivery failed for good', { channel, error: result.delivery.error });
  else if (result.delivery.status === 'unconfirmed') log.warn('Channel outcome unknown: the send was not answered, so it is not sent again', { channel, error: result.delivery.detail });
}

/**
 * Writes every entry, adjusting those a transaction refused and writing again: these outcomes
 * record what already happened in the world, so they must not be lost.
 */
async function commitAll(deps: EngineDeps, prepared: Prepared[], sleep: (ms: number) => Promise<void>): Promise<Map<string, CommitVerdict>> {
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

/** Changes an entry a transaction refused so that it can be written; `found` is the unread count the refusal found. */
function adjust(p: Prepared, verdict: CommitVerdict, now: Date, found: number | undefined): void {
  const { entry } = p;
  if (verdict === 'recipientGone') {
    // Erased since it was read: no inbox item, and nothing more goes out.
    const error = `Recipient ${entry.unit.recipientId} no longer exists`;
    const { inbox: _inbox, ...rest } = entry;
    p.entry = { ...rest, deliveries: { ...entry.deliveries, inbox: { status: 'failed', at: now.toISOString(), error } }, settlement: { kind: 'fail', error } };
    return;
  }
  if (verdict === 'inboxExists') {
    const { inbox: _inbox, ...rest } = entry;
    p.entry = { ...rest, deliveries: { ...entry.deliveries, inbox: { status: 'sent', at: now.toISOString(), detail: 'already in the inbox' } } };
    p.recount = p.announced !== undefined;
    return;
  }
  if (verdict === 'unreadMoved' && entry.inbox) {
    // Written again on the count the refusal found, so the count after it is known without a read;
    // refused once more (the count keeps moving), it goes without the condition and is read after.
    const again = found !== undefined && !p.recount;
    p.entry = { ...entry, inbox: again ? { item: entry.inbox.item, unreadBefore: found } : { item: entry.inbox.item } };
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

async function afterCommit(
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
    else if (settlement.kind === 'fail') log.error('Delivery failed', { error: settlement.error });
    else log.info('Delivery will be retried', { nextAttemptAt: new Date(settlement.nextAttemptAt).toISOString(), refundAttempt: settlement.refundAttempt });

    // A notification's metrics are counted from the table's stream (functions/metrics), not here.
    if (unit.ref.kind === 'broadcast' && settlement.kind !== 'release') {
      const id = recipientKeyOf(unit.tenantId, unit.ref.broadcastId);
      const entry = broadcastCounts.get(id) ?? { tenantId: unit.tenantId, broadcastId: unit.ref.broadcastId, sent: 0, failed: 0, released: 0 };
      if (unit.heldUntil !== undefined) entry.released++;
      if (settlement.kind === 'finish') entry.sent++;
      else {
        entry.failed++;
        entry.lastError = settlement.error;
      }
      broadcastCounts.set(id, entry);
    }

    // Tell the new count where the frame did not, or announced it wrong.
    // The count after the write is known when the write was conditioned on the one before it.
    const before = p.entry.inbox?.unreadBefore;
    const known = before === undefined ? undefined : before + 1;
    if ((known !== undefined && p.announced === undefined) || p.recount) tells.push(tellUnread(deps, unit, known, p.work.live));
  }
  await Promise.all(tells);
  for (const { tenantId, broadcastId, sent, failed, released, lastError } of broadcastCounts.values()) {
    const updated = await deps.broadcasts.addCounts(tenantId, broadcastId, { sent, failed, held: -released }, lastError);
    await finishIfReady({ broadcasts: deps.broadcasts, clock: deps.clock }, updated);
  }
}

/** Tells every open connection of the unit's recipient their unread count; a failure only logs. */
async function tellUnread(deps: EngineDeps, unit: DeliveryUnit, known: number | undefined, seen: LiveState): Promise<void> {
  try {
    const live = known === undefined ? await deps.live.get(unit.tenantId, unit.recipientId) : seen;
    const unread = known ?? live.unread;
    await Promise.all(
      openConnections(live, deps.clock.now()).map((c) => deps.sockets.post(c.connectionId, inboxChangedMessage(unread)).catch(() => 'gone' as const)),
    );
  } catch (error) {
    logFor(unit).warn('Could not tell the recipient their unread count', { error: describeError(error) });
  }
}


/** The key of a template version in one round's reads (no version: the latest). */
function templateKey(tenantId: string, id: string, version: number | undefined): string {
  return `${tenantId}#${id}#${version ?? 'latest'}`;
}

/**
 * The template version of every templated unit of a round, each read once. Read before the claim:
 * a failed read throws before anything is claimed, and the queue brings the message back.
 */
async function loadTemplates(deps: EngineDeps, units: readonly DeliveryUnit[]): Promise<Map<string, TemplateVersion | undefined>> {
  const wanted = new Map<string, { tenantId: string; id: string; version: number | undefined }>();
  for (const unit of units) {
    const ref = unit.content.template;
    if (ref) wanted.set(templateKey(unit.tenantId, ref.id, ref.version), { tenantId: unit.tenantId, id: ref.id, version: ref.version });
  }
  const found = new Map<string, TemplateVersion | undefined>();
  await Promise.all(
    [...wanted].map(async ([key, { tenantId, id, version }]) => {
      found.set(key, await deps.templates?.get(tenantId, id, version));
    }),
  );
  return found;
}

/**
 * The unit's content for this recipient: a templated unit's template rendered in their locale
 * (its inbox section becoming the title and message); other content as it is. The renderer
 * (liquidjs, a fifth of the delivering functions' code) is imported on the first templated unit,
 * not at cold start: most deliveries carry their own words.
 */
async function renderedFor(unit: DeliveryUnit, w: Work, recipient: Recipient): Promise<DeliveryContent> {
  const ref = unit.content.template;
  if (!ref) return unit.content;
  const channels = [...w.steps].filter(([, step]) => step.kind === 'deliver').map(([name]) => name as TemplateChannel);
  const template = w.template;
  if (!template) {
    const reason = `template ${ref.id}${ref.version !== undefined ? ` version ${ref.version}` : ''} no longer exists`;
    return { ...unit.content, rendered: { templateId: ref.id, version: ref.version ?? 0, locale: recipient.locale ?? 'default', channels: {}, failures: { inbox: reason } } };
  }
  const { renderTemplate } = await import('../templates/render.ts');
  const rendered = renderTemplate(
    { templateId: template.id, version: template.version, definition: template.definition, ...(recipient.locale !== undefined ? { locale: recipient.locale } : {}), channels },
    { payload: ref.payload, recipient: recipientScope(recipient), tenant: tenantScope(unit.tenantId) },
  );
  const inbox = rendered.channels.inbox;
  return { ...unit.content, ...(inbox ? { title: inbox.title, message: inbox.message } : {}), rendered };
}
