import { Cron } from 'croner';
import { describe, expect, it } from 'vitest';
import { nextRecurringFire, parseScheduleExpression } from '../../../../local/schedule-expressions.ts';
import { changedSchedule, checkScheduleFires, eventBridgeCronFields, missedFiring, nextOccurrences, RecurringScheduleError, recurringViewStatus, scheduleExpressionOf, schedulerStartDate, startAtAsOf, toRecurringView } from '../../../../shared/domain/recurring.ts';
import { aRecurringDefinition } from '../../fakes/fixtures.ts';

/** A RecurringScheduleError naming `schedule.cron`. */
const refusedCron = expect.objectContaining({ name: 'RecurringScheduleError', field: 'schedule.cron' }) as Error;

describe('cron forms', () => {
  it.each([
    ['0 9 * * MON-FRI', '0 9 ? * MON-FRI *'],
    ['0 9 * * 1-5', '0 9 ? * 2-6 *'],
    ['30 7 * * 0', '30 7 ? * 1 *'],
    ['30 7 * * 7', '30 7 ? * 1 *'],
    ['0 8 1 * *', '0 8 1 * ? *'],
    ['*/15 * * * *', '*/15 * * * ? *'],
    ['0 9 ? * MON-FRI *', '0 9 ? * MON-FRI *'],
  ])('reads %s as EventBridge fields %s', (cron, fields) => {
    // Act / Assess
    expect(eventBridgeCronFields(cron)).toBe(fields);
  });

  // EventBridge's Day-of-week takes 1-7 (1 Sunday) and no step, and refuses a range that wraps.
  const weekdayTranslations = [
    ['0-7', '1-7'],
    ['1-7', '2-7,1'],
    ['5-7', '6-7,1'],
    ['6-7', '7,1'],
    ['7-7', '1'],
    ['0,7', '1'],
    ['0-6', '1-7'],
    ['0-6/2', '1,3,5,7'],
    ['1-7/2', '2,4,6,1'],
    ['3-7/3', '4,7'],
    ['*/2', '1,3,5,7'],
    ['*/3', '1,4,7'],
    ['1,3,5-7', '2,4,6-7,1'],
    ['1-5,6-7', '2-6,7,1'],
    ['FRI-SUN', '6-7,1'],
    ['SAT-SUN', '7,1'],
    ['MON-FRI/2', '2,4,6'],
    ['mon-wed', 'MON-WED'],
    ['SUN-SAT', 'SUN-SAT'],
    ['MON,WED,FRI', 'MON,WED,FRI'],
    ['5#2', '6#2'],
    ['7#1', '1#1'],
    ['FRI#3', 'FRI#3'],
    ['5L', '6L'],
    ['0L', '1L'],
  ] as const;

  it.each(weekdayTranslations)('reads five-field weekdays %s as EventBridge weekdays %s', (weekdays, translated) => {
    // Act / Assess
    expect(eventBridgeCronFields(`0 9 * * ${weekdays}`)).toBe(`0 9 ? * ${translated} *`);
  });

  it.each(weekdayTranslations)('fires five-field weekdays %s on the days croner reads them as, on the local Scheduler too', (weekdays) => {
    // Prepare: 09:00 in Paris (never in a gap) for 12 weeks from before the spring change of clocks
    const cron = `0 9 * * ${weekdays}`;
    const timezone = 'Europe/Paris';
    const after = Date.parse('2027-03-01T00:00:00Z');
    const count = 30;
    const croner = new Cron(cron, { timezone, paused: true }).nextRuns(count, new Date(after)).map((d) => d.toISOString());
    const expression = parseScheduleExpression(`cron(${eventBridgeCronFields(cron)})`, timezone);
    const fired: string[] = [];
    for (let at = after; fired.length < count; ) {
      at = nextRecurringFire(expression, at, { anchorMs: 0 }) ?? Number.NaN;
      fired.push(new Date(at).toISOString());
    }

    // Act
    const shown = nextOccurrences({ cron, timezone }, after, count, 0).map((ms) => new Date(ms).toISOString());

    // Assess
    expect(shown).toEqual(croner);
    expect(fired).toEqual(croner);
  });

  it.each(['0 9 * * 6-0', '0 9 * * 8', '0 9 * * 0-8', '0 9 * * 1/2', '0 9 * * */8', '0 9 * * SAT-MON', '0 9 * * 1,,2'])(
    'refuses weekdays that five-field cron refuses too (%s), naming schedule.cron',
    (cron) => {
      expect(() => eventBridgeCronFields(cron)).toThrow(refusedCron);
      expect(() => new Cron(cron, { paused: true })).toThrow();
    },
  );

  it.each(['0 9 1 * MON', '0 9 * *', '0 9 * * * * *', '0 9 * * MON;'])('refuses %s, naming schedule.cron', (cron) => {
    expect(() => eventBridgeCronFields(cron)).toThrow(refusedCron);
  });

  it.each([
    ['* * * * * *', 'Day-of-month and Day-of-week cannot both be specified: use ? in exactly one of them.'],
    ['0 9 ? 13 * *', 'Month 13 is out of range: Month takes 1-12 or JAN-DEC and the wildcards , - * /.'],
    ['0 9 ? * MON-FOO *', 'Day-of-week MON-FOO is not valid: Day-of-week takes 1-7 or SUN-SAT and the wildcards , - * ? L #.'],
    ['0 24 * * ? *', 'Hours 24 is out of range: Hours takes 0-23 and the wildcards , - * /.'],
    ['0 9 ? * 2#6 *', 'Day-of-week 2#6 is not weekday#n with n 1-5.'],
    ['0 9 ? * 2#1,3 *', 'With #, Day-of-week takes a single expression.'],
    ['0 9 * * ? 2200', 'Year 2200 is out of range: Year takes 1970-2199 and the wildcards , - * /.'],
    ['0 0 ? * 2/2 *', 'Day-of-week 2/2: Day-of-week takes no increment (/): Day-of-week takes 1-7 or SUN-SAT and the wildcards , - * ? L #.'],
    ['0/0 9 * * ? *', 'Minutes 0/0: an increment is start/n with n a positive whole number.'],
  ])('refuses the six EventBridge fields %j as the Scheduler would, before anything is written', (cron, reason) => {
    // Act / Assess: the reason is the local Scheduler's own
    expect(() => eventBridgeCronFields(cron)).toThrow(new RecurringScheduleError('schedule.cron', `is not an EventBridge cron: ${reason}`));
    expect(() => parseScheduleExpression(`cron(${cron})`, 'UTC')).toThrow(`Invalid Schedule Expression cron(${cron}). ${reason}`);
  });

  it.each([
    ['0 9 * 13 *', 'cannot be read: Month 13 is out of range: Month takes 1-12 or JAN-DEC and the wildcards , - * /.'],
    ['60 9 * * *', 'cannot be read: Minutes 60 is out of range: Minutes takes 0-59 and the wildcards , - * /.'],
    ['0 9 32 * *', 'cannot be read: Day-of-month 32 is out of range: Day-of-month takes 1-31 and the wildcards , - * ? / L W.'],
    // The weekday as written, not as translated to EventBridge's numbering (6#6, 1#0).
    ['0 9 * * 5#6', 'weekday 5#6 is not weekday#n with n 1-5'],
    ['0 9 * * 0#0', 'weekday 0#0 is not weekday#n with n 1-5'],
    ['0 9 * * FRI#6', 'weekday FRI#6 is not weekday#n with n 1-5'],
  ])('refuses five fields out of range (%j) in the same words as six', (cron, message) => {
    expect(() => eventBridgeCronFields(cron)).toThrow(new RecurringScheduleError('schedule.cron', message));
  });

  it.each([
    ['cron(0 9 ? * MON-FRI *)', 'must be the fields alone, without cron( )'],
    [' cron( 0 9 * * * ) ', 'must be the fields alone, without cron( )'],
    ['0 9 * * MON;', 'holds a character no cron field takes, in "MON;"'],
    ['0 9 * * $', 'holds a character no cron field takes, in "$"'],
  ])('refuses %j saying what to change', (cron, message) => {
    expect(() => eventBridgeCronFields(cron)).toThrow(new RecurringScheduleError('schedule.cron', message));
  });

  it('writes rates as EventBridge wants them: singular for one', () => {
    // Act / Assess
    expect(scheduleExpressionOf({ rate: '1 minutes' })).toBe('rate(1 minute)');
    expect(scheduleExpressionOf({ rate: '5 minute' })).toBe('rate(5 minutes)');
    expect(scheduleExpressionOf({ cron: '0 9 * * MON-FRI' })).toBe('cron(0 9 ? * MON-FRI *)');
    expect(() => scheduleExpressionOf({ rate: '2 weeks' })).toThrow(RecurringScheduleError);
  });
});

describe('nextOccurrences', () => {
  it('finds weekday mornings in the zone, across the spring change of clocks', () => {
    // Act: 09:00 Monday to Friday in Paris, from Friday 2027-03-26 noon UTC (clocks go forward on Sunday the 28th)
    const next = nextOccurrences({ cron: '0 9 * * MON-FRI', timezone: 'Europe/Paris' }, Date.parse('2027-03-26T12:00:00Z'), 3, 0);

    // Assess: Monday 09:00 is +02:00 now
    expect(next.map((ms) => new Date(ms).toISOString())).toEqual(['2027-03-29T07:00:00.000Z', '2027-03-30T07:00:00.000Z', '2027-03-31T07:00:00.000Z']);
  });

  it.each([
    ['30 2 * * *', 'Europe/Paris', '2027-03-27T12:00:00Z', ['2027-03-29T00:30:00.000Z', '2027-03-30T00:30:00.000Z']],
    ['0,30 * * * *', 'America/New_York', '2027-11-07T04:45:00Z', ['2027-11-07T05:00:00.000Z', '2027-11-07T05:30:00.000Z', '2027-11-07T07:00:00.000Z']],
  ])('skips a time the clocks jump over and counts a repeated one once, as EventBridge: %s in %s', (cron, timezone, after, expected) => {
    // Act
    const next = nextOccurrences({ cron, timezone }, Date.parse(after), expected.length, 0);

    // Assess
    expect(next.map((ms) => new Date(ms).toISOString())).toEqual(expected);
  });

  it.each([
    ['0 9 * * MON-FRI', 'Europe/Paris', '2027-03-20T00:00:00Z'],
    ['30 2 * * *', 'Europe/Paris', '2027-03-25T00:00:00Z'],
    ['30 2 * * *', 'Europe/Paris', '2027-10-28T00:00:00Z'],
    ['*/20 1-2 * * *', 'America/New_York', '2027-11-05T00:00:00Z'],
    ['*/15 1-3 * * *', 'America/New_York', '2027-03-13T00:00:00Z'],
    ['0,30 1-2 * * *', 'Australia/Lord_Howe', '2027-04-02T00:00:00Z'],
    ['0,30 1-2 * * *', 'Australia/Lord_Howe', '2027-10-01T00:00:00Z'],
    ['0 0 L * ? *', 'Asia/Tokyo', '2027-01-01T00:00:00Z'],
  ])('shows the times the local Scheduler fires %s in %s at, across a change of clocks', (cron, timezone, after) => {
    // Prepare: the emulator's own reading of the same schedule, fire after fire
    const expression = parseScheduleExpression(`cron(${eventBridgeCronFields(cron)})`, timezone);
    const fired: number[] = [];
    for (let at = Date.parse(after); fired.length < 20; ) {
      at = nextRecurringFire(expression, at, { anchorMs: 0 }) ?? Number.NaN;
      fired.push(at);
    }

    // Act
    const shown = nextOccurrences({ cron, timezone }, Date.parse(after), 20, 0);

    // Assess
    expect(shown.map((ms) => new Date(ms).toISOString())).toEqual(fired.map((ms) => new Date(ms).toISOString()));
  });

  it('counts a rate in whole periods from its start and stops before its end', () => {
    // Act
    const next = nextOccurrences(
      { rate: '1 hour', timezone: 'UTC', startAt: '2030-01-01T00:00:00.000Z', endAt: '2030-01-01T03:00:00.000Z' },
      Date.parse('2030-01-01T00:30:00Z'),
      5,
      0,
    );

    // Assess
    expect(next.map((ms) => new Date(ms).toISOString())).toEqual(['2030-01-01T01:00:00.000Z', '2030-01-01T02:00:00.000Z']);
  });

  describe('schedulerStartDate', () => {
    const now = Date.parse('2030-01-10T12:00:00.000Z');

    it.each([
      ['a startAt ahead, as it is', { rate: '1 day', timezone: 'UTC', startAt: '2030-01-11T09:00:00.000Z' }, 0, '2030-01-11T09:00:00.000Z'],
      ['a rate set now without startAt, none: it starts now', { rate: '1 hour', timezone: 'UTC' }, now, undefined],
      ['a rate set earlier, its next period on its grid', { rate: '1 hour', timezone: 'UTC' }, now - 90 * 60_000, '2030-01-10T12:30:00.000Z'],
      ['a rate whose startAt passed, its next period from startAt', { rate: '1 day', timezone: 'UTC', startAt: '2030-01-01T09:00:00.000Z' }, 0, '2030-01-11T09:00:00.000Z'],
      ['a rate with no period left before endAt, ended', { rate: '1 day', timezone: 'UTC', startAt: '2030-01-01T09:00:00.000Z', endAt: '2030-01-10T13:00:00.000Z' }, 0, 'ended'],
      ['a cron whose startAt passed, none', { cron: '0 9 * * *', timezone: 'UTC', startAt: '2030-01-01T09:00:00.000Z' }, 0, undefined],
      ['a startAt ahead within a second, the whole second after it', { rate: '1 hour', timezone: 'UTC', startAt: '2030-01-10T12:00:07.632Z' }, 0, '2030-01-10T12:00:08.000Z'],
      ['a rate whose startAt with milliseconds passed, its next period on the grid of the whole second after it', { rate: '1 hour', timezone: 'UTC', startAt: '2030-01-10T10:59:59.500Z' }, 0, '2030-01-10T13:00:00.000Z'],
    ])('gives %s', (_case, schedule, anchorMs, expected) => {
      // Act
      const start = schedulerStartDate(schedule, anchorMs, now);

      // Assess
      expect(typeof start === 'number' ? new Date(start).toISOString() : start).toBe(expected);
    });
  });
});

describe('a rate\'s startAt', () => {
  const now = Date.parse('2030-01-10T12:00:00.000Z');

  it.each([
    ['a second past', '2030-01-10T11:59:59.000Z', '2030-01-10T12:00:00.000Z'],
    ['5 s past, the tolerance', '2030-01-10T11:59:55.000Z', '2030-01-10T12:00:00.000Z'],
    ['just over 5 s past, as given', '2030-01-10T11:59:54.999Z', '2030-01-10T11:59:54.999Z'],
    ['a week past, as given (read on its grid)', '2030-01-03T12:00:00.000Z', '2030-01-03T12:00:00.000Z'],
    ['ahead, as given', '2030-01-10T12:00:01.000Z', '2030-01-10T12:00:01.000Z'],
  ])('given %s is taken as now only within the clock-skew tolerance', (_case, startAt, expected) => {
    // Act / Assess
    expect(startAtAsOf(startAt, now)).toBe(expected);
  });

  it('counts its periods from the whole second at or after it, so no occurrence precedes it, and a PATCH takes it as a create does', () => {
    // Prepare
    const schedule = { rate: '1 minute', timezone: 'UTC', startAt: '2030-01-10T12:00:27.632Z' };

    // Act
    const next = nextOccurrences(schedule, now, 2, 0);
    const patched = changedSchedule({ rate: '1 hour', timezone: 'UTC' }, { startAt: '2030-01-10T11:59:58.000Z' }, now);

    // Assess
    expect(next.map((ms) => new Date(ms).toISOString())).toEqual(['2030-01-10T12:00:28.000Z', '2030-01-10T12:01:28.000Z']);
    expect(patched.startAt).toBe('2030-01-10T12:00:00.000Z');
  });
});

describe('checkScheduleFires', () => {
  const now = Date.parse('2030-01-10T12:00:00.000Z');

  it.each([
    ['a rate set now that ends before its second time: it fires once, at once', { rate: '1 day', timezone: 'UTC', endAt: '2030-01-10T13:00:00.000Z' }],
    ['a weekday cron', { cron: '0 9 * * 1-5', timezone: 'Europe/Paris' }],
    ['a cron in a year to come', { cron: '0 9 1 1 ? 2031', timezone: 'UTC' }],
  ])('takes %s', (_case, schedule) => {
    expect(() => checkScheduleFires(schedule, now, now)).not.toThrow();
  });

  it.each([
    ['an end already past', { rate: '1 hour', timezone: 'UTC', endAt: '2030-01-01T00:00:00.000Z' }, 'schedule.endAt'],
    ['a cron of 30 February', { cron: '0 9 30 2 *', timezone: 'UTC' }, 'schedule.cron'],
    ['a cron whose year is past', { cron: '0 9 * * ? 2020', timezone: 'UTC' }, 'schedule.cron'],
    ['a start and an end with no time of the cron between', { cron: '0 9 * * *', timezone: 'UTC', startAt: '2030-01-11T10:00:00.000Z', endAt: '2030-01-11T12:00:00.000Z' }, 'schedule.endAt'],
  ])('refuses %s, naming the field', (_case, schedule, field) => {
    expect(() => checkScheduleFires(schedule, now, now)).toThrow(expect.objectContaining({ name: 'RecurringScheduleError', field }) as Error);
  });
});

describe('the status a view shows', () => {
  const now = Date.parse('2030-01-10T12:00:00.000Z');

  it.each([
    ['active with an occurrence left', { rate: '1 hour', timezone: 'UTC', endAt: '2030-01-10T13:30:00.000Z' }, 'active', 'active'],
    ['paused with an occurrence left', { rate: '1 hour', timezone: 'UTC', endAt: '2030-01-10T13:30:00.000Z' }, 'paused', 'paused'],
    ['completed once its endAt passed', { rate: '1 hour', timezone: 'UTC', endAt: '2030-01-10T11:30:00.000Z' }, 'active', 'completed'],
    ['active until its endAt, though its last time before that end has passed', { cron: '0 9 * * ? *', timezone: 'UTC', endAt: '2030-01-10T20:00:00.000Z' }, 'active', 'active'],
    ['completed at its endAt itself', { rate: '1 hour', timezone: 'UTC', endAt: '2030-01-10T12:00:00.000Z' }, 'active', 'completed'],
    ['completed when paused past its end: resuming would not make it fire', { rate: '1 hour', timezone: 'UTC', endAt: '2030-01-10T11:30:00.000Z' }, 'paused', 'completed'],
    ['completed when its cron\'s years are past', { cron: '0 9 * * ? 2029', timezone: 'UTC' }, 'active', 'completed'],
    ['as stored for a cron stored before it was checked as it now is', { cron: '0 9 * * * *', timezone: 'UTC' }, 'active', 'active'],
  ] as const)('is %s', (_case, schedule, status, shown) => {
    // Prepare
    const definition = aRecurringDefinition({ schedule, status });

    // Act
    const view = toRecurringView(definition, now);

    // Assess
    expect(recurringViewStatus(definition, now)).toBe(shown);
    expect(view.status).toBe(shown);
  });
});

describe('missedFiring', () => {
  const anchor = Date.parse('2030-01-10T12:00:00.000Z');
  const minute = 60_000;

  it.each([
    ['a rate without startAt, at its put itself', { rate: '1 day', timezone: 'UTC' }, anchor + 40_000, '2030-01-10T12:00:00.000Z'],
    ['a rate without startAt put at its anchor, nothing: it fires at that put', { rate: '1 day', timezone: 'UTC' }, anchor, undefined],
    ['a minute rate 10.5 minutes on, the last of eleven firings', { rate: '1 minute', timezone: 'UTC' }, anchor + 10.5 * minute, '2030-01-10T12:10:00.000Z'],
    ['a minute rate put on the second of a firing, that firing: the put starts after it', { rate: '1 minute', timezone: 'UTC' }, anchor + minute, '2030-01-10T12:01:00.000Z'],
    ['a rate whose startAt is ahead of its put, nothing before that start', { rate: '1 hour', timezone: 'UTC', startAt: '2030-01-10T13:00:00.000Z' }, anchor + 30 * minute, undefined],
    ['a rate whose startAt is ahead of its put, at that start once it passed', { rate: '1 hour', timezone: 'UTC', startAt: '2030-01-10T13:00:00.000Z' }, anchor + 70 * minute, '2030-01-10T13:00:00.000Z'],
    ['a rate whose startAt passed before its put, on its grid after the put', { rate: '1 hour', timezone: 'UTC', startAt: '2030-01-01T09:30:00.000Z' }, anchor + 40 * minute, '2030-01-10T12:30:00.000Z'],
    ['a cron, not at the put', { cron: '1 12 * * *', timezone: 'UTC' }, anchor + 40_000, undefined],
    ['a cron, its time passed since the put', { cron: '1 12 * * *', timezone: 'UTC' }, anchor + 90_000, '2030-01-10T12:01:00.000Z'],
    ['a cron put on the second of its time, that time', { cron: '1 12 * * *', timezone: 'UTC' }, anchor + minute, '2030-01-10T12:01:00.000Z'],
    ['a cron every minute a day and more on, its last time', { cron: '* * * * *', timezone: 'UTC' }, anchor + 25 * 60 * minute + 30_000, '2030-01-11T13:00:00.000Z'],
    ['a rate past its endAt, its last firing within it', { rate: '1 hour', timezone: 'UTC', endAt: '2030-01-10T14:30:00.000Z' }, anchor + 170 * minute, '2030-01-10T14:00:00.000Z'],
    ['nothing older than an hour: a daily rate retried a day less 59 minutes on', { rate: '1 day', timezone: 'UTC' }, anchor + 23 * 60 * minute + minute, undefined],
    ['an hourly rate past its endAt by more than an hour, nothing', { rate: '1 hour', timezone: 'UTC', endAt: '2030-01-10T14:30:00.000Z' }, anchor + 5 * 60 * minute, undefined],
    ['a time exactly an hour old', { cron: '0 13 * * *', timezone: 'UTC' }, anchor + 120 * minute, '2030-01-10T13:00:00.000Z'],
    ['a cron every minute two hours on, read past its first 60 times: its last', { cron: '* * * * *', timezone: 'UTC' }, anchor + 120 * minute, '2030-01-10T14:00:00.000Z'],
  ])('gives %s', (_case, schedule, nowMs, expected) => {
    // Act
    const missed = missedFiring(schedule, anchor, nowMs);

    // Assess
    expect(missed === undefined ? undefined : new Date(missed).toISOString()).toBe(expected);
  });

  it('is the last firing of nextOccurrences at or before the put, within the hour, for any time of a DST day', () => {
    // Prepare: a cron every 7 minutes in Paris across the clocks going back, put every 13 minutes
    const schedule = { cron: '*/7 * * * *', timezone: 'Europe/Paris' };
    const dstAnchor = Date.parse('2030-10-26T22:00:00.000Z');
    const firings = nextOccurrences(schedule, dstAnchor, 60, dstAnchor);
    for (let nowMs = dstAnchor; nowMs < dstAnchor + 6 * 60 * minute; nowMs += 13 * minute + 1_000) {
      const expected = firings.filter((at) => at <= nowMs && at >= nowMs - 60 * minute).at(-1);

      // Act + Assess
      expect(missedFiring(schedule, dstAnchor, nowMs)).toBe(expected);
    }
  });
});
