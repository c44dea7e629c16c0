/**
 * How the local stack prints the functions' log lines. On Lambda they are Powertools' JSON, one
 * object a line, which CloudWatch indexes; in a terminal a person reads them, so `npm start` shows
 * each as one short line (`12:00:01.234 INFO  api  Request refused  code=VALIDATION_ERROR ...`):
 * the time (UTC), the level, the function, the message and the event's own keys, without the keys
 * that every line of a function repeats. `--json` or `HERALD_LOG_FORMAT=json` keeps the JSON, as
 * does output that is not a terminal (a file, a pipe, CI), where tools parse it.
 */

/** `json`: Powertools' lines unchanged; `pretty`: one readable line per event. */
export type LogFormat = 'json' | 'pretty';

/** Keys every line of a function carries, which the readable form leaves out (the function's name shows once). */
const repeatedKeys = new Set([
  'level',
  'message',
  'timestamp',
  'service',
  'sampling_rate',
  'cold_start',
  'function_arn',
  'function_memory_size',
  'function_name',
  'function_request_id',
  'xray_trace_id',
]);

/**
 * The format `npm start` prints: `json` when asked (`--json`, or `HERALD_LOG_FORMAT=json`) or when
 * stdout is not a terminal, `pretty` otherwise (or when `HERALD_LOG_FORMAT=pretty` asks for it).
 */
export function chooseLogFormat(options: { readonly jsonFlag: boolean; readonly variable: string | undefined; readonly isTerminal: boolean }): LogFormat {
  if (options.jsonFlag || options.variable === 'json') return 'json';
  if (options.variable === 'pretty') return 'pretty';
  return options.isTerminal ? 'pretty' : 'json';
}

function describeValue(value: unknown): string {
  if (typeof value === 'string') return /[\s"=]/.test(value) || value === '' ? JSON.stringify(value) : value;
  return JSON.stringify(value) ?? String(value);
}

/**
 * One JSON log line of `functionName` as a readable line (no trailing newline); a line that is not
 * a JSON object (a `console.log` of plain text) comes back unchanged.
 */
export function formatLogLine(line: string, functionName: string): string {
  let entry: unknown;
  try {
    entry = JSON.parse(line);
  } catch {
    return line;
  }
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return line;
  const record = entry as Record<string, unknown>;
  const time = typeof record.timestamp === 'string' ? record.timestamp.slice(11, 23) : new Date().toISOString().slice(11, 23);
  const level = String(record.level ?? 'INFO').padEnd(5);
  const name = functionName.replace(/^herald-[a-z0-9]+-/, '');
  const message = typeof record.message === 'string' ? record.message : '';
  const details = Object.entries(record)
    .filter(([key]) => !repeatedKeys.has(key))
    .map(([key, value]) => `${key}=${describeValue(value)}`);
  return [`${time} ${level} ${name}`, message, ...details].filter((part) => part !== '').join('  ');
}

/**
 * A writer that takes chunks of JSON lines and passes each whole line, formatted, to `write`;
 * a partial line waits for its end.
 */
export function prettyLineWriter(functionName: string, write: (text: string) => void): (text: string) => void {
  let pending = '';
  return (text) => {
    pending += text;
    const end = pending.lastIndexOf('\n');
    if (end < 0) return;
    const lines = pending.slice(0, end).split('\n');
    pending = pending.slice(end + 1);
    write(`${lines.map((line) => formatLogLine(line, functionName)).join('\n')}\n`);
  };
}
