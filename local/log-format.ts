/**
 * How the local stack prints the functions' log lines. On Lambda they are Powertools' JSON, one
 * object a line, which CloudWatch indexes; in a terminal a person reads them, so `npm start` shows
 * each as one short line (`12:00:01.234 INFO  api  Request refused  code=VALIDATION_ERROR ...`):
 * the time (UTC), the level, the function, the message and the event's own keys, without the keys
 * that every line of a function repeats; its metrics (EMF documents) as one `METRIC` line each.
 * `--json` or `HERALD_LOG_FORMAT=json` keeps the JSON, as
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
  const name = functionName.replace(/^herald-[a-z0-9]+-/, '');
  const metrics = metricsLine(record, name);
  if (metrics !== undefined) return metrics;
  const time = typeof record.timestamp === 'string' ? record.timestamp.slice(11, 23) : new Date().toISOString().slice(11, 23);
  const level = String(record.level ?? 'INFO').padEnd(5);
  const message = typeof record.message === 'string' ? record.message : '';
  const details = Object.entries(record)
    .filter(([key]) => !repeatedKeys.has(key))
    .map(([key, value]) => `${key}=${describeValue(value)}`);
  return [`${time} ${level} ${name}`, message, ...details].filter((part) => part !== '').join('  ');
}

/** The short form of CloudWatch units in a metrics line. */
const unitSuffix: Readonly<Record<string, string>> = { Milliseconds: ' ms', Seconds: ' s', Bytes: ' B', Count: '' };

/**
 * An EMF document (a function's metrics, "Embedded metric format specification", CloudWatch user
 * guide) as one readable line: `12:00:01.234 METRIC deliver  Channel=inbox  Delivered=100
 * DeliveryLatenessMs=20318-20320 ms (100)`. Its dimensions but `service`, then each metric: a
 * single value as it is, a list (EMF allows up to 100 values) as its sum for a `Count`, else as its
 * range and how many. Undefined when `record` is not an EMF document.
 */
function metricsLine(record: Record<string, unknown>, name: string): string | undefined {
  const aws = record._aws as { Timestamp?: unknown; CloudWatchMetrics?: unknown } | undefined;
  if (typeof aws !== 'object' || aws === null || !Array.isArray(aws.CloudWatchMetrics)) return undefined;
  const directives = aws.CloudWatchMetrics as { Dimensions?: unknown; Metrics?: { Name?: unknown; Unit?: unknown }[] }[];
  const dimensions = new Set(directives.flatMap((d) => (Array.isArray(d.Dimensions) ? d.Dimensions.flat() : [])).filter((key) => key !== 'service'));
  const time = new Date(typeof aws.Timestamp === 'number' ? aws.Timestamp : Date.now()).toISOString().slice(11, 23);
  const parts = [...dimensions].map((key) => `${String(key)}=${describeValue(record[String(key)])}`);
  for (const metric of directives.flatMap((d) => d.Metrics ?? [])) {
    const value = record[String(metric.Name)];
    const unit = unitSuffix[String(metric.Unit)] ?? ` ${String(metric.Unit ?? '')}`.trimEnd();
    const values = (Array.isArray(value) ? value : [value]).filter((v): v is number => typeof v === 'number');
    if (values.length === 0) continue;
    const shown =
      values.length === 1
        ? `${values[0]}${unit}`
        : metric.Unit === 'Count'
          ? String(values.reduce((sum, v) => sum + v, 0))
          : `${Math.min(...values)}-${Math.max(...values)}${unit} (${values.length})`;
    parts.push(`${String(metric.Name)}=${shown}`);
  }
  return [`${time} METRIC ${name}`, ...parts].join('  ');
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
