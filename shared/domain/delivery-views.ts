/**
 * What each caller is shown of a delivery's errors. A delivery record keeps the provider's own
 * text (SES naming the account's ARN and identities, a webhook receiver's answer, Telegram's,
 * SNS's or a push service's reply): what those who run the tenant need to act on, and what must
 * not reach a plain user reading a notification sent to them. Every record also keeps the
 * error's category (shared/domain/delivery-errors.ts), written with it, so both views come from
 * one record. The API's views (`toNotificationView`, `toBroadcastRecipientView`) show delivery
 * records only through these functions.
 */
import type { Caller } from './caller.ts';
import { canManageTenant, isOperator } from './caller.ts';
import type { DeliveryErrorCategory } from './delivery-errors.ts';
import type { Channel, ChannelDelivery } from './notification.ts';

/**
 * `diagnostic`: the providers' text with its category, for admins and senders (who run the
 * tenant) and operators (who run the deployment). `recipient`: categories only, for anyone else.
 */
export type DeliveryAudience = 'diagnostic' | 'recipient';

/** Which view of delivery errors this caller gets. */
export function deliveryAudienceOf(caller: Caller): DeliveryAudience {
  return canManageTenant(caller) || isOperator(caller) ? 'diagnostic' : 'recipient';
}

/**
 * The category of a channel's error: the one recorded with it; for a record made before
 * categories were, `unclassified` when it failed and `no_answer` when it is unconfirmed (which is
 * what `unconfirmed` means); none for any other outcome.
 */
export function channelErrorCategory(delivery: ChannelDelivery): DeliveryErrorCategory | undefined {
  if (delivery.errorCategory !== undefined) return delivery.errorCategory;
  if (delivery.status === 'failed') return 'unclassified';
  if (delivery.status === 'unconfirmed') return 'no_answer';
  return undefined;
}

/**
 * One channel's record as `audience` sees it. A plain user keeps the `detail` of a `skipped`
 * channel (Herald's own reason: no address, a preference, not connected) and loses every other
 * `detail` (an `unconfirmed` channel's is the provider's error, a `sent` one's may quote a failed
 * target's) and the `error`.
 */
export function channelDeliveryView(delivery: ChannelDelivery, audience: DeliveryAudience): Record<string, unknown> {
  const category = channelErrorCategory(delivery);
  const shown = audience === 'diagnostic' || delivery.status === 'skipped';
  return {
    status: delivery.status,
    at: delivery.at,
    ...(audience === 'diagnostic' && delivery.error !== undefined ? { error: delivery.error } : {}),
    ...(category !== undefined ? { errorCategory: category } : {}),
    ...(shown && delivery.detail !== undefined ? { detail: delivery.detail } : {}),
    ...(delivery.locale !== undefined ? { locale: delivery.locale } : {}),
  };
}

/** Every channel's record as `audience` sees it. */
export function deliveriesView(
  deliveries: Readonly<Partial<Record<Channel, ChannelDelivery>>>,
  audience: DeliveryAudience,
): Partial<Record<Channel, Record<string, unknown>>> {
  return Object.fromEntries(
    (Object.entries(deliveries) as [Channel, ChannelDelivery | undefined][]).flatMap(([channel, delivery]) =>
      delivery ? [[channel, channelDeliveryView(delivery, audience)]] : [],
    ),
  );
}

/** A unit's last error as stored: its text, its category (absent on old items), and its status. */
export interface UnitError {
  readonly status: string;
  readonly lastError?: string;
  readonly lastErrorCategory?: DeliveryErrorCategory;
}

/**
 * A unit's last error as `audience` sees it, under the names its view gives them (`lastError` on a
 * notification, `error` on a broadcast's recipient): the text (diagnostic view only), its category
 * (`unclassified` for an item written before categories were) and whether delivery will try again
 * by itself (a unit still pending or sending after an error: its retry is scheduled).
 */
export function unitErrorView<K extends string>(unit: UnitError, audience: DeliveryAudience, textKey: K): Record<string, unknown> {
  const failed = unit.lastError !== undefined;
  return {
    ...(audience === 'diagnostic' ? { [textKey]: unit.lastError ?? null } : {}),
    [`${textKey}Category`]: failed ? (unit.lastErrorCategory ?? 'unclassified') : null,
    willRetry: failed && (unit.status === 'pending' || unit.status === 'sending'),
  };
}
