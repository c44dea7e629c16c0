/**
 * `npm run docs:limits`: writes the table of the API's limits (shared/http/limits-table.ts) into
 * docs/limits.md, between its markers. test/unit/docs/limits-doc.test.ts fails while they differ.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { limitsTable, limitsTableMarkers } from '../shared/http/limits-table.ts';

if (process.argv.length > 2) {
  process.stdout.write('usage: npm run docs:limits\nWrites the table of the API\'s limits into docs/limits.md, between its markers.\n');
  process.exit(process.argv.slice(2).every((arg) => arg === '--help' || arg === '-h') ? 0 : 2);
}
const file = resolve(import.meta.dirname, '..', 'docs', 'limits.md');
const text = await readFile(file, 'utf8');
const start = text.indexOf(limitsTableMarkers.begin);
const end = text.indexOf(limitsTableMarkers.end);
if (start === -1 || end === -1) throw new Error(`${file} lacks the markers ${limitsTableMarkers.begin} ... ${limitsTableMarkers.end}`);
await writeFile(file, `${text.slice(0, start + limitsTableMarkers.begin.length)}\n${limitsTable()}\n${text.slice(end)}`);
process.stdout.write(`Wrote the limits table into ${file}\n`);
