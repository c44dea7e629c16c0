/**
 * Delivering a broadcast to the recipients one delivery message carries (25 by default).
 *
 * Exactly once per (recipient, channel) in effect, at-least-once at the transport:
 * - each row is claimed with a conditional write (PENDING and due → SENDING, with a lease that
 *   outlives this invocation), so a duplicate message, or two workers, never deliver one
 *   recipient twice, and counters never count one twice;
 * - the inbox item's id is the broadcast id, and the inbox adds it conditionally;
 * - a row taken over from a worker that died holding it never sends its email or WebSocket frame
 *   again: those channels are recorded `unconfirmed` (they may or may not have gone out);
 * - the broadcast's status is read after the claims: a cancel that landed before stops every
 *   recipient of the message (they end `cancelled`); one that lands after lets these finish.
 * Outcomes are written a batch at a time, and the counters with one `ADD` per message.
 */
import { isChannelEnabled } from '../domain/recipient.ts';
import type { Recipient } from '../domain/recipient.ts';
import { toBroadcastSocketMessage } from '../domain/broadcast.ts';
import type { Broadcast, BroadcastContent, BroadcastRecipient, RecipientClaim } from '../domain/broadcast.ts';
import { describeError, isPermanentDeliveryError } from '../domain/delivery-errors.ts';
import { inboxChangedMessage } from '../domain/inbox.ts';
import type { Channel, ChannelDelivery } from '../domain/notification.ts';
import { retryDelaySeconds } from '../domain/retry-policy.ts';
import type { RetryPolicy } from '../domain/retry-policy.ts';
import type { BroadcastDeliveryMessage } from '../domain/schemas.ts';
import { logger } from '../observability/logger.ts';
import { RecipientGoneError } from '../ports.ts';
import type {
  BroadcastRecipientStore,
  BroadcastStore,
  Clock,
  Connection,
  ConnectionStore,
  InboxStore,
  Mailer,
  RecipientStore,
  SocketPoster,
} from '../ports.ts';
import { finishIfReady } from './fan-out-broadcast.ts';
import { mapLimited } from './map-limited.ts';
import { persistOutcome } from './persist-outcome.ts';

export interface BroadcastDeliveryDeps {
  readonly broadcasts: BroadcastStore;
  readonly rows: BroadcastRecipientStore;
  readonly recipients: Pick<RecipientStore, 'getMany'>;
  readonly inbox: InboxStore;
  readonly connections: ConnectionStore;
  readonly sockets: SocketPoster;
  readonly mailer: Mailer;
  readonly clock: Clock;
  readonly settings: {
    readonly leaseSeconds: number;
    readonly retry: RetryPolicy;
  };
  /** Broadcast contents already read (they never change), by tenant#id. @default none kept */
  readonly contentCache?: Map<string, BroadcastContent>;
}

/**
 * What this pass did, and whether the message must come back: after `comeBackInSeconds` when some
 * of its recipients wait out a retry backoff or are held by another worker (in case it dies).
 */
export interface BroadcastDeliveryOutcome {
  readonly sent: number;
  readonly failed: number;
  readonly cancelled: number;
  readonly comeBackInSeconds?: number;
}

/** A lease outlives its holder's deadline by this much. */
const leaseMarginMs = 5_000;
/** Recipients delivered to at once. */
const recipientConcurrency = 10;

/** Delivers the broadcast to every recipient of the message that is still waiting for it. */
export async function deliverBroadcastMessage(
  deps: BroadcastDeliveryDeps,
  message: BroadcastDeliveryMessage,
  invocation: { readonly deadline: Date },
): Promise<BroadcastDeliveryOutcome> {
  const { tenantId, broadcastId } = message;
  const log = logger.createChild({ persistentKeys: { tenantId, broadcastId } });
  const now = deps.clock.now();
  const leaseUntil = new Date(Math.max(now.getTime() + deps.settings.leaseSeconds * 1000, invocation.deadline.getTime() + leaseMarginMs));
  const attempts = await mapLimited(message.recipientIds, recipientConcurrency, (id) => deps.rows.claim(tenantId, broadcastId, id, now, leaseUntil));
  const claims = attempts.filter((claim): claim is RecipientClaim => claim !== undefined);
  const unclaimed = message.recipientIds.filter((_, index) => attempts[index] === undefined);
  const waits = unclaimed.length > 0 ? await waitsOf(deps, tenantId, broadcastId, unclaimed, now) : [];
  const result = (counts: { sent: number; failed: number; cancelled: number }): BroadcastDeliveryOutcome =>
    waits.length > 0 ? { ...counts, comeBackInSeconds: Math.max(1, Math.ceil(Math.min(...waits) / 1000)) } : counts;
  if (claims.length === 0) return result({ sent: 0, failed: 0, cancelled: 0 });

  let broadcast: Broadcast | undefined;
  let content: BroadcastContent | undefined;
  let directory = new Map<string, Recipient>();
  try {
    // Read after the claims: a cancel that came first stops all of them.
    broadcast = await deps.broadcasts.get(tenantId, broadcastId);
    if (broadcast?.status === 'sending') {
      content = await contentOf(deps, broadcast);
      directory = new Map((await deps.recipients.getMany(tenantId, claims.map((c) => c.row.recipientId))).map((r) => [r.id, r]));
    }
  } catch (error) {
    // Nothing was sent: hand the rows back now rather than let their leases run out (a row taken
    // over from an expired lease counts as possibly sent, and its email would never go).
    const released = claims.map((claim) => withOutcome(claim.row, 'pending', now, { deliveries: claim.row.deliveries }));
    await deps.rows.finish(released, now).catch(() => undefined);
    throw error;
  }
  if (!broadcast || broadcast.status !== 'sending') {
    const cancelled = claims.map((claim) => withOutcome(claim.row, 'cancelled', now));
    await persistOutcome(() => deps.rows.finish(cancelled, now));
    if (broadcast?.status === 'cancelled') {
      await finishIfReady(deps, await deps.broadcasts.addCounts(tenantId, broadcastId, { cancelled: cancelled.length }));
    }
    log.info('Broadcast no longer sending: recipients cancelled', { status: broadcast?.status ?? 'missing', recipients: cancelled.length });
    return result({ sent: 0, failed: 0, cancelled: cancelled.length });
  }

  const sending = broadcast;
  const body = content as BroadcastContent;
  const outcomes = await mapLimited(claims, recipientConcurrency, (claim) =>
    deliverToRecipient(deps, sending, body, claim, directory.get(claim.row.recipientId)),
  );
  // These outcomes record what already happened in the world: they must not be lost.
  await persistOutcome(() => deps.rows.finish(outcomes, deps.clock.now()));

  const sent = outcomes.filter((row) => row.status === 'sent').length;
  const failed = outcomes.filter((row) => row.status === 'failed');
  const lastError = failed.at(-1)?.lastError;
  if (sent + failed.length > 0) {
    const updated = await deps.broadcasts.addCounts(tenantId, broadcastId, { sent, failed: failed.length }, lastError);
    await finishIfReady(deps, updated);
  }
  const retries = outcomes.filter((row) => row.status === 'pending' && row.nextAttemptAt !== undefined);
  for (const row of retries) waits.push(Date.parse(row.nextAttemptAt as string) - now.getTime());
  log.info('Broadcast batch delivered', { sent, failed: failed.length, retrying: retries.length, notClaimed: unclaimed.length });
  return result({ sent, failed: failed.length, cancelled: 0 });
}

/**
 * How long (ms) to wait before looking again at recipients whose rows could not be claimed: a
 * row waiting out a retry backoff, or held by a live worker (in case it dies). Final rows need
 * nothing more.
 */
async function waitsOf(
  deps: BroadcastDeliveryDeps,
  tenantId: string,
  broadcastId: string,
  recipientIds: readonly string[],
  now: Date,
): Promise<number[]> {
  const rows = await deps.rows.getMany(tenantId, broadcastId, recipientIds);
  return rows.flatMap((row) => {
    if (row.status === 'pending' && row.nextAttemptAt !== undefined) return [Date.parse(row.nextAttemptAt) - now.getTime()];
    if (row.status === 'sending' && row.leaseUntil !== undefined) return [row.leaseUntil - now.getTime()];
    return [];
  });
}

async function contentOf(deps: BroadcastDeliveryDeps, broadcast: Broadcast): Promise<BroadcastContent> {
  const key = `${broadcast.tenantId}#${broadcast.id}`;
  const cached = deps.contentCache?.get(key);
  if (cached) return cached;
  const content = await deps.broadcasts.getContent(broadcast.tenantId, broadcast.id);
  if (!content) throw new Error(`Broadcast ${broadcast.id} has no content`);
  deps.contentCache?.set(key, content);
  return content;
}

function withOutcome(row: BroadcastRecipient, status: BroadcastRecipient['status'], at: Date, changes: Partial<BroadcastRecipient> = {}): BroadcastRecipient {
  const { leaseUntil: _leaseUntil, nextAttemptAt: _nextAttemptAt, lastError: _lastError, ...rest } = row;
  return { ...rest, ...changes, status, updatedAt: at.toISOString() };
}

/** Delivers to one recipient on every channel still owed; the row as it must be written. */
async function deliverToRecipient(
  deps: BroadcastDeliveryDeps,
  broadcast: Broadcast,
  content: BroadcastContent,
  claim: RecipientClaim,
  recipient: Recipient | undefined,
): Promise<BroadcastRecipient> {
  const row = claim.row;
  const at = (): string => deps.clock.now().toISOString();
  if (!recipient) {
    return withOutcome(row, 'failed', deps.clock.now(), { lastError: `Recipient ${row.recipientId} is not in the directory` });
  }
  const deliveries: Partial<Record<Channel, ChannelDelivery>> = { ...row.deliveries };
  const transient: string[] = [];
  let connections: Promise<Connection[]> | undefined;
  const connectionsOf = (): Promise<Connection[]> => (connections ??= deps.connections.listByUser(broadcast.tenantId, row.recipientId));

  for (const channel of broadcast.channels) {
    // A channel that already has an outcome is never repeated when another one is retried.
    if (deliveries[channel]) continue;
    if (claim.takeover && channel !== 'inbox') {
      // The worker before us died holding this row: it may have sent. Never twice.
      deliveries[channel] = { status: 'unconfirmed', at: at(), detail: 'an earlier attempt stopped while delivering' };
      continue;
    }
    if (!isChannelEnabled(recipient, channel)) {
      deliveries[channel] = { status: 'skipped', at: at(), detail: 'disabled by preference' };
      continue;
    }
    try {
      deliveries[channel] = await deliverOn(deps, channel, broadcast, content, recipient, connectionsOf);
    } catch (error) {
      if (error instanceof RecipientGoneError) return withOutcome(row, 'failed', deps.clock.now(), { deliveries, lastError: error.message });
      if (isPermanentDeliveryError(error)) {
        deliveries[channel] = { status: 'failed', at: at(), error: describeError(error) };
      } else {
        transient.push(`${channel}: ${describeError(error)}`);
      }
    }
  }

  const now = deps.clock.now();
  if (transient.length > 0) {
    const reason = transient.join('; ');
    const delay = retryDelaySeconds(deps.settings.retry, row.attempts);
    if (delay === undefined) return withOutcome(row, 'failed', now, { deliveries, lastError: `Gave up after ${row.attempts} attempts: ${reason}` });
    return withOutcome(row, 'pending', now, { deliveries, lastError: reason, nextAttemptAt: new Date(now.getTime() + delay * 1000).toISOString() });
  }
  const delivered = broadcast.channels.some((channel) => deliveries[channel]?.status !== 'failed');
  if (delivered) return withOutcome(row, 'sent', now, { deliveries });
  const reasons = broadcast.channels.map((channel) => `${channel}: ${deliveries[channel]?.error ?? 'failed'}`).join('; ');
  return withOutcome(row, 'failed', now, { deliveries, lastError: `Every channel failed (${reasons})` });
}

async function deliverOn(
  deps: BroadcastDeliveryDeps,
  channel: Channel,
  broadcast: Broadcast,
  content: BroadcastContent,
  recipient: Recipient,
  connectionsOf: () => Promise<Connection[]>,
): Promise<ChannelDelivery> {
  const at = (): string => deps.clock.now().toISOString();
  switch (channel) {
    case 'inbox': {
      const added = await deps.inbox.add({
        tenantId: broadcast.tenantId,
        recipientId: recipient.id,
        // The broadcast id is the inbox item's id: the inbox takes it once per recipient.
        notificationId: broadcast.id,
        title: broadcast.title,
        message: content.message,
        type: broadcast.type,
        priority: broadcast.priority,
        ...(content.data ? { data: content.data } : {}),
        createdAt: broadcast.createdAt,
        deliveredAt: at(),
      });
      if (added) await tellUnreadCount(deps, broadcast, recipient.id, connectionsOf);
      return { status: 'sent', at: at(), ...(added ? {} : { detail: 'already in the inbox' }) };
    }
    case 'websocket': {
      const connections = await connectionsOf();
      // Not connected is not a failure: the inbox holds the broadcast.
      if (connections.length === 0) return { status: 'skipped', at: at(), detail: 'not connected' };
      let posted = 0;
      const failures: unknown[] = [];
      for (const connection of connections) {
        try {
          if ((await deps.sockets.post(connection.connectionId, toBroadcastSocketMessage(broadcast, content))) === 'posted') posted++;
          else await deps.connections.remove(connection.connectionId).catch(() => undefined);
        } catch (error) {
          failures.push(error);
        }
      }
      if (posted === 0 && failures.length > 0) throw failures[0];
      return posted > 0 ? { status: 'sent', at: at(), detail: `${posted} connection(s)` } : { status: 'skipped', at: at(), detail: 'not connected' };
    }
    case 'email': {
      if (!recipient.email) return { status: 'skipped', at: at(), detail: 'no email address' };
      await deps.mailer.send({ to: recipient.email, subject: broadcast.title, text: content.message });
      return { status: 'sent', at: at() };
    }
  }
}

/** Tells the recipient's open connections their new unread count; the item is stored, so a failure only logs. */
async function tellUnreadCount(
  deps: BroadcastDeliveryDeps,
  broadcast: Broadcast,
  recipientId: string,
  connectionsOf: () => Promise<Connection[]>,
): Promise<void> {
  try {
    const connections = await connectionsOf();
    if (connections.length === 0) return;
    const unread = await deps.inbox.unreadCount(broadcast.tenantId, recipientId);
    await Promise.all(connections.map((c) => deps.sockets.post(c.connectionId, inboxChangedMessage(unread)).catch(() => 'gone' as const)));
  } catch (error) {
    logger.warn('Could not tell a recipient their unread count', {
      tenantId: broadcast.tenantId,
      broadcastId: broadcast.id,
      recipientId,
      error: describeError(error),
    });
  }
}
