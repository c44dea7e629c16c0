/**
 * Delivering one notification on its channels. At-least-once at the transport, exactly-once per
 * (notification, channel) in effect: the claim is a conditional write with a lease, each channel
 * records its outcome, and a channel already recorded is never repeated.
 */
import { describeError, isPermanentDeliveryError } from '../domain/delivery-errors.ts';
import { isTerminal, toSocketMessage } from '../domain/notification.ts';
import type { Channel, ChannelDelivery, Notification } from '../domain/notification.ts';
import type { Recipient } from '../domain/recipient.ts';
import { retryDelaySeconds } from '../domain/retry-policy.ts';
import type { RetryPolicy } from '../domain/retry-policy.ts';
import type { DeliveryMessage } from '../domain/schemas.ts';
import { notificationLogger } from '../observability/logger.ts';
import { ClaimLostError } from '../ports.ts';
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
}

/** What became of a delivery message: done with (delete it), or to be seen again later. */
export type DeliveryOutcome =
  | { readonly kind: 'done'; readonly status: Notification['status'] | 'missing' }
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
  const dueInMs = Date.parse(notification.scheduledAt) - now.getTime();
  if (notification.status === 'pending' && dueInMs > 0) {
    // A schedule fires ahead of time on purpose; hold the message until the exact second.
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
  for (const channel of n.channels) {
    // A channel that already has an outcome is never repeated when another one is retried.
    if (deliveries[channel]) continue;
    let outcome: ChannelDelivery;
    try {
      outcome = await deliverOn(deps, channel, n, loadRecipient);
    } catch (error) {
      if (error instanceof PermanentRecipientError) return finish(deps, claim, error.message, log);
      if (!isPermanentDeliveryError(error)) {
        log.warn('Channel delivery failed; will retry', { channel, error: describeError(error) });
        transientErrors.push(`${channel}: ${describeError(error)}`);
        continue;
      }
      outcome = { status: 'failed', at: deps.clock.now().toISOString(), detail: describeError(error) };
      log.error('Channel delivery failed for good', { channel, error: outcome.detail });
    }
    await deps.notifications.recordDelivery(claim, channel, outcome);
    deliveries[channel] = outcome;
  }

  if (transientErrors.length > 0) return retryOrFail(deps, claim, transientErrors.join('; '), log);
  const delivered = n.channels.some((channel) => deliveries[channel]?.status !== 'failed');
  log.info('Channel outcomes', { deliveries });
  return finish(deps, claim, delivered ? undefined : 'Every channel failed', log);
}

async function deliverOn(
  deps: DeliveryDeps,
  channel: Channel,
  n: Notification,
  loadRecipient: () => Promise<Recipient>,
): Promise<ChannelDelivery> {
  const at = (): string => deps.clock.now().toISOString();
  switch (channel) {
    case 'inbox': {
      await deps.inbox.add({
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
      return { status: 'sent', at: at() };
    }
    case 'websocket': {
      const connections = await deps.connections.listByUser(n.tenantId, n.recipientId);
      let posted = 0;
      for (const connection of connections) {
        const result = await deps.sockets.post(connection.connectionId, toSocketMessage(n));
        if (result === 'gone') await deps.connections.remove(connection.connectionId);
        else posted++;
      }
      // Not connected is not a failure: the inbox holds the notification.
      return posted > 0
        ? { status: 'sent', at: at(), detail: `${posted} connection(s)` }
        : { status: 'skipped', at: at(), detail: 'not connected' };
    }
    case 'email': {
      const recipient = await loadRecipient();
      if (!recipient.email) return { status: 'skipped', at: at(), detail: 'no email address' };
      await deps.mailer.send({ to: recipient.email, subject: n.title, text: n.message });
      return { status: 'sent', at: at() };
    }
  }
}

async function retryOrFail(
  deps: DeliveryDeps,
  claim: Claim,
  error: string,
  log: ReturnType<typeof notificationLogger>,
): Promise<DeliveryOutcome> {
  const delay = retryDelaySeconds(deps.settings.retry, claim.notification.attempts);
  if (delay === undefined) return finish(deps, claim, `Gave up after ${claim.notification.attempts} attempts: ${error}`, log);
  await deps.notifications.release(claim, error);
  log.info('Delivery will be retried', { retryInSeconds: delay, attempt: claim.notification.attempts });
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
    await deps.notifications.markSent(claim, now, expiresAt);
    log.info('Delivered');
    return { kind: 'done', status: 'sent' };
  }
  await deps.notifications.markFailed(claim, failure, now, expiresAt);
  log.error('Delivery failed', { error: failure });
  return { kind: 'done', status: 'failed' };
}
