/**
 * The send-rate budget planner (SendBudgets) and its rules (shared/domain/rate-budget.ts): which
 * second each send goes in, what it reserves, what it defers, and what it learns. Pure: the
 * conditional writes themselves are proven on DynamoDB in dynamo-delivery-store.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { SendBudgets } from '../../../../shared/adapters/dynamo-send-budgets.ts';
import type { BudgetRequest } from '../../../../shared/adapters/dynamo-send-budgets.ts';
import { currentSlotMinimumMs, fitting, isSlotOver, slotCapacity, slotLookahead, slotOf } from '../../../../shared/domain/rate-budget.ts';
import type { RateBudgets } from '../../../../shared/domain/rate-budget.ts';

const now = new Date('2030-01-01T12:00:00.250Z');
const s = Math.floor(now.getTime() / 1000);

function requests(count: number, tenantId = 'acme'): BudgetRequest[] {
  return Array.from({ length: count }, (_, i) => ({ key: `u${i}`, tenantId, providers: ['ses'] }));
}

describe('rate-budget rules', () => {
  it('puts an instant in the second that holds it', () => {
    // Act
    const slots = [slotOf(Date.parse('2030-01-01T12:00:00.000Z')), slotOf(Date.parse('2030-01-01T12:00:00.999Z')), slotOf(Date.parse('2030-01-01T12:00:01.000Z'))];

    // Assess
    expect(slots).toEqual([s, s, s + 1]);
  });

  it.each([
    [5, 0, 3, 3],
    [5, 4, 3, 1],
    [5, 5, 3, 0],
    [5, 7, 3, 0],
  ])('fits into a slot of %i holding %i only what is left of %i wanted: %i', (capacity, used, wanted, fits) => {
    // Act
    const result = fitting(capacity, used, wanted);

    // Assess
    expect(result).toBe(fits);
  });
});

describe('a rate below one send a second (SES MaxSendRate is a Double)', () => {
  it.each([
    [0.5, [1, 0, 1, 0, 1, 0, 1, 0]],
    [0.3, [1, 0, 0, 0, 1, 0, 0, 0]],
    [0.25, [1, 0, 0, 0, 1, 0, 0, 0]],
    [0.9, [1, 0, 1, 0, 1, 0, 1, 0]],
    [1, [1, 1, 1, 1, 1, 1, 1, 1]],
    [2.5, [2.5, 2.5, 2.5, 2.5, 2.5, 2.5, 2.5, 2.5]],
  ])('at %f a second, lets into each of eight seconds from an even one: %j', (rate, capacities) => {
    // Act
    const seconds = Array.from({ length: 8 }, (_, i) => slotCapacity(rate, s + i));

    // Assess: never more sends over the eight seconds than the rate allows
    expect(seconds).toEqual(capacities);
    expect(seconds.reduce((sum, c) => sum + Math.floor(c), 0)).toBeLessThanOrEqual(rate * 8);
  });

  it('places one send every other second at 0.5, deferring the rest past the look-ahead', () => {
    // Prepare: now is 250 ms into an even second
    const budgets = new SendBudgets(() => ({ ses: { perSecond: 0.5 } }));

    // Act
    const plan = budgets.plan(requests(3), now);

    // Assess
    expect([...plan.sendAt]).toEqual([
      ['u0', now.getTime()],
      ['u1', (s + 2) * 1000],
    ]);
    expect(plan.reservations).toEqual([
      { pk: `ses#all#${s}`, n: 1, capacity: 1 },
      { pk: `ses#all#${s + 2}`, n: 1, capacity: 1 },
    ]);
    expect([...plan.deferred]).toEqual([['u2', (s + slotLookahead + 1) * 1000]]);
  });

  it('holds a tenant to a share below one a second while the others use the rest', () => {
    // Prepare: 4 a second for all, one every other second for each tenant; now in an odd second
    const budgets = new SendBudgets(() => ({ ses: { perSecond: 4, tenantPerSecond: 0.5 } }));
    const odd = new Date(now.getTime() + 1000);

    // Act
    const plan = budgets.plan([...requests(2, 'acme'), { key: 'g0', tenantId: 'globex', providers: ['ses'] }], odd);

    // Assess
    expect(plan.sendAt.get('u0')).toBe((s + 2) * 1000);
    expect(plan.sendAt.get('u1')).toBe((s + 4) * 1000);
    expect(plan.sendAt.get('g0')).toBe((s + 2) * 1000);
    expect(plan.reservations).toContainEqual({ pk: `ses#all#${s + 2}`, n: 2, capacity: 4 });
    expect(plan.reservations).toContainEqual({ pk: `ses#t:acme#${s + 2}`, n: 1, capacity: 1 });
  });
});

describe('SendBudgets.plan', () => {
  it('reserves nothing and sends at once where the provider has no budget', () => {
    // Prepare
    const budgets = new SendBudgets(() => ({}));

    // Act
    const plan = budgets.plan(requests(3), now);

    // Assess
    expect(plan).toEqual({
      sendAt: new Map([['u0', now.getTime()], ['u1', now.getTime()], ['u2', now.getTime()]]),
      reserved: new Map(),
      spends: new Map(),
      deferred: new Map(),
      reservations: [],
    });
  });

  it('reserves nothing for a unit that calls no budgeted provider', () => {
    // Prepare
    const budgets = new SendBudgets(() => ({ ses: { perSecond: 1 } }));

    // Act
    const plan = budgets.plan([{ key: 'inbox-only', tenantId: 'acme', providers: [] }], now);

    // Assess
    expect(plan.sendAt.get('inbox-only')).toBe(now.getTime());
    expect(plan.reservations).toEqual([]);
  });

  it('fills this second, then each one after, sending in a later second at its start', () => {
    // Prepare
    const budgets = new SendBudgets(() => ({ ses: { perSecond: 2 } }));

    // Act
    const plan = budgets.plan(requests(5), now);

    // Assess: no tenant share is set, so only the slots of all tenants are spent
    expect([...plan.sendAt.values()]).toEqual([now.getTime(), now.getTime(), (s + 1) * 1000, (s + 1) * 1000, (s + 2) * 1000]);
    expect(plan.reservations).toEqual([
      { pk: `ses#all#${s}`, n: 2, capacity: 2 },
      { pk: `ses#all#${s + 1}`, n: 2, capacity: 2 },
      { pk: `ses#all#${s + 2}`, n: 1, capacity: 2 },
    ]);
    expect(plan.spends.get('u4')).toEqual([`ses#all#${s + 2}`]);
  });

  it.each([
    ['below the budget', 1, 2],
    ['equal to the budget', 2, 1],
    ['above the budget', 5, 1],
  ])('spends a tenant slot only when the tenant share is below the budget: a share %s (%i of 2) → %i slot item(s) a send', (_what, tenantPerSecond, items) => {
    // Prepare: a tenant's count never exceeds all tenants' count, so a share as large as the budget never binds
    const budgets = new SendBudgets(() => ({ ses: { perSecond: 2, tenantPerSecond } }));

    // Act
    const plan = budgets.plan(requests(1), now);

    // Assess
    expect(plan.spends.get('u0')).toHaveLength(items);
    expect(plan.reservations).toHaveLength(items);
  });

  it('tells each placed unit the end of the second it reserved, and the budgeted providers it covers', () => {
    // Prepare: e-mail budgeted at 2 a second, SMS not budgeted
    const budgets = new SendBudgets(() => ({ ses: { perSecond: 2 } }));
    const both: BudgetRequest[] = Array.from({ length: 3 }, (_, i) => ({ key: `u${i}`, tenantId: 'acme', providers: ['ses', 'sns-sms'] }));

    // Act
    const plan = budgets.plan(both, now);

    // Assess
    expect(plan.reserved).toEqual(
      new Map([
        ['u0', { until: (s + 1) * 1000, providers: ['ses'] }],
        ['u1', { until: (s + 1) * 1000, providers: ['ses'] }],
        ['u2', { until: (s + 2) * 1000, providers: ['ses'] }],
      ]),
    );
  });

  it('places a budgeted send in the next second once less than the minimum of the current one is left, and a send with no budget at once', () => {
    // Prepare: 1 email a second; 400 ms of this second left
    const budgets = new SendBudgets(() => ({ ses: { perSecond: 1 } }));
    const late = new Date(s * 1000 + 1000 - (currentSlotMinimumMs - 100));

    // Act
    const plan = budgets.plan([...requests(1), { key: 'inbox-only', tenantId: 'acme', providers: [] }], late);

    // Assess
    expect(plan.sendAt.get('u0')).toBe((s + 1) * 1000);
    expect(plan.reserved.get('u0')).toEqual({ until: (s + 2) * 1000, providers: ['ses'] });
    expect(plan.sendAt.get('inbox-only')).toBe(late.getTime());
  });

  it('defers what does not fit within the look-ahead to the second after it', () => {
    // Prepare
    const budgets = new SendBudgets(() => ({ ses: { perSecond: 1 } }));

    // Act
    const plan = budgets.plan(requests(slotLookahead + 3), now);

    // Assess
    expect(plan.sendAt.size).toBe(slotLookahead + 1);
    expect([...plan.deferred]).toEqual([
      [`u${slotLookahead + 1}`, (s + slotLookahead + 1) * 1000],
      [`u${slotLookahead + 2}`, (s + slotLookahead + 1) * 1000],
    ]);
  });

  it('holds one tenant to its own share, leaving room for the others', () => {
    // Prepare
    const rates: RateBudgets = { ses: { perSecond: 3, tenantPerSecond: 1 } };
    const budgets = new SendBudgets(() => rates);

    // Act
    const plan = budgets.plan([...requests(2, 'acme'), { key: 'g0', tenantId: 'globex', providers: ['ses'] }], now);

    // Assess
    expect(plan.sendAt.get('u0')).toBe(now.getTime());
    expect(plan.sendAt.get('u1')).toBe((s + 1) * 1000);
    expect(plan.sendAt.get('g0')).toBe(now.getTime());
    expect(plan.reservations).toContainEqual({ pk: `ses#all#${s}`, n: 2, capacity: 3 });
    expect(plan.reservations).toContainEqual({ pk: `ses#t:acme#${s}`, n: 1, capacity: 1 });
  });

  it('counts what went through, and plans the next claim after it', () => {
    // Prepare
    const budgets = new SendBudgets(() => ({ ses: { perSecond: 2 } }));
    budgets.reserved(budgets.plan(requests(1), now).reservations);

    // Act
    const plan = budgets.plan(requests(2), now);

    // Assess
    expect([...plan.sendAt.values()]).toEqual([now.getTime(), (s + 1) * 1000]);
  });

  it('keeps what a refusal taught: a slot found full, or found holding a count', () => {
    // Prepare
    const budgets = new SendBudgets(() => ({ ses: { perSecond: 3, tenantPerSecond: 2 } }));
    const [all, tenant] = budgets.plan(requests(1), now).reservations;
    if (!all || !tenant) throw new Error('no reservation');
    budgets.learn(all, 2);
    budgets.learn({ ...tenant, pk: `ses#t:acme#${s + 1}` }, undefined);

    // Act
    const plan = budgets.plan(requests(3), now);

    // Assess: one send left this second; the tenant's next second is full; then the one after
    expect([...plan.sendAt.values()]).toEqual([now.getTime(), (s + 2) * 1000, (s + 2) * 1000]);
  });
});

describe('SendBudgets.update', () => {
  it('adds the sends to the slot only while it stays within capacity, and lets the slot expire an hour after its second', () => {
    // Prepare
    const budgets = new SendBudgets(() => ({ ses: { perSecond: 5 } }));

    // Act
    const update = budgets.update({ pk: `ses#all#${s}`, n: 2, capacity: 5 });

    // Assess
    expect(update).toEqual({
      Key: { pk: `ses#all#${s}` },
      UpdateExpression: 'ADD used :n SET expiresAt = :expiresAt',
      ConditionExpression: 'attribute_not_exists(used) OR used <= :max',
      ExpressionAttributeValues: { ':n': 2, ':max': 3, ':expiresAt': s + 3600 },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    });
  });
});

describe('isSlotOver', () => {
  const reserved = { until: (s + 1) * 1000, providers: ['ses'] as const };

  it.each([
    ['within the reserved second', 'ses', (s + 1) * 1000 - 1, false],
    ['at the end of the reserved second', 'ses', (s + 1) * 1000, true],
    ['a second after it', 'ses', (s + 2) * 1000, true],
    ['for a provider the reservation does not cover', 'sns-sms', (s + 2) * 1000, false],
    ['for a channel with no provider', undefined, (s + 2) * 1000, false],
  ] as const)('is %s: %s at that instant → %s', (_what, provider, at, over) => {
    // Act
    const result = isSlotOver(reserved, provider, at);

    // Assess
    expect(result).toBe(over);
  });

  it('is never over for a unit that reserved nothing', () => {
    // Act
    const result = isSlotOver(undefined, 'ses', (s + 10) * 1000);

    // Assess
    expect(result).toBe(false);
  });
});
