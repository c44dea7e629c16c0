/**
 * Verification codes within the providers' send budgets, end to end (docs/limits.md, "Not an open
 * relay"): a dozen users set a new e-mail address or phone number at once. The local SES allows 3
 * e-mails a second (and answers `Throttling` above it: the budget is read from its `GetSendQuota`);
 * SMS has a budget of 3 a second. The codes spread over the seconds, never more than 3 in one; one
 * that finds no room soon is a 503 with `Retry-After` that sent nothing, and repeating the request
 * then sends it. Each address gets exactly one code.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OutboxEntry } from '../../local/outbox.ts';
import { startHarness } from './support/harness.ts';
import type { ApiResponse, Harness } from './support/harness.ts';

const rate = 3;
const users = 12;

let h: Harness;
let admin: string;

beforeAll(async () => {
  h = await startHarness({ sesMaxSendRate: rate, environment: { POWERTOOLS_LOG_LEVEL: 'ERROR', HERALD_RATE_SMS_PER_SECOND: String(rate) } });
  admin = await h.token('alice', { role: 'admin' });
});

afterAll(async () => {
  await h?.close();
});

/** A 503 that says when to ask again: the code was not sent, the address saved. */
function notSentYet(answer: ApiResponse & { readonly headers: Readonly<Record<string, string>> }): boolean {
  return answer.status === 503 && Number(answer.headers['retry-after']) >= 1 && /could not be sent yet: .*repeat the request in \d+ s for a new code$/.test(answer.body.error?.message ?? '');
}

/**
 * PATCH /v1/me with `body`, repeated after each 503's `Retry-After` (a few times at most): the
 * statuses of every answer, the first one's first.
 */
async function setAddress(token: string, body: Record<string, string>): Promise<{ readonly statuses: number[]; readonly refusedWrongly: unknown[] }> {
  const statuses: number[] = [];
  const refusedWrongly: unknown[] = [];
  for (let round = 0; round < 5; round++) {
    const answer = await h.apiWithHeaders('PATCH', '/v1/me', { token, body });
    statuses.push(answer.status);
    if (answer.status === 200) break;
    if (!notSentYet(answer)) {
      refusedWrongly.push({ status: answer.status, body: answer.body, retryAfter: answer.headers['retry-after'] });
      break;
    }
    await sleep(Number(answer.headers['retry-after']) * 1000);
  }
  return { statuses, refusedWrongly };
}

/** The most sends in any one calendar second (the budget's slots). */
function busiestSlot(times: readonly number[]): number {
  const counts = new Map<number, number>();
  for (const at of times) counts.set(Math.floor(at / 1000), (counts.get(Math.floor(at / 1000)) ?? 0) + 1);
  return Math.max(0, ...counts.values());
}

async function tokensFor(ids: readonly string[]): Promise<string[]> {
  for (const id of ids) expect((await h.api('PUT', `/v1/recipients/${id}`, { token: admin, body: {} })).status).toBe(201);
  return Promise.all(ids.map((id) => h.token(id)));
}

describe('verification codes on the local stack', () => {
  it(`sends ${users} e-mail codes asked for at once within SES's rate of ${rate} a second, each once`, async () => {
    // Prepare
    const ids = Array.from({ length: users }, (_, i) => `vu${i}`);
    const tokens = await tokensFor(ids);

    // Act
    const answers = await Promise.all(tokens.map((token, i) => setAddress(token, { email: `vu${i}@example.com` })));

    // Assess: every request ends in 200, the ones that could not send at first said when to repeat
    expect(answers.flatMap((a) => a.refusedWrongly)).toEqual([]);
    expect(answers.map((a) => a.statuses.at(-1))).toEqual(ids.map(() => 200));
    const store = (await (await fetch(`${h.stack.sesUrl}/store`)).json()) as { emails: { destination: { to: string[] } }[] };
    const codes = store.emails.flatMap((e) => e.destination.to).filter((to) => /^vu\d+@example\.com$/.test(to));
    expect(codes.sort()).toEqual(ids.map((id) => `${id}@example.com`).sort());
    const ses = (await (await fetch(`${h.stack.httpUrl}/_local/ses`)).json()) as { sends: { at: number }[] };
    expect(busiestSlot(ses.sends.map((s) => s.at))).toBeLessThanOrEqual(rate);
  }, 90_000);

  it(`sends ${users} SMS codes asked for at once at most ${rate} in a second, each once`, async () => {
    // Prepare
    const ids = Array.from({ length: users }, (_, i) => `pn${i}`);
    const phones = ids.map((_, i) => `+141555571${String(i).padStart(2, '0')}`);
    const tokens = await tokensFor(ids);

    // Act
    const answers = await Promise.all(tokens.map((token, i) => setAddress(token, { phone: phones[i] ?? '' })));

    // Assess
    expect(answers.flatMap((a) => a.refusedWrongly)).toEqual([]);
    expect(answers.map((a) => a.statuses.at(-1))).toEqual(ids.map(() => 200));
    const outbox = ((await (await fetch(`${h.stack.httpUrl}/_local/outbox?channel=sms`)).json()) as { entries: OutboxEntry[] }).entries.filter((e) => phones.includes(e.to));
    expect(outbox.map((e) => e.to).sort()).toEqual([...phones].sort());
    expect(busiestSlot(outbox.map((e) => e.at))).toBeLessThanOrEqual(rate);
  }, 90_000);
});
