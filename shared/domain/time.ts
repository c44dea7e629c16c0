/**
 * Time as people mean it: a wall-clock time in an IANA zone, and quiet hours in a zone.
 *
 * Calendar and zone arithmetic is Temporal's (the `temporal-polyfill` package, the TC39 proposal
 * as specified), never ours. What is ours is the choice of rule:
 * - a wall time that does not exist (the clocks went forward) or exists twice (they went back)
 *   resolves as RFC 5545 (3.3.5, "DATE-TIME") and Temporal's `disambiguation: 'compatible'` do: a
 *   time in a gap moves forward by the length of the gap, an ambiguous one takes the earlier instant;
 * - a quiet window is a pair of wall times (`22:00`–`08:00`), so a night that contains a change of
 *   clocks is an hour (or, at Lord Howe, half an hour) longer or shorter in real time.
 */
import { Temporal } from 'temporal-polyfill';

/** The zone used when neither the recipient nor the tenant names one. */
export const fallbackTimeZone = 'UTC';

/** Quiet hours: from `start` (inclusive) to `end` (exclusive), wall times in the recipient's zone; crossing midnight when `start > end`. */
export interface QuietHours {
  readonly start: string;
  readonly end: string;
}

/** `HH:MM`, 00:00–23:59. */
export const wallTimePattern = /^([01]\d|2[0-3]):[0-5]\d$/;

/** A date and time without an offset: `2027-03-28T02:30`, with optional seconds and fraction. */
export const localDateTimePattern = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?$/;

/** How a wall time was resolved to an instant when it was not a plain one. */
export type LocalTimeAdjustment =
  /** It fell in a gap (the clocks went forward): moved forward by the gap, to `resolvedLocal`. */
  | { readonly kind: 'gap'; readonly requestedLocal: string; readonly resolvedLocal: string; readonly shiftMinutes: number }
  /** It happened twice (the clocks went back): the earlier of the two instants was taken. */
  | { readonly kind: 'overlap'; readonly requestedLocal: string; readonly resolvedLocal: string };

/** A wall time resolved in a zone: the UTC instant, and how it was adjusted (if it was). */
export interface ResolvedLocalTime {
  /** Epoch ms (UTC). */
  readonly epochMs: number;
  readonly adjustment?: LocalTimeAdjustment;
}

/**
 * The names {@link normalizeTimeZone} answered, by the spelling it was asked, so that each is asked
 * of `Intl` once: a `DateTimeFormat` takes ~70 µs to make, and delivery asks for every recipient's
 * zone. Bounded, since `Intl` takes any spelling of a name's case (`europe/paris`): past the bound a
 * name is asked again each time, as before.
 */
const timeZoneNames = new Map<string, string>();
const timeZoneNamesKept = 1024;

/**
 * ICU's own zone ids, which `Intl` on Node takes but which are not IANA names: Java's three-letter
 * ids (`PST`, `IST`, `BST` for Dhaka) and the `SystemV/` zones (`SystemV/EST5`), which the tz
 * database no longer has. The Temporal polyfill refuses the three-letter ones ("Forbidden ICU
 * TimeZone"), so a zone stored as one would fail every wall time read in it.
 */
const icuOnlyZone = /^((AC|AE|AG|AR|AS|BE|BS|CA|CN|CS|CT|EA|EC|IE|IS|JS|MI|NE|NS|PL|PN|PR|PS|SS|VS)T|SYSTEMV\/.*)$/;

/** The tz database's names (2025b, Zones and Links) whose case the rule of {@link databaseCase} does not give. */
const irregularNames = new Map(
  [
    'Africa/Dar_es_Salaam',
    'America/Argentina/ComodRivadavia',
    'America/Knox_IN',
    'America/Port-au-Prince',
    'America/Port_of_Spain',
    'Antarctica/DumontDUrville',
    'Antarctica/McMurdo',
    'Brazil/DeNoronha',
    'Chile/EasterIsland',
    'Europe/Isle_of_Man',
    'GB-Eire',
    'Mexico/BajaNorte',
    'Mexico/BajaSur',
    'NZ-CHAT',
    'Pacific/Yap',
    'W-SU',
  ].map((name): [string, string] => [name.toLowerCase(), name]),
);

/**
 * `zone` (any case) written as the tz database writes its names: `Etc` as it is; a part of three
 * letters or fewer, or with a digit, in capitals (`US`, `EST5EDT`, `GMT+0`); every other word
 * capitalised (`Buenos_Aires`, `East-Indiana`); the few names this rule misses, as listed.
 */
function databaseCase(zone: string): string {
  const lower = zone.toLowerCase();
  const spell = (part: string): string =>
    part === 'etc' ? 'Etc' : part.length <= 3 || /\d/.test(part) ? part.toUpperCase() : part.replace(/(^|[_-])([a-z])/g, (_, before: string, letter: string) => before + letter.toUpperCase());
  return irregularNames.get(lower) ?? lower.split('/').map(spell).join('/');
}

/**
 * The IANA zone name `zone` (in any case: `europe/paris`, `utc`) as the tz database spells it
 * (`Europe/Paris`, `UTC`), or undefined when it is not a zone this runtime knows (offsets such as
 * `+01:00` are not zones, nor ICU's own ids such as `PST`). A link keeps its own name:
 * `asia/calcutta` is `Asia/Calcutta`, `etc/utc` is `Etc/UTC`, not the zone they link to.
 *
 * ECMA-402 ("Use of the IANA Time Zone Database", `GetAvailableNamedTimeZoneIdentifier`) matches
 * a zone name ASCII-case-insensitively and answers it "in the casing found in the IANA Time Zone
 * Database", which never holds two names that differ only in case (tz `theory.html`). Node 24's
 * `Intl` answers a link with the zone CLDR links it to instead (`Asia/Kolkata` → `Asia/Calcutta`,
 * `America/Argentina/Buenos_Aires` → `America/Buenos_Aires`, `Etc/UTC` → `UTC`): its answer is
 * taken when it is the name asked for, and any other name is spelled by {@link databaseCase}.
 * Asks `Intl`, not Temporal, so that the request schemas that take zones do not pull the Temporal
 * polyfill in; a name answered is remembered (the runtime's zone names do not change while it runs).
 */
export function normalizeTimeZone(zone: string): string | undefined {
  const remembered = timeZoneNames.get(zone);
  if (remembered !== undefined) return remembered;
  if (!/^[A-Za-z][A-Za-z0-9_+\-/]*$/.test(zone) || icuOnlyZone.test(zone.toUpperCase())) return undefined;
  let answered: string;
  try {
    answered = new Intl.DateTimeFormat('en', { timeZone: zone }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
  const name = answered.toLowerCase() === zone.toLowerCase() ? answered : databaseCase(zone);
  if (timeZoneNames.size < timeZoneNamesKept) timeZoneNames.set(zone, name);
  return name;
}

/** True when `zone` is an IANA zone name this runtime knows, in any case (see {@link normalizeTimeZone}). */
export function isKnownTimeZone(zone: string): boolean {
  return normalizeTimeZone(zone) !== undefined;
}

/** True when `value` is a date-time with no offset (`2027-03-28T02:30:00`): a wall time that needs a zone. */
export function isLocalDateTime(value: string): boolean {
  return localDateTimePattern.test(value);
}

/** Days in `month` (1-12) of the proleptic Gregorian `year`, as Temporal counts them. */
function daysInMonth(year: number, month: number): number {
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1] ?? 0;
}

/**
 * True when `value` is a wall time (see {@link isLocalDateTime}) that names a real day and time:
 * month 1-12, a day its month has, hours 0-23, minutes 0-59, seconds 0-59. `2027-02-29T09:00` and
 * `4086-61-03T10:32` are not, nor is a leap second (`23:59:60`): Temporal would read it as 23:59:59
 * (a time other than the one asked for), and an instant with one (`...T23:59:60Z`) is refused too.
 */
export function isCalendarDateTime(value: string): boolean {
  const parts = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?/.exec(value);
  if (!parts || !isLocalDateTime(value)) return false;
  const [year, month, day, hour, minute, second] = parts.slice(1).map((part) => Number(part ?? 0)) as [number, number, number, number, number, number];
  return month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month) && hour <= 23 && minute <= 59 && second <= 59;
}

/**
 * The UTC instant of the wall time `local` (`YYYY-MM-DDTHH:MM[:SS[.fff]]`) in the IANA zone
 * `zone`, with Temporal's "compatible" disambiguation (RFC 5545 3.3.5): a time in a gap moves
 * forward by the gap, an ambiguous one takes the earlier instant; `adjustment` says which
 * happened. Throws RangeError on a malformed or impossible time (a leap second too) or an unknown zone.
 */
export function resolveLocalTime(local: string, zone: string): ResolvedLocalTime {
  // Not Temporal's check alone: it would read a leap second as the second before it.
  if (!isCalendarDateTime(local)) throw new RangeError(`${local} is not a date and time without an offset`);
  const wall = Temporal.PlainDateTime.from(local, { overflow: 'reject' });
  const zoned = wall.toZonedDateTime(zone, { disambiguation: 'compatible' });
  const epochMs = zoned.epochMilliseconds;
  const requestedLocal = wall.toString();
  const resolvedWall = zoned.toPlainDateTime();
  if (Temporal.PlainDateTime.compare(resolvedWall, wall) !== 0) {
    const shiftMinutes = Math.round(wall.until(resolvedWall, { largestUnit: 'minutes' }).total('minutes'));
    return { epochMs, adjustment: { kind: 'gap', requestedLocal, resolvedLocal: toLocalIso(epochMs, zone), shiftMinutes } };
  }
  const later = wall.toZonedDateTime(zone, { disambiguation: 'later' }).epochMilliseconds;
  if (later !== epochMs) return { epochMs, adjustment: { kind: 'overlap', requestedLocal, resolvedLocal: toLocalIso(epochMs, zone) } };
  return { epochMs };
}

/** The instant `epochMs` as ISO-8601 wall time in `zone` with its offset, e.g. `2027-03-28T03:30:00+02:00` (milliseconds only when not zero). */
export function toLocalIso(epochMs: number, zone: string): string {
  const zoned = Temporal.Instant.fromEpochMilliseconds(epochMs).toZonedDateTimeISO(zone);
  return zoned.toString({ timeZoneName: 'never', smallestUnit: zoned.millisecond === 0 ? 'second' : 'millisecond' });
}

/**
 * `epochMs` plus `years` calendar years in UTC (epoch ms): the same month, day and time of day,
 * 29 February becoming 28 February in a common year (Temporal's `overflow: "constrain"`).
 */
export function addUtcYears(epochMs: number, years: number): number {
  return Temporal.Instant.fromEpochMilliseconds(epochMs).toZonedDateTimeISO('UTC').add({ years }, { overflow: 'constrain' }).epochMilliseconds;
}

/** The offset of `zone` at `epochMs`, in minutes east of UTC (e.g. 630 at Lord Howe in winter). */
export function offsetMinutesAt(epochMs: number, zone: string): number {
  return Math.round(Temporal.Instant.fromEpochMilliseconds(epochMs).toZonedDateTimeISO(zone).offsetNanoseconds / 60e9);
}

/**
 * True when the wall time `epochMs` shows in `zone` already happened once, earlier: the second pass
 * through an hour the clocks went back over (01:30 EST on 2027-11-07 in New York, after 01:30 EDT).
 */
export function isRepeatedWallTime(epochMs: number, zone: string): boolean {
  const wall = Temporal.Instant.fromEpochMilliseconds(epochMs).toZonedDateTimeISO(zone).toPlainDateTime();
  return wall.toZonedDateTime(zone, { disambiguation: 'earlier' }).epochMilliseconds < epochMs;
}

function minutesOf(wallTime: string): number {
  const match = wallTimePattern.exec(wallTime);
  if (!match) throw new RangeError(`${wallTime} is not a wall time HH:MM`);
  const [hours = '0', minutes = '0'] = wallTime.split(':');
  return Number(hours) * 60 + Number(minutes);
}

/**
 * The first instant `zone`'s clocks show the wall time `wall` (epoch ms): its first pass when the
 * clocks went back over it, and the gap's end when they jumped over it.
 */
function firstInstantShowing(wall: Temporal.PlainDateTime, zone: string): number {
  const compatible = wall.toZonedDateTime(zone, { disambiguation: 'compatible' });
  const earlier = wall.toZonedDateTime(zone, { disambiguation: 'earlier' });
  if (compatible.toPlainDateTime().equals(wall)) return earlier.epochMilliseconds;
  return earlier.getTimeZoneTransition('next')?.epochMilliseconds ?? compatible.epochMilliseconds;
}

/**
 * When the quiet window that `epochMs` falls in ends (epoch ms), or undefined when `epochMs` is not
 * in quiet hours. Wall times are read in `zone`: a window that crosses midnight (`22:00`–`08:00`)
 * ends on the next morning; one whose end falls in a gap ends when the gap does; a window with
 * `start === end` is empty. A time is quiet when the clock shows a time inside the window, and
 * also anywhere between the window's start (the first time the clock showed it) and its end: the
 * clocks going back into the hour before the start (01:10 EST after 01:59 EDT, in a window from
 * 01:30) do not end a window that began. Throws RangeError on a malformed wall time or an unknown zone.
 */
export function quietWindowEnd(epochMs: number, zone: string, quiet: QuietHours): number | undefined {
  const start = minutesOf(quiet.start);
  const end = minutesOf(quiet.end);
  if (start === end) return undefined;
  const zoned = Temporal.Instant.fromEpochMilliseconds(epochMs).toZonedDateTimeISO(zone);
  const now = zoned.hour * 60 + zoned.minute;
  const wallTimeOf = (date: Temporal.PlainDate, minutes: number): Temporal.PlainDateTime => date.toPlainDateTime({ hour: Math.floor(minutes / 60), minute: minutes % 60 });
  const inside = start < end ? now >= start && now < end : now >= start || now < end;
  if (!inside) {
    // Begun (today's window, or last night's crossing midnight) and not yet ended, though the clock went back before its start.
    for (const startDate of [zoned.toPlainDate(), zoned.toPlainDate().subtract({ days: 1 })]) {
      const began = firstInstantShowing(wallTimeOf(startDate, start), zone);
      const ends = firstInstantShowing(wallTimeOf(start > end ? startDate.add({ days: 1 }) : startDate, end), zone);
      if (began <= epochMs && epochMs < ends) return ends;
    }
    return undefined;
  }
  // The window ends today, or tomorrow when it crossed midnight and we are still before it.
  const endDate = start > end && now >= start ? zoned.toPlainDate().add({ days: 1 }) : zoned.toPlainDate();
  const endWall = wallTimeOf(endDate, end);
  // An end the clocks jump over ends when they land: the gap's end, not the end moved past it by
  // the gap's length (which would hold later than a time just after the gap, already not quiet).
  const earliest = firstInstantShowing(endWall, zone);
  if (earliest > epochMs) return earliest;
  // The end came twice (the clocks went back) and we are in its second pass: the later one ends it.
  const later = endWall.toZonedDateTime(zone, { disambiguation: 'later' }).epochMilliseconds;
  return later > epochMs ? later : undefined;
}

/** A recurring rate: a positive whole number and a unit (`1 day`, `5 minutes`). */
export const ratePattern = /^([1-9]\d{0,5}) (minute|minutes|hour|hours|day|days)$/;
