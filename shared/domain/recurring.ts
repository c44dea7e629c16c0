/**
 * Recurring notifications (issue 12): a definition (what to send, to whom, and when, as a cron or
 * rate expression in an IANA zone) that an EventBridge Scheduler recurring schedule fires; each
 * occurrence creates one notification per recipient, or one broadcast for an audience.
 *
 * Cron forms: EventBridge Scheduler's own six fields (`minutes hours day-of-month month
 * day-of-week year`, `?` in one of the two day fields, weekdays 1-7 = SUN-SAT) are passed as they
 * are; the common five-field form (`minute hour day-of-month month day-of-week`, weekdays 0-7 with
 * 0 and 7 = Sunday) is translated: the year becomes `*`, a `*` day field becomes `?`, numeric
 * weekdays shift by one, a range through Sunday is split and a step spelled out (EventBridge takes
 * neither: `5-7` becomes `6-7,1`, `1-7/2` becomes `2,4,6,1`). Five fields that restrict both day fields mean "either" in Vixie cron,
 * which EventBridge cannot express: refused. Rates are `<n> minute(s) | hour(s) | day(s)`.
 */
import { Cron } from 'croner';
import { eventBridgeCronProblem } from './eventbridge-cron.ts';
import type { Channel, Priority } from './notification.ts';
import type { BroadcastAudience } from './broadcast.ts';
import type { Role } from './caller.ts';
import { clockSkewToleranceMs } from './schedule-times.ts';
import { isKnownTimeZone, isRepeatedWallTime, ratePattern, toLocalIso } from './time.ts';

/** When a recurring notification fires. */
export interface RecurringSchedule {
  /** Five or six fields (see the module comment); exactly one of `cron` and `rate`. */
  readonly cron?: string;
  /** `1 day`, `5 minutes`, ... */
  readonly rate?: string;
  /** IANA zone the cron is read in. */
  readonly timezone: string;
  /** ISO-8601 UTC bounds: no occurrence before `startAt` or from `endAt` on. */
  readonly startAt?: string;
  readonly endAt?: string;
}

export const recurringStatuses = ['active', 'paused'] as const;
export type RecurringStatus = (typeof recurringStatuses)[number];

/** One occurrence that fired, and what it created. */
export interface RecurringOccurrence {
  /** The occurrence's instant (ISO-8601 UTC), as the schedule named it. */
  readonly at: string;
  readonly notificationIds?: readonly string[];
  readonly broadcastId?: string;
  /** The named recipients left out: erased from the directory since the definition was made. */
  readonly skippedRecipients?: readonly string[];
}

export interface RecurringNotification {
  readonly tenantId: string;
  readonly id: string;
  readonly createdBy: string;
  /** The roles of its creator, which each occurrence creates with. */
  readonly createdByRoles: readonly Role[];
  readonly recipients?: readonly string[];
  readonly audience?: BroadcastAudience;
  /** The explicit list of an audience of recipient ids. */
  readonly audienceIds?: readonly string[];
  readonly title: string;
  readonly message: string;
  readonly channels?: readonly Channel[];
  readonly type: string;
  readonly priority: Priority;
  readonly data?: Readonly<Record<string, unknown>>;
  readonly schedule: RecurringSchedule;
  readonly status: RecurringStatus;
  /** The last occurrences, newest first (at most {@link keptOccurrences}). */
  readonly occurrences: readonly RecurringOccurrence[];
  readonly createdAt: string;
  readonly updatedAt: string;
  /**
   * When its expression was last set (ISO 8601 UTC): at its creation, or by a PATCH that changed
   * the cron or the rate. A rate without `startAt` counts its periods from it. Absent on
   * definitions stored before it was kept: their `updatedAt` counts.
   */
  readonly scheduleSetAt?: string;
}

/** When a rate without `startAt` counts its periods from (epoch ms); see {@link RecurringNotification.scheduleSetAt}. */
export function scheduleAnchorMs(r: Pick<RecurringNotification, 'scheduleSetAt' | 'updatedAt'>): number {
  return Date.parse(r.scheduleSetAt ?? r.updatedAt);
}

/** How many past occurrences a definition keeps. */
export const keptOccurrences = 10;

const rateUnitMs: Readonly<Record<string, number>> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };


/** A cron field's characters (EventBridge's wildcards and names). */
const cronFieldPattern = /^[0-9A-Za-z*?,\-/#LW]+$/;

/** Why a schedule cannot be used; `field` names the request field (`schedule.cron`, ...). */
export class RecurringScheduleError extends Error {
  override readonly name = 'RecurringScheduleError';
  readonly field: string;
  constructor(field: string, message: string) {
    super(message);
    this.field = field;
  }
}

/** Five-field weekday names, Sunday first: their index is the five-field weekday (crontab(5)). */
const weekdayNames = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] as const;

/** The EventBridge weekday (1-7, 1 Sunday) of a five-field one (0-7, 0 and 7 Sunday). */
function eventBridgeWeekday(day: number): number {
  return (day % 7) + 1;
}

/**
 * A five-field weekday (0-7 or SUN-SAT) as a number 0-7; `SUN` ending a range is 7, as croner
 * reads it (`FRI-SUN` is Friday to Sunday). Throws RecurringScheduleError when it is none.
 */
function fiveFieldWeekday(token: string, endsRange: boolean): number {
  const named = weekdayNames.indexOf(token as (typeof weekdayNames)[number]);
  const day = named >= 0 ? (endsRange && named === 0 ? 7 : named) : /^\d{1,2}$/.test(token) ? Number(token) : Number.NaN;
  if (!(day >= 0 && day <= 7)) throw new RecurringScheduleError('schedule.cron', `weekday ${token} is out of range: five-field weekdays are 0-7 (0 and 7 Sunday) or SUN-SAT`);
  return day;
}

/** `[6, 7, 1]` as `6-7,1`: runs of consecutive days as ranges that never wrap. */
function weekdayRuns(days: readonly number[]): string[] {
  const runs: [number, number][] = [];
  for (const day of days) {
    const last = runs.at(-1);
    if (last && day === last[1] + 1) last[1] = day;
    else runs.push([day, day]);
  }
  return runs.map(([from, to]) => (from === to ? String(from) : `${from}-${to}`));
}

/**
 * Five-field weekdays (0-7, 0 and 7 Sunday, or SUN-SAT) as EventBridge Scheduler's Day-of-week
 * (1-7 = SUN-SAT), which takes `, - * ? L #` but no step, and no range that wraps ("From value is
 * larger than to value"): so a range through Sunday is split (`5-7` is `6-7,1`, `0-7` is `1-7`),
 * a step is spelled out (`1-7/2` is `2,4,6,1`), an nth or last weekday is shifted (`5#2` is
 * `6#2`), and names stay as they are when their range does not wrap (`MON-FRI`). Throws
 * RecurringScheduleError naming `schedule.cron` for a weekday out of range, a range that runs
 * backwards (`6-0`) or a step from a single day (`1/2`), which five-field cron refuses too.
 * Sources: "Cron expressions reference" (Amazon EventBridge User Guide); crontab(5).
 */
function eventBridgeWeekdays(field: string): string {
  const refuse = (part: string, why: string): RecurringScheduleError => new RecurringScheduleError('schedule.cron', `weekday ${part} ${why}`);
  const parts: string[] = [];
  const seen = new Set<number>();
  for (const item of field.toUpperCase().split(',')) {
    // `5#2` (the second Friday), `5L` (the last Friday); `L` alone and names kept as they are.
    const nth = /^(\w*?)(L|#\d+)$/.exec(item);
    if (nth) {
      const [, day = '', suffix = ''] = nth;
      // Checked here, in the words given: past the translation, the message would name another day.
      if (suffix.startsWith('#') && !/^#[1-5]$/.test(suffix)) throw refuse(item, 'is not weekday#n with n 1-5');
      parts.push(/^\d+$/.test(day) ? `${eventBridgeWeekday(fiveFieldWeekday(day, false))}${suffix}` : item);
      continue;
    }
    const match = /^(\*|\w+)(?:-(\w+))?(?:\/(\d+))?$/.exec(item);
    if (!match) throw refuse(item, 'is not a weekday, a range or a step');
    const [, first = '', last, stepText] = match;
    if (stepText !== undefined && first !== '*' && last === undefined) throw refuse(item, 'steps from a single day: use a range (1-5/2) or */n');
    const from = first === '*' ? 0 : fiveFieldWeekday(first, false);
    const to = first === '*' ? 7 : last === undefined ? from : fiveFieldWeekday(last, true);
    if (from > to) throw refuse(item, 'runs backwards: a five-field range goes from the smaller weekday to the larger');
    const step = stepText === undefined ? 1 : Number(stepText);
    if (step < 1 || step > 7) throw refuse(item, 'has a step outside 1-7');
    const named = /^[A-Z]/.test(first) && (last === undefined || /^[A-Z]/.test(last));
    if (named && stepText === undefined && eventBridgeWeekday(from) <= eventBridgeWeekday(to)) {
      parts.push(item);
      continue;
    }
    const days: number[] = [];
    for (let day = from; day <= to; day += step) {
      const weekday = eventBridgeWeekday(day);
      if (!seen.has(weekday)) days.push(weekday);
      seen.add(weekday);
    }
    parts.push(...weekdayRuns(days));
  }
  return parts.join(',');
}

/**
 * The six EventBridge fields of a cron given in five or six; throws RecurringScheduleError naming
 * `schedule.cron`, for six fields with the reason EventBridge Scheduler would refuse them for
 * (`eventBridgeCronProblem`: each field's range and wildcards, `?` in exactly one day field).
 */
export function eventBridgeCronFields(cron: string): string {
  // EventBridge writes its expressions as cron(...): the fields inside are what this takes.
  if (/^\s*cron\(/.test(cron)) throw new RecurringScheduleError('schedule.cron', 'must be the fields alone, without cron( )');
  const fields = cron.trim().split(/\s+/);
  const unreadable = fields.find((f) => !cronFieldPattern.test(f));
  if (unreadable !== undefined) throw new RecurringScheduleError('schedule.cron', `holds a character no cron field takes, in "${unreadable}"`);
  if (fields.length === 6) {
    // Checked as the Scheduler checks it, so that no definition is written for a cron it refuses.
    const problem = eventBridgeCronProblem(fields);
    if (problem !== undefined) throw new RecurringScheduleError('schedule.cron', `is not an EventBridge cron: ${problem}`);
    return fields.join(' ');
  }
  if (fields.length !== 5) throw new RecurringScheduleError('schedule.cron', 'must have five fields (minute hour day-of-month month day-of-week) or six (EventBridge: ... year)');
  const [minute, hour, dayOfMonth, month, dayOfWeek] = fields as [string, string, string, string, string];
  const restricted = (f: string): boolean => f !== '*' && f !== '?';
  if (restricted(dayOfMonth) && restricted(dayOfWeek)) {
    throw new RecurringScheduleError('schedule.cron', 'cannot restrict both day-of-month and day-of-week (EventBridge has no "either"): use * in one');
  }
  const weekdays = restricted(dayOfWeek) ? eventBridgeWeekdays(dayOfWeek) : '?';
  const days = restricted(dayOfWeek) ? '?' : dayOfMonth === '?' ? '*' : dayOfMonth;
  const translated = [minute, hour, days, month, weekdays, '*'];
  // The other four fields pass as they are: held to the same table, in the same words (`0 9 * 13 *`: month 13).
  const problem = eventBridgeCronProblem(translated);
  if (problem !== undefined) throw new RecurringScheduleError('schedule.cron', `cannot be read: ${problem}`);
  return translated.join(' ');
}

/** Why a change's `null` expression is refused when it comes without the other (as `recurringScheduleChangeSchema` says it). */
export function nullExpressionMessage(other: 'cron' | 'rate'): string {
  return `may be null only beside a ${other}: a schedule keeps one of cron and rate`;
}

/**
 * A change of a schedule, as `PATCH` gives it: `cron` or `rate` replaces the expression (the other
 * goes); `timezone`, `startAt` and `endAt` change only when given; `null` clears a bound. `null`
 * for `cron` beside a `rate` (or for `rate` beside a `cron`) says the same as leaving it out, so a
 * schedule read from `GET` (`"cron": null, "rate": "1 day"`) can be sent back as it is.
 */
export interface RecurringScheduleChange {
  readonly cron?: string | null | undefined;
  readonly rate?: string | null | undefined;
  readonly timezone?: string | undefined;
  /** ISO-8601 instant, or `null` for no start. */
  readonly startAt?: string | null | undefined;
  /** ISO-8601 instant, or `null` for no end. */
  readonly endAt?: string | null | undefined;
}

/**
 * A `startAt` (ISO 8601 UTC) given at `nowMs` (epoch ms), as the schedule keeps it: one at most
 * {@link clockSkewToleranceMs} past is taken as now, as a notification's `scheduledAt` is ("start
 * now" arrives a little past, by the request's way or the client's clock, and a rate would then
 * fire first a whole period later); any other as given.
 */
export function startAtAsOf(startAt: string, nowMs: number): string {
  const ms = Date.parse(startAt);
  return ms < nowMs && ms >= nowMs - clockSkewToleranceMs ? new Date(nowMs).toISOString() : startAt;
}

/**
 * `ms` (epoch ms) up to the next whole second: EventBridge Scheduler gives an occurrence's time
 * to the second (`<aws.scheduler.scheduled-time>`), so a rate's periods count from the first
 * whole second at or after its `startAt`, never before it.
 */
function wholeSecondFrom(ms: number): number {
  return Math.ceil(ms / 1000) * 1000;
}

/**
 * `schedule` with `change` merged in (see {@link RecurringScheduleChange}), bounds as ISO-8601
 * UTC. Throws RecurringScheduleError naming `schedule.cron` when the change gives both a cron and
 * a rate; the result is checked by {@link checkRecurringSchedule}.
 */
export function changedSchedule(schedule: RecurringSchedule, change: RecurringScheduleChange, nowMs: number): RecurringSchedule {
  const cron = change.cron ?? undefined;
  const rate = change.rate ?? undefined;
  if (cron !== undefined && rate !== undefined) throw new RecurringScheduleError('schedule.cron', 'must not be given with rate: give one of cron and rate');
  // A null expression is only the other one's companion: alone it would leave the schedule without one.
  if (change.cron === null && rate === undefined) throw new RecurringScheduleError('schedule.cron', nullExpressionMessage('rate'));
  if (change.rate === null && cron === undefined) throw new RecurringScheduleError('schedule.rate', nullExpressionMessage('cron'));
  const expression = cron !== undefined ? { cron } : rate !== undefined ? { rate } : { cron: schedule.cron, rate: schedule.rate };
  const bound = (given: string | null | undefined, kept: string | undefined): string | undefined =>
    given === null ? undefined : given === undefined ? kept : new Date(given).toISOString();
  const given = bound(change.startAt, schedule.startAt);
  const startAt = given !== undefined && change.startAt != null ? startAtAsOf(given, nowMs) : given;
  const endAt = bound(change.endAt, schedule.endAt);
  return {
    ...(expression.cron !== undefined ? { cron: expression.cron } : {}),
    ...(expression.rate !== undefined ? { rate: expression.rate } : {}),
    timezone: change.timezone ?? schedule.timezone,
    ...(startAt !== undefined ? { startAt } : {}),
    ...(endAt !== undefined ? { endAt } : {}),
  };
}

/**
 * Throws RecurringScheduleError naming the field unless `schedule` can be put on EventBridge
 * Scheduler as it stands: exactly one of a cron and a rate, each well formed (see
 * {@link scheduleExpressionOf}: a cron by EventBridge's own field rules), a known IANA zone, `endAt`
 * after `startAt`. The Scheduler may still refuse what these rules miss; that is known only when it is put.
 */
export function checkRecurringSchedule(schedule: RecurringSchedule): void {
  if ((schedule.cron === undefined) === (schedule.rate === undefined)) throw new RecurringScheduleError('schedule.cron', 'must give exactly one of cron and rate');
  scheduleExpressionOf(schedule);
  if (!isKnownTimeZone(schedule.timezone)) throw new RecurringScheduleError('schedule.timezone', 'is not a known IANA time zone');
  if (schedule.startAt !== undefined && schedule.endAt !== undefined && Date.parse(schedule.endAt) <= Date.parse(schedule.startAt)) {
    throw new RecurringScheduleError('schedule.endAt', 'must be after startAt');
  }
}

/**
 * Refuses a schedule that would never fire after `nowMs` (epoch ms): an `endAt` already past or
 * before its first time, a cron no date matches (`0 9 30 2 *`, 30 February) or whose years are
 * past. A rate set at `nowMs` without `startAt` counts its firing at `nowMs` (EventBridge fires it
 * at once). Throws RecurringScheduleError naming `schedule.endAt` or `schedule.cron`.
 */
export function checkScheduleFires(schedule: RecurringSchedule, anchorMs: number, nowMs: number): void {
  if (nextOccurrences(schedule, nowMs - 1, 1, anchorMs).length > 0) return;
  const { endAt: _endAt, ...unbounded } = schedule;
  if (schedule.endAt !== undefined && nextOccurrences(unbounded, nowMs - 1, 1, anchorMs).length > 0) {
    const past = Date.parse(schedule.endAt) <= nowMs;
    throw new RecurringScheduleError('schedule.endAt', past ? 'is past: the schedule would never fire' : 'comes before the first time the schedule fires: it would never fire');
  }
  throw new RecurringScheduleError('schedule.cron', 'matches no time to come: the schedule would never fire');
}

/** The EventBridge Scheduler `ScheduleExpression` of a schedule: `cron(...)` or `rate(...)`. */
export function scheduleExpressionOf(schedule: Pick<RecurringSchedule, 'cron' | 'rate'>): string {
  if (schedule.cron !== undefined) return `cron(${eventBridgeCronFields(schedule.cron)})`;
  const match = ratePattern.exec(schedule.rate ?? '');
  if (!match) throw new RecurringScheduleError('schedule.rate', 'must be "<n> minute(s) | hour(s) | day(s)"');
  const n = Number(match[1]);
  const unit = (match[2] ?? 'minute').replace(/s$/, '');
  return `rate(${n} ${n === 1 ? unit : `${unit}s`})`;
}

/**
 * The next `count` occurrences (epoch ms) strictly after `afterMs`, within the schedule's bounds:
 * a rate counts whole periods from `startAt` (or `anchorMs`, when it was set); a cron is read in
 * its zone by croner's calendar with EventBridge Scheduler's rules at a change of clocks: a time
 * the clocks jump over is skipped, a time they pass twice is counted once ("Schedule types on
 * EventBridge Scheduler", "Daylight saving time").
 */
export function nextOccurrences(schedule: RecurringSchedule, afterMs: number, count: number, anchorMs: number): number[] {
  const start = schedule.startAt === undefined ? undefined : Date.parse(schedule.startAt);
  const end = schedule.endAt === undefined ? undefined : Date.parse(schedule.endAt);
  const from = Math.max(afterMs, (start ?? Number.NEGATIVE_INFINITY) - 1);
  const within = (ms: number): boolean => end === undefined || ms < end;
  const found: number[] = [];
  if (schedule.rate !== undefined) {
    const match = ratePattern.exec(schedule.rate);
    const period = Number(match?.[1] ?? 1) * (rateUnitMs[(match?.[2] ?? 'minute').replace(/s$/, '')] ?? 60_000);
    const anchor = start !== undefined ? wholeSecondFrom(start) : anchorMs;
    let next = from < anchor ? anchor : anchor + (Math.floor((from - anchor) / period) + 1) * period;
    while (found.length < count && within(next)) {
      found.push(next);
      next += period;
    }
    return found;
  }
  const [minutes, hours, dayOfMonth, month, dayOfWeek = '?', year] = eventBridgeCronFields(schedule.cron ?? '').split(' ');
  let cron: Cron;
  try {
    cron = new Cron(`0 ${minutes} ${hours} ${dayOfMonth} ${month} ${cronerWeekdays(dayOfWeek)} ${year}`, {
      timezone: schedule.timezone,
      mode: '7-part',
      alternativeWeekdays: true,
      sloppyRanges: true,
      paused: true,
    });
  } catch (error) {
    throw new RecurringScheduleError('schedule.cron', `cannot be read: ${error instanceof Error ? error.message : String(error)}`);
  }
  let cursor = new Date(from);
  // A year of skipped candidates is far more than any change of clocks can cause.
  for (let candidates = 0; found.length < count && candidates < 1_000; candidates++) {
    const next = cron.nextRun(cursor);
    if (next === null || !within(next.getTime())) break;
    cursor = next;
    // Croner moves a time the clocks jump over to after the gap, and runs a repeated one twice:
    // EventBridge skips the one and fires the other once ("Daylight saving time").
    if (!cron.match(next) || isRepeatedWallTime(next.getTime(), schedule.timezone)) continue;
    found.push(next.getTime());
  }
  return found;
}

/** Croner's spelling of EventBridge's day-of-week: `L` alone is Saturday, the week's last day; `6L` is `6#L`. */
function cronerWeekdays(dayOfWeek: string): string {
  if (dayOfWeek.toUpperCase() === 'L') return '7';
  return dayOfWeek.replace(/^([1-7]|[A-Za-z]{3})L$/, '$1#L');
}

/**
 * The StartDate (epoch ms) to give EventBridge Scheduler when the schedule is put at `nowMs`, or
 * undefined for none. EventBridge refuses a StartDate more than 5 minutes past ("The StartDate you
 * specify cannot be earlier than 5 minutes ago"), and a rate without one "starts invoking its
 * target immediately" from the call ("Schedule types on EventBridge Scheduler"): so `startAt`
 * while it is ahead; once it has passed, for a rate the start of its next period on its own grid
 * (from `startAt`, or from `anchorMs`, when its expression was set) so that a change of title or a
 * pause neither fires it nor moves its times; for a cron none (a past start bounds nothing). A rate
 * set at `nowMs` without `startAt` gets none: it starts then, as it would on AWS. A rate with no
 * period left before `endAt` is `ended`: put without a StartDate it would fire at once, so it is
 * put DISABLED.
 */
export function schedulerStartDate(schedule: RecurringSchedule, anchorMs: number, nowMs: number): number | 'ended' | undefined {
  const start = schedule.startAt === undefined ? undefined : Date.parse(schedule.startAt);
  if (start !== undefined && start > nowMs) return wholeSecondFrom(start);
  if (schedule.rate === undefined || (start ?? anchorMs) >= nowMs) return undefined;
  return nextOccurrences(schedule, nowMs, 1, anchorMs)[0] ?? 'ended';
}

/**
 * What a definition's view says of it: `completed`, paused or not, once its `endAt` has passed or
 * its cron matches no time to come (its years are past), as EventBridge Scheduler sees a
 * schedule's completion ("ActionAfterCompletion"). Until its `endAt` it is not completed, even
 * when its last time before that end has passed: a rate set now fires at once, and that firing may
 * be its only one. A PATCH that gives it a later end makes it `active` or `paused` again.
 */
export type RecurringViewStatus = RecurringStatus | 'completed';

/** The status a definition's view shows at `nowMs` (epoch ms); see {@link RecurringViewStatus}. */
export function recurringViewStatus(r: RecurringNotification, nowMs: number): RecurringViewStatus {
  const { endAt, ...unbounded } = r.schedule;
  if (endAt !== undefined && Date.parse(endAt) <= nowMs) return 'completed';
  try {
    if (nextOccurrences(unbounded, nowMs, 1, scheduleAnchorMs(r)).length === 0) return 'completed';
  } catch (error) {
    // A definition stored before its cron was checked as it now is: shown as stored.
    if (!(error instanceof RecurringScheduleError)) throw error;
  }
  return r.status;
}

/** The public view of a definition at `nowMs` (epoch ms); `upcoming` with its next occurrences when asked for. */
export function toRecurringView(r: RecurringNotification, nowMs: number, upcoming?: readonly number[]): Record<string, unknown> {
  return {
    id: r.id,
    status: recurringViewStatus(r, nowMs),
    ...(r.recipients ? { recipients: r.recipients } : {}),
    ...(r.audience ? { audience: audienceView(r) } : {}),
    title: r.title,
    message: r.message,
    channels: r.channels ?? null,
    type: r.type,
    priority: r.priority,
    data: r.data ?? {},
    schedule: { cron: r.schedule.cron ?? null, rate: r.schedule.rate ?? null, timezone: r.schedule.timezone, startAt: r.schedule.startAt ?? null, endAt: r.schedule.endAt ?? null },
    createdBy: r.createdBy,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
    // To the second, as the Scheduler gives each occurrence's time and `lastOccurrences` records it.
    ...(upcoming ? { nextOccurrences: upcoming.map((ms) => Math.floor(ms / 1000) * 1000).map((ms) => ({ at: new Date(ms).toISOString(), local: toLocalIso(ms, r.schedule.timezone) })) } : {}),
    lastOccurrences: r.occurrences.map((o) => ({ at: o.at, notificationIds: o.notificationIds ?? [], broadcastId: o.broadcastId ?? null, skippedRecipients: o.skippedRecipients ?? [] })),
  };
}

function audienceView(r: RecurringNotification): Record<string, unknown> {
  switch (r.audience?.kind) {
    case 'all':
      return { all: true };
    case 'groups':
      return { groups: r.audience.groups };
    default:
      return { recipientIds: r.audienceIds ?? [] };
  }
}

/**
 * How late an occurrence may still be put on its way, in seconds: the age past which EventBridge
 * Scheduler drops a firing it could not deliver (the schedules' `MaximumEventAgeInSeconds`), and
 * past which a firing a schedule missed is not made up ({@link missedFiring}).
 */
export const occurrenceMaxAgeSeconds = 3_600;

/** How many firings {@link missedFiring} reads at a time: a minute cron's hour. */
const firingsPerRead = 60;

/**
 * The last firing (epoch ms) that a schedule which should have been put at `anchorMs` (its
 * definition's `scheduleSetAt`) misses when it is put at `nowMs` instead: the last at or before
 * `nowMs` (the put's StartDate, {@link schedulerStartDate}, is after it), no older than
 * {@link occurrenceMaxAgeSeconds}; undefined when there is none. A rate without `startAt` fires at
 * its put ("starts invoking its target immediately"): at `anchorMs`, then once a period; put at or
 * before `anchorMs` it misses nothing. Anything else fires at its occurrences after `anchorMs`
 * ({@link nextOccurrences}), within `endAt`.
 */
export function missedFiring(schedule: RecurringSchedule, anchorMs: number, nowMs: number): number | undefined {
  const firesAtItsPut = schedule.rate !== undefined && schedule.startAt === undefined;
  if (firesAtItsPut && anchorMs >= nowMs) return undefined;
  // Only the last hour is read: a cron has at most 61 times in it (both ends), a rate is counted, not walked.
  const oldest = nowMs - occurrenceMaxAgeSeconds * 1000;
  let after = Math.max(firesAtItsPut ? anchorMs - 1 : anchorMs, oldest - 1);
  let last: number | undefined;
  for (;;) {
    const firings = nextOccurrences(schedule, after, firingsPerRead, anchorMs);
    for (const at of firings) {
      if (at > nowMs) return last;
      last = at;
    }
    const final = firings.at(-1);
    if (final === undefined || firings.length < firingsPerRead) return last;
    after = final;
  }
}
