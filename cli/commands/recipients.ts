/**
 * `herald recipients import <file>`: a directory from a CSV (header `id,email,timezone,groups`,
 * groups separated by `;`) or JSON Lines (one `{ id, email?, timezone?, groups? }` a line) file,
 * sent in batches of `POST /v1/recipients/batch`, with a progress bar.
 */
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import type { Command } from 'commander';
import type { HeraldSchema } from '../../client/index.ts';
import { maxBatchRecipients } from '../../shared/domain/schemas.ts';
import { progressBar } from '../progress.ts';
import { CliError, clientOf, expectData, print, UsageError } from '../target.ts';
import type { GlobalOptions } from '../target.ts';

type Entry = HeraldSchema<'BatchRecipientEntry'>;


/** The fields of one CSV line, RFC 4180 quoting (`"a, b"`, `""` for a quote). */
function csvFields(line: string): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i += 1) {
    const char = line[i];
    if (quoted) {
      if (char === '"' && line[i + 1] === '"') {
        field += '"';
        i += 1;
      } else if (char === '"') quoted = false;
      else field += char;
    } else if (char === '"') quoted = true;
    else if (char === ',') {
      fields.push(field);
      field = '';
    } else field += char;
  }
  fields.push(field);
  return fields.map((f) => f.trim());
}

/** The entries of a CSV text; throws a CliError naming the line of a row without an id. */
export function parseRecipientsCsv(text: string): Entry[] {
  // Each line with its number in the file (1-based), blank ones left out: errors name the file's line.
  const lines = text
    .split(/\r?\n/)
    .map((line, index) => ({ line, number: index + 1 }))
    .filter(({ line }) => line.trim() !== '');
  const header = csvFields(lines[0]?.line ?? '');
  if (!header.includes('id')) throw new CliError('the CSV needs a header line naming its columns, with id among them: id,email,timezone,groups');
  const unknown = header.filter((column) => !['id', 'email', 'timezone', 'groups'].includes(column));
  if (unknown.length > 0) throw new CliError(`unknown CSV column(s) ${unknown.join(', ')}: use id, email, timezone, groups`);
  return lines.slice(1).map(({ line, number }) => {
    const fields = csvFields(line);
    // A field the header does not name would be dropped without a word (a comma in an unquoted value, a column too many).
    if (fields.length > header.length) throw new CliError(`line ${number}: ${fields.length} fields, but the header names ${header.length} (${header.join(',')}): quote a value that holds a comma`);
    const row = Object.fromEntries(header.map((column, i) => [column, fields[i] ?? '']));
    if (!row.id) throw new CliError(`line ${number}: no id`);
    return {
      id: row.id,
      ...(row.email ? { email: row.email } : {}),
      ...(row.timezone ? { timezone: row.timezone } : {}),
      ...(row.groups ? { groups: row.groups.split(';').map((g) => g.trim()).filter(Boolean) } : {}),
    };
  });
}

/** The entries of a JSON Lines text; throws a CliError naming a line that is not an object with an id. */
export function parseRecipientsJsonl(text: string): Entry[] {
  return text.split(/\r?\n/).flatMap((line, index) => {
    if (line.trim() === '') return [];
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new CliError(`line ${index + 1}: not JSON`);
    }
    if (typeof value !== 'object' || value === null || typeof (value as { id?: unknown }).id !== 'string') throw new CliError(`line ${index + 1}: not an object with a string id`);
    return [value as Entry];
  });
}

interface ImportReport {
  readonly total: number;
  readonly succeeded: number;
  readonly failed: { readonly id: string | null; readonly error: { readonly code: string; readonly message: string } }[];
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
      const format = options.format ?? extname(file).slice(1).toLowerCase();
      if (format !== 'csv' && format !== 'jsonl') throw new UsageError(`cannot tell the format of ${file}: name it .csv or .jsonl, or pass --format csv|jsonl`);
      const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
        throw new CliError(`cannot read ${file}: ${error.code ?? error.message}`);
      });
      const entries = format === 'csv' ? parseRecipientsCsv(text) : parseRecipientsJsonl(text);
      const client = clientOf(global);
      const bar = progressBar('recipients', global.json === true);
      const report: ImportReport = { total: entries.length, succeeded: 0, failed: [] };
      let succeeded = 0;
      try {
        for (let start = 0; start < entries.length; start += maxBatchRecipients) {
          const batch = entries.slice(start, start + maxBatchRecipients);
          const answer = expectData(await client.POST('/v1/recipients/batch', { body: { recipients: batch } }));
          succeeded += answer.succeeded.length;
          report.failed.push(...answer.failed.map((f) => ({ id: f.id, error: { code: f.error.code, message: f.error.message } })));
          bar.update(start + batch.length, entries.length);
        }
      } finally {
        bar.stop();
      }
      const done = { ...report, succeeded };
      print(global, done, (r) => [
        `imported ${r.succeeded} of ${r.total} recipients`,
        ...r.failed.map((f) => `  ${f.id ?? '(no id)'}: ${f.error.code}: ${f.error.message}`),
      ]);
      if (done.failed.length > 0) process.exitCode = 1;
    });
}
