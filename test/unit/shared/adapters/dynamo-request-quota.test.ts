import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoRequestQuota } from '../../../../shared/adapters/dynamo-request-quota.ts';
import { startLocalDynamo } from '../../support/local-dynamo.ts';
import type { LocalDynamo } from '../../support/local-dynamo.ts';

let dynamo: LocalDynamo;

beforeAll(async () => {
  dynamo = await startLocalDynamo({ withTables: true });
});

afterAll(async () => {
  await dynamo?.stop();
});

describe('the per-tenant request quota', () => {
  it('lets a tenant make its quota of requests in a second, refuses the rest until the next, and leaves other tenants alone', async () => {
    // Prepare
    const quota = new DynamoRequestQuota(dynamo.documentClient, () => 'rate-limits', 3);
    const second = new Date('2030-01-01T12:00:00.250Z');

    // Act
    const acme = await Promise.all(Array.from({ length: 5 }, () => quota.take('acme', second)));
    const globex = await quota.take('globex', second);
    const acmeNext = await quota.take('acme', new Date('2030-01-01T12:00:01.000Z'));

    // Assess
    expect(acme.filter((taken) => taken.retryAfterSeconds === undefined)).toHaveLength(3);
    expect(acme.filter((taken) => taken.retryAfterSeconds === 1)).toHaveLength(2);
    expect([globex, acmeNext]).toEqual([{}, {}]);
  });
});
