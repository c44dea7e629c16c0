/**
 * Which Herald the CLI talks to, and how it reports: `--url`/`HERALD_URL`, `--token`/`HERALD_TOKEN`,
 * `--json`. A failed call becomes a CliError with the API's own code and message.
 */
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

/** The base URL: `--url`, else `HERALD_URL`, else the local stack's default. */
export function targetUrl(options: GlobalOptions): string {
  return (options.url ?? process.env.HERALD_URL ?? defaultUrl).replace(/\/+$/, '');
}

/** A typed client of the target, with the token of `--token` or `HERALD_TOKEN`. */
export function clientOf(options: GlobalOptions): HeraldClient {
  const token = options.token ?? process.env.HERALD_TOKEN;
  return createHeraldClient({ url: targetUrl(options), ...(token ? { token } : {}) });
}

/** The `data` of an openapi-fetch answer, or a CliError saying what the API answered. */
export function expectData<T>(answer: { data?: T; error?: unknown; response: Response }): T {
  if (answer.error === undefined && answer.data !== undefined) return answer.data;
  const body = answer.error;
  const apiError = (body as { error?: { code?: string; message?: string } } | undefined)?.error;
  const message = apiError?.message ?? (body as { message?: string } | undefined)?.message ?? answer.response.statusText;
  const hint = answer.response.status === 401 ? ' (pass a token with --token or HERALD_TOKEN; locally: npm run token -- --sub ops --role admin)' : '';
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
 * An instant from the command line: ISO 8601 with an offset (`2031-01-01T09:00:00+01:00`), or
 * relative to now: `+30s`, `+10m`, `+2h`, `+1d`. Throws a CliError otherwise.
 */
export function parseWhen(text: string, now: number = Date.now()): string {
  const relative = /^\+(\d+)(s|m|h|d)$/.exec(text);
  if (relative) {
    const unitMs = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[relative[2] as 's' | 'm' | 'h' | 'd'];
    return new Date(now + Number(relative[1]) * unitMs).toISOString();
  }
  if (/^\d{4}-\d\d-\d\dT.*(Z|[+-]\d\d:\d\d)$/.test(text) && !Number.isNaN(Date.parse(text))) return text;
  throw new UsageError(`"${text}" is not a time: use ISO 8601 with an offset (2031-01-01T09:00:00Z) or +30s, +10m, +2h, +1d`);
}

/** A comma-separated list option (`--channels inbox,email`). */
export function list(text: string): string[] {
  return text.split(',').map((item) => item.trim()).filter((item) => item !== '');
}
