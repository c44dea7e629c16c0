/**
 * The delivery engine (shared/delivery) and what it runs on: the delivery store, the channels
 * over their providers (SES, the WebSocket connections), and the providers' send budgets.
 */
import { loadBeforeSending } from '../../domain/delivery-errors.ts';
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
import { templateStore } from './templates.ts';
import { recipientStore } from './directory.ts';

// The providers of the channels few recipients have (SMS, push, Telegram, webhooks), imported on
// their first send: in the bundle each is a chunk of its own (the SNS and Secrets Manager clients,
// web-push's encryption and jose, the webhook guard's address ranges), which a cold start does
// not load. The mailer and the WebSocket poster are loaded with the function: the send budgets
// read SES's quota before the first claim, and every delivery posts its inbox frames. A module that
// fails to load fails the send as never made, to be tried again (loadBeforeSending).
const messaging = loadBeforeSending(() => import('./messaging.ts'));
const webPush = loadBeforeSending(() => import('./web-push.ts'));
const telegramAndWebhooks = loadBeforeSending(() => import('./telegram-webhooks.ts'));

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
      // Made on first send: their configuration is read only when a recipient has such an address.
      sms: { send: async (...args) => (await messaging()).smsSender().send(...args) },
      push: {
        web: { send: async (...args) => (await webPush()).webPushSender().send(...args) },
        mobile: {
          publish: async (...args) => (await messaging()).mobilePush().publish(...args),
          unregister: async (...args) => (await messaging()).mobilePush().unregister(...args),
        },
        cleaner: { forget: async (...args) => (await messaging()).pushTargetCleaner().forget(...args) },
      },
      telegram: { sendMessage: async (chatId, text) => (await telegramAndWebhooks()).telegramBot().sendMessage(chatId, text) },
      webhooks: {
        sender: { post: async (url, headers, body) => (await telegramAndWebhooks()).webhookSender().post(url, headers, body) },
        secrets: async (tenantId) => (await telegramAndWebhooks()).signingSecrets()(tenantId),
      },
      directory: { get: (...args) => recipientStore().get(...args), save: (...args) => recipientStore().save(...args) },
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
