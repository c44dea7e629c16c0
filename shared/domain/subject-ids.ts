/**
 * The rules of the ids a token's claims carry, as plain predicates: the user id (`sub`) and the
 * tenant id. The request schemas (schemas.ts: `idSchema`, `tenantIdSchema`) are built on the same
 * rules; the functions that only read claims (the WebSocket ones) check them here, without zod.
 */

/** Control characters (C0, DEL, C1) and the Unicode line and paragraph separators. */
const lineBreaking = /[\p{Cc}\u2028\u2029]/u;

/** True when `text` holds no lone surrogate (`String.prototype.isWellFormed`). */
export function isWellFormedText(text: string): boolean {
  return text.isWellFormed();
}

/** True when `text` fits on one line: no control character, no line or paragraph separator. */
export function isSingleLineText(text: string): boolean {
  return !lineBreaking.test(text);
}

/** Why text that is not well-formed, or not one line, is refused (the request schemas' messages). */
export const wellFormedMessage = 'must be well-formed Unicode (it holds a lone surrogate, half a character)';
export const singleLineMessage = 'must be one line of text: no control characters or line breaks';

/** True when `text` is empty or holds something besides white space. */
export function isNotBlank(text: string): boolean {
  return text === '' || text.trim() !== '';
}

/**
 * The longest user or recipient id: a token's `sub` as identity providers issue them (Auth0
 * `provider|id`, Google's numeric ids, Cognito UUIDs, e-mail addresses; OpenID Connect Core 1.0
 * bounds `sub` at 255 ASCII characters).
 */
export const maxSubjectLength = 255;

/** True when `value` is a user or recipient id: one-line, well-formed text of 1-255 characters, not blank (`idSchema`). */
export function isSubjectId(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    value.length >= 1 &&
    value.length <= maxSubjectLength &&
    isWellFormedText(value) &&
    isSingleLineText(value) &&
    isNotBlank(value)
  );
}

/** The pattern of tenant and group ids: chosen by Herald's operators and clients, kept to a safe alphabet. */
export const nameLikeId = /^[A-Za-z0-9][A-Za-z0-9_.@:+-]{0,127}$/;

/** Why an id that breaks {@link nameLikeId} is refused. */
export const nameLikeMessage = 'must be 1-128 characters of letters, digits and _ . @ : + -, the first a letter or a digit';

/** True when `value` is a tenant id (`tenantIdSchema`). */
export function isTenantId(value: unknown): value is string {
  return typeof value === 'string' && nameLikeId.test(value);
}
