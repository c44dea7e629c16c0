import { describe, expect, it } from 'vitest';
import { ForbiddenError } from '../../../../shared/errors.ts';
import type { TenantSettings } from '../../../../shared/domain/tenant-settings.ts';
import type { TenantSettingsStore } from '../../../../shared/ports.ts';
import { getTenantSettings, putTenantSettings } from '../../../../shared/use-cases/tenant-settings.ts';
import { FakeClock } from '../../fakes/index.ts';
import { admin, sender, tenantId } from '../../fakes/fixtures.ts';

/** The tenant settings port in memory. */
class InMemoryTenantSettings implements TenantSettingsStore {
  readonly stored = new Map<string, TenantSettings>();
  async get(id: string): Promise<TenantSettings> {
    return this.stored.get(id) ?? {};
  }
  async put(id: string, settings: TenantSettings): Promise<void> {
    this.stored.set(id, settings);
  }
}

function setUp(): { settings: InMemoryTenantSettings; deps: { settings: InMemoryTenantSettings; clock: FakeClock } } {
  const settings = new InMemoryTenantSettings();
  return { settings, deps: { settings, clock: new FakeClock('2030-01-01T12:00:00.000Z') } };
}

describe('tenant settings', () => {
  it('sets what the body gives, keeps what it leaves out, clears what is null', async () => {
    // Prepare
    const { deps, settings } = setUp();
    await putTenantSettings(deps, admin, { defaultTimezone: 'Europe/Paris', quietHours: { start: '22:00', end: '08:00' } });

    // Act
    const kept = await putTenantSettings(deps, admin, { quietHours: { start: '21:00', end: '07:30' } });
    const cleared = await putTenantSettings(deps, admin, { quietHours: null });

    // Assess
    expect(kept).toEqual({ defaultTimezone: 'Europe/Paris', quietHours: { start: '21:00', end: '07:30' }, updatedAt: '2030-01-01T12:00:00.000Z' });
    expect(cleared).toEqual({ defaultTimezone: 'Europe/Paris', updatedAt: '2030-01-01T12:00:00.000Z' });
    expect(await getTenantSettings(deps, admin)).toEqual(settings.stored.get(tenantId));
  });

  it('refuses anyone but an admin, reading or writing, and writes nothing', async () => {
    // Prepare
    const { deps, settings } = setUp();

    // Act / Assess
    await expect(getTenantSettings(deps, sender)).rejects.toBeInstanceOf(ForbiddenError);
    await expect(putTenantSettings(deps, sender, { defaultTimezone: 'UTC' })).rejects.toBeInstanceOf(ForbiddenError);
    expect(settings.stored.size).toBe(0);
  });
});
