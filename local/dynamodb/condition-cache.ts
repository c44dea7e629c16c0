/**
 * A cache of dynalite's parsed condition expressions. dynalite parses every `ConditionExpression`
 * and `FilterExpression` with a PEG parser on every request (`dynalite/db/conditionParser`), which
 * was ~16 % of the DynamoDB thread in the broadcast bench: the same few expressions, again and
 * again. The parser resolves the `#names` and `:values` into the tree it returns, so an entry is
 * keyed by the expression's text with the request's `ExpressionAttributeNames` and
 * `ExpressionAttributeValues` as JSON: a hit is exactly what the parser would have returned.
 *
 * What is not cached, because dynalite changes the tree after parsing: key conditions (a Query's
 * `KeyConditionExpression`, and the `FilterExpression` parsed after it with the same context,
 * which `convertKeyCondition` may rewrite) and `UpdateExpression`s (`updateParser`, whose `SET`
 * values `applyUpdateExpression` resolves in place). Condition trees are only read
 * (`matchesExprFilter`), and each entry is a deep copy, so no request's objects are shared.
 * Parse errors are not cached. The parser's side effect, marking names and values as used
 * (`unusedAttrNames`, `unusedAttrVals`, which dynalite checks after parsing), is replayed on a hit.
 */
/** The context dynalite's validations hand the parser (`dynalite/validations/index.js`, `validateExpressions`). */
interface ParseContext {
  readonly attrNames?: Record<string, string>;
  readonly attrVals?: Record<string, unknown>;
  readonly unusedAttrNames?: Record<string, boolean>;
  readonly unusedAttrVals?: Record<string, boolean>;
  readonly isKeyCondition?: boolean;
}

/** A PEG parser module of dynalite's (`dynalite/db/conditionParser`). */
export interface Parser {
  parse(text: string, options: { context: ParseContext }): unknown;
}

interface Entry {
  readonly tree: unknown;
  readonly usedNames: readonly string[];
  readonly usedValues: readonly string[];
}

/** How many parsed expressions are kept; the oldest goes first. */
const MAX_ENTRIES = 2_000;

/** The keys `parse` removed from `unused` (the names or values it used). */
function used(before: readonly string[], unused: Record<string, boolean> | undefined): string[] {
  return unused ? before.filter((key) => !(key in unused)) : [];
}

/** Wraps `parser.parse` with the cache; returns how many parses it answered and how many it ran. */
export function cacheConditionParses(parser: Parser): { hits(): number; misses(): number } {
  const parse = parser.parse.bind(parser);
  const entries = new Map<string, Entry>();
  let hits = 0;
  let misses = 0;
  parser.parse = (text, options) => {
    const context = options.context;
    if (context.isKeyCondition) return parse(text, options);
    const key = `${text}\u0000${JSON.stringify(context.attrNames ?? null)}\u0000${JSON.stringify(context.attrVals ?? null)}`;
    const entry = entries.get(key);
    if (entry) {
      hits += 1;
      for (const name of entry.usedNames) delete context.unusedAttrNames?.[name];
      for (const value of entry.usedValues) delete context.unusedAttrVals?.[value];
      return entry.tree;
    }
    misses += 1;
    const namesBefore = Object.keys(context.unusedAttrNames ?? {});
    const valuesBefore = Object.keys(context.unusedAttrVals ?? {});
    // Throws for a syntax error, as before: nothing is cached then.
    const tree = parse(text, options);
    let copy: unknown;
    try {
      copy = structuredClone(tree);
    } catch {
      // A tree that cannot be copied is served as parsed, and parsed again next time.
      return tree;
    }
    if (entries.size >= MAX_ENTRIES) entries.delete(entries.keys().next().value as string);
    entries.set(key, { tree: copy, usedNames: used(namesBefore, context.unusedAttrNames), usedValues: used(valuesBefore, context.unusedAttrVals) });
    return copy;
  };
  return { hits: () => hits, misses: () => misses };
}
