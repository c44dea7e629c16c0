/**
 * Reading a JSON request body safely, in three passes that never recurse:
 *
 * 1. **Structure**, on the raw text, before `JSON.parse`: a single loop with an explicit stack
 *    bounds how deep containers nest, how many members an object and how many elements an array
 *    hold, and how many values the body holds in all. Everything after it (zod, `JSON.stringify`,
 *    the idempotency fingerprint, DynamoDB's marshalling) recurses once per level, so a body
 *    nested 20,000 levels must be refused here, with a 400 naming where the bound broke. The same
 *    loop refuses a member name given twice in one object, which `JSON.parse` would settle by
 *    dropping the first unchecked.
 * 2. **Parse**, keeping numbers exactly as written (shared/domain/opaque-json.ts).
 * 3. **Text**: every string and every member name must be well-formed Unicode
 *    (`String.prototype.isWellFormed`: no lone surrogate such as `"\ud83d"`), which nothing
 *    downstream can store or send faithfully (an e-mail's encoding throws `URIError` on one).
 *
 * Paths are written the way zod writes them in a 400's `details` (`data.items.3.name`).
 */
import { isRawJson, parseJsonKeepingNumbers } from '../domain/opaque-json.ts';

/** Bounds on the shape of a request body. */
export interface StructuralBounds {
  /** Containers nested in one another, the body itself being 1. */
  readonly maxDepth: number;
  /** Members of one object. */
  readonly maxMembers: number;
  /** Elements of one array. */
  readonly maxElements: number;
  /** Values in the whole body (containers and scalars). */
  readonly maxValues: number;
}

/** Where a body broke a rule: the path of the field (`body` for the body itself) and why. */
export interface BodyFault {
  readonly field: string;
  readonly message: string;
}

interface Frame {
  readonly kind: 'object' | 'array';
  readonly path: string;
  /** Members or elements seen so far. */
  count: number;
  /** The member name being read (objects) or the element index (arrays), as a path segment. */
  segment: string;
  /** Objects: the next string is a member name. */
  awaitingName: boolean;
  /** Objects: the member names seen so far (at most `maxMembers`). */
  readonly names?: Set<string>;
}

function join(path: string, segment: string): string {
  return path === '' ? segment : `${path}.${segment}`;
}

/** The name of a member from its raw string token; a token that is not valid JSON names itself. */
function memberName(token: string): string {
  try {
    const name = JSON.parse(token) as unknown;
    return typeof name === 'string' ? name : token;
  } catch {
    return token;
  }
}

/**
 * Said of a member given twice in one object. RFC 8259 (section 4) leaves what such an object means
 * to the reader; I-JSON (RFC 7493, section 2.3) forbids it.
 */
const duplicateMemberMessage = 'is given twice in its object: a member name may appear once (RFC 7493)';

/**
 * Checks the structure of JSON text against `bounds` in one pass with an explicit stack, without
 * parsing it (text that is not JSON at all is left to `JSON.parse`): the first bound broken, with
 * the path where it broke, or `undefined`.
 */
export function structuralFault(text: string, bounds: StructuralBounds): BodyFault | undefined {
  const stack: Frame[] = [];
  let values = 0;
  const countValue = (): BodyFault | undefined => {
    values++;
    return values > bounds.maxValues ? { field: 'body', message: `must hold at most ${bounds.maxValues} values in all` } : undefined;
  };
  const currentPath = (): string => {
    const top = stack[stack.length - 1];
    return top ? join(top.path, top.segment) : '';
  };
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    const top = stack[stack.length - 1];
    if (char === '"') {
      // A whole string token: skip to its closing quote, past escapes.
      let end = i + 1;
      while (end < text.length && text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      if (top?.kind === 'object' && top.awaitingName) {
        top.awaitingName = false;
        top.segment = memberName(text.slice(i, end + 1));
        top.count++;
        if (top.count > bounds.maxMembers) return { field: top.path || 'body', message: `must have at most ${bounds.maxMembers} members` };
        // `JSON.parse` keeps the last of two members of one name and drops the first unread.
        if (top.names?.has(top.segment)) return { field: join(top.path, top.segment), message: duplicateMemberMessage };
        top.names?.add(top.segment);
      } else {
        const fault = countValue();
        if (fault) return fault;
      }
      i = end;
    } else if (char === '{' || char === '[') {
      const fault = countValue();
      if (fault) return fault;
      const path = currentPath();
      if (stack.length + 1 > bounds.maxDepth) {
        // Named where the level too many opens: the body's own object is level 1.
        return { field: path || 'body', message: `nests too deep: a body holds objects and arrays at most ${bounds.maxDepth} levels deep` };
      }
      stack.push(
        char === '{' ? { kind: 'object', path, count: 0, segment: '', awaitingName: true, names: new Set() } : { kind: 'array', path, count: 1, segment: '0', awaitingName: false },
      );
    } else if (char === '}' || char === ']') {
      stack.pop();
    } else if (char === ',') {
      if (top?.kind === 'object') top.awaitingName = true;
      else if (top?.kind === 'array') {
        top.count++;
        top.segment = String(top.count - 1);
        if (top.count > bounds.maxElements) return { field: top.path || 'body', message: `must have at most ${bounds.maxElements} elements` };
      }
    } else if (char === '-' || (char !== undefined && char >= '0' && char <= '9') || char === 't' || char === 'f' || char === 'n') {
      // A number or a literal: one value; skip the rest of its token.
      const fault = countValue();
      if (fault) return fault;
      while (i + 1 < text.length && /[0-9a-zA-Z.+-]/.test(text[i + 1] ?? '')) i++;
    }
  }
  return undefined;
}

/**
 * The first string or member name that is not well-formed Unicode (a lone surrogate), or the
 * first member named `__proto__`, with its path; `undefined` when there is none. Iterative: any
 * depth is safe to walk.
 */
export function illFormedText(value: unknown): BodyFault | undefined {
  const stack: { value: unknown; path: string }[] = [{ value, path: '' }];
  for (let frame = stack.pop(); frame !== undefined; frame = stack.pop()) {
    const { value: current, path } = frame;
    if (typeof current === 'string') {
      if (!current.isWellFormed()) return { field: path || 'body', message: 'must be well-formed Unicode (it holds a lone surrogate, half a character)' };
    } else if (Array.isArray(current)) {
      current.forEach((element, index) => stack.push({ value: element, path: join(path, String(index)) }));
    } else if (typeof current === 'object' && current !== null && !isRawJson(current)) {
      for (const [name, member] of Object.entries(current)) {
        if (!name.isWellFormed()) return { field: join(path, name.toWellFormed()), message: 'is a member name that is not well-formed Unicode' };
        // JavaScript reads `__proto__` as the object's prototype wherever the value is copied, so
        // it would be dropped without a word: refused instead.
        if (name === '__proto__') return { field: join(path, name), message: 'is not an accepted member name' };
        stack.push({ value: member, path: join(path, name) });
      }
    }
  }
  return undefined;
}

/** The outcome of reading a body: its value, or why it was refused. */
export type ReadBody = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly fault: BodyFault };

/** A JSON parse error's message without the excerpt of the text V8 quotes in some of them. */
function withoutQuotedText(message: string): string {
  return message.replace(/, (?:\.\.\.)?".*"(?:\.\.\.)? is not valid JSON$/s, '');
}

/** Reads JSON text as a request body: structure, then parse (numbers kept), then text (see the module). */
export function readJsonBody(text: string, bounds: StructuralBounds): ReadBody {
  const structure = structuralFault(text, bounds);
  if (structure) return { ok: false, fault: structure };
  let value: unknown;
  try {
    value = parseJsonKeepingNumbers(text);
  } catch (error) {
    // V8's message may quote the body ("Unexpected token 'b', "{"email":bob@exampl"... is not valid
    // JSON"): the quote is left out, as is the error itself, so that no log line carries the body.
    return { ok: false, fault: { field: 'body', message: `must be valid JSON (${withoutQuotedText((error as Error).message)})` } };
  }
  const text_ = illFormedText(value);
  return text_ ? { ok: false, fault: text_ } : { ok: true, value };
}
