/**
 * When each recipient of a request is notified, from what the request said: an instant, a wall
 * time in a named zone, or a wall time in each recipient's own zone (`timezone: "recipient"`:
 * theirs, else the tenant's default, else UTC). Wall times resolve by the rules of time.ts (a gap
 * moves forward, an overlap takes the earlier instant), and the result says which were adjusted.
 */
import { ValidationError } from '../errors.ts';
import type { Recipient } from './recipient.ts';
import { recipientTimeZone } from './tenant-settings.ts';
import type { TenantSettings } from './tenant-settings.ts';
import { addUtcYears, isLocalDateTime, resolveLocalTime } from './time.ts';
import type { LocalTimeAdjustment } from './time.ts';

/** `"recipient"`: each recipient's own zone. */
export const recipientZone = 'recipient';

/** What a request said about its time. */
export interface RequestedTime {
  /** An instant with an offset, or a wall time without one; absent: now. */
  readonly scheduledAt?: string | undefined;
  /** An IANA zone or `recipient`; required with a wall time. */
  readonly timezone?: string | undefined;
}

/** One recipient's time: the instant (epoch ms), the zone it is shown in, how it was adjusted. */
export interface RecipientTime {
  readonly epochMs: number;
  readonly timezone?: string;
  readonly adjustment?: LocalTimeAdjustment;
}

/** How far in the past a time may be and still count as "now" (client clock skew). */
export const clockSkewToleranceMs = 5_000;
/** How far ahead a notification or a broadcast may be scheduled, in calendar years. */
export const maxScheduleAheadYears = 2;

/**
 * The latest instant (epoch ms) a notification or a broadcast may be scheduled at, from `now`:
 * {@link maxScheduleAheadYears} calendar years on in UTC (2026-11-30T18:57Z gives
 * 2028-11-30T18:57Z; 29 February gives 28 February, see {@link addUtcYears}).
 */
export function latestScheduleMs(now: Date): number {
  return addUtcYears(now.getTime(), maxScheduleAheadYears);
}

/** Throws ValidationError naming `scheduledAt` when `epochMs` is beyond {@link latestScheduleMs}. */
export function checkScheduleAhead(epochMs: number, now: Date): void {
  if (epochMs <= latestScheduleMs(now)) return;
  const message = `must be at most ${maxScheduleAheadYears} years ahead`;
  throw new ValidationError(`scheduledAt ${message}`, { details: [{ field: 'scheduledAt', message }] });
}

/**
 * The time of each recipient (by id), checked against `now`: not in the past beyond the skew
 * tolerance (a time within it is now), at most two years ahead. Throws ValidationError naming
 * `scheduledAt` (and the recipients it is past for).
 */
export function resolveRecipientTimes(
  requested: RequestedTime,
  recipients: readonly Pick<Recipient, 'id' | 'timezone'>[],
  settings: TenantSettings,
  now: Date,
): Map<string, RecipientTime> {
  const zoneOf = (recipient: Pick<Recipient, 'timezone'>): string | undefined =>
    requested.timezone === recipientZone ? recipientTimeZone(recipient, settings) : requested.timezone;
  const times = new Map<string, RecipientTime>();
  for (const recipient of recipients) {
    const zone = zoneOf(recipient);
    const shown = zone === undefined ? {} : { timezone: zone };
    if (requested.scheduledAt === undefined) {
      times.set(recipient.id, { epochMs: now.getTime(), ...shown });
    } else if (isLocalDateTime(requested.scheduledAt)) {
      // The schema refuses a wall time without a zone, so `zone` is set here.
      const resolved = resolveLocalTime(requested.scheduledAt, zone ?? 'UTC');
      times.set(recipient.id, { ...resolved, ...shown });
    } else {
      times.set(recipient.id, { epochMs: Date.parse(requested.scheduledAt), ...shown });
    }
  }
  const past = [...times].filter(([, time]) => time.epochMs < now.getTime() - clockSkewToleranceMs).map(([id]) => id);
  if (past.length > 0) {
    const whom = requested.timezone === recipientZone ? ` in the zone of ${past.slice(0, 10).join(', ')}${past.length > 10 ? ', ...' : ''}` : '';
    throw new ValidationError('scheduledAt must not be in the past', { details: [{ field: 'scheduledAt', message: `must not be in the past${whom}` }] });
  }
  for (const time of times.values()) checkScheduleAhead(time.epochMs, now);
  // A time within the skew tolerance but already past is "now".
  for (const [id, time] of times) if (time.epochMs < now.getTime()) times.set(id, { ...time, epochMs: now.getTime() });
  return times;
}

/** The zones furthest ahead of and behind UTC (UTC+14, UTC-12): a wall time happens first and last there. */
const earliestZone = 'Etc/GMT-14';
const latestZone = 'Etc/GMT+12';

/**
 * When a broadcast starts: `scheduledAt` as an instant, a wall time in a named zone, or, for
 * `timezone: "recipient"`, the first moment that wall time comes anywhere (UTC+14), so the
 * fan-out runs before anyone's time. The wall time must still be ahead somewhere (UTC-12), else
 * ValidationError naming `scheduledAt`. `localTime` is set for `recipient`.
 */
export function resolveBroadcastTime(requested: RequestedTime, now: Date): { epochMs: number; timezone?: string; localTime?: string; adjustment?: LocalTimeAdjustment } {
  if (requested.timezone === recipientZone && requested.scheduledAt !== undefined && isLocalDateTime(requested.scheduledAt)) {
    const local = requested.scheduledAt;
    const earliest = resolveLocalTime(local, earliestZone).epochMs;
    // Checked where it comes last: past there means past everywhere.
    resolveRecipientTimes({ scheduledAt: local, timezone: latestZone }, [{ id: 'latest' }], {}, now);
    return { epochMs: Math.max(earliest, now.getTime()), timezone: recipientZone, localTime: local };
  }
  const zone = requested.timezone === recipientZone ? undefined : requested.timezone;
  const time = resolveRecipientTimes({ scheduledAt: requested.scheduledAt, timezone: zone }, [{ id: 'all' }], {}, now).get('all');
  return { epochMs: time?.epochMs ?? now.getTime(), ...(zone ? { timezone: zone } : {}), ...(time?.adjustment ? { adjustment: time.adjustment } : {}) };
}

/** When one recipient of a `timezone: "recipient"` broadcast gets it: its wall time in their zone (epoch ms). */
export function recipientLocalDue(localTime: string, recipient: Pick<Recipient, 'timezone'> | undefined, settings: TenantSettings): number {
  return resolveLocalTime(localTime, recipientTimeZone(recipient, settings)).epochMs;
}
