/**
 * The limits on what plain users send themselves, on the real DynamoDB protocol: every user of a
 * tenant counts on the tenant's item too, so takes made at once meet there and must all land.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoSelfSendLimits } from '../../../../shared/adapters/dynamo-self-send-limits.ts';
import { startLocalDynamo } from '../../support/local-dynamo.ts';
import type { LocalDynamo } from '../../support/local-dynamo.ts';

let dynamo: LocalDynamo;

beforeAll(async () => {
  dynamo = await startLocalDynamo({ withTables: true });
});

afterAll(async () => {
  await dynamo?.stop();
});

describe('DynamoSelfSendLimits', () => {
  it('lets twenty users of one tenant take a send at the same moment, each counted once on the tenant', async () => {
    // Prepare
    const limits = new DynamoSelfSendLimits(dynamo.documentClient, () => 'rate-limits', { userPerHour: 100, tenantPerHour: 100 });
    const now = new Date('2030-01-01T12:00:00.000Z');
    const users = Array.from({ length: 20 }, (_, i) => ({ tenantId: 'crowd', sub: `u${i}` }));

    // Act
    const taken = await Promise.all(users.map((user) => limits.take(user, 1, now)));

    // Assess: every take landed (none met another and failed), and the tenant has room for 80 more, not 81
    expect(taken).toEqual(users.map(() => ({ ok: true })));
    expect(await limits.check({ tenantId: 'crowd', sub: 'another' }, 80, now)).toEqual({ ok: true });
    expect((await limits.check({ tenantId: 'crowd', sub: 'another' }, 81, now)).ok).toBe(false);
  });

  it('lets a hundred users of one tenant take sends at once up to the tenant\'s hour, each refused take giving its user\'s count back', async () => {
    // Prepare: the tenant's hour holds 60; 100 users each take one at the same moment
    const limits = new DynamoSelfSendLimits(dynamo.documentClient, () => 'rate-limits', { userPerHour: 5, tenantPerHour: 60 });
    const now = new Date('2030-01-01T13:00:00.000Z');
    const users = Array.from({ length: 100 }, (_, i) => ({ tenantId: 'rush', sub: `u${i}` }));

    // Act
    const taken = await Promise.all(users.map((user) => limits.take(user, 1, now)));

    // Assess: exactly 60 landed, whoever raced; a refused user's own hour is untouched (they still have 5)
    expect(taken.filter((outcome) => outcome.ok)).toHaveLength(60);
    const refusedUser = users[taken.findIndex((outcome) => !outcome.ok)] ?? { tenantId: 'rush', sub: 'none refused' };
    const own = new DynamoSelfSendLimits(dynamo.documentClient, () => 'rate-limits', { userPerHour: 5, tenantPerHour: 1000 });
    expect(await own.check(refusedUser, 5, now)).toEqual({ ok: true });
    expect(await own.check(refusedUser, 6, now)).toMatchObject({ ok: false });
  });

  it('gives the user\'s count back when writing the tenant\'s fails, and throws the failure', async () => {
    // Prepare: the tenant's write is throttled
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    const db = {
      send: async (command: { input: { Key?: { pk?: string }; UpdateExpression?: string } }) => {
        if (command.input.Key?.pk?.startsWith('self#t:') && command.input.UpdateExpression?.startsWith('ADD used :n SET')) throw throttled;
        return dynamo.documentClient.send(command as never);
      },
    } as unknown as typeof dynamo.documentClient;
    const limits = new DynamoSelfSendLimits(db, () => 'rate-limits', { userPerHour: 3, tenantPerHour: 100 });
    const now = new Date('2030-01-01T14:00:00.000Z');
    const user = { tenantId: 'throttled', sub: 'u' };

    // Act
    const failure = await limits.take(user, 2, now).then(() => undefined, (error: unknown) => error);

    // Assess: the user still has their three
    expect(failure).toBe(throttled);
    const reader = new DynamoSelfSendLimits(dynamo.documentClient, () => 'rate-limits', { userPerHour: 3, tenantPerHour: 100 });
    expect(await reader.check(user, 3, now)).toEqual({ ok: true });
  });

  it('refuses a take past the user\'s hour, writing nothing', async () => {
    // Prepare
    const limits = new DynamoSelfSendLimits(dynamo.documentClient, () => 'rate-limits', { userPerHour: 2, tenantPerHour: 100 });
    const now = new Date('2030-01-01T12:00:00.000Z');
    const user = { tenantId: 'solo', sub: 'u' };

    // Act
    const first = await limits.take(user, 2, now);
    const over = await limits.take(user, 1, now);

    // Assess
    expect(first).toEqual({ ok: true });
    expect(over).toMatchObject({ ok: false });
    // Another user of the tenant still has their own two.
    expect(await limits.check({ tenantId: 'solo', sub: 'other' }, 2, now)).toEqual({ ok: true });
  });
});
