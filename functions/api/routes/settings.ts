/** Routes of `/v1/settings` (tenant settings, admins only): parse, call the use case, shape the response. */
import { webhookSecretDeps } from '../../../shared/adapters/dependencies/telegram-webhooks.ts';
import { callerFrom, json } from '../../../shared/http/request.ts';
import type { HttpEvent, HttpResult } from '../../../shared/http/request.ts';
import { getWebhookSecret, rotateWebhookSecret, toWebhookSecretView } from '../../../shared/use-cases/webhook-secrets.ts';

/** `GET /v1/settings/webhook-secret` (admins): the secret the tenant's webhooks are signed with. */
export async function getWebhookSecretRoute(event: HttpEvent): Promise<HttpResult> {
  const deps = webhookSecretDeps();
  return json(200, toWebhookSecretView(await getWebhookSecret(deps, callerFrom(event)), deps.clock.now()));
}

/** `POST /v1/settings/webhook-secret/rotate` (admins): a new secret; the old one keeps signing for 24 hours. */
export async function rotateWebhookSecretRoute(event: HttpEvent): Promise<HttpResult> {
  const deps = webhookSecretDeps();
  return json(200, toWebhookSecretView(await rotateWebhookSecret(deps, callerFrom(event)), deps.clock.now()));
}
