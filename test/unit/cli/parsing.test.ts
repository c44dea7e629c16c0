/** What the CLI reads from its command line and files, and how it refuses what it cannot read. */
import { describe, expect, it } from 'vitest';
import { audienceOf } from '../../../cli/commands/broadcasts.ts';
import { parseRecipientsCsv, parseRecipientsJsonl } from '../../../cli/commands/recipients.ts';
import { CliError, parseWhen, UsageError } from '../../../cli/target.ts';

describe('parseWhen', () => {
  const now = Date.parse('2030-01-01T12:00:00.000Z');

  it.each([
    ['+30s', '2030-01-01T12:00:30.000Z'],
    ['+10m', '2030-01-01T12:10:00.000Z'],
    ['+2h', '2030-01-01T14:00:00.000Z'],
    ['+1d', '2030-01-02T12:00:00.000Z'],
    ['2031-01-01T09:00:00+01:00', '2031-01-01T09:00:00+01:00'],
  ])('reads %s', (text, expected) => {
    expect(parseWhen(text, now)).toBe(expected);
  });

  it.each(['tomorrow', '2031-01-01T09:00:00', '+5w', '2031-13-40T09:00:00Z'])('refuses %s, saying what a time looks like', (text) => {
    expect(() => parseWhen(text, now)).toThrow(new UsageError(`"${text}" is not a time: use ISO 8601 with an offset (2031-01-01T09:00:00Z) or +30s, +10m, +2h, +1d`));
    expect(() => parseWhen(text, now)).toThrow(UsageError);
  });
});

describe('parseRecipientsCsv', () => {
  it('reads the columns by their header, quoted fields and groups split by ;', () => {
    // Act
    const entries = parseRecipientsCsv('email,id,groups\r\n"alice@example.com",alice,"staff; ops"\n\nbob@example.com,bob,\n');

    // Assess
    expect(entries).toEqual([
      { id: 'alice', email: 'alice@example.com', groups: ['staff', 'ops'] },
      { id: 'bob', email: 'bob@example.com' },
    ]);
  });

  it('keeps a comma and a doubled quote inside quotes', () => {
    expect(parseRecipientsCsv('id,timezone\n"a,""b""",Europe/Paris')).toEqual([{ id: 'a,"b"', timezone: 'Europe/Paris' }]);
  });

  it.each([
    ['alice,alice@example.com', 'the CSV needs a header line naming its columns, with id among them: id,email,timezone,groups'],
    ['id,phone\nalice,123', 'unknown CSV column(s) phone: use id, email, timezone, groups'],
    ['id,email\nalice,a@example.com\n,b@example.com', 'line 3: no id'],
  ])('refuses %j', (text, message) => {
    expect(() => parseRecipientsCsv(text)).toThrow(new CliError(message));
  });
});

describe('parseRecipientsJsonl', () => {
  it('reads one object a line, skipping blank lines', () => {
    expect(parseRecipientsJsonl('{"id":"alice","groups":["staff"]}\n\n{"id":"bob"}\n')).toEqual([{ id: 'alice', groups: ['staff'] }, { id: 'bob' }]);
  });

  it.each([
    ['{"id":"alice"}\n{oops', 'line 2: not JSON'],
    ['{"email":"a@example.com"}', 'line 1: not an object with a string id'],
    ['[1]', 'line 1: not an object with a string id'],
  ])('refuses %j naming the line', (text, message) => {
    expect(() => parseRecipientsJsonl(text)).toThrow(new CliError(message));
  });
});

describe('audienceOf', () => {
  it('takes exactly one of --all, --groups, --recipients', () => {
    expect(audienceOf({ all: true })).toEqual({ all: true });
    expect(audienceOf({ groups: 'staff, ops' })).toEqual({ groups: ['staff', 'ops'] });
    expect(audienceOf({ recipients: 'alice,bob' })).toEqual({ recipientIds: ['alice', 'bob'] });
  });

  it.each([{}, { all: true, groups: 'staff' }])('refuses %j', (options) => {
    expect(() => audienceOf(options)).toThrow(new UsageError('say who hears it with exactly one of --all, --groups <list>, --recipients <list>'));
    expect(() => audienceOf(options)).toThrow(UsageError);
  });
});
