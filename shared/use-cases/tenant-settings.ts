/** A tenant's settings of time (`GET/PUT /v1/settings`): admins only. */
import { ForbiddenError } from '../errors.ts';
import { isAdmin } from '../domain/caller.ts';
import type { Caller } from '../domain/caller.ts';
import type { TenantSettingsBody } from '../domain/schemas.ts';
import type { TenantSettings } from '../domain/tenant-settings.ts';
import type { Clock, TenantSettingsStore } from '../ports.ts';

export interface TenantSettingsDeps {
  readonly settings: TenantSettingsStore;
  readonly clock: Clock;
}

function requireAdmin(caller: Caller): void {
  if (!isAdmin(caller)) throw new ForbiddenError("Only admins may read or change the tenant's settings");
}

/** The caller's tenant's settings (admins only; 403 otherwise). */
export async function getTenantSettings(deps: TenantSettingsDeps, caller: Caller): Promise<TenantSettings> {
  requireAdmin(caller);
  return deps.settings.get(caller.tenantId);
}

/**
 * Changes the caller's tenant's settings (admins only): a value sets, `null` clears, absent keeps.
 * Applies to every notification not yet delivered: quiet hours and zones are read at delivery time.
 */
export async function putTenantSettings(deps: TenantSettingsDeps, caller: Caller, body: TenantSettingsBody): Promise<TenantSettings> {
  requireAdmin(caller);
  const current = await deps.settings.get(caller.tenantId);
  const pick = <T>(change: T | null | undefined, kept: T | undefined): T | undefined => (change === undefined ? kept : (change ?? undefined));
  const defaultTimezone = pick(body.defaultTimezone, current.defaultTimezone);
  const quietHours = pick(body.quietHours, current.quietHours);
  const next: TenantSettings = {
    ...(defaultTimezone !== undefined ? { defaultTimezone } : {}),
    ...(quietHours !== undefined ? { quietHours } : {}),
    updatedAt: deps.clock.now().toISOString(),
  };
  await deps.settings.put(caller.tenantId, next);
  return next;
}
