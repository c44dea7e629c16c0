/**
 * Step 3 of the engine (engine.ts): the sends of one claimed unit. Each of its channels is sent
 * through its channel module (shared/delivery/channels), within the second its send-rate budget
 * reserved, each provider error classified by the channel, each outcome logged and counted; what
 * comes back is the unit's entry for step 4's commit (commit.ts), with what the engine must
 * remember about it after the write.
 */
import { categoryOfVerdict, describeError } from '../domain/delivery-errors.ts';
import type { DeliveryErrorCategory } from '../domain/delivery-errors.ts';
import { countAfterAdding } from '../domain/inbox.ts';
import type { UnreadCount } from '../domain/inbox.ts';
import { openConnections, settle } from '../domain/delivery.ts';
import type { ChannelResult, DeliveryContent, DeliveryUnit } from '../domain/delivery.ts';
import type { Channel, ChannelDelivery } from '../domain/notification.ts';
import { BudgetSecondPassedError, isSlotOver } from '../domain/rate-budget.ts';
import { sleepUntil } from '../domain/sleep-until.ts';
import type { ReservedSlot } from '../domain/rate-budget.ts';
import { deliveryMetrics } from '../observability/metric-names.ts';
import type { Clock, CommitEntry, DeliveryMetricsRecorder } from '../ports.ts';
import type { DeliveryChannel, RecipientContext } from './channel.ts';
import { sectionName } from '../templates/section.ts';
import { renderedFor } from './content.ts';
import { logFor } from './work.ts';
import type { EngineDeps, UnitLog, Work } from './work.ts';

/** A unit's commit entry, plus what the engine must remember about it after the write. */
export interface Prepared {
  entry: CommitEntry;
  readonly work: Work;
  /** The unread count and version the WebSocket frame announced, when one went out with it. */
  readonly announced?: UnreadCount;
  /** The count must be read and told again after the write (it moved, or the item was there). */
  recount: boolean;
}

/**
 * Sends one claimed unit's channels; its entry for the commit. Its budgeted sends wait for the
 * start of the second they reserved (`slot.sendAt`, epoch ms), and go out only while it lasts
 * (`slot.reserved`): one that would start after it is not sent but planned again (`replan`), so no
 * second sees more than its budget.
 */
export async function sendAll(deps: EngineDeps, w: Work, slot: { readonly sendAt: number; readonly reserved?: ReservedSlot }, sleep: (ms: number) => Promise<void>): Promise<Prepared> {
  const { unit, recipient, live } = w;
  const log = logFor(unit);
  const attempts = unit.attempts + 1;
  if (!recipient) {
    const error = `Recipient ${unit.recipientId} no longer exists`;
    log.error('Delivery failed: the recipient left the directory', { error });
    return { entry: { unit, token: w.token, deliveries: {}, forget: [], settlement: { kind: 'fail', error, category: 'gone' } }, work: w, recount: false };
  }
  await sleepUntil(() => deps.clock.now().getTime(), slot.sendAt, sleep);
  const now = deps.clock.now();
  // Its turn came after the second it reserved (a late claim, a slow machine): none of its
  // channels goes now, so the inbox and the frame do not run ahead of a budgeted send planned again.
  if (slot.reserved !== undefined && now.getTime() >= slot.reserved.until) return replanned(deps, w, slot.reserved, attempts, now);
  const context: RecipientContext = { tenantId: unit.tenantId, recipient, live, now };
  const content = await renderedFor(unit, w, recipient);
  const inboxUnrenderable = content.rendered !== undefined && content.rendered.channels.inbox === undefined;
  const addsToInbox = w.steps.get('inbox')?.kind === 'deliver' && !inboxUnrenderable;
  const connected = openConnections(live, now).length > 0;
  // The frame tells the new count and its version when the inbox gains the item; the write then
  // checks that neither moved since the load, so the frame's pair is the one the write makes.
  const before: UnreadCount | undefined = addsToInbox && connected ? { unread: live.unread, unreadVersion: live.unreadVersion } : undefined;
  const announced = before !== undefined && w.steps.get('websocket')?.kind === 'deliver' ? countAfterAdding(before) : undefined;

  const deliveries: Partial<Record<Channel, ChannelDelivery>> = {};
  const results: ChannelResult[] = [];
  const forget: Channel[] = [];
  /** The error of each channel that is to be tried again (its intent is forgotten until then), with its category. */
  const unsettled = new Map<Channel, { readonly error: string; readonly category: DeliveryErrorCategory }>();
  /** The channels to be tried again (a retry, a throttle, a budget second passed), if anything is left. */
  const retried: [Channel, Exclude<ChannelResult, { kind: 'recorded' }>][] = [];
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
      else {
        forget.push(name);
        unsettled.set(name, { error: result.error, category: result.category });
      }
      // What is to be tried again (a retry, a throttle, a budget second passed) is logged and
      // counted once the settlement says whether anything is left (below).
      if (result.kind !== 'recorded') {
        retried.push([name, result]);
        return;
      }
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
    deliveries.inbox = {
      status: 'failed',
      at: now.toISOString(),
      errorCategory: 'unrenderable',
      error: `${sectionName('inbox', content.rendered ?? { templateId: '' })}: ${content.rendered?.failures.inbox ?? 'no inbox section'}`,
    };
  }
  // Which locale the template was rendered in goes with each outcome of this attempt.
  const locale = content.rendered?.locale;
  if (locale !== undefined) {
    for (const [name, delivery] of Object.entries(deliveries) as [Channel, ChannelDelivery][]) deliveries[name] = { ...delivery, locale };
  }
  const outcomesAfter = Object.fromEntries(
    Object.entries({ ...unit.deliveries, ...deliveries }).filter(([name]) => !forget.includes(name as Channel)),
  ) as Partial<Record<Channel, ChannelDelivery>>;
  const settlement = settle(unit.channels, outcomesAfter, results, attempts, deps.settings.retry, deps.clock.now());
  // Out of retries: each channel that was to be tried again has failed, and says why (its outcome
  // is what the unit's view and the metrics count).
  const gaveUp = settlement.kind === 'fail' && settlement.exhausted === true;
  for (const [name, result] of retried) {
    // On the last attempt every channel still to be tried again has failed (recorded so below), and
    // the dashboard's Failed counts it; otherwise it is a retry, a throttle or a second planned again.
    if (gaveUp) {
      log.error('Channel delivery failed for good: out of retries', { channel: name, error: result.error });
      deps.metrics?.count(name, deliveryMetrics.counts.failed);
    } else {
      logResult(log, name, result);
      countResult(deps.metrics, name, result, unit, deps.clock.now());
    }
  }
  if (gaveUp) {
    for (const [name, { error, category }] of unsettled) {
      // A retry's error names its channel for the unit's lastError; the channel's own outcome needs not.
      const own = error.startsWith(`${name}: `) ? error.slice(name.length + 2) : error;
      deliveries[name] = {
        status: 'failed',
        at: deps.clock.now().toISOString(),
        error: own,
        errorCategory: category,
        ...(locale !== undefined ? { locale } : {}),
      };
    }
  }
  return {
    entry: {
      unit,
      token: w.token,
      deliveries,
      forget: gaveUp ? forget.filter((name) => !unsettled.has(name)) : forget,
      ...(inboxItem ? { inbox: { item: inboxItem, ...(before !== undefined ? { before } : {}) } } : {}),
      settlement,
    },
    work: w,
    ...(announced !== undefined ? { announced } : {}),
    recount: false,
  };
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
  const settlement = settle(unit.channels, unit.deliveries, [{ kind: 'replan', error, category: 'throttled' }], attempts, deps.settings.retry, now);
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
  unread: UnreadCount | undefined,
  clock: Clock,
): Promise<ChannelResult> {
  // The engine's clock, as for every other instant it records (a test's clock, or the system's).
  const at = (): string => clock.now().toISOString();
  let body: unknown;
  try {
    body = channel.render(content, unread !== undefined ? { unread } : {});
  } catch (error) {
    // Rendering is pure: what cannot be rendered now never can, and nothing is sent empty.
    return { kind: 'recorded', delivery: { status: 'failed', at: at(), error: error instanceof Error ? error.message : String(error), errorCategory: 'unrenderable' } };
  }
  try {
    // Just before the provider call: a budgeted send goes out only within the second it reserved.
    context.checkBudgetSecond?.();
    const receipt = await channel.send(target, body, context);
    const detail = [receipt.detail, receipt.providerMessageId ? `id ${receipt.providerMessageId}` : undefined].filter(Boolean).join('; ');
    return { kind: 'recorded', delivery: { status: receipt.status ?? 'sent', at: at(), ...(detail ? { detail } : {}) } };
  } catch (error) {
    // Herald's own send budget held it back: to the recipient, throttling. Held back from a retry
    // the provider throttled (the SDK's, inside the call): its wait, as the provider asked.
    if (error instanceof BudgetSecondPassedError) {
      const earlier = error.cause === undefined ? undefined : channel.classify(error.cause);
      if (earlier?.kind === 'throttled') return { kind: 'throttled', error: `${channel.name}: ${describeError(error.cause)}`, category: 'throttled', retryAfterMs: earlier.retryAfterMs };
      return { kind: 'replan', error: `${channel.name}: ${error.message}`, category: 'throttled' };
    }
    const verdict = channel.classify(error);
    const text = describeError(error);
    // The provider's text is kept for those who run the tenant; its category is what a plain user sees.
    const category = categoryOfVerdict(verdict);
    switch (verdict.kind) {
      case 'throttled':
        return { kind: 'throttled', error: `${channel.name}: ${text}`, category, retryAfterMs: verdict.retryAfterMs };
      case 'transient':
        return { kind: 'retry', error: `${channel.name}: ${text}`, category };
      case 'permanent':
        return { kind: 'recorded', delivery: { status: 'failed', at: at(), error: text, errorCategory: category } };
      case 'gone':
        return { kind: 'recorded', delivery: { status: 'failed', at: at(), error: `the target is gone: ${text}`, errorCategory: category } };
      case 'unknown':
        // No answer: it may have gone out, so it never goes again.
        return { kind: 'recorded', delivery: { status: 'unconfirmed', at: at(), detail: text, errorCategory: category } };
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

/** Counts the inbox's outcome, which the commit made: delivered (with how late, in ms after its due time) when it added the item, or failed. */
export function countInbox(metrics: DeliveryMetricsRecorder | undefined, entry: CommitEntry, now: Date): void {
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
