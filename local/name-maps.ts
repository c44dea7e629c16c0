/**
 * Maps keyed by names a client chooses (header and query parameter names), for the events the
 * local gateways build. A plain `{}` inherits `constructor`, `toString`, `__proto__`...: a client
 * naming one would read Object's own members (`name in map` is true for `constructor`) or set the
 * map's prototype instead of a key. A map without a prototype holds every name as its own key, as
 * the JSON of AWS's event does.
 */

/** An empty map whose every key is its own (no prototype). */
export function nameMap<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}
