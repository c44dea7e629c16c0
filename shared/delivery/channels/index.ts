/** Every channel Herald delivers on, built over the providers it is given. */
import type { TelegramBot } from '../../adapters/telegram-bot-api.ts';
import type { WebhookSender } from '../../adapters/webhook-sender.ts';
import { classifyProviderError } from '../../domain/delivery-errors.ts';
import type { Channel } from '../../domain/notification.ts';
import type { LiveStateStore, Mailer, MobilePush, SmsSender, SocketPoster } from '../../ports.ts';
import type { ChannelRegistry, DeliveryChannel } from '../channel.ts';
import { emailChannel } from './email.ts';
import { inboxChannel } from './inbox.ts';
import { pushChannel } from './push.ts';
import type { ChannelDirectory } from './recipient-update.ts';
import type { PushTargetCleaner, WebPushSender } from './push.ts';
import { smsChannel } from './sms.ts';
import { telegramChannel } from './telegram.ts';
import { webhookChannel } from './webhook.ts';
import type { SigningSecrets } from './webhook.ts';
import { websocketChannel } from './websocket.ts';

/** The providers the channels deliver through; a channel whose provider is absent skips every recipient. */
export interface ChannelProviders {
  readonly mailer: Mailer;
  readonly sockets: SocketPoster;
  readonly live: Pick<LiveStateStore, 'forgetConnections'>;
  readonly sms?: SmsSender;
  readonly push?: { readonly web: WebPushSender; readonly mobile: MobilePush; readonly cleaner: PushTargetCleaner };
  readonly telegram?: TelegramBot;
  readonly webhooks?: { readonly sender: WebhookSender; readonly secrets: SigningSecrets };
  /**
   * Where the channels change the recipient after a provider's answer: a Telegram chat that moved
   * (a group upgraded to a supergroup) is followed, a webhook URL that is gone (410) forgotten.
   */
  readonly directory?: ChannelDirectory;
}

/** A channel with no provider given: nothing is sent, each recipient is skipped saying so. */
function unequipped(name: Channel): DeliveryChannel {
  return {
    name,
    kind: 'send',
    needs: [],
    target: () => ({ skip: `no ${name} provider configured` }),
    render: () => undefined,
    send: () => Promise.reject(new Error(`no ${name} provider configured`)),
    classify: classifyProviderError,
  };
}

/** The registry of channels, by name. */
export function createChannels(providers: ChannelProviders): ChannelRegistry {
  const { telegram, webhooks } = providers;
  return {
    inbox: inboxChannel(),
    websocket: websocketChannel(providers.sockets, providers.live),
    email: emailChannel(providers.mailer),
    push: providers.push ? pushChannel(providers.push.web, providers.push.mobile, providers.push.cleaner) : unequipped('push'),
    sms: providers.sms ? smsChannel(providers.sms) : unequipped('sms'),
    telegram: telegram ? telegramChannel(telegram, providers.directory) : unequipped('telegram'),
    webhook: webhooks ? webhookChannel(webhooks.sender, webhooks.secrets, providers.directory) : unequipped('webhook'),
  };
}
