/**
 * dynalite's comparisons of strings, in DynamoDB's order. DynamoDB compares String values by the
 * bytes of their UTF-8 encoding ("Strings", in
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.NamingRulesDataTypes.html);
 * dynalite compares them with JavaScript's `<`, by UTF-16 code unit. The two orders part where a
 * character above U+FFFF (a surrogate pair in UTF-16, U+D800-U+DFFF) meets one in U+E000-U+FFFF:
 * UTF-16 puts the first before, UTF-8 after (an emoji against a private-use or CJK-compatibility
 * character). So, on dynalite alone:
 * - a condition or filter `<`, `<=`, `>`, `>=` or `BETWEEN` on such strings answered the other way;
 * - a Query's `ExclusiveStartKey` inside its sort-key condition was refused ("does not match the
 *   range key predicate");
 * - a `BETWEEN` whose bounds are in order on AWS was refused as out of order.
 * dynalite also read an empty String or Binary (which AWS allows in a non-key attribute) and a
 * `false` Boolean as no value: `BETWEEN`, `IN` and `attribute_type` answered false for them,
 * `contains` of a list holding an empty one false, and `size()` nothing. And its
 * `size()` of a String counted UTF-16 units, where AWS answers the attribute's size in bytes
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ql-functions.size.html): UTF-8.
 *
 * `compare` is replaced by one that orders strings by code point (the order of their UTF-8 bytes)
 * and reads an empty value as a value; so are the functions that reach dynalite's own `compare`
 * inside its module (`matchesFilter` and `matchesExprFilter`, and through them `checkConditional`
 * and `queryTable`, whose filter is applied here after its read), as ports of dynalite 4.0.0's
 * code. Numbers and non-empty binaries were already compared as AWS does (by value; by byte,
 * through hex) and go to dynalite's `compare` unchanged. The items themselves are stored and read
 * in code-point order by the memory store (`memory-store.ts`).
 */
import type { AttributeMap, AttributeValue, Callback, DynaliteError, DynaliteStore, Json, TableDescription } from './dynalite.ts';

/** A comparison dynalite evaluates: its operator (`LT`, `<`, `BETWEEN`, `begins_with`...), the value, the operands. */
type Compare = (comparison: string, value: AttributeValue | null | undefined, operands: unknown) => boolean;

/** A parsed condition or filter expression, as dynalite's condition parser returns it. */
interface Expression {
  readonly type: string;
  readonly name?: string;
  readonly args: readonly unknown[];
}

/** A legacy `Expected` / `QueryFilter` / `ScanFilter` entry. */
interface LegacyCondition {
  readonly Exists?: boolean;
  readonly ComparisonOperator?: string;
  readonly AttributeValueList?: readonly AttributeValue[];
  readonly Value?: AttributeValue;
}

type QueryTable = (
  store: DynaliteStore,
  table: TableDescription,
  data: Json,
  options: Json,
  isLocal: boolean,
  fetchFromItemDb: boolean,
  startKeyNames: readonly string[],
  callback: Callback<Json>,
) => void;

/** The part of `dynalite/db` replaced here, and what the replacements call. */
export interface StringComparing {
  compare: Compare;
  matchesFilter(item: AttributeMap, filter: Record<string, LegacyCondition>, conditionalOperator?: string): boolean;
  matchesExprFilter(item: AttributeMap, expression: Expression): boolean;
  checkConditional(data: Json, item: AttributeMap | undefined): DynaliteError | null | undefined;
  queryTable: QueryTable;
  mapPath(path: readonly (string | number)[], item: AttributeMap): AttributeValue | undefined;
  mapPaths(paths: readonly unknown[], item: AttributeMap): AttributeMap;
}

/**
 * Orders two strings by code point, which is the order of their UTF-8 bytes: negative when `a`
 * comes first. Where neither has a unit from U+D800 up, that is the order of `<`.
 */
export function compareUtf8(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

/** A UTF-16 code unit's place in code-point order: surrogates after U+E000-U+FFFF. */
function codePointRank(unit: number): number {
  if (unit < 0xd800) return unit;
  return unit < 0xe000 ? unit + 0x2000 : unit - 0x800;
}

/** What each ordering operator holds for, given the sign of the value against the operand. */
const orderings: Readonly<Record<string, (order: number) => boolean>> = {
  LT: (order) => order < 0,
  '<': (order) => order < 0,
  LE: (order) => order <= 0,
  '<=': (order) => order <= 0,
  GT: (order) => order > 0,
  '>': (order) => order > 0,
  GE: (order) => order >= 0,
  '>=': (order) => order >= 0,
};

/** The string of an `{ S: ... }` value, or undefined for any other value. */
function stringOf(value: unknown): string | undefined {
  const s = (value as { S?: unknown } | null | undefined)?.S;
  return typeof s === 'string' ? s : undefined;
}

/** A value dynalite's `!value` checks read as none: an empty String or Binary, or a `false` Boolean. */
type FalsyValue = { readonly type: 'S' | 'B'; readonly value: '' } | { readonly type: 'BOOL'; readonly value: false };

function falsyOf(value: unknown): FalsyValue | undefined {
  const v = value as { S?: unknown; B?: unknown; BOOL?: unknown } | null | undefined;
  if (v?.S === '') return { type: 'S', value: '' };
  if (v?.B === '') return { type: 'B', value: '' };
  if (v?.BOOL === false) return { type: 'BOOL', value: false };
  return undefined;
}

/**
 * The comparisons dynalite answered false for a value it read as none (an empty String or
 * Binary, a `false` Boolean; and a list holding an empty String or Binary), as AWS answers them:
 * undefined for any other value or comparison (dynalite's answer stands).
 */
function compareFalsy(comparison: string, value: unknown, list: readonly unknown[]): boolean | undefined {
  if (comparison === 'CONTAINS' || comparison === 'contains' || comparison === 'NOT_CONTAINS') {
    const sought = falsyOf(list[0]);
    const items = (value as { L?: unknown } | null | undefined)?.L;
    if (!sought || sought.type === 'BOOL' || !Array.isArray(items)) return undefined;
    const found = items.some((item) => (item as Record<string, unknown> | null)?.[sought.type] === '');
    return comparison === 'NOT_CONTAINS' ? !found : found;
  }
  const falsy = falsyOf(value);
  if (!falsy) return undefined;
  const same = (operand: unknown): boolean => (operand as Record<string, unknown> | null)?.[falsy.type] === falsy.value;
  switch (comparison) {
    case 'IN':
    case 'in':
      return list.some(same);
    case 'attribute_type':
      return stringOf(list[0]) === falsy.type;
    case 'BETWEEN':
    case 'between':
      // Nothing comes before the empty value: it is within bounds only when the lower one is empty too.
      return falsy.type === 'BOOL' ? undefined : same(list[0]) && typeof (list[1] as Record<string, unknown> | null)?.[falsy.type] === 'string';
    default:
      return undefined;
  }
}

/** dynalite's `compare`, with String values ordered by their UTF-8 bytes and empty values read as values. */
function compareInUtf8Order(original: Compare): Compare {
  return (comparison, value, operands) => {
    const list = Array.isArray(operands) ? (operands as unknown[]) : [operands];
    const onFalsy = compareFalsy(comparison, value, list);
    if (onFalsy !== undefined) return onFalsy;
    const s = stringOf(value);
    const first = stringOf(list[0]);
    if (s === undefined || first === undefined) return original(comparison, value, operands);
    const holds = orderings[comparison];
    if (holds) return holds(compareUtf8(s, first));
    if (comparison === 'BETWEEN' || comparison === 'between') {
      const upper = stringOf(list[1]);
      if (upper === undefined) return original(comparison, value, operands);
      return compareUtf8(s, first) >= 0 && compareUtf8(s, upper) <= 0;
    }
    return original(comparison, value, operands);
  };
}

/**
 * Replaces dynalite's string comparisons with ones in DynamoDB's order (see the module's
 * comment). Installed once, on `require('dynalite/db')`, before any request.
 */
export function installUtf8StringOrder(db: StringComparing): void {
  const compare = compareInUtf8Order(db.compare);
  db.compare = compare;

  // dynalite/db/index.js `matchesFilter`: a legacy filter, each attribute's condition ANDed (or ORed).
  const matchesFilter: StringComparing['matchesFilter'] = (item, filter, conditionalOperator) => {
    for (const attribute in filter) {
      const condition = filter[attribute] as LegacyCondition;
      const comparison = condition.Exists != null ? (condition.Exists ? 'NOT_NULL' : 'NULL') : (condition.ComparisonOperator ?? 'EQ');
      if (!compare(comparison, item[attribute], condition.AttributeValueList ?? condition.Value)) return false;
      if (conditionalOperator === 'OR') return true;
    }
    return true;
  };
  db.matchesFilter = matchesFilter;

  // dynalite/db/index.js `resolveArg`: an operand's value (a path, `size(path)`, or the value itself).
  const resolveArg = (arg: unknown, item: AttributeMap): unknown => {
    if (Array.isArray(arg)) return db.mapPath(arg as (string | number)[], item);
    const call = arg as Expression;
    if (call.type === 'function' && call.name === 'size') {
      const value = resolveArg(call.args[0], item) as Record<string, unknown> | null | undefined;
      if (!value) return null;
      let length: number | undefined;
      // The attribute's size in bytes, as AWS answers it: a String's UTF-8.
      if (typeof value.S === 'string') length = Buffer.byteLength(value.S, 'utf8');
      else if (typeof value.B === 'string') length = Buffer.from(value.B, 'base64').length;
      else if (value.SS || value.BS || value.NS || value.L) length = ((value.SS ?? value.BS ?? value.NS ?? value.L) as unknown[]).length;
      else if (value.M) length = Object.keys(value.M as object).length;
      return length != null ? { N: length.toString() } : null;
    }
    return arg;
  };

  // dynalite/db/index.js `matchesExprFilter`: a parsed condition or filter expression.
  const matchesExprFilter = (item: AttributeMap, expression: Expression): boolean => {
    if (expression.type === 'and') return matchesExprFilter(item, expression.args[0] as Expression) && matchesExprFilter(item, expression.args[1] as Expression);
    if (expression.type === 'or') return matchesExprFilter(item, expression.args[0] as Expression) || matchesExprFilter(item, expression.args[1] as Expression);
    if (expression.type === 'not') return !matchesExprFilter(item, expression.args[0] as Expression);
    const args = expression.args.map((arg) => resolveArg(arg, item));
    return compare(expression.type === 'function' ? (expression.name ?? '') : expression.type, args[0] as AttributeValue | undefined, args.slice(1));
  };
  db.matchesExprFilter = matchesExprFilter;

  // dynalite/db/index.js `checkConditional`: the request's condition against the item (an error when it fails).
  db.checkConditional = (data, existing) => {
    const item = existing ?? {};
    const condition = data._condition as { expression: Expression } | undefined;
    if (condition) return matchesExprFilter(item, condition.expression) ? null : conditionalError();
    if (!data.Expected) return null;
    if (!matchesFilter(item, data.Expected as Record<string, LegacyCondition>, data.ConditionalOperator as string | undefined)) return conditionalError();
    return undefined;
  };

  // dynalite/db/index.js `queryTable` reads a page, filters it, then projects it: the page is read
  // by dynalite without the filter and the projection, which are applied here, in the same order.
  const queryTable = db.queryTable;
  db.queryTable = (store, table, data, options, isLocal, fetchFromItemDb, startKeyNames, callback) => {
    const expression = (data._filter as { expression: Expression } | undefined)?.expression;
    const legacy = (data.QueryFilter ?? data.ScanFilter) as Record<string, LegacyCondition> | undefined;
    if (!expression && !legacy) {
      queryTable(store, table, data, options, isLocal, fetchFromItemDb, startKeyNames, callback);
      return;
    }
    const paths = (data._projection as { paths: unknown[] } | undefined)?.paths ?? (data.AttributesToGet as unknown[] | undefined);
    const unfiltered: Json = { ...data, _filter: undefined, QueryFilter: undefined, ScanFilter: undefined, _projection: undefined, AttributesToGet: undefined, Select: undefined };
    queryTable(store, table, unfiltered, options, isLocal, fetchFromItemDb, startKeyNames, (error, result) => {
      if (error || !result) {
        callback(error, result);
        return;
      }
      let items = (result.Items as AttributeMap[]).filter((item) => (expression ? matchesExprFilter(item, expression) : matchesFilter(item, legacy ?? {}, data.ConditionalOperator as string | undefined)));
      if (paths) items = items.map((item) => db.mapPaths(paths, item));
      const { Items: _all, ...rest } = result;
      callback(null, { ...rest, Count: items.length, ...(data.Select === 'COUNT' ? {} : { Items: items }) });
    });
  };
}

/** dynalite/db/index.js `conditionalError`: a failed condition, as DynamoDB answers it. */
function conditionalError(): DynaliteError {
  const message = 'The conditional request failed';
  return Object.assign(new Error(message), {
    statusCode: 400,
    body: { __type: 'com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException', message },
  });
}
