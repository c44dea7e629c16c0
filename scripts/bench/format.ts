/** Number and size formatting shared by the benchmarks; figures only, nothing passes or fails on them. */

/** The command line was not understood; the message is what was wrong (when known), then the usage line to print. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  constructor(usage: string, problem?: string) {
    super(problem === undefined ? usage : `${problem}\n${usage}`);
  }
}

/** What a numeric option must be: a whole number (decimal digits) or any number above 0, within bounds. */
export interface NumberRule {
  readonly integer?: boolean;
  /** @default 1 for a whole number; any number above 0 otherwise */
  readonly min?: number;
  readonly max?: number;
  readonly multipleOf?: number;
}

/**
 * The value of `--name` as a number, written in decimal digits (`0x10`, `1e2` and an empty value
 * are refused, as the API refuses them). @throws UsageError naming the option and what it must be
 */
export function numberOption(name: string, value: string, usage: string, rule: NumberRule = {}): number {
  const { integer = false, max, multipleOf } = rule;
  const min = rule.min ?? (integer ? 1 : undefined);
  const must = [
    integer ? 'a whole number' : 'a number',
    min !== undefined ? `of at least ${min}` : 'above 0',
    ...(max !== undefined ? [`and at most ${max}`] : []),
    ...(multipleOf !== undefined ? [`in multiples of ${multipleOf}`] : []),
    ...(integer ? [] : ['in decimal digits']),
  ].join(' ');
  const n = (integer ? /^\d+$/ : /^(\d+\.?\d*|\.\d+)$/).test(value) ? Number(value) : Number.NaN;
  const fits = Number.isFinite(n) && (min !== undefined ? n >= min : n > 0) && (max === undefined || n <= max) && (multipleOf === undefined || n % multipleOf === 0);
  if (!fits) throw new UsageError(usage, `--${name} must be ${must}, not ${JSON.stringify(value)}`);
  return n;
}

/** The comma-separated values of `--name`, each read by {@link numberOption}. @throws UsageError naming the option */
export function numberListOption(name: string, value: string, usage: string, rule: NumberRule = {}): number[] {
  return value.split(',').map((item) => numberOption(name, item.trim(), usage, rule));
}

/** `n` with thousands separators and `digits` decimals, e.g. `12,345.6`. */
export function number(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

/** A byte count in whole megabytes (MiB), e.g. `312 MB`. */
export function megabytes(bytes: number): string {
  return `${number(bytes / 1024 / 1024)} MB`;
}

/** Peak resident set size of this process so far, in bytes. */
export function peakRss(): number {
  return process.resourceUsage().maxRSS * 1024;
}
