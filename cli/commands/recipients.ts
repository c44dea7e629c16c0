/**
 * `herald recipients import <file>`: a directory from a CSV (header `id,email,timezone,groups`,
 * groups separated by `;`) or JSON Lines (one `{ id, email?, timezone?, groups? }` a line) file,
 * sent in batches of `POST /v1/recipients/batch`, with a progress bar. The whole file is read and
 * checked first (a line it cannot read, an id given twice: nothing is sent); a batch answered 429
 * or 503 is sent again after its `Retry-After`; one refused whole stops the import, which reports
 * what it imported and what it did not send. Every error names the file's line.
 */
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { extname } from 'node:path';
import type { Command } from 'commander';
import { parse } from 'csv-parse/sync';
import type { HeraldSchema } from '../../client/index.ts';
import { maxBatchRecipients } from '../../shared/domain/schemas.ts';
import { progressBar } from '../progress.ts';
import { CliError, clientOf, expectData, print, UsageError } from '../target.ts';
import type { GlobalOptions } from '../target.ts';

type Entry = HeraldSchema<'BatchRecipientEntry'>;

/** An entry of an import file, with the line of the file it came from (1-based): errors and failures name it. */
export interface FileEntry {
  readonly line: number;
  readonly entry: Entry;
}

const csvColumns = ['id', 'email', 'timezone', 'groups'] as const;

/** A csv-parse error's words, without its own line number (the CliError names the line). */
interface CsvParseError {
  readonly code?: string;
  readonly lines?: number;
  readonly message: string;
}

/**
 * The entries of a CSV text (RFC 4180, read by csv-parse: quoted commas, quotes and line breaks,
 * CRLF, a byte-order mark), each with the line its record ends on.
 * @throws CliError naming the line of a record csv-parse cannot read (a quote in the middle of a
 *   field, one never closed, more fields than the header), of a row without an id, and a header
 *   without `id`, with a column it does not know, named twice or left blank
 */
export function parseRecipientsCsv(text: string): FileEntry[] {
  let records: { record: string[]; info: { lines: number } }[];
  try {
    // With `info`, csv-parse gives each record with where it was read (its types say only string[][]).
    // Lines end in CRLF or LF, even both in one file. A row may leave out trailing columns (read as
    // empty); one with more fields than the header is refused.
    records = parse(text, { bom: true, record_delimiter: ['\r\n', '\n'], skip_empty_lines: true, trim: true, info: true, relax_column_count_less: true }) as unknown as typeof records;
  } catch (error) {
    const { code, lines, message } = error as CsvParseError;
    const counted = code === 'CSV_RECORD_INCONSISTENT_FIELDS_LENGTH' ? /expect (\d+), got (\d+)/.exec(message) : null;
    if (counted) throw new CliError(`line ${lines ?? '?'}: ${counted[2]} fields, but the header names ${counted[1]}: quote a value that holds a comma`);
    throw new CliError(`${lines !== undefined ? `line ${lines}: ` : ''}not CSV this can read: ${message.replace(/ (?:at|on) line \d+\b/, '')} (quote a value that holds a comma, a quote or a line break: "a, ""b""")`);
  }
  const [head, ...rows] = records;
  const header = head?.record ?? [];
  if (!header.includes('id')) throw new CliError(`the CSV needs a header line naming its columns, with id among them: ${csvColumns.join(',')}`);
  const blank = header.findIndex((column) => column === '');
  if (blank >= 0) throw new CliError(`line ${head?.info.lines ?? 1}: column ${blank + 1} of the header has no name (a comma too many?): use ${csvColumns.join(', ')}`);
  const unknown = header.filter((column) => !(csvColumns as readonly string[]).includes(column));
  if (unknown.length > 0) throw new CliError(`unknown CSV column(s) ${unknown.join(', ')}: use ${csvColumns.join(', ')}`);
  const twice = header.find((column, i) => header.indexOf(column) !== i);
  if (twice !== undefined) throw new CliError(`the header names the column ${twice} twice`);
  return rows.map(({ record, info }) => {
    const row = Object.fromEntries(header.map((column, i) => [column, record[i] ?? '']));
    if (!row.id) throw new CliError(`line ${info.lines}: no id`);
    return {
      line: info.lines,
      entry: {
        id: row.id,
        ...(row.email ? { email: row.email } : {}),
        ...(row.timezone ? { timezone: row.timezone } : {}),
        ...(row.groups ? { groups: row.groups.split(';').map((g) => g.trim()).filter(Boolean) } : {}),
      },
    };
  });
}

/** The entries of a JSON Lines text (a byte-order mark left out), each with its line; throws a CliError naming a line that is not an object with an id. */
export function parseRecipientsJsonl(text: string): FileEntry[] {
  return text
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .flatMap((line, index) => {
      if (line.trim() === '') return [];
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        throw new CliError(`line ${index + 1}: not JSON`);
      }
      if (typeof value !== 'object' || value === null || typeof (value as { id?: unknown }).id !== 'string') throw new CliError(`line ${index + 1}: not an object with a string id`);
      return [{ line: index + 1, entry: value as Entry }];
    });
}

/**
 * Refuses a file that names one id twice: the server would apply the first of a batch and the
 * last across batches, so which one wins would depend on where the lines fall.
 * @throws CliError naming both lines
 */
export function refuseRepeatedIds(entries: readonly FileEntry[]): void {
  const first = new Map<string, number>();
  for (const { line, entry } of entries) {
    const seen = first.get(entry.id);
    if (seen !== undefined) throw new CliError(`line ${line}: id ${entry.id} is given again (first on line ${seen}): give each recipient once`);
    first.set(entry.id, line);
  }
}

interface ImportReport {
  readonly total: number;
  readonly succeeded: number;
  /** Each entry the server refused, with the line of the file it came from. */
  readonly failed: { readonly line: number; readonly id: string | null; readonly error: { readonly code: string; readonly message: string } }[];
  /** Entries never sent: the import stopped at a batch the server refused whole (`error` says why). */
  readonly notSent: number;
  readonly error?: string;
}

/** How many times one batch is sent again after a 429 or a 503, each after the wait the server asked for. */
export const importBatchAttempts = 5;
/** The wait before sending a batch again when the server named none (ms); it doubles each time, up to {@link maxImportRetryMs}. */
const firstImportRetryMs = 1_000;
const maxImportRetryMs = 30_000;

/** The wait a 429 or 503 asks for: its `Retry-After` in seconds (RFC 9110, 10.2.3), or `fallbackMs`. */
export function retryAfterMs(response: Response, fallbackMs: number): number {
  const seconds = Number(response.headers.get('retry-after'));
  return Number.isFinite(seconds) && seconds > 0 ? Math.min(seconds * 1000, maxImportRetryMs) : fallbackMs;
}

/** Adds `recipients import` to `program`. */
export function addRecipientCommands(program: Command): void {
  const recipients = program.command('recipients').description('the directory of recipients');
  recipients
    .command('import')
    .description('register or update recipients from a .csv (id,email,timezone,groups; groups split by ;) or .jsonl file')
    .argument('<file>', 'a .csv or .jsonl file')
    .option('--format <format>', 'csv or jsonl (default: from the file name)')
    .action(async (file: string, options: { format?: string }, command: Command) => {
      const global = command.optsWithGlobals<GlobalOptions>();
      const format = (options.format ?? extname(file).slice(1)).toLowerCase();
      if (format !== 'csv' && format !== 'jsonl') {
        throw new UsageError(options.format !== undefined ? `--format must be csv or jsonl, not ${options.format}` : `cannot tell the format of ${file}: name it .csv or .jsonl, or pass --format csv|jsonl`);
      }
      const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
        throw new CliError(`cannot read ${file}: ${error.code ?? error.message}`);
      });
      // The whole file is read and checked before anything is sent: a line it cannot read changes nothing.
      const entries = format === 'csv' ? parseRecipientsCsv(text) : parseRecipientsJsonl(text);
      refuseRepeatedIds(entries);
      const client = clientOf(global);
      const bar = progressBar('recipients', global.json === true);
      const failed: ImportReport['failed'] = [];
      let succeeded = 0;
      let sent = 0;
      let stopped: unknown;
      try {
        for (let start = 0; start < entries.length && stopped === undefined; start += maxBatchRecipients) {
          const batch = entries.slice(start, start + maxBatchRecipients);
          for (let attempt = 1; ; attempt++) {
            const answer = await client.POST('/v1/recipients/batch', { body: { recipients: batch.map((e) => e.entry) } });
            const status = answer.response.status;
            // The tenant's request quota (429) or a dependency (503) said not now: the same batch again, after the wait asked for.
            if ((status === 429 || status === 503) && attempt < importBatchAttempts) {
              const waitMs = retryAfterMs(answer.response, Math.min(firstImportRetryMs * 2 ** (attempt - 1), maxImportRetryMs));
              bar.update(sent, entries.length, `(${status}: trying again in ${Math.ceil(waitMs / 1000)} s)`);
              await sleep(waitMs);
              continue;
            }
            try {
              const data = expectData(answer);
              succeeded += data.succeeded.length;
              failed.push(...data.failed.map((f) => ({ line: batch[f.index]?.line ?? 0, id: f.id, error: { code: f.error.code, message: f.error.message } })));
              sent += batch.length;
            } catch (error) {
              // Refused whole: what was sent before stands; the rest is reported, not sent.
              stopped = error;
            }
            break;
          }
          bar.update(sent, entries.length);
        }
      } finally {
        bar.stop();
      }
      const report: ImportReport = { total: entries.length, succeeded, failed, notSent: entries.length - sent, ...(stopped !== undefined ? { error: (stopped as Error).message } : {}) };
      print(global, report, (r) => [
        `imported ${r.succeeded} of ${r.total} recipients`,
        ...r.failed.map((f) => `  line ${f.line}: ${f.id ?? '(no id)'}: ${f.error.code}: ${f.error.message}`),
        ...(r.error !== undefined ? [`stopped with ${r.notSent} not sent, from line ${entries[sent]?.line ?? '?'}`] : []),
      ]);
      // The refusal itself goes to stderr (exit 1), as every command's does.
      if (stopped !== undefined) throw stopped;
      if (report.failed.length > 0) process.exitCode = 1;
    });
}
