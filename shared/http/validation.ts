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
    // A field left out reads the same whatever its type: the schema's own message for a wrong type
    // ("must be a string", "expected array") would not say that it is missing.
    const missing = issue.code === 'invalid_type' && issue.input === undefined;
    return [{ field: issue.path.join('.') || where, message: missing ? 'is required' : issue.message }];
  });
  const summary = details.map((d) => `${d.field} ${d.message}`).join('; ');
  return new ValidationError(`Invalid ${where}: ${summary}`, { details, cause: error });
}

/** Parses a value with a schema, or throws a ValidationError naming what was wrong. */
export function parseWith<S extends z.core.$ZodType>(schema: S, value: unknown, where: string): z.infer<S> {
  // With each issue's input, to tell a field left out from one of the wrong type.
  const result = z.safeParse(schema, value, { reportInput: true });
  if (!result.success) throw toValidationError(result.error, where);
  return result.data;
}
