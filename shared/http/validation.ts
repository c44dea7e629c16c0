/**
 * Turning zod's verdict into Herald's 400: a `ValidationError` whose details name each field. Takes
 * any zod schema (classic or zod/mini), so that a function whose schemas are all zod/mini (the
 * WebSocket ones) validates without zod's classic API in its bundle.
 */
import { isRawJson } from '../domain/opaque-json.ts';
import type { RawJson } from '../domain/opaque-json.ts';
import { ValidationError } from '../errors.ts';
import * as z from '../zod-mini.ts';

/** Turns zod issues into `{ field, message }` details and a message naming the fields. */
export function toValidationError(error: z.core.$ZodError, where: string): ValidationError {
  const issues = error.issues.filter(
    (issue) =>
      // A whole number beyond a double's exact integers breaks `int`'s safe range, whatever the
      // field's own range says; where the field has one (a `max`), that is the bound to name.
      !(isSafeRangeIssue(issue) && error.issues.some((other) => isRangeIssue(other) && !isSafeRangeIssue(other) && samePath(other, issue))) &&
      // A value of the wrong type is said to be so, not measured too (zod checks a string's length
      // against an array's `max`: "roles must be an array; roles must be at most 3 characters").
      !(isRangeIssue(issue) && error.issues.some((other) => other.code === 'invalid_type' && samePath(other, issue))),
  );
  const details = issues.flatMap((issue) => {
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ field: [...issue.path, key].join('.'), message: 'is not a known field' }));
    }
    return [{ field: issue.path.join('.') || where, message: isMissing(issue) ? 'is required' : inOurWords(issue) }];
  });
  const summary = details.map((d) => `${d.field} ${d.message}`).join('; ');
  // No cause: the issues hold the request's own values (e-mail addresses, phone numbers), which no
  // log line may carry; the details say all there is to say.
  return new ValidationError(`Invalid ${where}: ${summary}`, { details });
}

function isRangeIssue(issue: z.core.$ZodIssue): issue is z.core.$ZodIssueTooBig | z.core.$ZodIssueTooSmall {
  return issue.code === 'too_big' || issue.code === 'too_small';
}

/** An issue of `int`'s range: the integers a double holds exactly (±2^53 − 1). */
function isSafeRangeIssue(issue: z.core.$ZodIssue): boolean {
  return isRangeIssue(issue) && issue.origin === 'int';
}

function samePath(a: z.core.$ZodIssue, b: z.core.$ZodIssue): boolean {
  return a.path.length === b.path.length && a.path.every((key, i) => key === b.path[i]);
}

/**
 * True for an issue about a field left out: whatever its schema says of a wrong value ("must be a
 * string", "must be fcm or apns", a union's), a missing one reads "is required". Only issues parsed
 * with `reportInput` carry their input; a rule of the schema's own (`custom`) keeps its words.
 */
function isMissing(issue: z.core.$ZodIssue): boolean {
  return issue.code !== 'custom' && 'input' in issue && issue.input === undefined;
}

// A map (`z.record`) is a JSON object to the client: its keys are the names it chooses.
const typeWords: Readonly<Record<string, string>> = { object: 'a JSON object', record: 'a JSON object', array: 'an array', int: 'a whole number', boolean: 'true or false' };

/**
 * An issue's message in Herald's words ("must be an array", "must be one of low, normal"), where the
 * schema left zod's default ("Invalid input: expected array, received string", "Too big: expected
 * number to be <=1"); a message of the schema's own is kept as it is.
 */
function inOurWords(issue: z.core.$ZodIssue): string {
  // A map's key that its key schema refuses: what that schema says of it ("is not a BCP 47 language tag"), not "Invalid key in record".
  if (issue.code === 'invalid_key') {
    const [reason] = issue.issues;
    return reason ? inOurWords(reason) : issue.message;
  }
  // `int`'s own range, which the schema's message for a fraction ("must be a whole number") would misname.
  if (isSafeRangeIssue(issue) && isRangeIssue(issue)) return `must be ${issue.code === 'too_big' ? 'at most' : 'at least'} ${String(issue.code === 'too_big' ? issue.maximum : issue.minimum)}`;
  if (!/^(Invalid input: expected|Invalid option:|Too big:|Too small:)/.test(issue.message)) return issue.message;
  switch (issue.code) {
    case 'invalid_type':
      return `must be ${typeWords[issue.expected] ?? `a ${issue.expected}`}`;
    case 'invalid_value':
      return issue.values.length === 1 ? `must be ${JSON.stringify(issue.values[0])}` : `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'too_big':
    case 'too_small': {
      const limit = issue.code === 'too_big' ? issue.maximum : issue.minimum;
      const bound = `${issue.code === 'too_big' ? (issue.inclusive === false ? 'less than' : 'at most') : issue.inclusive === false ? 'more than' : 'at least'} ${String(limit)}`;
      const plural = Number(limit) === 1 ? '' : 's';
      return issue.origin === 'string' ? `must be ${bound} character${plural}` : issue.origin === 'array' ? `must have ${bound} item${plural}` : `must be ${bound}`;
    }
    default:
      return issue.message;
  }
}

/**
 * The double a number written beyond what a double prints back reads as (`-0`, `1e400`,
 * `12345678901234567890`: kept as raw JSON by the body reader, opaque-json.ts): the nearest double
 * as any JSON reader takes it, `-0` as 0, and one beyond the doubles' range as ±`Number.MAX_VALUE`,
 * so that a range check names its bound.
 */
function nearestDouble(raw: RawJson): number {
  const value = Number(raw.rawJSON);
  if (value === 0) return 0;
  return Number.isFinite(value) ? value : Math.sign(value) * Number.MAX_VALUE;
}

/**
 * `value` with the raw JSON numbers at the paths of `issues` that wanted a number read as doubles
 * ({@link nearestDouble}); undefined when there is none. A field that takes any JSON keeps them
 * exact; one that takes a number checks the number, never its spelling.
 */
function withDoublesWhereNumbersWanted(value: unknown, issues: readonly z.core.$ZodIssue[]): unknown {
  let changed = false;
  let root = value;
  for (const issue of issues) {
    if (issue.code !== 'invalid_type' || (issue.expected !== 'number' && issue.expected !== 'int') || !isRawJson(issue.input)) continue;
    const double = nearestDouble(issue.input);
    if (issue.path.length === 0) {
      root = double;
      changed = true;
      continue;
    }
    // Copied along the path, so the caller's value is left as it was.
    const copy = (node: unknown, depth: number): unknown => {
      const key = issue.path[depth] as PropertyKey;
      const container = (Array.isArray(node) ? [...(node as unknown[])] : { ...(node as object) }) as Record<PropertyKey, unknown>;
      container[key] = depth === issue.path.length - 1 ? double : copy(container[key], depth + 1);
      return container;
    };
    root = copy(root, 0);
    changed = true;
  }
  return changed ? root : undefined;
}

/** Parses a value with a schema, or throws a ValidationError naming what was wrong. */
export function parseWith<S extends z.core.$ZodType>(schema: S, value: unknown, where: string): z.infer<S> {
  // With each issue's input, to tell a field left out from one of the wrong type.
  let result = z.safeParse(schema, value, { reportInput: true });
  if (!result.success) {
    const revised = withDoublesWhereNumbersWanted(value, result.error.issues);
    if (revised !== undefined) result = z.safeParse(schema, revised, { reportInput: true });
  }
  if (!result.success) throw toValidationError(result.error, where);
  return result.data;
}
