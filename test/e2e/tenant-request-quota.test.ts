/**
 * End to end on the local stack: a tenant past its requests per second is answered 429 with
 * `Retry-After` before any route runs; another tenant, and the public routes, are not held back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness } from './support/harness.ts';
import type { Harness } from './support/harness.ts';

let h: Harness;

beforeAll(async () => {
  h = await startHarness({ tenantRequestsPerSecond: 2 });
});

afterAll(async () => {
  await h?.close();
});

describe('the per-tenant request quota', () => {
  it('answers a tenant past its quota 429 with Retry-After, and lets another tenant and the public routes through', async () => {
    // Prepare
    const acme = await h.token('ops', { role: 'admin', tenant: 'acme' });
    const globex = await h.token('ops', { role: 'admin', tenant: 'globex' });

    // Act
    const flood = await Promise.all(Array.from({ length: 12 }, () => h.apiWithHeaders('GET', '/v1/recipients', { token: acme })));
    const other = await h.api('GET', '/v1/recipients', { token: globex });
    const health = await Promise.all(Array.from({ length: 5 }, () => h.api('GET', '/health')));

    // Assess
    const refused = flood.filter((r) => r.status === 429);
    expect(refused.length).toBeGreaterThan(0);
    for (const r of refused) {
      expect(Number(r.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(r.body.error?.code).toBe('TOO_MANY_REQUESTS');
    }
    expect(flood.filter((r) => r.status !== 429).every((r) => r.status === 200)).toBe(true);
    expect(other.status).toBe(200);
    expect(health.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
  });
});
