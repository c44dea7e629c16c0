/**
 * The bundles' EndpointCache (lib/constructs/endpoint-cache.mjs) against the package it stands in
 * for (`@aws-sdk/endpoint-cache`, on mnemonist's LRU cache): the same operations, the same answers.
 */
import { EndpointCache as PackageCache } from '@aws-sdk/endpoint-cache';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { EndpointCache as BundledCache } from '../../../lib/constructs/endpoint-cache.mjs';

interface Cache {
  get(key: string): unknown;
  getEndpoint(key: string): string | undefined;
  set(key: string, endpoints: { Address: string; CachePeriodInMinutes: number }[]): void;
  delete(key: string): void;
  has(key: string): boolean;
  clear(): void;
}

/** Runs `steps` on both caches, with the same clock, and returns each step's answers. */
function both(capacity: number, steps: (cache: Cache, clock: { advanceMinutes(n: number): void }) => unknown[]): [unknown[], unknown[]] {
  const run = (cache: Cache): unknown[] => {
    let now = Date.parse('2030-01-01T00:00:00Z');
    vi.spyOn(Date, 'now').mockImplementation(() => now);
    const answers = steps(cache, { advanceMinutes: (n) => (now += n * 60_000) });
    vi.restoreAllMocks();
    return answers;
  };
  return [run(new PackageCache(capacity) as Cache), run(new BundledCache(capacity) as Cache)];
}

describe('the bundles’ EndpointCache', () => {
  afterEach(() => vi.restoreAllMocks());

  it('keeps endpoints until they expire, and forgets a deleted or cleared key, as the package does', () => {
    const [expected, actual] = both(10, (cache, clock) => {
      const answers: unknown[] = [cache.has('a'), cache.get('a'), cache.getEndpoint('a')];
      cache.set('a', [{ Address: 'a.example', CachePeriodInMinutes: 5 }, { Address: 'b.example', CachePeriodInMinutes: 1 }]);
      answers.push(cache.has('a'), cache.get('a'));
      clock.advanceMinutes(2);
      answers.push(cache.get('a'), cache.getEndpoint('a'));
      clock.advanceMinutes(4);
      answers.push(cache.has('a'), cache.get('a'), cache.has('a'));
      cache.set('b', [{ Address: 'c.example', CachePeriodInMinutes: 5 }]);
      cache.delete('b');
      answers.push(cache.has('b'), cache.get('b'));
      cache.set('c', [{ Address: 'd.example', CachePeriodInMinutes: 5 }]);
      cache.clear();
      answers.push(cache.has('c'));
      return answers;
    });
    expect(actual).toEqual(expected);
    expect(actual).toContain('a.example');
  });

  it('drops the least recently used key past its capacity, a read counting as a use and a has not', () => {
    const [expected, actual] = both(3, (cache) => {
      const endpoint = (address: string) => [{ Address: address, CachePeriodInMinutes: 10 }];
      for (const key of ['k1', 'k2', 'k3']) cache.set(key, endpoint(key));
      cache.get('k1'); // k2 is now the least recently used
      cache.has('k2'); // and stays so
      cache.set('k4', endpoint('k4'));
      const afterFourth = ['k1', 'k2', 'k3', 'k4'].map((key) => cache.has(key));
      cache.set('k3', endpoint('k3 again')); // an update is a use
      cache.set('k5', endpoint('k5'));
      const afterFifth = ['k1', 'k3', 'k4', 'k5'].map((key) => cache.has(key));
      return [afterFourth, afterFifth, cache.getEndpoint('k3')];
    });
    expect(actual).toEqual(expected);
    expect(actual[0]).toEqual([true, false, true, true]);
  });

  it('refuses a capacity that is not a positive integer, as the package does', () => {
    for (const capacity of [0, -1, 1.5, Number.NaN]) {
      expect(() => new PackageCache(capacity)).toThrow();
      expect(() => new BundledCache(capacity)).toThrow();
    }
  });
});
