/** `GET/PUT /v1/settings`: the tenant's default zone and quiet hours (issue 12). */
import { tenantSettingsStore } from '../../../shared/adapters/dependencies/directory.ts';
import { systemClock } from '../../../shared/adapters/dependencies/clock.ts';
import { once } from '../../../shared/config.ts';
import { tenantSettingsBodySchema } from '../../../shared/domain/schemas.ts';
import { toTenantSettingsView } from '../../../shared/domain/tenant-settings.ts';
import { callerFrom, json, parseBody } from '../../../shared/http/request.ts';
import type { HttpEvent, HttpResult } from '../../../shared/http/request.ts';
import { getTenantSettings, putTenantSettings } from '../../../shared/use-cases/tenant-settings.ts';
import type { TenantSettingsDeps } from '../../../shared/use-cases/tenant-settings.ts';

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
