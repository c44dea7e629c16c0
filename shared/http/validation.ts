/**
 * Turning zod's verdict into Herald's 400: a `ValidationError` whose details name each field. Takes
 * any zod schema (classic or zod/mini), so that a function whose schemas are all zod/mini (the
 * WebSocket ones) validates without zod's classic API in its bundle.
 */
import { ValidationError } from '../errors.ts';
import * as z from '../zod-mini.ts';

/** Turns zod issues into `{ field, message }` details and a message naming the fields. */
export function toValidationError(error: z.core.$ZodError, where: string): ValidationError {
  const details = error.issues.flatMap((issue) => {
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

/** Parses a value with a schema, or throws a ValidationError naming what was wrong. */
export function parseWith<S extends z.core.$ZodType>(schema: S, value: unknown, where: string): z.infer<S> {
  // With each issue's input, to tell a field left out from one of the wrong type.
  const result = z.safeParse(schema, value, { reportInput: true });
  if (!result.success) throw toValidationError(result.error, where);
  return result.data;
}
