/**
 * A cache of dynalite's parsed expressions. dynalite parses every `ConditionExpression`,
 * `FilterExpression` and `UpdateExpression` with a PEG parser on every request
 * (`dynalite/db/conditionParser`, `dynalite/db/updateParser`): ~30 % of the DynamoDB thread in the
 * broadcast bench went there, for the same few expressions, again and again, most of them with
 * values that change on every request (a lease token, the time now).
 *
 * A parser resolves each `:value` into the tree it returns (the request's own AttributeValue
 * object), and what it checks of a value is its presence and its type (`begins_with`, `size`,
 * `list_append`, `+`, `ADD`, `DELETE` refuse some types), except where a check reads the value
 * itself: the condition parser's `BETWEEN` (which compares its bounds) and `attribute_type` (which
 * reads the type name). So an entry is a template: the tree with a slot where each value went,
 * keyed by the expression's text, its `ExpressionAttributeNames`, and each value's name and type.
 * A hit builds a fresh tree from the template with the request's own values: exactly what the
 * parser would have returned, and the request's alone, so dynalite may change it (an update's
 * `SET` values are resolved in place). An expression the `valueReadingSyntax` matches is keyed by
 * its values themselves, so it is answered only for the very same values.
 *
 * Key conditions (a Query's `KeyConditionExpression`, and the `FilterExpression` parsed after it
 * with the same context) are not cached. Parse errors thrown (syntax) are not cached; errors the
 * parser returns (a misused function, a type it refuses) are, by the same key. The parser's side
 * effect, marking names and values as used (`unusedAttrNames`, `unusedAttrVals`, which dynalite
 * checks after parsing), is replayed on a hit.
 */
/** The context dynalite's validations hand the parser (`dynalite/validations/index.js`, `validateExpressions`). */
interface ParseContext {
  readonly attrNames?: Record<string, string>;
  readonly attrVals?: Record<string, unknown>;
  readonly unusedAttrNames?: Record<string, boolean>;
  readonly unusedAttrVals?: Record<string, boolean>;
  readonly isKeyCondition?: boolean;
}

/** A PEG parser module of dynalite's (`dynalite/db/conditionParser`, `dynalite/db/updateParser`). */
export interface Parser {
  parse(text: string, options: { context: ParseContext }): unknown;
}

interface Entry {
  /** The parse's result with a {@link Slot} where each of the request's values was. */
  readonly template: unknown;
  readonly usedNames: readonly string[];
  readonly usedValues: readonly string[];
}

/** Where a template had one of the request's `ExpressionAttributeValues`: a hit puts its own there. */
class Slot {
  readonly name: string;
  constructor(name: string) {
    this.name = name;
  }
}

/** How many parsed expressions are kept; the oldest goes first. */
const MAX_ENTRIES = 2_000;

/** The condition parser's syntax whose checks read a value itself rather than its type (`checkBetweenArgs`, `checkFunction`'s `attribute_type`). */
export const conditionValueReadingSyntax = /between|attribute_type/i;

/** The AttributeValue's type (`S`, `N`, `M`...), as the parser's `getImmediateType` reads it. */
function typeOf(value: unknown): string {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return '?';
  for (const type of ['S', 'N', 'B', 'NULL', 'BOOL', 'SS', 'NS', 'BS', 'L', 'M']) {
    if ((value as Record<string, unknown>)[type] != null) return type;
  }
  return '?';
}

/** The cache key: the text, the names, and the values by type (or the values themselves where the parser reads them). */
function keyOf(text: string, context: ParseContext, valueReadingSyntax: RegExp | undefined): string {
  const values = context.attrVals ?? {};
  const valuesPart = valueReadingSyntax?.test(text)
    ? JSON.stringify(values)
    : Object.keys(values)
        .map((name) => `${name}:${typeOf(values[name])}`)
        .join(',');
  return `${text}\u0000${JSON.stringify(context.attrNames ?? null)}\u0000${valuesPart}`;
}

/** Thrown inside {@link toTemplate} for a tree holding something other than plain data: it is not cached. */
class NotPlainData extends Error {}

/**
 * A deep copy of `tree` with a {@link Slot} in place of each object that is one of `values`
 * (by identity: the parser put the request's own objects there). Plain objects (with their
 * prototype, `Object.prototype` or none), arrays and primitives only; throws NotPlainData otherwise.
 */
function toTemplate(tree: unknown, values: ReadonlyMap<unknown, string>): unknown {
  if (tree === null || typeof tree !== 'object') {
    if (typeof tree === 'function' || typeof tree === 'symbol') throw new NotPlainData();
    return tree;
  }
  const name = values.get(tree);
  if (name !== undefined) return new Slot(name);
  if (Array.isArray(tree)) return tree.map((item) => toTemplate(item, values));
  const prototype = Object.getPrototypeOf(tree) as object | null;
  if (prototype !== Object.prototype && prototype !== null) throw new NotPlainData();
  const copy = Object.create(prototype) as Record<string, unknown>;
  for (const [key, value] of Object.entries(tree)) copy[key] = toTemplate(value, values);
  return copy;
}

/** A fresh tree from a template: each {@link Slot} becomes the request's value of that name, everything else a copy. */
function fromTemplate(template: unknown, values: Readonly<Record<string, unknown>>): unknown {
  if (template === null || typeof template !== 'object') return template;
  if (template instanceof Slot) return values[template.name];
  if (Array.isArray(template)) return template.map((item) => fromTemplate(item, values));
  const copy = Object.create(Object.getPrototypeOf(template) as object | null) as Record<string, unknown>;
  for (const [key, value] of Object.entries(template)) copy[key] = fromTemplate(value, values);
  return copy;
}

/** The keys `parse` removed from `unused` (the names or values it used). */
function used(before: readonly string[], unused: Record<string, boolean> | undefined): string[] {
  return unused ? before.filter((key) => !(key in unused)) : [];
}

/**
 * Wraps `parser.parse` with a cache of its own; returns how many parses it answered and how many it
 * ran. `valueReadingSyntax` matches the expressions whose checks read a value itself (keyed by
 * their values); absent, every check is by type.
 */
export function cacheExpressionParses(parser: Parser, valueReadingSyntax?: RegExp): { hits(): number; misses(): number } {
  const parse = parser.parse.bind(parser);
  const entries = new Map<string, Entry>();
  let hits = 0;
  let misses = 0;
  parser.parse = (text, options) => {
    const context = options.context;
    if (context.isKeyCondition) return parse(text, options);
    const values = context.attrVals ?? {};
    const key = keyOf(text, context, valueReadingSyntax);
    const entry = entries.get(key);
    if (entry) {
      hits += 1;
      for (const name of entry.usedNames) delete context.unusedAttrNames?.[name];
      for (const value of entry.usedValues) delete context.unusedAttrVals?.[value];
      return fromTemplate(entry.template, values);
    }
    misses += 1;
    const namesBefore = Object.keys(context.unusedAttrNames ?? {});
    const valuesBefore = Object.keys(context.unusedAttrVals ?? {});
    // Throws for a syntax error, as before: nothing is cached then.
    const tree = parse(text, options);
    const slots = new Map<unknown, string>();
    for (const [name, value] of Object.entries(values)) {
      // A value that is not an object (dynalite refuses it before parsing) could not be told from
      // equal text in the tree; one object under two names, a slot could not say which it stands for.
      if (value === null || typeof value !== 'object' || slots.has(value)) return tree;
      slots.set(value, name);
    }
    let template: unknown;
    try {
      template = toTemplate(tree, slots);
    } catch (error) {
      // A tree that is not plain data is served as parsed, and parsed again next time.
      if (error instanceof NotPlainData) return tree;
      throw error;
    }
    if (entries.size >= MAX_ENTRIES) entries.delete(entries.keys().next().value as string);
    entries.set(key, { template, usedNames: used(namesBefore, context.unusedAttrNames), usedValues: used(valuesBefore, context.unusedAttrVals) });
    return tree;
  };
  return { hits: () => hits, misses: () => misses };
}
