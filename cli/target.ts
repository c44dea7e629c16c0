/**
 * Which Herald the CLI talks to, and how it reports: `--url`/`HERALD_URL`, `--token`/`HERALD_TOKEN`,
 * `--json`. A failed call becomes a CliError with the API's own code and message.
 */
import { InvalidArgumentError } from 'commander';
import { createHeraldClient } from '../client/index.ts';
import type { HeraldClient } from '../client/index.ts';

/** The options every command takes (commander's `optsWithGlobals()`). */
export interface GlobalOptions {
  readonly url?: string;
  readonly token?: string;
  readonly json?: boolean;
}

/** A failure the CLI reports as one line (or one JSON object with `--json`) and exit code 1 (2 for a {@link UsageError}). */
export class CliError extends Error {
  override readonly name: string = 'CliError';
  readonly body: unknown;
  constructor(message: string, body?: unknown) {
    super(message);
    this.body = body;
  }
}

/** A command line the CLI cannot use (a value it cannot read, options that contradict): exit code 2, as commander's own parse errors. */
export class UsageError extends CliError {
  override readonly name: string = 'UsageError';
}

export const defaultUrl = 'http://127.0.0.1:3000';

/** The base URL: `--url`, else `HERALD_URL`, else the local stack's default. @throws UsageError when it is not an http(s) URL */
export function targetUrl(options: GlobalOptions): string {
  const given = options.url ?? process.env.HERALD_URL ?? defaultUrl;
  checkedUrl(given, ['http:', 'https:'], options.url !== undefined ? '--url' : 'HERALD_URL');
  return given.replace(/\/+$/, '');
}

/** `text` as a URL of one of `protocols`. @throws UsageError naming `where` (an option, a variable) otherwise */
export function checkedUrl(text: string, protocols: readonly string[], where: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`${where} "${text}" is not a URL: use ${protocols.map((p) => `${p}//...`).join(' or ')}`);
  }
  if (!protocols.includes(url.protocol)) throw new UsageError(`${where} "${text}" is not a URL of ${protocols.map((p) => `${p}//...`).join(' or ')}`);
  return url;
}

/**
 * A commander option parser for a whole number of at least `min` (`--limit 20`): anything else is
 * refused as commander refuses a bad option, exit code 2.
 */
export function wholeNumberOption(min: number): (text: string) => number {
  return (text) => {
    const value = Number(text);
    if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < min) throw new InvalidArgumentError(`must be a whole number of at least ${min}`);
    return value;
  };
}

/** A commander option parser for one of `allowed` (`--priority high`); exit code 2 for anything else. */
export function oneOfOption<T extends string>(allowed: readonly T[]): (text: string) => T {
  return (text) => {
    if (!(allowed as readonly string[]).includes(text)) throw new InvalidArgumentError(`must be one of ${allowed.join(', ')}`);
    return text as T;
  };
}

/**
 * A commander option parser for a comma-separated list of `allowed` (`--channels inbox,email`), at
 * least one, none twice; the option given again adds to the list. Exit code 2 otherwise.
 */
export function listOfOption<T extends string>(allowed: readonly T[]): (text: string, previous?: T[]) => T[] {
  return (text, previous = []) => {
    const items = list(text);
    const unknown = items.filter((item) => !(allowed as readonly string[]).includes(item));
    if (items.length === 0 || unknown.length > 0) throw new InvalidArgumentError(`must be a comma-separated list of ${allowed.join(', ')}${unknown.length > 0 ? ` (not ${unknown.join(', ')})` : ''}`);
    const all = [...previous, ...(items as T[])];
    const repeated = all.filter((item, index) => all.indexOf(item) !== index);
    if (repeated.length > 0) throw new InvalidArgumentError(`must not name ${[...new Set(repeated)].join(', ')} twice`);
    return all;
  };
}

/** A typed client of the target, with the token of `--token` or `HERALD_TOKEN`. */
export function clientOf(options: GlobalOptions): HeraldClient {
  const token = options.token ?? process.env.HERALD_TOKEN;
  return createHeraldClient({ url: targetUrl(options), ...(token ? { token } : {}) });
}

const newTokenHint = 'locally: npm run token -- --sub ops --role admin';

/**
 * Why the gateway refused a token, from its 401's `www-authenticate` challenge
 * (`Bearer scope="" error="invalid_token" error_description="the token has expired"`, RFC 6750
 * section 3, as API Gateway's JWT authorizer sends it); undefined when it names no reason, as for
 * a request without a token.
 */
export function tokenRefusalReason(response: Response): string | undefined {
  return /error_description="([^"]*)"/.exec(response.headers.get('www-authenticate') ?? '')?.[1] || undefined;
}

/** The `data` of an openapi-fetch answer, or a CliError saying what the API answered (for a refused token, why, from the gateway's challenge). */
export function expectData<T>(answer: { data?: T; error?: unknown; response: Response }): T {
  if (answer.error === undefined && answer.data !== undefined) return answer.data;
  const body = answer.error;
  const apiError = (body as { error?: { code?: string; message?: string } } | undefined)?.error;
  const message = apiError?.message ?? (body as { message?: string } | undefined)?.message ?? answer.response.statusText;
  let hint = '';
  const status = answer.response.status;
  if (status === 401) {
    const reason = tokenRefusalReason(answer.response);
    hint = reason === undefined ? ` (pass a token with --token or HERALD_TOKEN; ${newTokenHint})` : `: ${reason} (pass a valid one with --token or HERALD_TOKEN; ${newTokenHint})`;
  } else if (apiError?.code === undefined && status !== 413 && status !== 429 && status < 500) {
    // Herald's routes answer { error: { code } }; another 4xx is the gateway finding no route, or another server entirely.
    hint = ` (no Herald route answered: check that --url or HERALD_URL is Herald's HTTP API, its base URL without a path; locally npm start's HTTP API, ${defaultUrl} by default)`;
  }
  throw new CliError(`${answer.response.status} ${apiError?.code ?? ''}${apiError?.code ? ': ' : ''}${message}${hint}`, body);
}

/** Prints `value` as JSON with `--json`, else the human lines `human` makes of it. */
export function print<T>(options: GlobalOptions, value: T, human: (value: T) => string | readonly string[]): void {
  if (options.json) {
    process.stdout.write(`${JSON.stringify(value)}\n`);
    return;
  }
  const lines = human(value);
  process.stdout.write(`${typeof lines === 'string' ? lines : lines.join('\n')}\n`);
}

/**
 * An instant from the command line: ISO 8601 with seconds and an offset (`2027-01-01T09:00:00+01:00`), or
 * relative to now: `+30s`, `+10m`, `+2h`, `+1d`. Throws a UsageError otherwise, whose example is
 * tomorrow at 09:00 UTC (a fixed date would one day be past or beyond the 2-year limit), and for
 * a relative time beyond what a date can hold.
 */
export function parseWhen(text: string, now: number = Date.now()): string {
  const relative = /^\+(\d+)(s|m|h|d)$/.exec(text);
  if (relative) {
    const unitMs = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[relative[2] as 's' | 'm' | 'h' | 'd'];
    const at = new Date(now + Number(relative[1]) * unitMs);
    // Past ±8.64e15 ms (ECMA-262 "Time Values and Time Range") a Date is invalid and toISOString throws.
    if (Number.isNaN(at.getTime())) throw new UsageError(`"${text}" is out of range: a time must fall before the year 275760 (the API takes up to 2 years ahead)`);
    return at.toISOString();
  }
  if (isInstant(text)) return text;
  const example = `${new Date(now + 86_400_000).toISOString().slice(0, 10)}T09:00:00Z`;
  throw new UsageError(`"${text}" is not a time: use ISO 8601 with seconds and an offset (${example}) or +30s, +10m, +2h, +1d`);
}

/** Seconds included, as the API wants them with an offset (RFC 3339): `09:00Z` is refused here, not by the API. */
function isInstant(text: string): boolean {
  return /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(text) && !Number.isNaN(Date.parse(text));
}

/**
 * A commander option parser for an instant a listing is bounded by (`herald list --from/--to`):
 * ISO 8601 with seconds and an offset, as the API reads it; exit code 2 otherwise (as `--at`),
 * not the API's 400 (exit 1). The example is today at midnight UTC.
 */
export function instantOption(now: number = Date.now()): (text: string) => string {
  return (text) => {
    if (isInstant(text)) return text;
    throw new InvalidArgumentError(`must be ISO 8601 with seconds and an offset, e.g. ${new Date(now).toISOString().slice(0, 10)}T00:00:00Z`);
  };
}

/** A comma-separated list option (`--channels inbox,email`). */
export function list(text: string): string[] {
  return text.split(',').map((item) => item.trim()).filter((item) => item !== '');
}
