/**
 * The Telegram bot (its token read from Secrets Manager) and the webhook sender with the tenants'
 * signing secrets: the providers of the `telegram` and `webhook` channels, and of the codes that
 * confirm a chat or a URL a user set for themself.
 */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { once, telegramConfig, webhookTargetsConfig } from '../../config.ts';
import { verificationTelegramText, verificationWebhookData } from '../../domain/contact-verification.ts';
import { webhookHeaders, webhookMessageId } from '../../domain/standard-webhooks.ts';
import type { WebhookSecretDeps } from '../../use-cases/webhook-secrets.ts';
import { currentSigningSecrets } from '../../use-cases/webhook-secrets.ts';
import { DynamoWebhookSecretStore } from '../dynamo-webhook-secrets.ts';
import { sdkClientOptions } from '../sdk-clients.ts';
import { withoutSdkLogger } from '../sdk-logger.ts';
import { cachedSecret } from '../secrets-manager-secret.ts';
import { telegramBotApi } from '../telegram-bot-api.ts';
import type { TelegramBot } from '../telegram-bot-api.ts';
import { httpWebhookSender } from '../webhook-sender.ts';
import type { WebhookSender } from '../webhook-sender.ts';
import { systemClock } from './clock.ts';
import { documentClient, tables } from './dynamodb.ts';

const secretsManager = /* @__PURE__ */ once(() => withoutSdkLogger(new SecretsManagerClient(sdkClientOptions())));

/** Herald's bot, its token cached for 5 minutes (and read again at once after a 401). */
export const telegramBot = /* @__PURE__ */ once((): TelegramBot => {
  const { tokenSecretId, apiUrl } = telegramConfig();
  const token = cachedSecret(secretsManager, tokenSecretId);
  return telegramBotApi({ apiUrl, token: () => token.value(), forgetToken: () => token.forget() });
});

/** Posts webhooks, guarded as the deployment says (HERALD_WEBHOOK_TARGETS). */
export const webhookSender = /* @__PURE__ */ once((): WebhookSender => httpWebhookSender(webhookTargetsConfig()));

/** The tenants' webhook secrets, in the recipients table. */
export const webhookSecretDeps = /* @__PURE__ */ once((): WebhookSecretDeps => ({ secrets: new DynamoWebhookSecretStore(documentClient(), tables().recipients), clock: systemClock }));

/**
 * The signing secrets of a tenant, read at each send (one consistent read of a small item): a
 * receiver that switched to a rotated secret verifies the very next webhook.
 */
export const signingSecrets = /* @__PURE__ */ once(() => (tenantId: string): Promise<readonly string[]> => currentSigningSecrets(webhookSecretDeps(), tenantId));

/** Sends a verification code by the bot to a Telegram chat. */
export async function sendTelegramCode(chatId: string, code: string): Promise<void> {
  await telegramBot().sendMessage(chatId, verificationTelegramText(code));
}

/** Sends a verification code in a signed webhook (`type: verification`) to a URL. */
export async function sendWebhookCode(tenantId: string, recipientId: string, url: string, code: string): Promise<void> {
  const body = JSON.stringify({ type: 'verification', timestamp: new Date().toISOString(), data: { recipientId, ...verificationWebhookData(code) } });
  const id = webhookMessageId(tenantId, `verification:${code}`, recipientId);
  await webhookSender().post(url, webhookHeaders(await signingSecrets()(tenantId), id, Math.floor(Date.now() / 1000), body), body);
}
