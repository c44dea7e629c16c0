/**
 * The delivery engine (shared/delivery) and what it runs on: the delivery store, the channels
 * over their providers (SES, the WebSocket connections), and the providers' send budgets.
 */
import { PowertoolsDeliveryMetrics } from '../powertools-delivery-metrics.ts';
import { createChannels } from '../../delivery/channels/index.ts';
import type { ChannelRegistry } from '../../delivery/channel.ts';
import type { EngineDeps } from '../../delivery/engine.ts';
import { broadcastConfig, deliveryConfig, engineConfig, once, retryPolicyConfig } from '../../config.ts';
import { DynamoDeliveryStore } from '../dynamo-delivery-store.ts';
import { broadcastStore } from './broadcasts.ts';
import { systemClock } from './clock.ts';
import { socketPoster } from './connections.ts';
import { documentClient, tables } from './dynamodb.ts';
import { liveStateStore } from './inbox.ts';
import { mailer } from './mail.ts';
import { sendBudgets } from './send-budgets.ts';
import { mobilePush, pushTargetCleaner, smsSender } from './messaging.ts';
import { webPushSender } from './web-push.ts';
import { templateStore } from './templates.ts';
import { recipientStore } from './directory.ts';
import { signingSecrets, telegramBot, webhookSender } from './telegram-webhooks.ts';


// The delivering functions load the budgets before their first claim.
export { loadSendBudgets } from './send-budgets.ts';

const deliveryStore = /* @__PURE__ */ once(
  () =>
    new DynamoDeliveryStore(documentClient(), tables, {
      sentRetentionDays: deliveryConfig().sentRetentionDays,
      rowRetentionDays: broadcastConfig().retentionDays,
      budgets: sendBudgets(),
    }),
);
const channels = /* @__PURE__ */ once(
  (): ChannelRegistry =>
    createChannels({
      mailer: mailer(),
      sockets: socketPoster(),
      live: liveStateStore(),
      sms: smsSender(),
      push: { web: webPushSender(), mobile: mobilePush(), cleaner: pushTargetCleaner() },
      // Made on first send: their configuration is read only when a recipient has such an address.
      telegram: { sendMessage: (chatId, text) => telegramBot().sendMessage(chatId, text) },
      webhooks: {
        sender: { post: (url, headers, body) => webhookSender().post(url, headers, body) },
        secrets: (tenantId) => signingSecrets()(tenantId),
        directory: { get: (...args) => recipientStore().get(...args), save: (...args) => recipientStore().save(...args) },
      },
    }),
);

/** Everything the engine runs on. */
export const engineDeps = /* @__PURE__ */ once(
  (): EngineDeps => ({
    store: deliveryStore(),
    channels: channels(),
    live: liveStateStore(),
    sockets: socketPoster(),
    // Made on first use: a function that delivers only notifications is told no broadcasts table.
    broadcasts: {
      addCounts: (...args) => broadcastStore().addCounts(...args),
      finish: (...args) => broadcastStore().finish(...args),
      get: (...args) => broadcastStore().get(...args),
    },
    clock: systemClock,
    // Made on first use: only a templated delivery reads the templates table.
    templates: { get: (...args) => templateStore().get(...args) },
    settings: { leaseSeconds: deliveryConfig().leaseSeconds, retry: retryPolicyConfig(), holdMs: engineConfig().holdMs },
    metrics: new PowertoolsDeliveryMetrics(),
  }),
);
