/**
 * Delivering one notification on its channels. At-least-once at the transport, exactly-once per
 * (notification, channel) in effect: the claim is a conditional write with a lease, each channel
 * records its outcome, and a channel already recorded is never repeated.
 *
 * Email and WebSocket frames cannot be taken back, so those channels record an intent
 * (`sending`) before the side effect and the outcome after it, retrying that write hard. An
 * intent found by a later attempt means an earlier one stopped mid-send: the channel is recorded
 * `unconfirmed` and never sent again. So no email goes twice, even when the write that records it
 * fails or the worker dies between the two.
 */
import { describeError, isPermanentDeliveryError, wasAnsweredWithError } from '../domain/delivery-errors.ts';
import { isTerminal, nextDueAt, toSocketMessage } from '../domain/notification.ts';
import type { Channel, ChannelDelivery, Notification } from '../domain/notification.ts';
import { isChannelEnabled } from '../domain/recipient.ts';
import type { Recipient } from '../domain/recipient.ts';
import { retryDelaySeconds } from '../domain/retry-policy.ts';
import type { RetryPolicy } from '../domain/retry-policy.ts';
import type { DeliveryMessage } from '../domain/schemas.ts';
import { notificationLogger } from '../observability/logger.ts';
import { ClaimLostError, RecipientGoneError } from '../ports.ts';
import type {
  Claim,
  Clock,
  ConnectionStore,
  InboxStore,
  Mailer,
  NotificationStore,
  RecipientStore,
  SocketPoster,
} from '../ports.ts';
import { notifyInboxChanged } from './inbox.ts';
import { persistOutcome } from './persist-outcome.ts';

export interface DeliveryDeps {
  readonly notifications: NotificationStore;
  readonly recipients: RecipientStore;
  readonly inbox: InboxStore;
  readonly connections: ConnectionStore;
  readonly sockets: SocketPoster;
  readonly mailer: Mailer;
  readonly clock: Clock;
  readonly settings: {
    readonly leaseSeconds: number;
    readonly sentRetentionDays: number;
    readonly retry: RetryPolicy;
  };
  /** How the retries of outcome writes wait. @default a real timer */
  readonly sleep?: (ms: number) => Promise<void>;
}

/**
 * What became of a delivery message: done with (delete it), or to be seen again later. A `done`
 * with `deadLetter` gave up after the last retry: the message belongs on the dead-letter queue.
 */
export type DeliveryOutcome =
  | {
      readonly kind: 'done';
      readonly status: Notification['status'] | 'missing';
      readonly deadLetter?: { readonly reason: string; readonly attempts: number };
    }
  | { readonly kind: 'later'; readonly seconds: number; readonly reason: string };

class PermanentRecipientError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PermanentRecipientError';
  }
}

/** Delivers the notification a queue message names, if it is due and still deliverable. */
export async function deliverNotification(deps: DeliveryDeps, message: DeliveryMessage): Promise<DeliveryOutcome> {
  const log = notificationLogger(message.tenantId, message.notificationId);
  const now = deps.clock.now();
  const notification = await deps.notifications.get(message.tenantId, message.notificationId);
  if (!notification) {
    log.info('Nothing to deliver: the notification no longer exists');
    return { kind: 'done', status: 'missing' };
  }
  if (isTerminal(notification.status)) {
    log.info('Nothing to deliver: the notification is already final', { status: notification.status });
    return { kind: 'done', status: notification.status };
  }
  const dueInMs = nextDueAt(notification).getTime() - now.getTime();
  if (notification.status === 'pending' && dueInMs > 0) {
    // A schedule fires ahead of time on purpose, and a duplicate may come before a retry is due:
    // hold the message until the exact second.
    return { kind: 'later', seconds: Math.ceil(dueInMs / 1000), reason: 'not yet due' };
  }

  const claim = await deps.notifications.claim(message.tenantId, message.notificationId, now, deps.settings.leaseSeconds);
  if (!claim) return whyNotClaimed(deps, message, now);

  log.info('Claimed for delivery', { attempt: claim.notification.attempts });
  try {
    return await deliverUnderClaim(deps, claim, log);
  } catch (error) {
    // We were too slow: our lease expired and another worker owns the delivery now.
    if (error instanceof ClaimLostError) {
      log.warn('Lost the claim to another worker');
      return { kind: 'done', status: 'sending' };
    }
    throw error;
  }
}

async function whyNotClaimed(deps: DeliveryDeps, message: DeliveryMessage, now: Date): Promise<DeliveryOutcome> {
  const current = await deps.notifications.get(message.tenantId, message.notificationId);
  if (current?.status === 'sending' && current.leaseUntil !== undefined) {
    // Another worker holds a live lease; look again when it ends, in case that worker dies.
    return { kind: 'later', seconds: Math.max(1, Math.ceil((current.leaseUntil - now.getTime()) / 1000)), reason: 'leased by another worker' };
  }
  return { kind: 'done', status: current?.status ?? 'missing' };
}

async function deliverUnderClaim(
  deps: DeliveryDeps,
  claim: Claim,
  log: ReturnType<typeof notificationLogger>,
): Promise<DeliveryOutcome> {
  const n = claim.notification;
  let recipient: Recipient | undefined;
  const loadRecipient = async (): Promise<Recipient> => {
    recipient ??= await deps.recipients.get(n.tenantId, n.recipientId);
    if (!recipient) throw new PermanentRecipientError(`Recipient ${n.recipientId} no longer exists`);
    return recipient;
  };

  const deliveries: Partial<Record<Channel, ChannelDelivery>> = { ...n.deliveries };
  // A recipient deleted since scheduling gets nothing on any channel, not an inbox item and then a failure.
  if (n.channels.some((channel) => !deliveries[channel])) {
    try {
      await loadRecipient();
    } catch (error) {
      if (error instanceof PermanentRecipientError) return finish(deps, claim, error.message, log);
      return retryOrFail(deps, claim, `recipient: ${describeError(error)}`, log);
    }
  }
  const transientErrors: string[] = [];
  const now = (): string => deps.clock.now().toISOString();
  for (const channel of n.channels) {
    const previous = deliveries[channel];
    if (previous?.status === 'sending') {
      // An earlier attempt stopped between its intent and its outcome: it may have sent. Never twice.
      const outcome: ChannelDelivery = {
        status: 'unconfirmed',
        at: now(),
        detail: `an earlier attempt stopped while sending (${previous.detail ?? previous.at})`,
      };
      log.warn('Channel outcome unknown: an earlier attempt stopped mid-send, so it is not sent again', { channel });
      await persistOutcome(() => deps.notifications.recordDelivery(claim, channel, outcome), persistOptions(deps));
      deliveries[channel] = outcome;
      continue;
    }
    // A channel that already has an outcome is never repeated when another one is retried.
    if (previous) continue;
    let intended = false;
    const intend = async (): Promise<void> => {
      await deps.notifications.recordDelivery(claim, channel, { status: 'sending', at: now(), detail: `attempt ${n.attempts}` });
      intended = true;
    };
    let outcome: ChannelDelivery;
    try {
      outcome = await deliverOn(deps, channel, n, loadRecipient, intend, log);
    } catch (error) {
      // Erased since it was loaded: the inbox refused the item, and nothing more goes out.
      if (error instanceof PermanentRecipientError || error instanceof RecipientGoneError) return finish(deps, claim, error.message, log);
      if (error instanceof ClaimLostError) throw error;
      if (intended && !wasAnsweredWithError(error)) {
        // No answer (a timeout, a broken connection): it may have gone out, so it never goes again.
        outcome = { status: 'unconfirmed', at: now(), detail: describeError(error) };
        log.warn('Channel outcome unknown: the send was not answered, so it is not sent again', { channel, error: outcome.detail });
      } else if (!isPermanentDeliveryError(error)) {
        log.warn('Channel delivery failed; will retry', { channel, error: describeError(error) });
        // Refused, so nothing went out: drop the intent, or the retry would take it for a send.
        if (intended) await persistOutcome(() => deps.notifications.forgetDelivery(claim, channel), persistOptions(deps));
        transientErrors.push(`${channel}: ${describeError(error)}`);
        continue;
      } else {
        outcome = { status: 'failed', at: now(), error: describeError(error) };
        log.error('Channel delivery failed for good', { channel, error: outcome.error });
      }
    }
    // The send happened: this record must not be lost, or a retry would send again.
    await persistOutcome(() => deps.notifications.recordDelivery(claim, channel, outcome), persistOptions(deps));
    deliveries[channel] = outcome;
  }

  if (transientErrors.length > 0) return retryOrFail(deps, claim, transientErrors.join('; '), log);
  const delivered = n.channels.some((channel) => deliveries[channel]?.status !== 'failed');
  log.info('Channel outcomes', { deliveries });
  return finish(deps, claim, delivered ? undefined : 'Every channel failed', log);
}

function persistOptions(deps: DeliveryDeps): { sleep?: (ms: number) => Promise<void> } {
  return deps.sleep ? { sleep: deps.sleep } : {};
}

/**
 * Delivers on one channel. `intend` records the intent to send; it is called right before a
 * side effect that must not be repeated, and only when there is one to make.
 */
async function deliverOn(
  deps: DeliveryDeps,
  channel: Channel,
  n: Notification,
  loadRecipient: () => Promise<Recipient>,
  intend: () => Promise<void>,
  log: ReturnType<typeof notificationLogger>,
): Promise<ChannelDelivery> {
  const at = (): string => deps.clock.now().toISOString();
  // The recipient's own switches, as they are now (the inbox cannot be switched off).
  if (!isChannelEnabled(await loadRecipient(), channel)) return { status: 'skipped', at: at(), detail: 'disabled by preference' };
  switch (channel) {
    case 'inbox': {
      const added = await deps.inbox.add({
        tenantId: n.tenantId,
        recipientId: n.recipientId,
        notificationId: n.id,
        title: n.title,
        message: n.message,
        type: n.type,
        priority: n.priority,
        ...(n.data ? { data: n.data } : {}),
        createdAt: n.createdAt,
        deliveredAt: at(),
      });
      // A repeated delivery added nothing, so the count did not change: nothing to tell.
      if (added) await tellUnreadCount(deps, n, log);
      return { status: 'sent', at: at() };
    }
    case 'websocket': {
      const connections = await deps.connections.listByUser(n.tenantId, n.recipientId);
      // Not connected is not a failure: the inbox holds the notification.
      if (connections.length === 0) return { status: 'skipped', at: at(), detail: 'not connected' };
      await intend();
      let posted = 0;
      const failures: unknown[] = [];
      for (const connection of connections) {
        let result: 'posted' | 'gone';
        try {
          result = await deps.sockets.post(connection.connectionId, toSocketMessage(n));
        } catch (error) {
          failures.push(error);
          continue;
        }
        if (result === 'posted') posted++;
        // A stale connection also expires by TTL: failing to forget it must not fail the channel.
        else await deps.connections.remove(connection.connectionId).catch(() => undefined);
      }
      // Some socket got it: the channel is sent (retrying would repeat it there); else the first error decides.
      if (posted === 0 && failures.length > 0) throw failures[0];
      const failed = failures.length > 0 ? `, ${failures.length} failed (${describeError(failures[0])})` : '';
      return posted > 0
        ? { status: 'sent', at: at(), detail: `${posted} connection(s)${failed}` }
        : { status: 'skipped', at: at(), detail: 'not connected' };
    }
    case 'email': {
      const recipient = await loadRecipient();
      if (!recipient.email) return { status: 'skipped', at: at(), detail: 'no email address' };
      await intend();
      await deps.mailer.send({ to: recipient.email, subject: n.title, text: n.message });
      return { status: 'sent', at: at() };
    }
  }
}

/** Tells the recipient's connections their new unread count; the item is stored, so a failure only logs. */
async function tellUnreadCount(deps: DeliveryDeps, n: Notification, log: ReturnType<typeof notificationLogger>): Promise<void> {
  try {
    const unread = await deps.inbox.unreadCount(n.tenantId, n.recipientId);
    await notifyInboxChanged(deps, n.tenantId, n.recipientId, unread);
  } catch (error) {
    log.warn('Could not tell the recipient their unread count', { error: describeError(error) });
  }
}

async function retryOrFail(
  deps: DeliveryDeps,
  claim: Claim,
  error: string,
  log: ReturnType<typeof notificationLogger>,
): Promise<DeliveryOutcome> {
  const attempts = claim.notification.attempts;
  const delay = retryDelaySeconds(deps.settings.retry, attempts);
  if (delay === undefined) {
    // The last attempt failed too: the notification fails with the reason, the message is dead-lettered.
    const reason = `Gave up after ${attempts} attempts: ${error}`;
    const outcome = await finish(deps, claim, reason, log);
    return outcome.kind === 'done' && outcome.status === 'failed' ? { ...outcome, deadLetter: { reason, attempts } } : outcome;
  }
  const nextAttemptAt = new Date(deps.clock.now().getTime() + delay * 1000);
  await persistOutcome(() => deps.notifications.release(claim, error, nextAttemptAt), persistOptions(deps));
  log.info('Delivery will be retried', { retryInSeconds: delay, attempt: attempts, nextAttemptAt: nextAttemptAt.toISOString() });
  return { kind: 'later', seconds: delay, reason: error };
}

async function finish(
  deps: DeliveryDeps,
  claim: Claim,
  failure: string | undefined,
  log: ReturnType<typeof notificationLogger>,
): Promise<DeliveryOutcome> {
  const now = deps.clock.now();
  const expiresAt = new Date(now.getTime() + deps.settings.sentRetentionDays * 24 * 60 * 60 * 1000);
  if (failure === undefined) {
    await persistOutcome(() => deps.notifications.markSent(claim, now, expiresAt), persistOptions(deps));
    log.info('Delivered');
    return { kind: 'done', status: 'sent' };
  }
  await persistOutcome(() => deps.notifications.markFailed(claim, failure, now, expiresAt), persistOptions(deps));
  log.error('Delivery failed', { error: failure });
  return { kind: 'done', status: 'failed' };
}
