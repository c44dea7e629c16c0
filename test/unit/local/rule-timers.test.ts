import type { ScheduledEvent } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createRuleTimers, parseScheduleExpression } from '../../../local/rule-timers.ts';
import type { RuleTimers } from '../../../local/rule-timers.ts';

function nextAfter(expression: string, after: string): string | undefined {
  return parseScheduleExpression(expression).next(new Date(after))?.toISOString();
}

describe('rule schedule expressions', () => {
  it.each([
    ['rate(5 minutes)', '2026-01-07T10:00:00.000Z', '2026-01-07T10:05:00.000Z'],
    ['rate(1 minute)', '2026-01-07T10:00:30.000Z', '2026-01-07T10:01:30.000Z'],
    ['rate(1 hour)', '2026-01-07T10:00:00.000Z', '2026-01-07T11:00:00.000Z'],
    ['rate(2 days)', '2026-01-07T10:00:00.000Z', '2026-01-09T10:00:00.000Z'],
  ])('counts %s from the previous firing', (expression, after, expected) => {
    // Act
    const next = nextAfter(expression, after);

    // Assess
    expect(next).toBe(expected);
  });

  it.each([
    ['cron(0 3 * * ? *)', '2026-01-07T10:00:00.000Z', '2026-01-08T03:00:00.000Z'],
    ['cron(0 3 * * ? *)', '2026-01-07T02:59:59.000Z', '2026-01-07T03:00:00.000Z'],
    ['cron(0 3 * * ? *)', '2026-01-07T03:00:00.000Z', '2026-01-08T03:00:00.000Z'],
    ['cron(0/15 * * * ? *)', '2026-01-07T10:07:00.000Z', '2026-01-07T10:15:00.000Z'],
    // 2026-01-10 is a Saturday: the next weekday is Monday the 12th.
    ['cron(30 9 ? * MON-FRI *)', '2026-01-10T00:00:00.000Z', '2026-01-12T09:30:00.000Z'],
    // AWS numbers weekdays from Sunday = 1, so 2 is Monday.
    ['cron(0 9 ? * 2 *)', '2026-01-07T00:00:00.000Z', '2026-01-12T09:00:00.000Z'],
    ['cron(0 12 ? * 6#2 *)', '2026-01-01T00:00:00.000Z', '2026-01-09T12:00:00.000Z'],
    ['cron(0 0 L * ? *)', '2026-02-01T00:00:00.000Z', '2026-02-28T00:00:00.000Z'],
    ['cron(0 8 1 1 ? 2027)', '2026-06-01T00:00:00.000Z', '2027-01-01T08:00:00.000Z'],
  ])('finds the next UTC time of %s after %s', (expression, after, expected) => {
    // Act
    const next = nextAfter(expression, after);

    // Assess
    expect(next).toBe(expected);
  });

  it('reports no next time for a cron whose years are over', () => {
    // Act
    const next = nextAfter('cron(0 8 1 1 ? 2027)', '2027-06-01T00:00:00.000Z');

    // Assess
    expect(next).toBeUndefined();
  });

  it.each([
    'rate(1 minutes)',
    'rate(5 minute)',
    'rate(0 minutes)',
    'rate(5 weeks)',
    'cron(0 3 * * * *)',
    'cron(0 3 ? * ? *)',
    'cron(0 3 * * ?)',
    'cron(61 3 * * ? *)',
    'every day at 3',
  ])('rejects %s as AWS would', (expression) => {
    // Act
    const parsing = (): unknown => parseScheduleExpression(expression);

    // Assess
    expect(parsing).toThrow(expression);
  });
});

describe('rule timers', () => {
  let timers: RuleTimers | undefined;

  afterEach(async () => {
    await timers?.stop();
    timers = undefined;
    vi.useRealTimers();
  });

  it('runs a rule now with the EventBridge Scheduled Event envelope and returns the handler result', async () => {
    // Prepare
    const events: ScheduledEvent[] = [];
    timers = createRuleTimers(
      [{ name: 'herald-local-stuck-retry-sweep', schedule: 'rate(5 minutes)', invoke: async (event) => { events.push(event); return { retried: 2 }; } }],
      { region: 'eu-west-1' },
    );

    // Act
    const result = await timers.runNow('herald-local-stuck-retry-sweep');

    // Assess
    expect(result).toEqual({ retried: 2 });
    expect(events).toEqual([
      {
        version: '0',
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        'detail-type': 'Scheduled Event',
        source: 'aws.events',
        account: '000000000000',
        time: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/),
        region: 'eu-west-1',
        resources: ['arn:aws:events:eu-west-1:000000000000:rule/herald-local-stuck-retry-sweep'],
        detail: {},
      },
    ]);
  });

  it('rejects runNow for a rule it does not hold', async () => {
    // Prepare
    timers = createRuleTimers([], { region: 'eu-west-1' });

    // Act
    const running = timers.runNow('nope');

    // Assess
    await expect(running).rejects.toThrow('No rule named nope');
  });

  it('fires each running rule on its cadence, stamped with the scheduled time, until stopped', async () => {
    // Prepare
    vi.useFakeTimers({ now: new Date('2026-01-07T02:58:00.000Z') });
    const fired: Record<string, string[]> = { sweep: [], cleanup: [] };
    timers = createRuleTimers(
      [
        { name: 'sweep', schedule: 'rate(5 minutes)', invoke: async (event) => fired.sweep?.push(event.time) },
        { name: 'cleanup', schedule: 'cron(0 3 * * ? *)', invoke: async (event) => fired.cleanup?.push(event.time) },
      ],
      { region: 'eu-west-1' },
    );

    // Act
    timers.start();
    await vi.advanceTimersByTimeAsync(10 * 60_000);
    const nextCleanup = timers.nextFireTime('cleanup');
    await timers.stop();
    await vi.advanceTimersByTimeAsync(60 * 60_000);

    // Assess
    expect(fired).toEqual({
      sweep: ['2026-01-07T03:03:00Z', '2026-01-07T03:08:00Z'],
      cleanup: ['2026-01-07T03:00:00Z'],
    });
    expect(nextCleanup?.toISOString()).toBe('2026-01-08T03:00:00.000Z');
  });

  it('keeps firing after a failed invocation and logs the failure', async () => {
    // Prepare
    vi.useFakeTimers({ now: new Date('2026-01-07T00:00:00.000Z') });
    const logged: Record<string, unknown>[] = [];
    let calls = 0;
    timers = createRuleTimers(
      [{ name: 'sweep', schedule: 'rate(1 minute)', invoke: async () => { calls += 1; throw new Error('table missing'); } }],
      { region: 'eu-west-1', log: (entry) => logged.push(entry) },
    );

    // Act
    timers.start();
    await vi.advanceTimersByTimeAsync(3 * 60_000);

    // Assess
    expect(calls).toBe(3);
    expect(logged).toHaveLength(3);
    expect(logged[0]).toMatchObject({ rule: 'sweep', error: 'table missing' });
  });
});
