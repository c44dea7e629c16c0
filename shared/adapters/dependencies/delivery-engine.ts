/**
 * The delivery engine (shared/delivery) and what it runs on: the delivery store, the channels
 * over their providers (SES, the WebSocket connections), and the providers' send budgets.
 */
import { PowertoolsDeliveryMetrics } from '../powertools-delivery-metrics.ts';
import { GetSendQuotaCommand } from '@aws-sdk/client-ses';
import { createChannels } from '../../delivery/channels/index.ts';
import type { ChannelRegistry } from '../../delivery/channel.ts';
import type { EngineDeps } from '../../delivery/engine.ts';
import type { RateBudgets } from '../../domain/rate-budget.ts';
import { logger } from '../../observability/logger.ts';
import { broadcastConfig, deliveryConfig, engineConfig, once, retryPolicyConfig, sendBudgetsConfig } from '../../config.ts';
import { DynamoDeliveryStore } from '../dynamo-delivery-store.ts';
import { SendBudgets } from '../dynamo-send-budgets.ts';
import { broadcastStore } from './broadcasts.ts';
import { systemClock } from './clock.ts';
import { socketPoster } from './connections.ts';
import { documentClient, tables } from './dynamodb.ts';
import { liveStateStore } from './inbox.ts';
import { mailer, sesClient } from './mail.ts';
import { mobilePush, pushTargetCleaner, smsSender } from './messaging.ts';
import { webPushSender } from './web-push.ts';
import { templateStore } from './templates.ts';
import { recipientStore } from './directory.ts';
import { signingSecrets, telegramBot, webhookSender } from './telegram-webhooks.ts';


/**
 * The providers' send-rate budgets: configured ones, and for SES without one, the account's own
 * maximum send rate (`GetSendQuota`), asked once per cold start. If SES cannot tell, there is no
 * budget: SES's own throttling answers are then the only brake (they never fail a delivery).
 */
async function resolveBudgets(): Promise<RateBudgets> {
  const configured = sendBudgetsConfig();
  // SMS has no quota SNS answers for: its budget is configuration only (herald:smsPerSecond).
  const sms = configured['sns-sms']?.perSecond !== undefined ? { 'sns-sms': { perSecond: configured['sns-sms'].perSecond, ...tenantShare(configured['sns-sms']) } } : {};
  if (configured.ses?.perSecond !== undefined) {
    return { ses: { perSecond: configured.ses.perSecond, ...tenantShare(configured.ses) }, ...sms };
  }
  try {
    // Asked once, at a cold start: it must not hold the first delivery up for long.
    const quota = await sesClient().send(new GetSendQuotaCommand({}), { abortSignal: AbortSignal.timeout(3_000) });
    const perSecond = quota.MaxSendRate;
    if (perSecond === undefined || perSecond <= 0) return sms;
    return { ses: { perSecond, ...tenantShare(configured.ses) }, ...sms };
  } catch (error) {
    logger.warn('Could not read the SES send quota; e-mail has no send budget but SES throttling', { error: error as Error });
    return sms;
  }
}

function tenantShare(budget: { readonly tenantPerSecond?: number } | undefined): { tenantPerSecond?: number } {
  return budget?.tenantPerSecond !== undefined ? { tenantPerSecond: budget.tenantPerSecond } : {};
}

let budgets: RateBudgets | undefined;
let resolving: Promise<RateBudgets> | undefined;
/**
 * Reads the budgets before the first delivery (the engine's claims read them synchronously). The
 * invocations a cold sandbox runs side by side share the one read.
 */
export async function loadSendBudgets(): Promise<void> {
  budgets ??= await (resolving ??= resolveBudgets());
}

const deliveryStore = /* @__PURE__ */ once(
  () =>
    new DynamoDeliveryStore(documentClient(), tables, {
      sentRetentionDays: deliveryConfig().sentRetentionDays,
      rowRetentionDays: broadcastConfig().retentionDays,
      budgets: new SendBudgets(() => budgets ?? {}),
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
