/**
 * Routes of `/v1/settings` (tenant settings, admins only): the default zone and quiet hours
 * (issue 12), and the webhook signing secret. Parse, call the use case, shape the response.
 */
import { systemClock } from '../../../shared/adapters/dependencies/clock.ts';
import { tenantSettingsStore } from '../../../shared/adapters/dependencies/directory.ts';
import { webhookSecretDeps } from '../../../shared/adapters/dependencies/telegram-webhooks.ts';
import { once } from '../../../shared/config.ts';
import { tenantSettingsBodySchema } from '../../../shared/domain/schemas.ts';
import { toTenantSettingsView } from '../../../shared/domain/tenant-settings.ts';
import { callerFrom, json, parseBody } from '../../../shared/http/request.ts';
import type { HttpEvent, HttpResult } from '../../../shared/http/request.ts';
import { getTenantSettings, putTenantSettings } from '../../../shared/use-cases/tenant-settings.ts';
import type { TenantSettingsDeps } from '../../../shared/use-cases/tenant-settings.ts';
import { getWebhookSecret, rotateWebhookSecret, toWebhookSecretView } from '../../../shared/use-cases/webhook-secrets.ts';

const deps = once((): TenantSettingsDeps => ({ settings: tenantSettingsStore(), clock: systemClock }));

/** `GET /v1/settings` (admins) */
export async function getSettingsRoute(event: HttpEvent): Promise<HttpResult> {
  return json(200, toTenantSettingsView(await getTenantSettings(deps(), callerFrom(event))));
}

/** `PUT /v1/settings` (admins): a value sets, `null` clears, absent keeps. */
export async function putSettingsRoute(event: HttpEvent): Promise<HttpResult> {
  const caller = callerFrom(event);
  const body = parseBody(event, tenantSettingsBodySchema);
  return json(200, toTenantSettingsView(await putTenantSettings(deps(), caller, body)));
}

/** `GET /v1/settings/webhook-secret` (admins): the secret the tenant's webhooks are signed with. */
export async function getWebhookSecretRoute(event: HttpEvent): Promise<HttpResult> {
  const secrets = webhookSecretDeps();
  return json(200, toWebhookSecretView(await getWebhookSecret(secrets, callerFrom(event)), secrets.clock.now()));
}

/** `POST /v1/settings/webhook-secret/rotate` (admins): a new secret; the old one keeps signing for 24 hours. */
export async function rotateWebhookSecretRoute(event: HttpEvent): Promise<HttpResult> {
  const secrets = webhookSecretDeps();
  return json(200, toWebhookSecretView(await rotateWebhookSecret(secrets, callerFrom(event)), secrets.clock.now()));
}
