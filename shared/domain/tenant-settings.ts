/**
 * A tenant's settings of time: the zone a recipient without one lives in, and the quiet hours a
 * recipient without their own keeps. Read at delivery time, so a change applies to everything not
 * yet delivered.
 */
import type { Recipient } from './recipient.ts';
import { fallbackTimeZone, normalizeTimeZone } from './time.ts';
import type { QuietHours } from './time.ts';

export interface TenantSettings {
  /** IANA zone; absent: UTC. */
  readonly defaultTimezone?: string;
  /** Absent: no quiet hours for recipients who set none of their own. */
  readonly quietHours?: QuietHours;
  /** ISO-8601 UTC; absent until first written. */
  readonly updatedAt?: string;
}

/** The settings of a tenant that never wrote any. */
export const noTenantSettings: TenantSettings = {};

/** The zone a recipient's wall times are read in: theirs, else the tenant's default, else UTC; spelled as the tz database does. */
export function recipientTimeZone(recipient: Pick<Recipient, 'timezone'> | undefined, settings: TenantSettings): string {
  // A zone stored before zones were checked as IANA names (an offset) is passed over; one stored
  // before they were read in any case (`europe/paris`) is named as the requests now store it.
  for (const zone of [recipient?.timezone, settings.defaultTimezone]) {
    const name = zone === undefined ? undefined : normalizeTimeZone(zone);
    if (name !== undefined) return name;
  }
  return fallbackTimeZone;
}

/** The quiet hours that hold for a recipient: their own, none when they chose none, else the tenant's. */
export function recipientQuietHours(recipient: Pick<Recipient, 'quietHours'> | undefined, settings: TenantSettings): QuietHours | undefined {
  if (recipient?.quietHours === null) return undefined;
  return recipient?.quietHours ?? settings.quietHours;
}

/** The public view of a tenant's settings (`GET /v1/settings`). */
export function toTenantSettingsView(settings: TenantSettings): Record<string, unknown> {
  return {
    defaultTimezone: settings.defaultTimezone ?? null,
    quietHours: settings.quietHours ?? null,
    updatedAt: settings.updatedAt ?? null,
  };
}
