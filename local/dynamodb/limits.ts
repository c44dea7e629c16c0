/**
 * AWS limits that dynalite does not enforce, checked at the DynamoDB endpoint.
 *
 * - **Nesting.** DynamoDB refuses attribute values nested deeper than 32 levels (the top-level
 *   attribute is level 1). dynalite has no such limit, and its validation and its storage recurse
 *   once per level, so a request nested a few hundred levels deep overflowed the stack and
 *   crashed the whole local stack. `nestingError` walks the request with an explicit stack, before
 *   anything recursive runs.
 * - **Arithmetic.** dynalite already refuses, on the way in, a number of more than 38 significant
 *   digits or outside 1E-130..9.9999999999999999999999999999999999999E+125, with AWS's messages;
 *   but it stores whatever an `ADD` or a `SET a = b + c` computes. `arithmeticError` predicts
 *   those results from the current item, so an out-of-range one is refused before anything is
 *   written, as AWS does (it answers "Number overflow" for a result that is too large or too
 *   precise, and "Number underflow" for one too close to zero).
 *
 * Sources: "Service, account, and table quotas in Amazon DynamoDB" (attributes: nested attribute
 * depth 32; numbers: 38 digits of precision, 1E-130 to 9.9999999999999999999999999999999999999E+125)
 * and "Supported data types and naming rules" (numbers). The messages are AWS's, as captured
 * against DynamoDB by the open-source conformance suites of other emulators (dynoxide, Scylla
 * Alternator's test_number.py).
 */
import { createRequire } from 'node:module';
import { dynaliteDb } from './dynalite.ts';
import type { AttributeMap, AttributeValue, Json } from './dynalite.ts';

/** AWS's limit on how deep attribute values nest; the top-level attribute is level 1. */
export const MAX_NESTING_LEVELS = 32;

export const NESTING_MESSAGE = 'Nesting Levels have exceeded supported limits: Attributes in the item have nested levels beyond supported limit';
export const NUMBER_OVERFLOW_MESSAGE = 'Number overflow. Attempting to store a number with magnitude larger than supported range';
export const NUMBER_UNDERFLOW_MESSAGE = 'Number underflow. Attempting to store a number with magnitude smaller than supported range';

/** The members whose value is a map of attribute values (an item, a key, expression values). */
const attributeMapMembers = new Set(['Item', 'Key', 'ExpressionAttributeValues', 'ExclusiveStartKey']);

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The nesting ValidationException's message when any attribute value in the request is nested
 * deeper than 32 levels; undefined otherwise. Iterative: any depth of JSON is safe to walk.
 */
export function nestingError(request: Json): string | undefined {
  // level 0: the request's own structure; level n ≥ 1: an attribute value n levels deep.
  const stack: { value: unknown; level: number }[] = [{ value: request, level: 0 }];
  const pushValues = (values: Iterable<unknown>, level: number): void => {
    for (const value of values) stack.push({ value, level });
  };
  for (let frame = stack.pop(); frame !== undefined; frame = stack.pop()) {
    const { value, level } = frame;
    if (level > MAX_NESTING_LEVELS) return NESTING_MESSAGE;
    if (level > 0) {
      if (!isObject(value)) continue;
      if (isObject(value.M)) pushValues(Object.values(value.M), level + 1);
      if (Array.isArray(value.L)) pushValues(value.L, level + 1);
      continue;
    }
    if (Array.isArray(value)) {
      pushValues(value, 0);
      continue;
    }
    if (!isObject(value)) continue;
    for (const [member, child] of Object.entries(value)) {
      if (attributeMapMembers.has(member) && isObject(child)) pushValues(Object.values(child), 1);
      else if (member === 'Keys' && Array.isArray(child)) pushValues(child.flatMap((key) => (isObject(key) ? Object.values(key) : [])), 1);
      else if (member === 'Value' && isObject(child)) stack.push({ value: child, level: 1 });
      else if (member === 'AttributeValueList' && Array.isArray(child)) pushValues(child, 1);
      else stack.push({ value: child, level: 0 });
    }
  }
  return undefined;
}

/** big.js, the decimal arithmetic dynalite computes with (taken from dynalite's own dependencies). */
interface Big {
  readonly c: readonly number[];
  readonly e: number;
  plus(n: Big | string): Big;
  minus(n: Big | string): Big;
}
const requireFromDynalite = createRequire(createRequire(import.meta.url).resolve('dynalite'));
const BigNumber = requireFromDynalite('big.js') as new (n: string | Big) => Big;

/** AWS's message for a computed number it cannot store; undefined when it can. */
function rangeError(n: Big): string | undefined {
  if (n.c.length === 1 && n.c[0] === 0) return undefined;
  if (n.e > 125 || n.c.length > 38) return NUMBER_OVERFLOW_MESSAGE;
  if (n.e < -130) return NUMBER_UNDERFLOW_MESSAGE;
  return undefined;
}

/** One operand or value of a parsed update expression, as dynalite's update parser builds it. */
type UpdateValue = readonly (string | number)[] | AttributeValue | { readonly type: string; readonly name?: string; readonly args: readonly UpdateValue[] };

interface UpdateSection {
  readonly type: 'set' | 'remove' | 'add' | 'delete';
  readonly path: readonly (string | number)[];
  readonly val?: UpdateValue;
  readonly attrType?: string;
}

/** Thrown inside the evaluation to stop at the first number out of range. */
class OutOfRange extends Error {}

function numberIn(value: AttributeValue | undefined): string | undefined {
  return typeof value?.N === 'string' ? value.N : undefined;
}

/** The number `value` evaluates to on `item`, when it is one; arithmetic results are range-checked. */
function evaluate(value: UpdateValue | undefined, item: AttributeMap): Big | string | undefined {
  if (value === undefined) return undefined;
  if (Array.isArray(value)) return numberIn(dynaliteDb.mapPath(value as readonly (string | number)[], item));
  const node = value as { type?: unknown; name?: unknown; args?: readonly UpdateValue[] };
  if ((node.type === 'add' || node.type === 'subtract') && node.args) {
    const [left, right] = node.args.map((arg) => evaluate(arg, item));
    if (left === undefined || right === undefined) return undefined; // dynalite answers the type error
    const result = node.type === 'add' ? new BigNumber(left).plus(right) : new BigNumber(left).minus(right);
    const message = rangeError(result);
    if (message) throw new OutOfRange(message);
    return result;
  }
  if (node.type === 'function' && node.name === 'if_not_exists' && node.args) {
    const [path, fallback] = node.args;
    const existing = Array.isArray(path) ? numberIn(dynaliteDb.mapPath(path as readonly (string | number)[], item)) : undefined;
    return existing ?? evaluate(fallback, item);
  }
  if (node.type === 'function') return undefined;
  return numberIn(value as AttributeValue);
}

/**
 * The ValidationException message AWS answers when an UpdateItem (validated by dynalite, so
 * carrying its parsed `_updates`, or legacy `AttributeUpdates`) would store a number out of
 * range on `item` (the current item, or undefined when there is none); undefined otherwise.
 */
export function arithmeticError(update: Json, item: AttributeMap | undefined): string | undefined {
  const current = item ?? {};
  try {
    const sections = (update._updates as { sections?: readonly UpdateSection[] } | undefined)?.sections;
    for (const section of sections ?? []) {
      if (section.type === 'set') evaluate(section.val, current);
      // ADD to a missing number stores the operand itself, which dynalite has already range-checked.
      if (section.type === 'add' && section.attrType === 'N') evaluate({ type: 'add', args: [section.path, section.val ?? {}] }, current);
    }
    const legacy = update.AttributeUpdates as Record<string, { Action?: string; Value?: AttributeValue }> | undefined;
    for (const [name, change] of Object.entries(legacy ?? {})) {
      const delta = numberIn(change.Value);
      if (change.Action !== 'ADD' || delta === undefined) continue;
      const existing = numberIn(current[name]);
      if (existing === undefined) continue; // absent: the operand is stored as it is; not a number: dynalite refuses it
      const message = rangeError(new BigNumber(existing).plus(delta));
      if (message) return message;
    }
  } catch (error) {
    if (error instanceof OutOfRange) return error.message;
    throw error;
  }
  return undefined;
}
