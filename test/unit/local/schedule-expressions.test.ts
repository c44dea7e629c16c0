import { describe, expect, it } from 'vitest';
import { nextRecurringFire, parseScheduleExpression, ScheduleExpressionError } from '../../../local/schedule-expressions.ts';
import type { FiringWindow } from '../../../local/schedule-expressions.ts';

/** The next `count` fire times (ISO, UTC) of `expression` in `timeZone`, strictly after `after`. */
function fires(expression: string, timeZone: string, after: string, count: number, window: FiringWindow = {}): string[] {
  const parsed = parseScheduleExpression(expression, timeZone);
  const out: string[] = [];
  let from = Date.parse(after);
  for (let i = 0; i < count; i += 1) {
    const next = nextRecurringFire(parsed, from, { anchorMs: Date.parse(after), ...window });
    if (next === undefined) break;
    out.push(new Date(next).toISOString());
    from = next;
  }
  return out;
}

describe('the next fire time of a cron() in a time zone (Europe/Paris, 2027)', () => {
  it('skips a daily time that does not exist when the clocks go forward (28 March 2027, 02:00 → 03:00)', () => {
    // Act
    const times = fires('cron(30 2 * * ? *)', 'Europe/Paris', '2027-03-26T12:00:00Z', 3);

    // Assess: 02:30 CET on the 27th, none on the 28th, 02:30 CEST on the 29th
    expect(times).toEqual(['2027-03-27T01:30:00.000Z', '2027-03-29T00:30:00.000Z', '2027-03-30T00:30:00.000Z']);
  });

  it('fires a daily time that occurs twice when the clocks go back only once, at the first (31 October 2027, 03:00 → 02:00)', () => {
    // Act
    const times = fires('cron(30 2 * * ? *)', 'Europe/Paris', '2027-10-29T12:00:00Z', 3);

    // Assess: 02:30 CEST on the 30th and 31st, then 02:30 CET
    expect(times).toEqual(['2027-10-30T00:30:00.000Z', '2027-10-31T00:30:00.000Z', '2027-11-01T01:30:00.000Z']);
  });

  it('runs a half-hourly schedule through the repeated hour once, not twice', () => {
    // Act
    const times = fires('cron(0/30 * * * ? *)', 'Europe/Paris', '2027-10-30T23:10:00Z', 5);

    // Assess: 01:30, 02:00, 02:30 CEST, then straight to 03:00 CET (02:00 and 02:30 CET are repeats)
    expect(times).toEqual([
      '2027-10-30T23:30:00.000Z',
      '2027-10-31T00:00:00.000Z',
      '2027-10-31T00:30:00.000Z',
      '2027-10-31T02:00:00.000Z',
      '2027-10-31T02:30:00.000Z',
    ]);
  });

  it('runs a half-hourly schedule across the missing hour without inventing times in it', () => {
    // Act
    const times = fires('cron(0/30 * * * ? *)', 'Europe/Paris', '2027-03-28T00:10:00Z', 3);

    // Assess: 01:30 CET, then 03:00 and 03:30 CEST
    expect(times).toEqual(['2027-03-28T00:30:00.000Z', '2027-03-28T01:00:00.000Z', '2027-03-28T01:30:00.000Z']);
  });

  it('keeps a weekday 09:00 at 09:00 local, winter and summer', () => {
    // Act
    const winter = fires('cron(0 9 ? * MON-FRI *)', 'Europe/Paris', '2027-03-25T12:00:00Z', 2);

    // Assess: Friday 26th at 09:00 CET, Monday 29th at 09:00 CEST
    expect(winter).toEqual(['2027-03-26T08:00:00.000Z', '2027-03-29T07:00:00.000Z']);
  });

  it.each([
    ['the last day of the month (L)', 'cron(0 12 L * ? 2028)', ['2028-01-31T12:00:00.000Z', '2028-02-29T12:00:00.000Z']],
    ['the weekday nearest the 15th (15W)', 'cron(0 12 15W * ? 2027)', ['2027-05-14T12:00:00.000Z', '2027-06-15T12:00:00.000Z']],
    ['the second Tuesday (3#2, 1 = Sunday)', 'cron(0 12 ? * 3#2 2027)', ['2027-05-11T12:00:00.000Z', '2027-06-08T12:00:00.000Z']],
    ['the last Friday (6L)', 'cron(0 12 ? * 6L 2027)', ['2027-05-28T12:00:00.000Z', '2027-06-25T12:00:00.000Z']],
    ['Saturdays, the last day of the week (L)', 'cron(0 12 ? * L 2027)', ['2027-05-01T12:00:00.000Z', '2027-05-08T12:00:00.000Z']],
    ['every tenth minute from the first (1/10)', 'cron(1/10 12 * * ? 2027)', ['2027-04-30T12:31:00.000Z', '2027-04-30T12:41:00.000Z']],
  ])('reads EventBridge cron fields: %s', (_label, expression, expected) => {
    // Act
    const times = fires(expression, 'UTC', '2027-04-30T12:30:00Z', 2);

    // Assess
    expect(times).toEqual(expected);
  });

  it('stops at the year field and at the end date', () => {
    // Act
    const lastYear = fires('cron(0 0 1 1 ? 2028)', 'UTC', '2027-01-01T00:00:00Z', 3);
    const ended = fires('cron(0 0 * * ? *)', 'UTC', '2027-01-01T00:00:00Z', 5, { endMs: Date.parse('2027-01-03T00:00:00Z') });

    // Assess: the end date is exclusive
    expect(lastYear).toEqual(['2028-01-01T00:00:00.000Z']);
    expect(ended).toEqual(['2027-01-02T00:00:00.000Z']);
  });

  it('starts no earlier than the start date', () => {
    // Act
    const times = fires('cron(0 0 * * ? *)', 'UTC', '2027-01-01T00:00:00Z', 2, { startMs: Date.parse('2027-01-10T00:00:00Z') });

    // Assess: the start date is inclusive
    expect(times).toEqual(['2027-01-10T00:00:00.000Z', '2027-01-11T00:00:00.000Z']);
  });
});

describe('the next fire time of a rate()', () => {
  it('fires every period from its anchor, the first at the anchor itself', () => {
    // Prepare
    const rate = parseScheduleExpression('rate(1 minute)', 'UTC');
    const anchorMs = Date.parse('2027-01-01T00:00:00.500Z');

    // Act
    const first = nextRecurringFire(rate, anchorMs - 1, { anchorMs });
    const second = nextRecurringFire(rate, anchorMs, { anchorMs });
    const late = nextRecurringFire(rate, anchorMs + 125_000, { anchorMs });

    // Assess
    expect(first).toBe(anchorMs);
    expect(second).toBe(anchorMs + 60_000);
    expect(late).toBe(anchorMs + 180_000);
  });

  it('counts a day as 24 hours across a change of clocks', () => {
    // Act
    const times = fires('rate(1 day)', 'Europe/Paris', '2027-03-27T08:00:00Z', 2, { startMs: Date.parse('2027-03-27T08:00:00Z') });

    // Assess: 09:00 CET on the 27th, 10:00 CEST on the 28th: 24 hours on the clock of the world
    expect(times).toEqual(['2027-03-28T08:00:00.000Z', '2027-03-29T08:00:00.000Z']);
  });
});

describe('reading schedule expressions', () => {
  it('reads at() as wall-clock time in the time zone', () => {
    // Act
    const at = parseScheduleExpression('at(2027-07-01T12:00:00)', 'Europe/Paris');

    // Assess
    expect(at).toEqual({ kind: 'at', atMs: Date.parse('2027-07-01T10:00:00Z') });
  });

  it.each([
    ['cron(0 9 * * * *)', 'Day-of-month and Day-of-week cannot both be specified'],
    ['cron(0 9 ? * ? *)', 'Day-of-month and Day-of-week cannot both be specified'],
    ['cron(0 9 * *)', 'six fields'],
    ['cron(60 9 * * ? *)', 'Minutes 60 is out of range'],
    ['cron(0 24 * * ? *)', 'Hours 24 is out of range'],
    ['cron(0 9 ? * 8 *)', 'Day-of-week 8 is out of range'],
    ['cron(0 9 ? * FUN *)', 'Day-of-week FUN is not valid'],
    ['cron(0 9 * 13 ? *)', 'Month 13 is out of range'],
    ['cron(0 9 * * ? 1969)', 'Year 1969 is out of range'],
    ['cron(0 9 15W * ? *)'.replace('15W', '15#2'), 'Day-of-month 15#2 is not valid'],
    ['cron(0 9 ? * 3#2,5#1 *)', 'With #, Day-of-week takes a single expression'],
    ['cron(0 9 ? * 3#6 *)', 'is not weekday#n'],
    ['cron(0/0 9 * * ? *)', 'an increment is start/n'],
    ['rate(0 minutes)', 'positive whole number'],
    ['rate(5 weeks)', 'the unit one of minute'],
    ['rate(five minutes)', 'rate(value unit)'],
    ['at(2027-02-30T10:00:00)', 'is not a date and time'],
    ['at(2027-01-01 10:00:00)', 'at(yyyy-mm-ddThh:mm:ss)'],
    ['every(5 minutes)', 'Use at(yyyy-mm-ddThh:mm:ss), rate(value unit) or cron('],
  ])('refuses %s, naming what is wrong', (expression, reason) => {
    // Act
    const read = (): unknown => parseScheduleExpression(expression, 'UTC');

    // Assess
    expect(read).toThrow(ScheduleExpressionError);
    expect(read).toThrow(`Invalid Schedule Expression ${expression}.`);
    expect(read).toThrow(reason);
  });

  it.each(['Mars/Olympus', '+01:00', 'Europe Paris'])('refuses the time zone %s', (timeZone) => {
    // Act
    const read = (): unknown => parseScheduleExpression('rate(1 hour)', timeZone);

    // Assess
    expect(read).toThrow(`Invalid ScheduleExpressionTimezone ${timeZone}.`);
  });
});
