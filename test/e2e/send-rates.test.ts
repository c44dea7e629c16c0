/**
 * Send rates that hold, end to end: the local SES allows 20 sends a second (and answers AWS's
 * `Throttling` above it, and its `GetSendQuota` with that rate). 300 notifications by e-mail and a
 * 300-recipient broadcast by e-mail, all due at once, go out each exactly once, none fails, and
 * SES never sees more than its rate (10 % tolerance) in any one-second window: the delivery
 * engine's send budget, read from SES's own quota, keeps every worker within it. A second stack
 * whose budget is twice what SES allows shows SES's throttling is no failure: it waits, spends no
 * attempt, and every e-mail still goes out once. A third whose SES allows half an e-mail a second
 * (`MaxSendRate` is a Double) sends one every other second.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDirectory } from '../../local/seed-directory.ts';
import { maxBatchRecipients } from '../../shared/domain/schemas.ts';
import { LOCAL_REGION } from '../../local/stack.ts';
import { eventually, inMs, startHarness } from './support/harness.ts';
import type { Harness } from './support/harness.ts';

interface SesSends {
  readonly quota: { readonly maxSendRate: number };
  readonly sends: readonly { readonly operation: string; readonly recipients: number; readonly at: number }[];
}

interface SesStore {
  readonly emails: readonly { readonly destination: { readonly to: readonly string[] } }[];
}

const sesRate = 20;

async function sesSends(h: Harness): Promise<SesSends> {
  const response = await fetch(`${h.stack.httpUrl}/_local/ses`);
  return (await response.json()) as SesSends;
}

/** The most sends SES accepted in any window of one second. */
function busiestSecond(sends: SesSends['sends']): number {
  const times = sends.map((s) => s.at).sort((a, b) => a - b);
  let most = 0;
  for (let start = 0, end = 0; end < times.length; end++) {
    while ((times[end] as number) - (times[start] as number) >= 1000) start++;
    most = Math.max(most, end - start + 1);
  }
  return most;
}

/**
 * How many e-mails each address starting with one of `prefixes` got, from the local SES's store of
 * sent mail (shared by the stacks of one process: each test reads only its own addresses).
 */
async function perAddress(h: Harness, prefixes: readonly string[]): Promise<Map<string, number>> {
  const store = (await (await fetch(`${h.stack.sesUrl}/store`)).json()) as SesStore;
  const counts = new Map<string, number>();
  for (const email of store.emails) {
    for (const to of email.destination.to) if (prefixes.some((p) => to.startsWith(p))) counts.set(to, (counts.get(to) ?? 0) + 1);
  }
  return counts;
}

async function register(h: Harness, admin: string, ids: readonly string[]): Promise<void> {
  // A batch holds at most maxBatchRecipients entries (docs/limits.md).
  for (let start = 0; start < ids.length; start += maxBatchRecipients) {
    const batch = ids.slice(start, start + maxBatchRecipients);
    const response = await h.api('POST', '/v1/recipients/batch', { token: admin, body: { recipients: batch.map((id) => ({ id, email: `${id}@example.com` })) } });
    expect(response.status).toBe(200);
  }
}

describe('send rates on the local stack', () => {
  let h: Harness;
  let admin: string;

  beforeAll(async () => {
    h = await startHarness({ sesMaxSendRate: sesRate, environment: { POWERTOOLS_LOG_LEVEL: 'ERROR' } });
    admin = await h.token('alice', { role: 'admin' });
  });

  afterAll(async () => {
    await h?.close();
  });

  it('sends 300 notifications and a 300-recipient broadcast by e-mail at once, each once, never faster than SES allows', async () => {
    // Prepare
    const direct = Array.from({ length: 300 }, (_, i) => `direct-${String(i).padStart(3, '0')}`);
    const members = Array.from({ length: 300 }, (_, i) => `member-${String(i).padStart(3, '0')}`);
    await register(h, admin, direct);
    await seedDirectory({
      endpoint: h.stack.endpoints.dynamodb,
      region: LOCAL_REGION,
      tables: { recipients: h.stack.tableNames.recipients ?? '', memberships: h.stack.tableNames.memberships ?? '' },
      tenantId: 'default',
      recipients: members.map((id) => ({ id, email: `${id}@example.com`, groups: ['everyone-by-mail'] })),
    });
    const at = inMs(3_000);

    // Act
    const created = await Promise.all(
      [0, 100, 200].map((start) =>
        h.api('POST', '/v1/notifications', {
          token: admin,
          body: { recipients: direct.slice(start, start + 100), title: 'Invoice ready', message: 'Yours is attached.', channels: ['email'], scheduledAt: at },
        }),
      ),
    );
    const broadcast = await h.api('POST', '/v1/broadcasts', {
      token: admin,
      body: { audience: { groups: ['everyone-by-mail'] }, title: 'Maintenance', message: 'Tonight.', channels: ['email'], scheduledAt: at },
    });
    const ids = created.flatMap((c) => c.body.notificationIds as string[]);
    const counts = await eventually(
      () => perAddress(h, ['direct-', 'member-']),
      (sent) => sent.size >= 600,
      // 600 e-mails at 20 a second take 30 s; three times that, and more, before giving up.
      120_000,
    );
    const done = await sesSends(h);

    // Assess
    expect(created.map((c) => c.status)).toEqual([201, 201, 201]);
    expect(broadcast.status).toBe(201);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    expect(counts.size).toBe(600);
    expect(busiestSecond(done.sends)).toBeLessThanOrEqual(Math.floor(sesRate * 1.1));
    const statuses = await Promise.all(ids.slice(0, 300).map(async (id) => (await h.api('GET', `/v1/notifications/${id}`, { token: admin })).body.status));
    const settled = await eventually(
      async () => Promise.all(ids.map(async (id) => (await h.api('GET', `/v1/notifications/${id}`, { token: admin })).body.status)),
      (all) => all.every((status) => status === 'sent'),
      30_000,
    );
    expect(statuses.filter((s) => s === 'failed')).toEqual([]);
    expect(settled.every((status) => status === 'sent')).toBe(true);
    const finished = await eventually(
      () => h.api('GET', `/v1/broadcasts/${String(broadcast.body.broadcastId)}`, { token: admin }),
      (b) => b.body.status === 'completed',
      30_000,
    );
    expect(finished.body.progress).toMatchObject({ total: 300, sent: 300, failed: 0 });
  }, 240_000);
});

describe('a send budget above what SES allows', () => {
  let h: Harness;
  let admin: string;

  beforeAll(async () => {
    // Herald believes it may send 40 a second; SES takes 20 and answers Throttling above that. No
    // retries at all: an attempt spent on throttling would fail its notification.
    h = await startHarness({
      sesMaxSendRate: sesRate,
      environment: { POWERTOOLS_LOG_LEVEL: 'ERROR', HERALD_RATE_SES_PER_SECOND: '40', HERALD_RETRY_MAX_RETRIES: '0' },
    });
    admin = await h.token('alice', { role: 'admin' });
  });

  afterAll(async () => {
    await h?.close();
  });

  it('waits out SES throttling without failing or spending attempts, sending each e-mail once', async () => {
    // Prepare
    const ids = Array.from({ length: 120 }, (_, i) => `burst-${String(i).padStart(3, '0')}`);
    await register(h, admin, ids);

    // Act
    const created = await h.api('POST', '/v1/notifications', {
      token: admin,
      body: { recipients: ids, title: 'Burst', message: 'All at once.', channels: ['email'] },
    });
    const notificationIds = created.body.notificationIds as string[];
    const finals = await eventually(
      async () => Promise.all(notificationIds.map(async (id) => (await h.api('GET', `/v1/notifications/${id}`, { token: admin })).body)),
      (all) => all.every((n) => n.status === 'sent' || n.status === 'failed'),
      90_000,
    );

    // Assess
    expect(created.status).toBe(201);
    expect(finals.filter((n) => n.status === 'failed')).toEqual([]);
    // Throttled attempts are handed back: each notification shows the one attempt that sent it.
    expect(finals.map((n) => n.attempts)).toEqual(notificationIds.map(() => 1));
    const calls = (await (await fetch(`${h.stack.httpUrl}/_local/calls`)).json()) as { calls: { ses?: { SendEmail?: number } } };
    // SES did refuse some: more SendEmail calls than e-mails.
    expect(calls.calls.ses?.SendEmail ?? 0).toBeGreaterThan(120);
    const ses = await sesSends(h);
    const counts = await perAddress(h, ['burst-']);
    expect(counts.size).toBe(120);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    expect(busiestSecond(ses.sends)).toBeLessThanOrEqual(Math.floor(sesRate * 1.1));
  }, 180_000);
});

describe('an SES account allowed fewer than one e-mail a second', () => {
  let h: Harness;
  let admin: string;

  beforeAll(async () => {
    h = await startHarness({ sesMaxSendRate: 0.5, environment: { POWERTOOLS_LOG_LEVEL: 'ERROR' } });
    admin = await h.token('alice', { role: 'admin' });
  });

  afterAll(async () => {
    await h?.close();
  });

  it('sends e-mail at 0.5 a second, one every other second, each on its first attempt', async () => {
    // Prepare
    const ids = ['slow-0', 'slow-1', 'slow-2', 'slow-3'];
    await register(h, admin, ids);

    // Act
    const created = await h.api('POST', '/v1/notifications', { token: admin, body: { recipients: ids, title: 'Slowly', message: 'One at a time.', channels: ['email'] } });
    const notificationIds = created.body.notificationIds as string[];
    const finals = await eventually(
      async () => Promise.all(notificationIds.map(async (id) => (await h.api('GET', `/v1/notifications/${id}`, { token: admin })).body)),
      (all) => all.every((n) => n.status === 'sent' || n.status === 'failed'),
      60_000,
    );

    // Assess: all sent once, none throttled, and never two within two seconds
    expect(finals.map((n) => [n.status, n.attempts])).toEqual(ids.map(() => ['sent', 1]));
    const counts = await perAddress(h, ['slow-']);
    expect([...counts.values()]).toEqual([1, 1, 1, 1]);
    const times = (await sesSends(h)).sends.map((send) => send.at).sort((a, b) => a - b);
    expect(times).toHaveLength(ids.length);
    for (let i = 1; i < times.length; i++) expect(Math.floor((times[i] ?? 0) / 1000) - Math.floor((times[i - 1] ?? 0) / 1000)).toBeGreaterThanOrEqual(2);
  }, 120_000);
});
