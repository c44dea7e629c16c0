/**
 * A broadcast: one announcement to a whole tenant, a set of groups or an explicit list, with no
 * cap on the number of recipients, tracked recipient by recipient. No AWS here: the stores keep
 * these rules with conditional writes.
 *
 * Life of a broadcast: draft → scheduled → sending → completed | failed, and cancelled from any
 * of the first three. A retry puts a completed or failed broadcast with failed recipients back to
 * sending. While sending, its fan-out moves through three phases: `resolving` (the audience is
 * read page by page and one pending row is written per recipient; nothing is delivered yet),
 * `counting` (the rows are counted once, so the total is final before the first delivery and
 * progress never goes backwards) and `delivering`.
 */
import { toLocalIso } from './time.ts';
import type { TemplateRef } from './template.ts';
import { toTemplateRefView } from './template.ts';
import type { Channel, ChannelDelivery, Priority } from './notification.ts';
import type { DeliveryErrorCategory } from './delivery-errors.ts';
import { deliveriesView, unitErrorView } from './delivery-views.ts';
import type { DeliveryAudience } from './delivery-views.ts';
import type { TransitionTable } from './state-machine.ts';
import { tableAllows } from './state-machine.ts';

export const broadcastStatuses = ['draft', 'scheduled', 'sending', 'completed', 'failed', 'cancelled'] as const;
export type BroadcastStatus = (typeof broadcastStatuses)[number];

/** Where a recipient of a broadcast stands, as the API shows it. */
export const broadcastRecipientStatuses = ['pending', 'sent', 'failed', 'cancelled'] as const;
export type BroadcastRecipientStatus = (typeof broadcastRecipientStatuses)[number];

/** A recipient row's own state: `sending` is a pending row a delivery worker holds (a lease). */
export type BroadcastRowStatus = BroadcastRecipientStatus | 'sending';

export const fanoutPhases = ['resolving', 'counting', 'delivering'] as const;
export type FanoutPhase = (typeof fanoutPhases)[number];

/** Who a broadcast goes to. An explicit list is stored apart, in slices (see `audienceSliceSize`). */
export type BroadcastAudience =
  | { readonly kind: 'all' }
  | { readonly kind: 'groups'; readonly groups: readonly string[] }
  /** `sliceSize`: ids per stored slice; absent on broadcasts stored before it was recorded (1,000 then). */
  | { readonly kind: 'recipients'; readonly count: number; readonly sliceSize?: number };

/**
 * How many ids of an explicit audience one stored slice (and one fan-out page) holds: 250 ids of
 * 255 characters, at most 3 bytes each in UTF-8, keep a slice item under DynamoDB's 400 KB.
 */
export const audienceSliceSize = 250;
/** The slice size of broadcasts stored before it was recorded on the audience. */
const legacyAudienceSliceSize = 1_000;

/** How many ids one stored slice of this explicit audience holds. */
export function sliceSizeOf(audience: Extract<BroadcastAudience, { kind: 'recipients' }>): number {
  return audience.sliceSize ?? legacyAudienceSliceSize;
}
/** How many recipients one delivery message carries. */
export const recipientsPerDeliveryMessage = 25;

/** The counters kept on the broadcast item, updated per page or batch, never per recipient. */
export interface BroadcastCounts {
  /** Recipient rows written by the fan-out; final once the fan-out is `delivering`. */
  readonly total: number;
  readonly sent: number;
  readonly failed: number;
  readonly cancelled: number;
  /** Rows pending because their recipient's quiet hours hold them (issue 12); absent: none. */
  readonly held?: number;
}

export const zeroCounts: BroadcastCounts = { total: 0, sent: 0, failed: 0, cancelled: 0 };

/** Where the fan-out of a started broadcast is. */
export interface FanoutState {
  readonly phase: FanoutPhase;
  /** The next audience page to resolve (while `resolving`). */
  readonly page: number;
  /** Until when (epoch ms) a fan-out invocation holds the page. */
  readonly leaseUntil?: number;
}

export interface Broadcast {
  readonly tenantId: string;
  readonly id: string;
  /** Subject of the token that created it. */
  readonly createdBy: string;
  readonly title: string;
  readonly type: string;
  readonly priority: Priority;
  readonly channels: readonly Channel[];
  readonly audience: BroadcastAudience;
  readonly status: BroadcastStatus;
  /** When it goes out (ISO-8601 UTC); a draft may have none yet. */
  readonly scheduledAt?: string;
  readonly createdAt: string;
  readonly startedAt?: string;
  /** When every recipient reached a final state (also set on a cancelled broadcast once settled). */
  readonly completedAt?: string;
  readonly cancelledAt?: string;
  readonly lastError?: string;
  readonly counts: BroadcastCounts;
  /** Present once the broadcast started sending. */
  readonly fanout?: FanoutState;
  /** 0 for the first send, then one more per retry. */
  readonly run: number;
  /** The zone its time was given in: an IANA zone, or `recipient` (each recipient's own, issue 12). */
  readonly timezone?: string;
  /** With `timezone: "recipient"`: the wall time each recipient gets it at (`2027-06-01T09:00`). */
  readonly localTime?: string;
}

/** What a broadcast says beyond its title, kept apart from the (often updated) broadcast item. */
export interface BroadcastContent {
  readonly message: string;
  readonly data?: Readonly<Record<string, unknown>>;
  /** Its template, when it has one: rendered at delivery for each recipient. */
  readonly template?: TemplateRef;
}

/** One recipient of one broadcast: its row in the broadcast-recipients table. */
export interface BroadcastRecipient {
  readonly tenantId: string;
  readonly broadcastId: string;
  readonly recipientId: string;
  readonly status: BroadcastRowStatus;
  /** Delivery attempts made in the current run. */
  readonly attempts: number;
  readonly deliveries: Readonly<Partial<Record<Channel, ChannelDelivery>>>;
  /** Why its last attempt did not deliver it: the providers' own text, for those who run the tenant only. */
  readonly lastError?: string;
  /** What kind of error `lastError` begins with; absent on rows written before it existed. */
  readonly lastErrorCategory?: DeliveryErrorCategory;
  /** After a transient failure: not to be tried again before this instant (ISO-8601 UTC). */
  readonly nextAttemptAt?: string;
  /** While `sending`: until when (epoch ms) the worker's claim holds. */
  readonly leaseUntil?: number;
  /** The run of the broadcast that last put it back to pending (retries). */
  readonly run: number;
  /** Held by the recipient's quiet hours until this instant (ISO-8601 UTC; also its `nextAttemptAt`), and why. */
  readonly heldUntil?: string;
  /** When it is due at its recipient's own wall time (a broadcast with `timezone: "recipient"`): that instant. */
  readonly localDueAt?: string;
  readonly heldReason?: string;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** A recipient row a delivery worker holds; `takeover` when it took an expired lease over. */
export interface RecipientClaim {
  readonly row: BroadcastRecipient;
  readonly token: string;
  readonly takeover: boolean;
}

/**
 * What a conditional write on a recipient row checks besides its status: `due`, its retry time
 * (if any) has come; `leaseExpired`, the worker holding it let its lease run out; `holdsClaim`,
 * the writer holds the current claim (its token); `unchanged`, nobody claimed it since the writer
 * read it (its attempt count is the one read); `failedBeforeRun`, it failed in an earlier run
 * than the retry run requeueing it.
 */
export const rowGuards = ['due', 'leaseExpired', 'holdsClaim', 'unchanged', 'failedBeforeRun'] as const;
export type RowGuard = (typeof rowGuards)[number];

/**
 * Every transition of a recipient row: the rules that run (the row store builds its conditions
 * from this table). A row a worker holds is `sending`; `release` hands it back for a retry;
 * `abandon` cancels a row of a cancelled broadcast that a dead worker still holds (its lease ran
 * out), so the broadcast settles; `withdraw` cancels a row its worker has just claimed and then
 * found its broadcast cancelled (nothing was sent on that claim); `requeue` is a broadcast retry putting a failed row back to
 * pending.
 */
export const rowTransitions = {
  claim: { from: ['pending'], to: 'sending', guards: ['due', 'unchanged'] },
  takeOver: { from: ['sending'], to: 'sending', guards: ['leaseExpired', 'unchanged'] },
  finish: { from: ['sending'], to: 'sent', guards: ['holdsClaim'] },
  fail: { from: ['sending'], to: 'failed', guards: ['holdsClaim'] },
  release: { from: ['sending'], to: 'pending', guards: ['holdsClaim'] },
  cancel: { from: ['pending'], to: 'cancelled' },
  hold: { from: ['pending'], to: 'pending', guards: ['unchanged'] },
  abandon: { from: ['sending'], to: 'cancelled', guards: ['leaseExpired', 'unchanged'] },
  withdraw: { from: ['sending'], to: 'cancelled', guards: ['holdsClaim'] },
  requeue: { from: ['failed'], to: 'pending', guards: ['failedBeforeRun'], manual: true },
} as const satisfies TransitionTable<BroadcastRowStatus, RowGuard>;
export type RowTransition = keyof typeof rowTransitions;

/** True when a recipient row may move from `from` to `to`. */
export function rowCanTransition(from: BroadcastRowStatus, to: BroadcastRowStatus): boolean {
  return tableAllows<BroadcastRowStatus, RowGuard>(rowTransitions, from, to);
}

const allowedTransitions: Readonly<Record<BroadcastStatus, readonly BroadcastStatus[]>> = {
  draft: ['scheduled', 'cancelled'],
  // `scheduled → draft` undoes a schedule that could not be created.
  scheduled: ['sending', 'draft', 'cancelled'],
  sending: ['completed', 'failed', 'cancelled'],
  // A retry puts failed recipients back through delivery.
  completed: ['sending'],
  failed: ['sending'],
  cancelled: [],
};

/** True when a broadcast may move from `from` to `to`. */
export function canTransition(from: BroadcastStatus, to: BroadcastStatus): boolean {
  return allowedTransitions[from].includes(to);
}

/** The states from which a transition to `to` is allowed (what a conditional write checks). */
export function statusesAllowing(to: BroadcastStatus): BroadcastStatus[] {
  return broadcastStatuses.filter((from) => canTransition(from, to));
}

/** Recipients that reached a final state. */
export function settledCount(counts: BroadcastCounts): number {
  return counts.sent + counts.failed + counts.cancelled;
}

/** True once the total is final: the fan-out has counted its rows. */
export function isTotalFinal(b: Pick<Broadcast, 'fanout'>): boolean {
  return b.fanout?.phase === 'delivering';
}

/**
 * How a sending broadcast ends once every recipient is final: `failed` when nobody got it and
 * someone failed, `completed` otherwise (an empty audience completes at once).
 */
export function finalStatus(counts: BroadcastCounts): 'completed' | 'failed' {
  return counts.total > 0 && counts.sent === 0 && counts.failed > 0 ? 'failed' : 'completed';
}

/**
 * True when the broadcast has reached its end and must be marked so: sending (or cancelled and
 * not yet settled) with a final total that every recipient has reached.
 */
export function isReadyToFinish(b: Broadcast): boolean {
  if (!isTotalFinal(b) || settledCount(b.counts) < b.counts.total) return false;
  return b.status === 'sending' || (b.status === 'cancelled' && b.completedAt === undefined);
}

/** True when nothing more will happen to the broadcast by itself. */
export function isFinished(b: Broadcast): boolean {
  if (b.status === 'completed' || b.status === 'failed') return true;
  // A cancelled broadcast that never started has nothing to settle.
  return b.status === 'cancelled' && (b.fanout === undefined || b.completedAt !== undefined);
}

/** Progress as the API shows it: from the counters, so a read is cheap. */
export interface BroadcastProgress {
  readonly total: number;
  readonly sent: number;
  readonly failed: number;
  readonly pending: number;
  readonly cancelled: number;
  /** Of the pending, how many wait for the end of their quiet hours. */
  readonly held: number;
  /** 0 until the total is final, then the share of recipients in a final state. */
  readonly percent: number;
}

/**
 * The progress of a broadcast. The total is only shown once final (after the fan-out counted the
 * rows), and every counter behind `percent` only grows during a run, so it never goes backwards;
 * a retry reopens the failed recipients, which is the one way down.
 */
export function broadcastProgress(b: Broadcast): BroadcastProgress {
  const { total, sent, failed, cancelled } = b.counts;
  // A broadcast cancelled before it started is final too: it has no recipient left to settle.
  const final = isTotalFinal(b) || isFinished(b);
  const settled = settledCount(b.counts);
  let percent = 0;
  if (final) percent = total === 0 ? 100 : Math.min(100, Math.floor((settled * 100) / total));
  return { total, sent, failed, cancelled, pending: Math.max(0, total - settled), held: Math.max(0, b.counts.held ?? 0), percent };
}

/**
 * The WebSocket frame that tells a broadcast's creator where it stands (sent after each delivered
 * batch): `{ type: 'broadcastProgress', broadcast: { id, status, title, progress } }`, the
 * counters of `GET /v1/broadcasts/{id}`.
 */
export function toBroadcastProgressFrame(b: Broadcast): Record<string, unknown> {
  return { type: 'broadcastProgress', broadcast: { id: b.id, status: b.status, title: b.title, progress: broadcastProgress(b) } };
}

/** The public view of the audience: an explicit list shows its size, not its ids. */
function toAudienceView(audience: BroadcastAudience): Record<string, unknown> {
  switch (audience.kind) {
    case 'all':
      return { all: true };
    case 'groups':
      return { groups: audience.groups };
    case 'recipients':
      return { recipientCount: audience.count };
  }
}

/** Its time as wall time: in its zone with the offset, or (each recipient's zone) the wall time itself. */
function broadcastLocalTime(b: Broadcast): string | null {
  if (b.localTime !== undefined) return b.localTime;
  return b.timezone !== undefined && b.scheduledAt !== undefined ? toLocalIso(Date.parse(b.scheduledAt), b.timezone) : null;
}

/** The public view of a broadcast, as the API returns it (with its content when given). */
export function toBroadcastView(b: Broadcast, content?: BroadcastContent): Record<string, unknown> {
  return {
    id: b.id,
    status: b.status,
    title: b.title,
    ...(content ? { message: content.message, data: content.data ?? {}, template: content.template ? toTemplateRefView(content.template) : null } : {}),
    type: b.type,
    priority: b.priority,
    channels: b.channels,
    audience: toAudienceView(b.audience),
    createdBy: b.createdBy,
    createdAt: b.createdAt,
    scheduledAt: b.scheduledAt ?? null,
    timezone: b.timezone ?? null,
    localScheduledAt: broadcastLocalTime(b),
    startedAt: b.startedAt ?? null,
    // Its figures are final when it completes, or when a cancel has settled its last recipient; one
    // cancelled before it started had none to settle.
    completedAt: b.completedAt ?? (b.status === 'cancelled' && b.fanout === undefined ? (b.cancelledAt ?? null) : null),
    cancelledAt: b.cancelledAt ?? null,
    lastError: b.lastError ?? null,
    progress: broadcastProgress(b),
  };
}

/** The status the API shows for a row: a row held by a worker is still pending. */
export function publicRecipientStatus(status: BroadcastRowStatus): BroadcastRecipientStatus {
  return status === 'sending' ? 'pending' : status;
}

/**
 * The public view of one recipient's outcome, for a caller of `audience` (`deliveryAudienceOf`):
 * the providers' error text only in the diagnostic view (shared/domain/delivery-views.ts).
 */
export function toBroadcastRecipientView(row: BroadcastRecipient, audience: DeliveryAudience): Record<string, unknown> {
  const status = publicRecipientStatus(row.status);
  return {
    recipientId: row.recipientId,
    status,
    attempts: row.attempts,
    channels: deliveriesView(row.deliveries, audience),
    ...unitErrorView(row, audience, 'error'),
    // When it is next tried, while it will be: a cancelled or finished row keeps the attribute it had.
    nextAttemptAt: status === 'pending' ? (row.nextAttemptAt ?? null) : null,
    updatedAt: row.updatedAt,
  };
}

/** The message a live WebSocket client receives for a broadcast (the shape of a notification's). */
export function toBroadcastSocketMessage(
  b: Pick<Broadcast, 'id' | 'title' | 'type' | 'priority' | 'scheduledAt' | 'startedAt'>,
  content: BroadcastContent,
): { type: 'notification'; notification: Record<string, unknown> } {
  return {
    type: 'notification',
    notification: {
      id: b.id,
      broadcastId: b.id,
      title: b.title,
      message: content.message,
      type: b.type,
      priority: b.priority,
      data: content.data ?? {},
      scheduledAt: b.scheduledAt ?? b.startedAt ?? null,
    },
  };
}

/** The write shard of a recipient row: spreads one broadcast's rows over partitions (1,000 WCU each). */
export function recipientShard(recipientId: string, shards: number): number {
  let hash = 0;
  for (const char of recipientId) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  return hash % shards;
}
