/**
 * A delivery channel: one module per channel behind this one interface, whatever delivers it
 * (SES, API Gateway's `@connections`, Herald's own inbox table). The engine knows nothing of any
 * channel but this: who it can reach and how, what it sends, how to send it, what the provider's
 * errors mean. Adding a channel is one module here plus its entry in lib/app-description.ts.
 */
import type { ProviderVerdict } from '../domain/delivery-errors.ts';
import type { DeliveryContent, LiveState } from '../domain/delivery.ts';
import type { UnreadCount } from '../domain/inbox.ts';
import type { Channel } from '../domain/notification.ts';
import type { Provider } from '../domain/rate-budget.ts';
import type { Recipient } from '../domain/recipient.ts';

/** What a channel knows of the recipient when it decides where to deliver. */
export interface RecipientContext {
  readonly tenantId: string;
  readonly recipient: Recipient;
  readonly live: LiveState;
  readonly now: Date;
  /**
   * Throws `BudgetSecondPassedError` (shared/domain/rate-budget.ts) when the second this send's
   * budget reserved is over. The engine runs it before `send`; a channel whose message goes out
   * only after other provider calls (SMS: the opt-out check, then `Publish`) runs it again just
   * before the call that sends. @default none: nothing to check
   */
  readonly checkBudgetSecond?: () => void;
}

/** Why there is nothing to deliver to on this channel (recorded as `skipped`, not a failure). */
export interface Skip {
  readonly skip: string;
}

/** What a send reports back. */
export interface SendReceipt {
  /** `skipped` when nothing was there to take it after all (every WebSocket connection was gone). @default 'sent' */
  readonly status?: 'sent' | 'skipped';
  /** A note for the outcome: how many connections, the provider's message id. */
  readonly detail?: string;
  /** The provider's id of what it accepted, where it gives one. */
  readonly providerMessageId?: string;
}

/** What a channel is told besides the content: the recipient's new unread count and its version, when the inbox adds an item. */
export interface RenderContext {
  readonly unread?: UnreadCount;
}

/**
 * One channel. `Target` is where it delivers for one recipient (an address, connections), `Body`
 * what it sends there.
 */
export interface DeliveryChannel<Target = unknown, Body = unknown> {
  readonly name: Channel;
  /**
   * `send`: a provider call that cannot be taken back: an intent is recorded in the claim before
   * it, so it is never made twice. `store`: the inbox, written together with the unit's outcome.
   */
  readonly kind: 'send' | 'store';
  /**
   * `true` for a send its receiver recognises when it comes again (a webhook's `webhook-id`, the
   * same on every attempt): an intent left by an attempt that stopped mid-send is then sent again
   * rather than recorded `unconfirmed`, so a crash never silently drops it. @default false: never twice
   */
  readonly repeatsSafely?: boolean;
  /** The provider whose send-rate budget each send spends; none for Herald's own channels. */
  readonly provider?: Provider;
  /** The recipient fields it reads (what the directory must hold for it). */
  readonly needs: readonly (keyof Recipient)[];
  /** Where this recipient gets it, or why they do not. The inbox cannot be switched off; others can. */
  target(context: RecipientContext): Target | Skip;
  /** What goes out, from the content (pure). */
  render(content: DeliveryContent, context: RenderContext): Body;
  /** Sends it; throws the provider's error, which `classify` reads. Never called for a `store` channel. */
  send(target: Target, body: Body, context: RecipientContext): Promise<SendReceipt>;
  /** What an error `send` threw means. */
  classify(error: unknown): ProviderVerdict;
}

/** True for the `skip` answer of `target`. */
export function isSkip(value: unknown): value is Skip {
  return typeof value === 'object' && value !== null && typeof (value as { skip?: unknown }).skip === 'string';
}

export type { Provider };

/** The channels the engine delivers on, by name. */
export type ChannelRegistry = Readonly<Record<Channel, DeliveryChannel>>;
