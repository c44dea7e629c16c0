/** Number and size formatting shared by the benchmarks; figures only, nothing passes or fails on them. */

/** The command line was not understood; the message is the usage line to print. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
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
