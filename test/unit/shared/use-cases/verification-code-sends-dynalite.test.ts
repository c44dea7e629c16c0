/**
 * Verification codes by e-mail and SMS (PATCH /v1/me) take their sends from the providers' send
 * budgets, on the real DynamoDB protocol: the slot items of the `rate-limits` table that the
 * delivery engine's claims reserve in (shared/adapters/dynamo-send-budgets.ts). Codes asked for at
 * once spread over the seconds, never more in one than the budget; a look-ahead with no room is a
 * 503 with `Retry-After` that sends nothing; a throttled code is tried again within the request.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { BudgetSecondPassedError } from '../../../../shared/domain/rate-budget.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoSendBudget, SendBudgets } from '../../../../shared/adapters/dynamo-send-budgets.ts';
import { systemClock } from '../../../../shared/adapters/dependencies/clock.ts';
import type { Caller } from '../../../../shared/domain/caller.ts';
import type { VerifiableChannel } from '../../../../shared/domain/contact-verification.ts';
import type { RateBudgets } from '../../../../shared/domain/rate-budget.ts';
import { hasVerifiedAddress } from '../../../../shared/domain/recipient.ts';
import { ServiceUnavailableError } from '../../../../shared/errors.ts';
import type { Clock } from '../../../../shared/ports.ts';
import { updateMe } from '../../../../shared/use-cases/me.ts';
import type { MeDeps } from '../../../../shared/use-cases/me.ts';
import { codeThrottleWaitsMs } from '../../../../shared/use-cases/verification-code-sends.ts';
import type { VerificationCodeSender } from '../../../../shared/use-cases/verification-code-sends.ts';
import { FakeClock, InMemoryRecipientStore, InMemorySelfSendLimits } from '../../fakes/index.ts';
import { aRecipient, tenantId } from '../../fakes/fixtures.ts';
import { fakeSleep } from '../../support/fake-sleep.ts';
import { startLocalDynamo } from '../../support/local-dynamo.ts';
import type { LocalDynamo } from '../../support/local-dynamo.ts';

let dynamo: LocalDynamo;

beforeAll(async () => {
  dynamo = await startLocalDynamo({ withTables: true });
});

afterAll(async () => {
  await dynamo?.stop();
});

/** A code the provider took: where, and when (epoch ms, by the test's clock). */
interface Sent {
  readonly channel: VerifiableChannel;
  readonly address: string;
  readonly at: number;
}

/**
 * A provider that checks the send's second just before it takes the code (as SES's and SNS's
 * adapters do), then records it; `refuse` may throw instead, once the check passed.
 */
function aProvider(clock: Clock, refuse: (call: number) => unknown = () => undefined): { codes: VerificationCodeSender; sent: Sent[]; calls: () => number } {
  const sent: Sent[] = [];
  let calls = 0;
  const codes: VerificationCodeSender = {
    send: async (channel, address, _code, _who, options) => {
      options?.beforeSend?.();
      const refusal = refuse(++calls);
      if (refusal !== undefined) throw refusal;
      sent.push({ channel, address, at: clock.now().getTime() });
    },
  };
  return { codes, sent, calls: () => calls };
}

/** SES's answer above the account's maximum send rate. */
function sesThrottling(): Error {
  return Object.assign(new Error('Maximum sending rate exceeded.'), { name: 'Throttling', $metadata: { httpStatusCode: 400 } });
}

/** A budget adapter of its own, as another API sandbox has: it knows nothing of what the others reserved. */
function aSandboxBudget(budgets: RateBudgets): DynamoSendBudget {
  return new DynamoSendBudget(dynamo.documentClient, () => 'rate-limits', new SendBudgets(() => budgets));
}

async function usedIn(pk: string): Promise<number> {
  const { Item } = await dynamo.documentClient.send(new GetCommand({ TableName: 'rate-limits', Key: { pk } }));
  return Number(Item?.used ?? 0);
}

/**
 * PATCH /v1/me's deps on `clock` for a user `id` already in the directory (with an old e-mail and
 * phone), sending codes through `codes` within `sendBudget`; `waits` records what it slept.
 */
async function aMeWorld(clock: FakeClock, id: string, codes: VerificationCodeSender, sendBudget: DynamoSendBudget, waits?: number[]): Promise<{ deps: MeDeps; recipients: InMemoryRecipientStore }> {
  const recipients = new InMemoryRecipientStore();
  await recipients.put(aRecipient({ id, email: 'old@example.com', phone: '+14155550000' }));
  return { deps: { recipients, clock, selfSend: new InMemorySelfSendLimits(), codes, sendBudget, sleep: fakeSleep(clock, waits) }, recipients };
}

function users(count: number, prefix: string): Caller[] {
  return Array.from({ length: count }, (_, i) => ({ tenantId, sub: `${prefix}${i}`, roles: [] }));
}

function perSecond(sent: readonly Sent[]): Map<number, number> {
  const counts = new Map<number, number>();
  for (const { at } of sent) counts.set(Math.floor(at / 1000), (counts.get(Math.floor(at / 1000)) ?? 0) + 1);
  return counts;
}

describe('verification codes within the send budget', () => {
  it.each<[VerifiableChannel, RateBudgets, (i: number) => { email: string } | { phone: string }]>([
    ['email', { ses: { perSecond: 3 } }, (i) => ({ email: `vu${i}@example.com` })],
    ['sms', { 'sns-sms': { perSecond: 3 } }, (i) => ({ phone: `+1415557100${i}` })],
  ])('spreads 9 %s codes asked for at once over the seconds, never more than 3 in one, refusing none', async (channel, budgets, address) => {
    // Prepare: nine users, each in a sandbox of their own, on the system clock (the slots are real seconds)
    const recipients = new InMemoryRecipientStore();
    const callers = users(9, `crowd-${channel}-`);
    for (const caller of callers) await recipients.put(aRecipient({ id: caller.sub, email: 'old@example.com', phone: '+14155550000' }));
    const provider = aProvider(systemClock);
    const depsOf = (): MeDeps => ({ recipients, clock: systemClock, selfSend: new InMemorySelfSendLimits(), codes: provider.codes, sendBudget: aSandboxBudget(budgets) });

    // Act
    const answers = await Promise.allSettled(callers.map((caller, i) => updateMe(depsOf(), caller, address(i))));

    // Assess: 9 fit in the 3 seconds after this one whenever they start
    expect(answers.filter((a) => a.status === 'rejected')).toEqual([]);
    expect(provider.sent).toHaveLength(9);
    expect(new Set(provider.sent.map((s) => s.address)).size).toBe(9);
    expect(Math.max(...perSecond(provider.sent).values())).toBeLessThanOrEqual(3);
    expect(perSecond(provider.sent).size).toBeGreaterThanOrEqual(3);
  }, 20_000);

  it('answers 503 with Retry-After when no second within the look-ahead has room, sending and reserving nothing, the old address kept', async () => {
    // Prepare: deliveries have taken every e-mail send of this second and the next three
    const clock = new FakeClock('2030-01-01T12:01:00.000Z');
    const s = Math.floor(clock.now().getTime() / 1000);
    const budgets: RateBudgets = { ses: { perSecond: 3 } };
    const engine = aSandboxBudget(budgets);
    for (let i = 0; i < 12; i++) expect(await engine.reserveOne('ses', 'other-tenant', clock.now())).toMatchObject({ placed: true });
    const provider = aProvider(clock);
    const { deps, recipients } = await aMeWorld(clock, 'late', provider.codes, aSandboxBudget(budgets));

    // Act
    const error = await updateMe(deps, { tenantId, sub: 'late', roles: [] }, { email: 'late@example.com' }).catch((e: unknown) => e);

    // Assess: ask again once the look-ahead has moved past the full seconds (4 s)
    expect(error).toBeInstanceOf(ServiceUnavailableError);
    expect(error).toMatchObject({ retryAfterSeconds: 4, message: expect.stringMatching(/^Your email's code could not be sent yet: .*; nothing was kept: repeat the request in 4 s for a new code$/) });
    expect(provider.calls()).toBe(0);
    expect(await Promise.all([0, 1, 2, 3].map((k) => usedIn(`ses#all#${s + k}`)))).toEqual([3, 3, 3, 3]);
    // Nothing went, so nothing was kept: the confirmed address goes on receiving.
    const stored = await recipients.get(tenantId, 'late');
    expect(stored?.email).toBe('old@example.com');
    expect(stored && hasVerifiedAddress(stored, 'email')).toBe(true);
  });

  it('tries a throttled code again after a short wait, with a send of its own, and answers 200', async () => {
    // Prepare: SES throttles the first try
    const clock = new FakeClock('2030-01-01T12:02:00.000Z');
    const s = Math.floor(clock.now().getTime() / 1000);
    const provider = aProvider(clock, (call) => (call === 1 ? sesThrottling() : undefined));
    const waits: number[] = [];
    const { deps } = await aMeWorld(clock, 'patient', provider.codes, aSandboxBudget({ ses: { perSecond: 3 } }), waits);

    // Act
    const me = await updateMe(deps, { tenantId, sub: 'patient', roles: [] }, { email: 'patient@example.com' });

    // Assess
    expect(me.email).toBe('patient@example.com');
    expect(provider.calls()).toBe(2);
    expect(provider.sent.map((x) => x.address)).toEqual(['patient@example.com']);
    expect(waits).toEqual([codeThrottleWaitsMs[0]]);
    // Both tries reserved a send of this second: the throttled one is not given back (SES may still count it).
    expect(await usedIn(`ses#all#${s}`)).toBe(2);
  });

  it('answers 503 with Retry-After once SES has throttled every try, having waited no more than 2 s', async () => {
    // Prepare
    const clock = new FakeClock('2030-01-01T12:03:00.000Z');
    const provider = aProvider(clock, () => sesThrottling());
    const waits: number[] = [];
    const { deps } = await aMeWorld(clock, 'unlucky', provider.codes, aSandboxBudget({ ses: { perSecond: 3 } }), waits);

    // Act
    const error = await updateMe(deps, { tenantId, sub: 'unlucky', roles: [] }, { email: 'unlucky@example.com' }).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(ServiceUnavailableError);
    expect(error).toMatchObject({ retryAfterSeconds: 1, message: expect.stringContaining('could not be sent yet: the e-mail provider asked Herald to slow down; nothing was kept: repeat the request') });
    expect(provider.calls()).toBe(codeThrottleWaitsMs.length + 1);
    expect(provider.sent).toEqual([]);
    expect(waits.reduce((sum, ms) => sum + ms, 0)).toBeLessThanOrEqual(2_000);
  });

  it("answers SES's spent daily quota with its wait when the second ended while the SDK waited to retry, rather than trying another second", async () => {
    // Prepare: SES answers the first attempt that the daily quota is spent; the SDK's retry is held back
    const clock = new FakeClock('2030-01-01T12:03:30.000Z');
    const quotaSpent = Object.assign(new Error('Daily message quota exceeded.'), { name: 'Throttling', $metadata: { httpStatusCode: 400 } });
    const provider = aProvider(clock, () => new BudgetSecondPassedError('ses', clock.now().getTime(), { cause: quotaSpent }));
    const { deps } = await aMeWorld(clock, 'late', provider.codes, aSandboxBudget({ ses: { perSecond: 3 } }));

    // Act
    const error = await updateMe(deps, { tenantId, sub: 'late', roles: [] }, { email: 'late@example.com' }).catch((e: unknown) => e);

    // Assess: the hour SES asks for, after one try
    expect(error).toBeInstanceOf(ServiceUnavailableError);
    expect(error).toMatchObject({ retryAfterSeconds: 3_600 });
    expect(provider.calls()).toBe(1);
  });

  it('does not send a code whose second ended before the provider call, but sends it in a second reserved again', async () => {
    // Prepare: the first try reaches the provider 1.7 s late (a stalled machine)
    const clock = new FakeClock('2030-01-01T12:04:00.000Z');
    const sent: Sent[] = [];
    let calls = 0;
    const codes: VerificationCodeSender = {
      send: async (channel, address, _code, _who, options) => {
        if (++calls === 1) clock.set(new Date(clock.now().getTime() + 1_700));
        options?.beforeSend?.();
        sent.push({ channel, address, at: clock.now().getTime() });
      },
    };
    const { deps } = await aMeWorld(clock, 'stalled', codes, aSandboxBudget({ 'sns-sms': { perSecond: 1 } }));

    // Act
    await updateMe(deps, { tenantId, sub: 'stalled', roles: [] }, { phone: '+14155557199' });

    // Assess: one SMS, in the second the second try reserved (12:04:02: 12:04:01 had only 300 ms left)
    expect(calls).toBe(2);
    expect(sent).toEqual([{ channel: 'sms', address: '+14155557199', at: Date.parse('2030-01-01T12:04:02.000Z') }]);
  });
});
