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

/**
 * `query`'s parameters by name, a repeated one's values joined with commas, as API Gateway's HTTP
 * APIs pass them to a route (payload 2.0, `queryStringParameters`): `?limit=5&limit=10` reads
 * `5,10`, which a number refuses, instead of whichever came last.
 */
export function queryParameters(query: URLSearchParams): Record<string, string> {
  const parameters = nameMap<string>();
  for (const [name, value] of query) parameters[name] = Object.hasOwn(parameters, name) ? `${parameters[name]},${value}` : value;
  return parameters;
}
