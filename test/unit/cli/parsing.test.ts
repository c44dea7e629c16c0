/** What the CLI reads from its command line and files, and how it refuses what it cannot read. */
import { describe, expect, it } from 'vitest';
import { audienceOf } from '../../../cli/commands/broadcasts.ts';
import { listFlags } from '../../../cli/commands/notifications.ts';
import { parseRecipientsCsv, parseRecipientsJsonl, refuseRepeatedIds } from '../../../cli/commands/recipients.ts';
import { InvalidArgumentError } from 'commander';
import { runInRepo } from '../support/processes.ts';
import { checkedUrl, CliError, expectData, instantOption, listOfOption, oneOfOption, parseWhen, targetUrl, UsageError, wholeNumberOption } from '../../../cli/target.ts';

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

  it.each(['tomorrow', '2031-01-01T09:00:00', '+5w', '2031-13-40T09:00:00Z', '2031-01-01T09:00Z', '2031-01-01T09:00+01:00'])('refuses %s, saying what a time looks like with tomorrow as the example', (text) => {
    expect(() => parseWhen(text, now)).toThrow(new UsageError(`"${text}" is not a time: use ISO 8601 with seconds and an offset (2030-01-02T09:00:00Z) or +30s, +10m, +2h, +1d`));
    expect(() => parseWhen(text, now)).toThrow(UsageError);
  });

  it.each(['+99999999999d', '+9999999999999h', `+${'9'.repeat(40)}s`])('refuses %s as a usage error saying the time is out of range', (text) => {
    // Act / Assess: exit 2, not an uncaught RangeError (exit 1)
    expect(() => parseWhen(text, now)).toThrow(new UsageError(`"${text}" is out of range: a time must fall before the year 275760 (the API takes up to 2 years ahead)`));
    expect(() => parseWhen(text, now)).toThrow(UsageError);
  });
});

describe('parseRecipientsCsv', () => {
  it('reads the columns by their header, quoted fields and groups split by ;, each with the line it ends on', () => {
    // Act
    const entries = parseRecipientsCsv('\uFEFFemail,id,groups\r\n"alice@example.com",alice,"staff; ops"\n\nbob@example.com,bob,\ncarol@example.com,carol\n');

    // Assess
    expect(entries).toEqual([
      { line: 2, entry: { id: 'alice', email: 'alice@example.com', groups: ['staff', 'ops'] } },
      { line: 4, entry: { id: 'bob', email: 'bob@example.com' } },
      { line: 5, entry: { id: 'carol', email: 'carol@example.com' } },
    ]);
  });

  it('keeps a comma, a doubled quote and a line break inside quotes', () => {
    expect(parseRecipientsCsv('id,timezone\n"a,""b""",Europe/Paris\n"c\nd",UTC')).toEqual([
      { line: 2, entry: { id: 'a,"b"', timezone: 'Europe/Paris' } },
      { line: 4, entry: { id: 'c\nd', timezone: 'UTC' } },
    ]);
  });

  it.each([
    ['alice,alice@example.com', 'the CSV needs a header line naming its columns, with id among them: id,email,timezone,groups'],
    ['id,phone\nalice,123', 'unknown CSV column(s) phone: use id, email, timezone, groups'],
    ['id,email,\nalice,a@example.com,', 'line 1: column 3 of the header has no name (a comma too many?): use id, email, timezone, groups'],
    ['id,email,id\nz1,z1@example.com,z2', 'the header names the column id twice'],
    ['id,email\nalice,a@example.com\n,b@example.com', 'line 3: no id'],
    ['id,email\n\nalice,a@example.com\n\n,b@example.com', 'line 5: no id'],
    ['id,email,timezone,groups\nc5,c5@example.com,UTC,staff,extra', 'line 2: 5 fields, but the header names 4: quote a value that holds a comma'],
  ])('refuses %j', (text, message) => {
    expect(() => parseRecipientsCsv(text)).toThrow(new CliError(message));
  });

  it.each([
    ['a quote in the middle of a field', 'id,email\no"neil,oneil@example.com\n', /^line 2: not CSV this can read: Invalid Opening Quote/],
    ['a quote never closed', 'id,email\nml1,"multi\nline,UTC\n', /^line \d: not CSV this can read: Quote Not Closed/],
  ])('refuses %s naming the line, rather than make a recipient of it', (_case, text, message) => {
    expect(() => parseRecipientsCsv(text)).toThrow(message);
  });
});

describe('refuseRepeatedIds', () => {
  it('refuses a file naming one id twice, naming both lines, wherever they fall', () => {
    // Prepare: the repeat far apart, in another batch of 100
    const entries = parseRecipientsCsv(['id,email', 'xb,first@example.com', ...Array.from({ length: 120 }, (_, i) => `r${i},r${i}@example.com`), 'xb,second@example.com'].join('\n'));

    // Act / Assess
    expect(() => refuseRepeatedIds(entries)).toThrow(new CliError('line 123: id xb is given again (first on line 2): give each recipient once'));
    expect(() => refuseRepeatedIds(entries.slice(0, -1))).not.toThrow();
  });
});

describe('parseRecipientsJsonl', () => {
  it('reads one object a line, skipping blank lines and a byte-order mark', () => {
    expect(parseRecipientsJsonl('\uFEFF{"id":"alice","groups":["staff"]}\n\n{"id":"bob"}\n')).toEqual([
      { line: 1, entry: { id: 'alice', groups: ['staff'] } },
      { line: 3, entry: { id: 'bob' } },
    ]);
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

  it.each([
    [{ recipients: ' , ' }, '--recipients names nobody: give a comma-separated list'],
    [{ groups: '' }, '--groups names nobody: give a comma-separated list'],
  ])('refuses an empty list %j', (options, message) => {
    expect(() => audienceOf(options)).toThrow(new UsageError(message));
  });
});

describe('option values', () => {
  it('reads a whole number of at least the minimum, and refuses anything else as commander refuses a bad option', () => {
    const limit = wholeNumberOption(1);
    expect(limit('20')).toBe(20);
    for (const text of ['abc', '0', '-1', '1.5', '', ' 2', '1e3', '99999999999999999999']) {
      expect(() => limit(text)).toThrow(new InvalidArgumentError('must be a whole number of at least 1'));
    }
  });

  it('reads one of the allowed words, or a comma-separated list of them', () => {
    expect(oneOfOption(['low', 'high'])('high')).toBe('high');
    expect(() => oneOfOption(['low', 'high'])('bogus')).toThrow(new InvalidArgumentError('must be one of low, high'));
    expect(listOfOption(['inbox', 'email'])('inbox, email')).toEqual(['inbox', 'email']);
    expect(() => listOfOption(['inbox', 'email'])('inbox,foo')).toThrow(new InvalidArgumentError('must be a comma-separated list of inbox, email (not foo)'));
    expect(() => listOfOption(['inbox', 'email'])(',')).toThrow(new InvalidArgumentError('must be a comma-separated list of inbox, email'));
    // Given again, the option adds to the list; a channel named twice is refused.
    expect(listOfOption(['inbox', 'email'])('email', ['inbox'])).toEqual(['inbox', 'email']);
    expect(() => listOfOption(['inbox', 'email'])('email,email')).toThrow(new InvalidArgumentError('must not name email twice'));
    expect(() => listOfOption(['inbox', 'email'])('inbox', ['inbox'])).toThrow(new InvalidArgumentError('must not name inbox twice'));
  });

  it('reads an instant of herald list --from/--to as the API does, and refuses anything else as a bad option (exit 2), not as a 400 (exit 1)', () => {
    const now = Date.parse('2030-01-01T12:00:00.000Z');
    expect(instantOption(now)('2031-01-01T09:00:00+01:00')).toBe('2031-01-01T09:00:00+01:00');
    expect(instantOption(now)('2031-01-01T09:00:00.5Z')).toBe('2031-01-01T09:00:00.5Z');
    for (const text of ['2031-01-01', '2031-01-01T09:00:00', '2031-01-01T09:00Z', '+1d', 'yesterday', '2031-13-40T09:00:00Z']) {
      expect(() => instantOption(now)(text)).toThrow(new InvalidArgumentError('must be ISO 8601 with seconds and an offset, e.g. 2030-01-01T00:00:00Z'));
    }
  });

  it.each([['--from', '2031-01-01'], ['--to', '+1d']])('makes herald list %s %s a command line it cannot use (exit 2), before any request', async (option, text) => {
    // Act: port 9 is one fetch refuses to call ("bad port"), so a request made would fail with exit 1
    const run = await runInRepo(['node', 'cli/herald.ts', '--url', 'http://127.0.0.1:9', '--token', 't', 'list', option, text], {});

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr.split('\n')[0]).toBe(`error: option '${option} <when>' argument '${text}' is invalid. must be ISO 8601 with seconds and an offset, e.g. ${new Date().toISOString().slice(0, 10)}T00:00:00Z`);
  });

  it('refuses a URL it cannot read, or of another protocol, naming where it came from', () => {
    expect(checkedUrl('wss://example.com/prod', ['ws:', 'wss:'], '--ws').host).toBe('example.com');
    expect(() => checkedUrl('notaurl', ['ws:', 'wss:'], '--ws')).toThrow(new UsageError('--ws "notaurl" is not a URL: use ws://... or wss://...'));
    expect(() => checkedUrl('https://example.com', ['ws:', 'wss:'], '--ws')).toThrow(new UsageError('--ws "https://example.com" is not a URL of ws://... or wss://...'));
    expect(targetUrl({ url: 'http://127.0.0.1:3000/' })).toBe('http://127.0.0.1:3000');
    expect(() => targetUrl({ url: 'notaurl' })).toThrow(UsageError);
  });
});

describe('the next page of herald list', () => {
  it('is asked with the same filters as this one, quoted for a shell', () => {
    expect(listFlags({ status: 'cancelled', limit: 1 })).toBe('--status cancelled --limit 1 ');
    expect(listFlags({ type: "it's late", recipient: 'bob', from: '2030-01-01T00:00:00Z' })).toBe("--recipient bob --type 'it'\\''s late' --from 2030-01-01T00:00:00Z ");
    expect(listFlags({})).toBe('');
  });
});

describe('expectData', () => {
  /** An openapi-fetch answer of the gateway's 401, with the `www-authenticate` challenge API Gateway's JWT authorizer sends. */
  function gatewayRefusal(challenge: string): { error: unknown; response: Response } {
    return { error: { message: 'Unauthorized' }, response: new Response('{"message":"Unauthorized"}', { status: 401, statusText: 'Unauthorized', headers: { 'www-authenticate': challenge } }) };
  }

  it('says why the gateway refused a token it was given, from the challenge, and how to get another', () => {
    // Act / Assess: an expired token is not told to "pass a token"
    expect(() => expectData(gatewayRefusal('Bearer scope="" error="invalid_token" error_description="the token has expired"'))).toThrow(
      new CliError('401 Unauthorized: the token has expired (pass a valid one with --token or HERALD_TOKEN; locally: npm run token -- --sub ops --role admin)', { message: 'Unauthorized' }),
    );
    expect(() => expectData(gatewayRefusal('Bearer scope="" error="invalid_token" error_description="token contains an invalid number of segments"'))).toThrow(
      new CliError('401 Unauthorized: token contains an invalid number of segments (pass a valid one with --token or HERALD_TOKEN; locally: npm run token -- --sub ops --role admin)', { message: 'Unauthorized' }),
    );
  });

  it('says to check the URL when the answer is not one of a Herald route, as from the WebSocket port or a URL with a path', () => {
    // Prepare: the gateway's 404 of a path no route matches, and another server's 400
    const notFound = { error: { message: 'Not Found' }, response: new Response('{"message":"Not Found"}', { status: 404, statusText: 'Not Found' }) };
    const elsewhere = { error: { message: 'Not Authorized' }, response: new Response('{"message":"Not Authorized"}', { status: 400, statusText: 'Bad Request' }) };
    const hint = ' (no Herald route answered: check that --url or HERALD_URL is Herald\'s HTTP API, its base URL without a path; locally npm start\'s HTTP API, http://127.0.0.1:3000 by default)';

    // Act / Assess
    expect(() => expectData(notFound)).toThrow(new CliError(`404 Not Found${hint}`, { message: 'Not Found' }));
    expect(() => expectData(elsewhere)).toThrow(new CliError(`400 Not Authorized${hint}`, { message: 'Not Authorized' }));
  });

  it("keeps a Herald route's refusal as it is", () => {
    // Prepare
    const body = { error: { code: 'NOT_FOUND', message: 'Notification ntf_1 not found' } };
    const refused = { error: body, response: new Response(JSON.stringify(body), { status: 404, statusText: 'Not Found' }) };

    // Act / Assess
    expect(() => expectData(refused)).toThrow(new CliError('404 NOT_FOUND: Notification ntf_1 not found', body));
  });

  it('asks for a token when the refusal names no reason, as for a request without one', () => {
    expect(() => expectData(gatewayRefusal('Bearer'))).toThrow(
      new CliError('401 Unauthorized (pass a token with --token or HERALD_TOKEN; locally: npm run token -- --sub ops --role admin)', { message: 'Unauthorized' }),
    );
  });
});
