/**
 * Opaque JSON: the free-form `data` of a notification or broadcast, kept exactly as the caller
 * sent it. JavaScript numbers are IEEE-754 doubles, so `12345678901234567890` or `1e400` would
 * change on the way through `JSON.parse`; DynamoDB numbers hold 38 digits within 1e-130..1e126,
 * so `1e-200` could not be stored either. So:
 *
 * - text is parsed with a reviver that reads each number's own source text (ECMAScript's
 *   "JSON.parse source text access", in V8 since Node 21) and keeps any number whose double
 *   would print differently as `JSON.rawJSON(source)`, which `JSON.stringify` writes back verbatim;
 * - the value is stored as JSON text (a string attribute), never as a DynamoDB map, so DynamoDB's
 *   number, key-name and nesting rules never apply to it;
 * - it is read back with the same reviver, so every answer (`GET`, the inbox, the WebSocket frame)
 *   prints the very numbers that were sent.
 *
 * No AWS here.
 */

/** What `JSON.rawJSON` makes: a frozen object that `JSON.stringify` prints as its `rawJSON` text. */
export interface RawJson {
  readonly rawJSON: string;
}

// ES2025's JSON.rawJSON / JSON.isRawJSON (Node 24); the project's `lib` (es2024) does not declare them yet.
const json = JSON as unknown as {
  rawJSON(text: string): RawJson;
  isRawJSON(value: unknown): value is RawJson;
  parse(text: string, reviver: (this: unknown, key: string, value: unknown, context: { source?: string }) => unknown): unknown;
};

/** True for a value `JSON.rawJSON` made. */
export function isRawJson(value: unknown): value is RawJson {
  return json.isRawJSON(value);
}

/** `-12.50e+3` as (sign, significant digits, exponent of the last digit): `['-', '125', 2]`. */
function decimalParts(text: string): [sign: string, digits: string, exponent: number] {
  const match = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (!match) return ['', text, 0];
  const [, sign = '', whole = '', fraction = '', exponent = '0'] = match;
  let digits = `${whole}${fraction}`.replace(/^0+/, '');
  let power = Number(exponent) - fraction.length;
  const trailing = /0*$/.exec(digits)?.[0].length ?? 0;
  digits = digits.slice(0, digits.length - trailing);
  power += trailing;
  return digits === '' ? [sign, '0', 0] : [sign, digits, power];
}

/**
 * True when the double `value` prints as the same decimal number as `source` (`1.50` and `1.5` do;
 * `12345678901234567890` and `-0` (a double prints it `0`) do not, nor does anything that overflowed to Infinity).
 */
export function numberRoundTrips(source: string, value: number): boolean {
  if (!Number.isFinite(value)) return false;
  const [sign, digits, exponent] = decimalParts(source);
  const [printedSign, printedDigits, printedExponent] = decimalParts(String(value));
  return sign === printedSign && digits === printedDigits && exponent === printedExponent;
}

/** The reviver that keeps numbers a double cannot hold as raw JSON. */
function keepNumbers(_key: string, value: unknown, context: { source?: string }): unknown {
  if (typeof value === 'number' && context.source !== undefined && !numberRoundTrips(context.source, value)) {
    return json.rawJSON(context.source);
  }
  return value;
}

/**
 * Parses JSON text keeping every number exactly as written (see the module's comment); throws
 * the SyntaxError of `JSON.parse` for text that is not JSON.
 */
export function parseJsonKeepingNumbers(text: string): unknown {
  return json.parse(text, keepNumbers);
}

/** The JSON text of `data` as stored: what `JSON.stringify` prints, raw numbers verbatim. */
export function toJsonText(data: unknown): string {
  return JSON.stringify(data);
}

/** Reads stored JSON text back, numbers as written. */
export function fromJsonText(text: string): unknown {
  return parseJsonKeepingNumbers(text);
}
