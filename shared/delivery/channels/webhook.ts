/**
 * Webhooks: a signed POST of the notification's JSON to the recipient's URL, per Standard Webhooks
 * (shared/domain/standard-webhooks.ts), signed with the tenant's secret. A 410 means the receiver
 * is gone: its URL is removed from the recipient, so it is never tried again.
 */
import type { ProviderVerdict } from '../../domain/delivery-errors.ts';
import { neverLeft } from '../../domain/delivery-errors.ts';
import type { DeliveryContent } from '../../domain/delivery.ts';
import { hasVerifiedAddress } from '../../domain/recipient.ts';
import type { Recipient } from '../../domain/recipient.ts';
import { webhookHeaders, webhookMessageId } from '../../domain/standard-webhooks.ts';
import type { WebhookSender } from '../../adapters/webhook-sender.ts';
import { TemplateRenderError } from '../../templates/render-error.ts';
import { sectionFor } from '../../templates/section.ts';
import type { DeliveryChannel } from '../channel.ts';
import { updateRecipientWhile } from './recipient-update.ts';
import type { ChannelDirectory } from './recipient-update.ts';

/**
 * What a webhook carries without a template section: the Standard Webhooks payload shape
 * `{ type, timestamp, data }`.
 */
export interface WebhookPayload {
  readonly type: 'notification';
  /** ISO-8601 UTC, when it was rendered. */
  readonly timestamp: string;
  readonly data: Omit<DeliveryContent, 'broadcastId'> & { readonly broadcastId: string | null };
}

/** A template's `webhook` section, rendered: the JSON the receiver gets, as the template wrote it. */
export interface RenderedWebhook {
  readonly type: 'rendered';
  readonly notificationId: string;
  /** JSON text, posted as is. */
  readonly body: string;
}

/** What the webhook channel posts: its own envelope, or the template's body. */
export type WebhookBody = WebhookPayload | RenderedWebhook;

/** The template's webhook body, checked to be JSON (a receiver is told `application/json`). */
function renderedWebhook(content: DeliveryContent, body: string): RenderedWebhook {
  try {
    JSON.parse(body);
  } catch {
    throw new TemplateRenderError(`the webhook section of template ${content.rendered?.templateId ?? ''} did not render to JSON`);
  }
  return { type: 'rendered', notificationId: content.id, body };
}

/** The tenant's signing secrets, current first (shared/use-cases/webhook-secrets.ts). */
export type SigningSecrets = (tenantId: string) => Promise<readonly string[]>;

/**
 * What a receiver's answer means: 2xx sent (never thrown); 410 gone; 408, 429 and 5xx, timeouts
 * and broken connections transient (a webhook may come twice: its `webhook-id` lets the receiver
 * drop the repeat); a refused target, any other 4xx or a redirect (never followed) permanent.
 */
export function classifyWebhookError(error: unknown): ProviderVerdict {
  const { name, $metadata } = (error ?? {}) as { name?: unknown; $metadata?: { httpStatusCode?: unknown } };
  if (name === 'WebhookTargetRefusedError') return { kind: 'permanent' };
  const status = $metadata?.httpStatusCode;
  if (typeof status !== 'number') return neverLeft(error) || name === 'WebhookTimeoutError' || error instanceof Error ? { kind: 'transient' } : { kind: 'unknown' };
  if (status === 410) return { kind: 'gone' };
  if (status === 408 || status === 429 || status >= 500) return { kind: 'transient' };
  return { kind: 'permanent' };
}

/** The webhook channel: posts through `sender`, signs with `secrets`, forgets a gone URL (410) in `directory`. */
export function webhookChannel(sender: WebhookSender, secrets: SigningSecrets, directory?: ChannelDirectory): DeliveryChannel<string, WebhookBody> {
  return {
    name: 'webhook',
    kind: 'send',
    // Receivers drop a repeat by its webhook-id (Standard Webhooks: delivery is at least once).
    repeatsSafely: true,
    needs: ['webhookUrl', 'pendingVerifications'],
    target: ({ recipient }) => {
      if (recipient.webhookUrl === undefined) return { skip: 'no webhook URL' };
      return hasVerifiedAddress(recipient, 'webhook') ? recipient.webhookUrl : { skip: 'webhook URL not verified' };
    },
    render(content) {
      const chosen = sectionFor(content, 'webhook');
      if (chosen.kind === 'section') return renderedWebhook(content, chosen.section.body);
      // The envelope carries the notification as delivered (the rendered inbox words, without the
      // template's internals).
      const { rendered: _rendered, ...delivered } = content;
      return { type: 'notification', timestamp: new Date().toISOString(), data: { ...delivered, title: chosen.title, message: chosen.message, broadcastId: content.broadcastId ?? null } };
    },
    async send(url, payload, { tenantId, recipient, now }) {
      const body = payload.type === 'rendered' ? payload.body : JSON.stringify({ ...payload, data: { ...payload.data, recipientId: recipient.id } });
      const id = webhookMessageId(tenantId, payload.type === 'rendered' ? payload.notificationId : payload.data.id, recipient.id);
      const headers = webhookHeaders(await secrets(tenantId), id, Math.floor(now.getTime() / 1000), body);
      try {
        const status = await sender.post(url, headers, body);
        return { detail: `answered ${status}` };
      } catch (error) {
        if (directory && classifyWebhookError(error).kind === 'gone') {
          await updateRecipientWhile(directory, tenantId, recipient.id, { stillHolds: (current) => current.webhookUrl === url, change: withoutWebhook, what: 'forget a webhook URL that is gone' });
        }
        throw error;
      }
    },
    classify: classifyWebhookError,
  };
}

/** The recipient without its webhook URL, nor the URL's pending verification. */
function withoutWebhook(recipient: Recipient): Recipient {
  const { webhookUrl: _gone, pendingVerifications, ...rest } = recipient;
  const { webhook: _pending, ...stillPending } = pendingVerifications ?? {};
  return Object.keys(stillPending).length === 0 ? rest : { ...rest, pendingVerifications: stillPending };
}
