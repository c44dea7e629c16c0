/**
 * Ids inside composite DynamoDB keys. Herald's keys join their parts with `#` (`tenant#recipient`),
 * and user and recipient ids are whatever an identity provider issued (`auth0|64f1c2d3e4`, an
 * e-mail address, anything of 255 characters but control characters), so an id could hold `#`
 * and make two keys meet. Every id is therefore escaped before it becomes part of a key: `%` to
 * `%25`, then `#` to `%23` (percent-encoding, RFC 3986 section 2.1, of just these two). The escape
 * is reversible, and it is the identity for every id without `%` or `#`, which is every id Herald
 * accepted before: keys already stored do not change.
 */

/** An id as a part of a composite key: `%` → `%25`, `#` → `%23`. */
export function keyPart(id: string): string {
  return id.replaceAll('%', '%25').replaceAll('#', '%23');
}

/** The id a key part was made from (the inverse of {@link keyPart}). */
export function idOfKeyPart(part: string): string {
  return part.replaceAll('%23', '#').replaceAll('%25', '%');
}

/** The write shard (0 to `shards` - 1) of an id: a stable hash, so an item always lands in the same shard. */
export function writeShardOf(id: string, shards: number): number {
  let hash = 0;
  for (const char of id) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  return hash % shards;
}
