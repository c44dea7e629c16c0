import { afterEach, describe, expect, it, vi } from 'vitest';
import { isKnownTimeZone, normalizeTimeZone, offsetMinutesAt, quietWindowEnd, resolveLocalTime, toLocalIso } from '../../../../shared/domain/time.ts';

const utc = (iso: string): number => Date.parse(iso);

/**
 * Every change of clocks in 2027 in three zones (tz database): Paris and New York move by an hour,
 * Lord Howe by half an hour. For each: a wall time in the gap or the overlap, and the instants
 * just around it.
 */
const transitions2027 = [
  {
    zone: 'Europe/Paris',
    gap: { local: '2027-03-28T02:30', expectUtc: '2027-03-28T01:30:00Z', resolvedLocal: '2027-03-28T03:30:00+02:00', shiftMinutes: 60 },
    overlap: { local: '2027-10-31T02:30', expectUtc: '2027-10-31T00:30:00Z', resolvedLocal: '2027-10-31T02:30:00+02:00' },
    before: { local: '2027-03-28T01:59', expectUtc: '2027-03-28T00:59:00Z' },
    after: { local: '2027-10-31T03:00', expectUtc: '2027-10-31T02:00:00Z' },
  },
  {
    zone: 'America/New_York',
    gap: { local: '2027-03-14T02:30', expectUtc: '2027-03-14T07:30:00Z', resolvedLocal: '2027-03-14T03:30:00-04:00', shiftMinutes: 60 },
    overlap: { local: '2027-11-07T01:30', expectUtc: '2027-11-07T05:30:00Z', resolvedLocal: '2027-11-07T01:30:00-04:00' },
    before: { local: '2027-03-14T01:59', expectUtc: '2027-03-14T06:59:00Z' },
    after: { local: '2027-11-07T02:00', expectUtc: '2027-11-07T07:00:00Z' },
  },
  {
    zone: 'Australia/Lord_Howe',
    gap: { local: '2027-10-03T02:15', expectUtc: '2027-10-02T15:45:00Z', resolvedLocal: '2027-10-03T02:45:00+11:00', shiftMinutes: 30 },
    overlap: { local: '2027-04-04T01:45', expectUtc: '2027-04-03T14:45:00Z', resolvedLocal: '2027-04-04T01:45:00+11:00' },
    before: { local: '2027-10-03T01:59', expectUtc: '2027-10-02T15:29:00Z' },
    after: { local: '2027-04-04T02:00', expectUtc: '2027-04-03T15:30:00Z' },
  },
] as const;

describe('resolveLocalTime across every 2027 change of clocks', () => {
  it.each(transitions2027)('moves a wall time in the $zone spring gap forward by the gap and says so', ({ zone, gap }) => {
    // Act
    const resolved = resolveLocalTime(gap.local, zone);

    // Assess
    expect(new Date(resolved.epochMs).toISOString()).toBe(new Date(gap.expectUtc).toISOString());
    expect(resolved.adjustment).toEqual({ kind: 'gap', requestedLocal: `${gap.local}:00`, resolvedLocal: gap.resolvedLocal, shiftMinutes: gap.shiftMinutes });
  });

  it.each(transitions2027)('takes the earlier instant of an ambiguous $zone autumn wall time and says so', ({ zone, overlap }) => {
    // Act
    const resolved = resolveLocalTime(overlap.local, zone);

    // Assess
    expect(resolved.epochMs).toBe(utc(overlap.expectUtc));
    expect(resolved.adjustment).toEqual({ kind: 'overlap', requestedLocal: `${overlap.local}:00`, resolvedLocal: overlap.resolvedLocal });
  });

  it.each(transitions2027)('leaves the plain wall times around the $zone changes unadjusted', ({ zone, before, after }) => {
    // Act
    const early = resolveLocalTime(before.local, zone);
    const late = resolveLocalTime(after.local, zone);

    // Assess
    expect(early).toEqual({ epochMs: utc(before.expectUtc) });
    expect(late).toEqual({ epochMs: utc(after.expectUtc) });
  });

  it.each(transitions2027)('shows the $zone gap instant with its new offset', ({ zone, gap }) => {
    // Act
    const shown = toLocalIso(utc(gap.expectUtc), zone);

    // Assess
    expect(shown).toBe(gap.resolvedLocal);
  });

  it('counts Lord Howe offsets in half hours', () => {
    // Act / Assess
    expect(offsetMinutesAt(utc('2027-07-01T00:00:00Z'), 'Australia/Lord_Howe')).toBe(630);
    expect(offsetMinutesAt(utc('2027-12-01T00:00:00Z'), 'Australia/Lord_Howe')).toBe(660);
  });

  it('refuses a malformed wall time, an impossible date, a leap second and an unknown zone', () => {
    // Act / Assess
    expect(() => resolveLocalTime('2027-03-28 02:30', 'Europe/Paris')).toThrow(RangeError);
    expect(() => resolveLocalTime('2027-02-30T09:00', 'Europe/Paris')).toThrow(RangeError);
    expect(() => resolveLocalTime('2027-06-30T23:59:60', 'UTC')).toThrow(RangeError);
    expect(() => resolveLocalTime('2027-06-30T23:59:60.500', 'UTC')).toThrow(RangeError);
    expect(() => resolveLocalTime('2027-03-28T09:00', 'Mars/Olympus_Mons')).toThrow(RangeError);
  });

  it('knows IANA zones and not offsets or inventions', () => {
    // Act / Assess
    expect(isKnownTimeZone('Australia/Lord_Howe')).toBe(true);
    expect(isKnownTimeZone('UTC')).toBe(true);
    expect(isKnownTimeZone('+01:00')).toBe(false);
    expect(isKnownTimeZone('Mars/Olympus_Mons')).toBe(false);
  });

  describe('asking Intl', () => {
    afterEach(() => {
      vi.restoreAllMocks();
    });

    it('asks once for a known zone and every time for an unknown one', () => {
      // Arrange
      expect(isKnownTimeZone('America/Argentina/Ushuaia')).toBe(true);
      const asked = vi.spyOn(Intl, 'DateTimeFormat');

      // Act
      const again = [isKnownTimeZone('America/Argentina/Ushuaia'), isKnownTimeZone('America/Argentina/Ushuaia')];
      const unknown = [isKnownTimeZone('Mars/Tharsis'), isKnownTimeZone('Mars/Tharsis')];

      // Assess
      expect(again).toEqual([true, true]);
      expect(unknown).toEqual([false, false]);
      expect(asked).toHaveBeenCalledTimes(2);
    });

    it('remembers at most 1,024 names, so that spellings of one zone cannot grow it without end', () => {
      // Arrange: 2,048 spellings of one zone (Intl takes any case), each asked once
      const letters = [...'america/argentina/salta'];
      const spellings = Array.from({ length: 2048 }, (_, n) => {
        let bit = 0;
        return letters.map((c) => (c === '/' ? c : (n >> bit++) & 1 ? c.toUpperCase() : c)).join('');
      });
      expect(new Set(spellings).size).toBe(2048);
      for (const spelling of spellings) expect(isKnownTimeZone(spelling)).toBe(true);
      const asked = vi.spyOn(Intl, 'DateTimeFormat');

      // Act: the last spelling came after the bound
      const last = isKnownTimeZone(spellings.at(-1) as string);

      // Assess: still known, and asked again
      expect(last).toBe(true);
      expect(asked).toHaveBeenCalledTimes(1);
    });
  });
});

/**
 * The tz database's names (2025b, Zones and Links) that Node 24's `Intl` answers with another zone,
 * CLDR's (`Asia/Kolkata` with `Asia/Calcutta`), so that Herald spells them itself; and the names
 * whose case no word rule gives, which `Intl` answers as they are today.
 */
const namesIntlDoesNotSpell = `
  Africa/Asmara Africa/Timbuktu America/Argentina/Buenos_Aires America/Argentina/Catamarca America/Argentina/ComodRivadavia America/Argentina/Cordoba
  America/Argentina/Jujuy America/Argentina/Mendoza America/Atikokan America/Atka America/Ensenada America/Fort_Wayne America/Indiana/Indianapolis
  America/Kentucky/Louisville America/Knox_IN America/Montreal America/Nipigon America/Nuuk America/Pangnirtung America/Porto_Acre America/Rainy_River
  America/Rosario America/Santa_Isabel America/Shiprock America/Thunder_Bay America/Virgin America/Yellowknife Antarctica/South_Pole Asia/Ashkhabad
  Asia/Choibalsan Asia/Chongqing Asia/Chungking Asia/Dacca Asia/Harbin Asia/Ho_Chi_Minh Asia/Istanbul Asia/Kashgar Asia/Kathmandu Asia/Kolkata
  Asia/Macao Asia/Tel_Aviv Asia/Thimbu Asia/Ujung_Pandang Asia/Ulan_Bator Asia/Yangon Atlantic/Faroe Atlantic/Jan_Mayen Australia/ACT
  Australia/Canberra Australia/Currie Australia/LHI Australia/NSW Australia/North Australia/Queensland Australia/South Australia/Tasmania
  Australia/Victoria Australia/West Australia/Yancowinna Brazil/Acre Brazil/DeNoronha Brazil/East Brazil/West CET CST6CDT Canada/Atlantic
  Canada/Central Canada/Eastern Canada/Mountain Canada/Newfoundland Canada/Pacific Canada/Saskatchewan Canada/Yukon Chile/Continental
  Chile/EasterIsland Cuba EET EST EST5EDT Egypt Eire Etc/GMT Etc/GMT+0 Etc/GMT-0 Etc/GMT0 Etc/Greenwich Etc/UCT Etc/UTC Etc/Universal Etc/Zulu
  Europe/Belfast Europe/Kyiv Europe/Nicosia Europe/Tiraspol Europe/Uzhgorod Europe/Zaporozhye GB GB-Eire GMT GMT+0 GMT-0 GMT0 Greenwich HST Hongkong
  Iceland Iran Israel Jamaica Japan Kwajalein Libya MET MST MST7MDT Mexico/BajaNorte Mexico/BajaSur Mexico/General NZ NZ-CHAT Navajo PRC PST8PDT
  Pacific/Chuuk Pacific/Johnston Pacific/Kanton Pacific/Pohnpei Pacific/Samoa Pacific/Yap Poland Portugal ROC ROK Singapore Turkey UCT US/Alaska
  US/Aleutian US/Arizona US/Central US/East-Indiana US/Eastern US/Hawaii US/Indiana-Starke US/Michigan US/Mountain US/Pacific US/Samoa Universal W-SU
  WET Zulu
  Africa/Dar_es_Salaam America/Port-au-Prince America/Port_of_Spain Antarctica/DumontDUrville Antarctica/McMurdo Europe/Isle_of_Man
`.trim().split(/\s+/);

describe('normalizeTimeZone', () => {
  it.each([
    ['europe/paris', 'Europe/Paris'],
    ['EUROPE/PARIS', 'Europe/Paris'],
    ['eUrOpE/pArIs', 'Europe/Paris'],
    ['Europe/Paris', 'Europe/Paris'],
    ['america/argentina/buenos_aires', 'America/Argentina/Buenos_Aires'],
    ['australia/lord_howe', 'Australia/Lord_Howe'],
    ['america/port-au-prince', 'America/Port-au-Prince'],
    ['utc', 'UTC'],
    ['UTC', 'UTC'],
    ['etc/utc', 'Etc/UTC'],
    ['ETC/UTC', 'Etc/UTC'],
    ['Etc/UTC', 'Etc/UTC'],
    ['etc/gmt+5', 'Etc/GMT+5'],
    ['est5edt', 'EST5EDT'],
  ])('spells %s as the tz database does: %s', (given, spelled) => {
    // Act
    const name = normalizeTimeZone(given);

    // Assess
    expect(name).toBe(spelled);
  });

  it.each([
    ['asia/calcutta', 'Asia/Calcutta'],
    ['ASIA/KOLKATA', 'Asia/Kolkata'],
    ['us/eastern', 'US/Eastern'],
    ['gmt', 'GMT'],
  ])('keeps the link %s as its own name, %s, not the zone it links to', (given, spelled) => {
    // Act
    const name = normalizeTimeZone(given);

    // Assess
    expect(name).toBe(spelled);
  });

  it('spells every name Intl answers with another zone, and each irregular one, in lower and in upper case', () => {
    // Act
    const misspelled = namesIntlDoesNotSpell.flatMap((name) =>
      [name.toLowerCase(), name.toUpperCase()].map((given) => ({ given, name: normalizeTimeZone(given) })).filter((answer) => answer.name !== name),
    );

    // Assess
    expect(namesIntlDoesNotSpell).toHaveLength(158);
    expect(misspelled).toEqual([]);
  });

  it('spells every zone Intl lists, given in lower case, as Intl lists it', () => {
    // Arrange
    const listed = Intl.supportedValuesOf('timeZone');

    // Act
    const misspelled = listed.filter((zone) => normalizeTimeZone(zone.toLowerCase()) !== zone);

    // Assess
    expect(listed.length).toBeGreaterThan(400);
    expect(misspelled).toEqual([]);
  });

  it.each(['Mars/Olympus_Mons', 'mars/olympus_mons', '+01:00', 'Europe/Paris ', '', 'Factory', 'PST', 'ist', 'SystemV/EST5', 'systemv/est5'])(
    'refuses %j: not an IANA zone name',
    (given) => {
      // Act
      const name = normalizeTimeZone(given);

      // Assess
      expect(name).toBeUndefined();
      expect(isKnownTimeZone(given)).toBe(false);
    },
  );
});

describe('quietWindowEnd', () => {

  const night = { start: '22:00', end: '08:00' };

  it('ends a window that crosses midnight on the next morning when it is late evening', () => {
    // Act: 23:00 in Paris (winter, +01:00)
    const end = quietWindowEnd(utc('2027-01-14T22:00:00Z'), 'Europe/Paris', night);

    // Assess: 08:00 the next day
    expect(end).toBe(utc('2027-01-15T07:00:00Z'));
  });

  it('ends a window that crosses midnight the same morning when it is after midnight', () => {
    // Act: 03:00 in New York (winter, -05:00)
    const end = quietWindowEnd(utc('2027-01-15T08:00:00Z'), 'America/New_York', night);

    // Assess
    expect(end).toBe(utc('2027-01-15T13:00:00Z'));
  });

  it('is not quiet outside the window, at its end, or when start equals end', () => {
    // Act / Assess
    expect(quietWindowEnd(utc('2027-01-15T12:00:00Z'), 'Europe/Paris', night)).toBeUndefined();
    expect(quietWindowEnd(utc('2027-01-15T07:00:00Z'), 'Europe/Paris', night)).toBeUndefined();
    expect(quietWindowEnd(utc('2027-01-15T21:00:00Z'), 'Europe/Paris', night)).toBe(utc('2027-01-16T07:00:00Z'));
    expect(quietWindowEnd(utc('2027-01-15T12:00:00Z'), 'Europe/Paris', { start: '09:00', end: '09:00' })).toBeUndefined();
  });

  it('handles a window within one day', () => {
    // Act: 13:30 in Paris, window 13:00-14:00
    const end = quietWindowEnd(utc('2027-01-15T12:30:00Z'), 'Europe/Paris', { start: '13:00', end: '14:00' });

    // Assess
    expect(end).toBe(utc('2027-01-15T13:00:00Z'));
  });

  it('makes the Paris night the clocks go forward an hour shorter in real time', () => {
    // Act: 22:00 on 2027-03-27 (+01:00); the window ends 08:00 on the 28th (+02:00)
    const start = utc('2027-03-27T21:00:00Z');
    const end = quietWindowEnd(start, 'Europe/Paris', night);

    // Assess: 9 hours, not 10
    expect(end).toBe(utc('2027-03-28T06:00:00Z'));
    expect(((end ?? 0) - start) / 3_600_000).toBe(9);
  });

  it('makes the New York night the clocks go back an hour longer in real time', () => {
    // Act: 22:00 on 2027-11-06 (-04:00); the window ends 08:00 on the 7th (-05:00)
    const start = utc('2027-11-07T02:00:00Z');
    const end = quietWindowEnd(start, 'America/New_York', night);

    // Assess: 11 hours
    expect(end).toBe(utc('2027-11-07T13:00:00Z'));
    expect(((end ?? 0) - start) / 3_600_000).toBe(11);
  });

  it('ends a Lord Howe window whose end falls in the half-hour gap when the gap ends', () => {
    // Act: 01:00 on 2027-10-03 (+10:30), window 22:00-02:15; 02:15 does not exist that night
    const end = quietWindowEnd(utc('2027-10-02T14:30:00Z'), 'Australia/Lord_Howe', { start: '22:00', end: '02:15' });

    // Assess: 02:30 +11:00, where the clocks land
    expect(end).toBe(utc('2027-10-02T15:30:00Z'));
  });

  it('ends a Paris window whose end falls in the spring gap at 03:00, before a time just after the gap that is not quiet', () => {
    // Act: 01:00 +01:00 on 2027-03-28, window 22:00-02:30; the clocks go from 02:00 to 03:00
    const end = quietWindowEnd(utc('2027-03-28T00:00:00Z'), 'Europe/Paris', { start: '22:00', end: '02:30' });
    const afterGap = quietWindowEnd(utc('2027-03-28T01:10:00Z'), 'Europe/Paris', { start: '22:00', end: '02:30' });

    // Assess: 03:00 +02:00; 03:10 +02:00 is past the window
    expect(end).toBe(utc('2027-03-28T01:00:00Z'));
    expect(afterGap).toBeUndefined();
  });

  it('ends a window in the second pass of a repeated hour at the end time of that pass', () => {
    // Prepare: Paris 2027-10-31, 02:15 +01:00 (the second 02:15), window 22:00-02:30
    const secondPass = utc('2027-10-31T01:15:00Z');

    // Act
    const end = quietWindowEnd(secondPass, 'Europe/Paris', { start: '22:00', end: '02:30' });

    // Assess: 02:30 +01:00, not the 02:30 +02:00 already past
    expect(end).toBe(utc('2027-10-31T01:30:00Z'));
  });

  it.each([
    ['New York, 01:10 EST after 01:59 EDT, window 01:30-03:00', 'America/New_York', '2027-11-07T06:10:00Z', { start: '01:30', end: '03:00' }, '2027-11-07T08:00:00Z'],
    ['New York, 01:45 EDT, the first pass, window 01:30-03:00', 'America/New_York', '2027-11-07T05:45:00Z', { start: '01:30', end: '03:00' }, '2027-11-07T08:00:00Z'],
    ['Paris, 02:05 +01:00 after 02:59 +02:00, window 02:20-07:00', 'Europe/Paris', '2027-10-31T01:05:00Z', { start: '02:20', end: '07:00' }, '2027-10-31T06:00:00Z'],
    ['New York, 01:10 EST, a window 01:30-00:30 crossing midnight', 'America/New_York', '2027-11-07T06:10:00Z', { start: '01:30', end: '00:30' }, '2027-11-08T05:30:00Z'],
  ])('keeps a window that began quiet when the clocks go back before its start (%s)', (_case, zone, at, quiet, end) => {
    // Act / Assess
    expect(quietWindowEnd(utc(at), zone, quiet)).toBe(utc(end));
  });

  it('leaves quiet a window that ended before the clocks went back over its end, until the clock shows it again', () => {
    // Act: New York 2027-11-07, window 22:00-01:30: ended at 01:30 EDT (05:30Z); 01:40 EDT is past it, 01:10 EST inside it again
    const between = quietWindowEnd(utc('2027-11-07T05:40:00Z'), 'America/New_York', { start: '22:00', end: '01:30' });
    const secondPass = quietWindowEnd(utc('2027-11-07T06:10:00Z'), 'America/New_York', { start: '22:00', end: '01:30' });

    // Assess
    expect(between).toBeUndefined();
    expect(secondPass).toBe(utc('2027-11-07T06:30:00Z'));
  });

  it('counts the Lord Howe half-hour in a night whose clocks go back', () => {
    // Act: 22:00 on 2027-04-03 (+11:00) to 08:00 on the 4th (+10:30)
    const start = utc('2027-04-03T11:00:00Z');
    const end = quietWindowEnd(start, 'Australia/Lord_Howe', night);

    // Assess: 10.5 hours
    expect(((end ?? 0) - start) / 3_600_000).toBe(10.5);
  });
});
