/**
 * Numbers in query strings and paths are written in decimal digits. A `z.coerce.number()` schema
 * reads its input with `Number()`, which also takes `0x10` (16), `1e3` (1000), `0b11`, `+5`, ` 5`
 * and an empty value (0); these helpers hand such a value to the schema as `NaN`, so that it
 * answers in its own words ("must be a number") and its OpenAPI type stays a number.
 */
import type * as z from '../zod-mini.ts';

/** Decimal digits, with a sign or a fraction left for the schema to refuse in its words. */
const decimalNumeral = /^-?\d+(\.\d+)?$/;

/** Whether `schema`, past `optional` and `default`, coerces its input to a number (`z.coerce.number()`). */
function coercesToNumber(schema: z.core.$ZodType): boolean {
  let def = schema._zod.def as { type: string; coerce?: boolean; innerType?: z.core.$ZodType };
  while ((def.type === 'optional' || def.type === 'default') && def.innerType) def = def.innerType._zod.def as typeof def;
  return def.type === 'number' && def.coerce === true;
}

/** `value`, or `'NaN'` when `schema` coerces it to a number and it is not written in decimal digits. */
export function decimalNumeralOr(schema: z.core.$ZodType, value: string | undefined): string | undefined {
  return value !== undefined && coercesToNumber(schema) && !decimalNumeral.test(value) ? 'NaN' : value;
}

/** `parameters` with {@link decimalNumeralOr} applied to each field of the object `schema` names. */
export function decimalNumerals(schema: z.core.$ZodType, parameters: Readonly<Record<string, string | undefined>>): Record<string, string | undefined> {
  const def = schema._zod.def as { type: string; shape?: Readonly<Record<string, z.core.$ZodType>> };
  const shape = def.type === 'object' ? def.shape : undefined;
  if (!shape) return { ...parameters };
  return Object.fromEntries(Object.entries(parameters).map(([name, value]) => [name, Object.hasOwn(shape, name) && shape[name] ? decimalNumeralOr(shape[name], value) : value]));
}
