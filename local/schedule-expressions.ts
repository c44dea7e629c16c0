/**
 * EventBridge Scheduler's schedule expressions: `at()`, `rate()` and `cron()`, read and
 * validated as the service does, and the instants they fire at in a time zone.
 *
 * Calendar work is left to libraries: croner matches the cron fields (EventBridge's `?`, `L`,
 * `W`, `#` and the year field), luxon reads wall-clock times in IANA zones. What is ours is the
 * translation of EventBridge's dialect and its rules around daylight saving time, which differ
 * from croner's (Vixie cron's): per "Schedule types on EventBridge Scheduler" ("Daylight saving
 * time"), a cron time that does not exist when the clocks go forward is skipped, not moved, and
 * a time that occurs twice when they go back fires once, not twice. A `rate()` counts fixed
 * durations (a day is 24 hours) from its start, whatever the clocks do.
 *
 * Sources: "Schedule types on EventBridge Scheduler" (EventBridge Scheduler User Guide) and
 * "Cron expressions reference" (Amazon EventBridge User Guide), whose field table
 * shared/domain/eventbridge-cron.ts follows (the recurring definitions check their crons with it
 * too, before anything is written).
 */
import { Cron } from 'croner';
import { DateTime } from 'luxon';
import { eventBridgeCronProblem } from '../shared/domain/eventbridge-cron.ts';
import { isKnownTimeZone } from '../shared/domain/time.ts';

/** A schedule expression, read. */
export type ScheduleExpression =
  | { readonly kind: 'at'; readonly atMs: number }
  | { readonly kind: 'rate'; readonly periodMs: number }
  | { readonly kind: 'cron'; readonly cron: Cron; readonly timeZone: string };

/** The expression or time zone is not one EventBridge Scheduler accepts; `message` says why. */
export class ScheduleExpressionError extends Error {
  override readonly name = 'ScheduleExpressionError';
}

/** Where a recurring schedule may fire: from `startMs` (inclusive) to `endMs` (exclusive), epoch ms. */
export interface FiringWindow {
  readonly startMs?: number;
  readonly endMs?: number;
}

const rateUnitsMs: Readonly<Record<string, number>> = {
  minute: 60_000,
  minutes: 60_000,
  hour: 3_600_000,
  hours: 3_600_000,
  day: 86_400_000,
  days: 86_400_000,
};

/**
 * Throws ScheduleExpressionError unless `timeZone` is an IANA zone name, which is all
 * `ScheduleExpressionTimezone` takes (offsets such as "+01:00" are refused). Asked of `Intl` once
 * per name (`isKnownTimeZone`): every CreateSchedule and UpdateSchedule names a zone.
 */
export function assertTimeZone(timeZone: string): void {
  if (!isKnownTimeZone(timeZone)) {
    throw new ScheduleExpressionError(`Invalid ScheduleExpressionTimezone ${timeZone}.`);
  }
}

/**
 * Reads `expression` in `timeZone` (an IANA name); throws ScheduleExpressionError naming what is
 * wrong. AWS's own message is "Invalid Schedule Expression <expression>."; the reason after it is ours.
 */
export function parseScheduleExpression(expression: string, timeZone: string): ScheduleExpression {
  assertTimeZone(timeZone);
  const invalid = (reason: string): ScheduleExpressionError =>
    new ScheduleExpressionError(`Invalid Schedule Expression ${expression}. ${reason}`);
  const call = /^(at|rate|cron)\((.*)\)$/.exec(expression);
  if (!call) throw invalid('Use at(yyyy-mm-ddThh:mm:ss), rate(value unit) or cron(minutes hours day-of-month month day-of-week year).');
  const [, kind, body = ''] = call;
  if (kind === 'at') return { kind: 'at', atMs: parseAt(body, timeZone, invalid) };
  if (kind === 'rate') return { kind: 'rate', periodMs: parseRate(body, invalid) };
  return { kind: 'cron', cron: parseCron(body, timeZone, invalid), timeZone };
}

function parseAt(body: string, timeZone: string, invalid: (reason: string) => Error): number {
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})$/.exec(body);
  if (!match) throw invalid('A one-time schedule is at(yyyy-mm-ddThh:mm:ss).');
  const [year, month, day, hour, minute, second] = match.slice(1).map(Number) as [number, number, number, number, number, number];
  const local = DateTime.fromObject({ year, month, day, hour, minute, second }, { zone: timeZone });
  if (!local.isValid) throw invalid(`${body} is not a date and time: ${local.invalidExplanation ?? local.invalidReason ?? 'invalid'}.`);
  return local.toMillis();
}

function parseRate(body: string, invalid: (reason: string) => Error): number {
  const match = /^(\d+) ([a-z]+)$/.exec(body);
  const unitMs = match ? rateUnitsMs[match[2] ?? ''] : undefined;
  if (!match || unitMs === undefined) throw invalid('A rate is rate(value unit), the unit one of minute | minutes | hour | hours | day | days.');
  const value = Number(match[1]);
  if (!Number.isSafeInteger(value) || value < 1) throw invalid('The value of a rate must be a positive whole number.');
  return value * unitMs;
}

function parseCron(body: string, timeZone: string, invalid: (reason: string) => Error): Cron {
  const fields = body.split(' ');
  const problem = eventBridgeCronProblem(fields);
  if (problem !== undefined) throw invalid(problem);
  const [minutes, hours, dayOfMonth, month, dayOfWeek, year] = fields as [string, string, string, string, string, string];
  try {
    // Croner's 7-part form puts seconds first; Quartz weekdays (1 = Sunday) are EventBridge's.
    return new Cron(`0 ${minutes} ${hours} ${dayOfMonth} ${month} ${croner(dayOfWeek)} ${year}`, {
      timezone: timeZone,
      mode: '7-part',
      alternativeWeekdays: true,
      sloppyRanges: true,
      paused: true,
    });
  } catch (error) {
    throw invalid(error instanceof Error ? error.message : String(error));
  }
}

/** Croner's spelling of EventBridge's Day-of-week: `L` alone is Saturday, the week's last day; `6L` is `6#L`. */
function croner(dayOfWeek: string): string {
  if (dayOfWeek.toUpperCase() === 'L') return '7';
  return dayOfWeek.replace(/^([1-7]|[A-Za-z]{3})L$/, '$1#L');
}

/**
 * The first instant (epoch ms) strictly after `afterMs` at which a recurring expression fires
 * within `window`, or undefined when it never fires again. A `rate()` counts from
 * `window.startMs` (its StartDate, or its creation: "If you do not provide a StartDate for a
 * rate-based schedule, your schedule starts invoking its target immediately"). A `cron()`
 * follows the daylight saving rules of the module comment. Throws on an `at()`, which does not recur.
 */
export function nextRecurringFire(expression: ScheduleExpression, afterMs: number, window: FiringWindow & { readonly anchorMs: number }): number | undefined {
  if (expression.kind === 'at') throw new Error('An at() expression fires once: it has no next fire time');
  const fromMs = Math.max(afterMs, (window.startMs ?? Number.NEGATIVE_INFINITY) - 1);
  const next =
    expression.kind === 'rate'
      ? nextRateFire(expression.periodMs, window.startMs ?? window.anchorMs, fromMs)
      : nextCronFire(expression.cron, expression.timeZone, fromMs);
  return next !== undefined && (window.endMs === undefined || next < window.endMs) ? next : undefined;
}

function nextRateFire(periodMs: number, anchorMs: number, afterMs: number): number {
  if (afterMs < anchorMs) return anchorMs;
  return anchorMs + (Math.floor((afterMs - anchorMs) / periodMs) + 1) * periodMs;
}

/** Croner's runs, less the ones EventBridge Scheduler does not make across daylight saving changes. */
function nextCronFire(cron: Cron, timeZone: string, afterMs: number): number | undefined {
  let from = new Date(afterMs);
  // A year of skipped candidates is far more than any change of clocks can cause.
  for (let attempt = 0; attempt < 1000; attempt += 1) {
    const candidate = cron.nextRun(from);
    if (candidate === null) return undefined;
    from = candidate;
    // Croner moves a fixed time that falls in a spring-forward gap to after the gap; EventBridge skips it.
    if (!cron.match(candidate)) continue;
    if (isRepeatedWallClock(candidate.getTime(), timeZone)) continue;
    return candidate.getTime();
  }
  return undefined;
}

/** True when the wall-clock time at `epochMs` in `timeZone` already happened once, earlier (the clocks went back). */
function isRepeatedWallClock(epochMs: number, timeZone: string): boolean {
  const local = DateTime.fromMillis(epochMs, { zone: timeZone });
  const offsets = local.getPossibleOffsets().map((possible) => possible.offset);
  // The first pass through a repeated hour is the one with the larger offset (summer time).
  return offsets.length > 1 && local.offset < Math.max(...offsets);
}
