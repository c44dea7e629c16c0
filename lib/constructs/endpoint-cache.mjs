// `@aws-sdk/endpoint-cache` for the function bundles (lib/constructs/herald-function.ts aliases the
// package here): its `EndpointCache`, with the same behaviour, kept in a `Map` instead of
// mnemonist's LRU cache, which with its iterator helpers is ~7 KB of every bundle with the DynamoDB
// client. The client makes one cache per instance for endpoint discovery, which it only uses when
// `endpointDiscoveryEnabled` is set; Herald never sets it, so the cache stays empty.
// test/unit/lib/endpoint-cache.test.ts runs the same operations on this and on the package.

/** Endpoints by key, each with its expiry, the least recently used dropped past `capacity`. */
export class EndpointCache {
  #capacity;
  /** Insertion order is recency: the first key is the least recently used. */
  #entries = new Map();

  /** @param {number} capacity the keys kept at most: a positive integer */
  constructor(capacity) {
    // The package's LRU cache refuses these too (a typed array of that length cannot be made).
    if (!Number.isInteger(capacity) || capacity <= 0) throw new Error('EndpointCache: capacity should be a positive number.');
    this.#capacity = capacity;
  }

  /** One of the key's unexpired addresses, at random; undefined when it has none. */
  getEndpoint(key) {
    const endpointsWithExpiry = this.get(key);
    if (!endpointsWithExpiry || endpointsWithExpiry.length === 0) return undefined;
    const endpoints = endpointsWithExpiry.map((endpoint) => endpoint.Address);
    return endpoints[Math.floor(Math.random() * endpoints.length)];
  }

  /** The key's unexpired endpoints (`{ Address, Expires }`, Expires in ms since the epoch), marking it used. */
  get(key) {
    if (!this.has(key)) return undefined;
    const value = this.#entries.get(key);
    this.#entries.delete(key);
    this.#entries.set(key, value);
    const now = Date.now();
    const endpointsWithExpiry = value.filter((endpoint) => now < endpoint.Expires);
    if (endpointsWithExpiry.length === 0) {
      this.delete(key);
      return undefined;
    }
    return endpointsWithExpiry;
  }

  /** Keeps `endpoints` (`{ Address, CachePeriodInMinutes }`, as DescribeEndpoints answers) for the key. */
  set(key, endpoints) {
    const now = Date.now();
    this.#put(
      key,
      endpoints.map(({ Address, CachePeriodInMinutes }) => ({ Address, Expires: now + CachePeriodInMinutes * 60 * 1000 })),
    );
  }

  /** Forgets the key's endpoints (it stays, empty, as in the package). */
  delete(key) {
    this.#put(key, []);
  }

  /** Whether the key has endpoints, expired or not, without marking it used. */
  has(key) {
    const endpoints = this.#entries.get(key);
    return endpoints !== undefined && endpoints.length > 0;
  }

  clear() {
    this.#entries.clear();
  }

  #put(key, value) {
    this.#entries.delete(key);
    this.#entries.set(key, value);
    if (this.#entries.size > this.#capacity) this.#entries.delete(this.#entries.keys().next().value);
  }
}
