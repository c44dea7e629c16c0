/**
 * Push notifications: Web Push (RFC 8030, encrypted per RFC 8291, signed per RFC 8292) straight to
 * each browser subscription's push service, and mobile push through each device's SNS platform
 * endpoint. A target its service calls gone (a push service's 404 or 410, SNS's
 * `EndpointDisabled`) is removed from the user's targets and never tried again. Like the WebSocket
 * channel, the notification is sent once any target took it: repeating it would duplicate it there.
 */
import { classifyProviderError, decisiveFailure, describeError } from '../../domain/delivery-errors.ts';
import { clientNotification } from '../../domain/delivery.ts';
import type { DeliveryContent } from '../../domain/delivery.ts';
import type { PushDevice, WebPushSubscription } from '../../domain/push-targets.ts';
import { cutText } from '../../domain/text-cut.ts';
import type { MobilePush } from '../../ports.ts';
import { sectionFor } from '../../templates/section.ts';
import type { DeliveryChannel } from '../channel.ts';

/** Sends one encrypted Web Push message; rejects with the push service's status (`$metadata.httpStatusCode`). */
export interface WebPushSender {
  send(subscription: WebPushSubscription, payload: string, options: { readonly urgency: 'normal' | 'high' }): Promise<{ readonly messageId?: string }>;
}

/** Forgets targets that are gone, on the user's record. */
export interface PushTargetCleaner {
  forget(tenantId: string, recipientId: string, gone: { readonly subscriptionIds: readonly string[]; readonly deviceIds: readonly string[] }): Promise<void>;
}

/** Where one recipient gets pushes. */
export interface PushTargets {
  readonly subscriptions: readonly WebPushSubscription[];
  readonly devices: readonly PushDevice[];
}

/** What the push channel sends: the Web Push payload (JSON text) and the mobile message. */
export interface PushBody {
  readonly webPayload: string;
  readonly mobile: { readonly title: string; readonly body: string; readonly data: Readonly<Record<string, unknown>> };
  readonly urgency: 'normal' | 'high';
}

/**
 * The largest Web Push plaintext: a push service must accept 4,096 bytes of payload (RFC 8030,
 * 7.2), and aes128gcm takes 86 bytes of header, a 16-byte tag and a 1-byte delimiter of that.
 */
export const maxWebPushPlaintextBytes = 4096 - 86 - 16 - 1;

/** The Web Push payload: the WebSocket frame's notification; without `data`, and the message cut, when it would not fit. */
export function webPushPayload(content: DeliveryContent): string {
  const notification = clientNotification(content);
  const full = JSON.stringify({ type: 'notification', notification });
  if (Buffer.byteLength(full) <= maxWebPushPlaintextBytes) return full;
  // The client fetches the whole notification by its id; the push carries what fits.
  let message = content.message;
  for (;;) {
    const cut = JSON.stringify({ type: 'notification', truncated: true, notification: { ...notification, message, data: {} } });
    if (Buffer.byteLength(cut) <= maxWebPushPlaintextBytes) return cut;
    // Cut between characters: a lone half of a surrogate pair would reach the device as U+FFFD.
    message = cutText(message, { maxCodePoints: Math.max(1, Math.floor([...message].length * 0.8)) });
  }
}

/** True when a target's service says it no longer exists. */
export function isGoneTarget(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { name, $metadata } = error as { name?: unknown; $metadata?: { httpStatusCode?: unknown } };
  // SNS: the device's endpoint was disabled (FCM/APNs said the token is invalid) or deleted.
  if (name === 'EndpointDisabledException' || name === 'NotFoundException') return true;
  // A Web Push service answers 404 (no such subscription) or 410 (it expired or was unsubscribed).
  return name === 'WebPushError' && ($metadata?.httpStatusCode === 404 || $metadata?.httpStatusCode === 410);
}

/** Raised when every target was gone: nothing is left to deliver to. */
class AllTargetsGoneError extends Error {
  readonly $metadata = { httpStatusCode: 410 };

  constructor(detail: string) {
    super(`every push target is gone (${detail})`);
    this.name = 'PushTargetsGone';
  }
}

/** The push channel: Web Push through `web`, mobile through `mobile`; gone targets are forgotten through `cleaner`. */
export function pushChannel(web: WebPushSender, mobile: MobilePush, cleaner: PushTargetCleaner): DeliveryChannel<PushTargets, PushBody> {
  return {
    name: 'push',
    kind: 'send',
    // Its targets are on the live state, which every delivery reads.
    needs: [],
    target: ({ live }) => {
      const subscriptions = live.pushSubscriptions ?? [];
      const devices = live.devices ?? [];
      return subscriptions.length + devices.length > 0 ? { subscriptions, devices } : { skip: 'no push subscription or device' };
    },
    render(content) {
      // A template's push section (title, body, url) when it has one; the inbox's words otherwise.
      const chosen = sectionFor(content, 'push');
      const words =
        chosen.kind === 'section'
          ? { title: chosen.section.title, message: chosen.section.body, ...(chosen.section.url !== undefined ? { url: chosen.section.url } : {}) }
          : { title: chosen.title, message: chosen.message };
      const data = { notificationId: content.id, type: content.type, ...content.data, ...('url' in words ? { url: words.url } : {}) };
      return {
        webPayload: webPushPayload({ ...content, title: words.title, message: words.message, data: { ...content.data, ...('url' in words ? { url: words.url } : {}) } }),
        mobile: { title: words.title, body: words.message, data },
        urgency: content.priority === 'high' || content.priority === 'urgent' ? 'high' : 'normal',
      };
    },
    async send(targets, body, context) {
      const ids: string[] = [];
      const goneSubscriptions: string[] = [];
      const goneDevices: PushDevice[] = [];
      const failures: unknown[] = [];
      const attempt = async (work: () => Promise<{ messageId?: string }>, onGone: () => void): Promise<void> => {
        try {
          const { messageId } = await work();
          ids.push(messageId ?? '');
        } catch (error) {
          if (isGoneTarget(error)) onGone();
          else failures.push(error);
        }
      };
      await Promise.all([
        ...targets.subscriptions.map((s) => attempt(() => web.send(s, body.webPayload, { urgency: body.urgency }), () => goneSubscriptions.push(s.id))),
        ...targets.devices.map((d) => attempt(() => mobile.publish(d.endpointArn, body.mobile), () => goneDevices.push(d))),
      ]);
      const goneCount = goneSubscriptions.length + goneDevices.length;
      if (goneCount > 0) {
        // A gone target left on the record is found gone again next time: failing to forget it fails nothing.
        await cleaner
          .forget(context.tenantId, context.recipient.id, { subscriptionIds: goneSubscriptions, deviceIds: goneDevices.map((d) => d.id) })
          .catch(() => undefined);
        await Promise.all(goneDevices.map((d) => mobile.unregister(d.endpointArn).catch(() => undefined)));
      }
      if (ids.length === 0 && failures.length > 0) throw decisiveFailure(failures);
      if (ids.length === 0) throw new AllTargetsGoneError(`${goneCount} removed`);
      const extra = [goneCount > 0 ? `${goneCount} gone and removed` : '', failures.length > 0 ? `${failures.length} failed (${describeError(failures[0])})` : '']
        .filter(Boolean)
        .join(', ');
      const messageIds = ids.filter(Boolean);
      return {
        detail: `${ids.length} target(s)${extra ? `, ${extra}` : ''}`,
        ...(messageIds.length > 0 ? { providerMessageId: messageIds.join(',') } : {}),
      };
    },
    classify: (error) => classifyProviderError(error),
  };
}
