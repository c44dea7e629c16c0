/**
 * EventBridge scheduled rules for the local stack: `rate(...)` and AWS's six-field `cron(...)`
 * (always UTC, as rules are), each invoking its target with the "Scheduled Event" envelope.
 */
import { randomUUID } from 'node:crypto';
import type { ScheduledEvent } from 'aws-lambda';
import { Cron } from 'croner';
import { setLongTimeout } from './long-timeout.ts';

/** A parsed schedule expression. */
export interface RuleSchedule {
  readonly expression: string;
  /** The first fire time strictly after `after`, or undefined when the expression never fires again. */
  next(after: Date): Date | undefined;
}

export interface RuleTarget {
  /** The rule's name, which also ends its ARN in the event's `resources`. */
  readonly name: string;
  /** `rate(5 minutes)` or `cron(0 3 * * ? *)`. */
  readonly schedule: string;
  readonly invoke: (event: ScheduledEvent<Record<string, never>>) => Promise<unknown>;
}

export interface RuleTimersOptions {
  readonly region: string;
  /** @default '000000000000' */
  readonly accountId?: string;
  /** Receives one structured entry per failed invocation. @default one JSON line on stderr */
  readonly log?: (entry: Record<string, unknown>) => void;
}

export interface RuleTimers {
  /** Arms every rule; calling it while running does nothing. */
  start(): void;
  /** Clears every timer and waits for invocations under way. */
  stop(): Promise<void>;
  /** Invokes a rule's target now (running or not) and returns what the handler returned. */
  runNow(ruleName: string): Promise<unknown>;
  /** When a running rule fires next. */
  nextFireTime(ruleName: string): Date | undefined;
}

const rateUnits: Record<string, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };

/** Parses an EventBridge rule schedule expression; throws naming the expression when AWS would reject it. */
export function parseScheduleExpression(expression: string): RuleSchedule {
  const rate = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(expression);
  if (rate) {
    const value = Number(rate[1]);
    const unit = rate[2] ?? '';
    // AWS insists on `1 minute` and `5 minutes`: the unit's number must agree with the value.
    const plural = unit.endsWith('s');
    if (value < 1 || (value === 1) === plural) throw new Error(`Invalid rate expression: ${expression}`);
    const periodMs = value * (rateUnits[unit.replace(/s$/, '')] ?? 0);
    // A rule's rate counts from when it was enabled, not from a wall-clock boundary.
    return { expression, next: (after) => new Date(after.getTime() + periodMs) };
  }
  const cron = /^cron\((.+)\)$/.exec(expression);
  if (cron) return parseCron(expression, cron[1] ?? '');
  throw new Error(`Invalid schedule expression: ${expression} (expected rate(...) or cron(...))`);
}

/** AWS cron: minutes hours day-of-month month day-of-week year, weekdays 1-7 from Sunday, always UTC. */
function parseCron(expression: string, body: string): RuleSchedule {
  const fields = body.trim().split(/\s+/);
  if (fields.length !== 6) throw new Error(`Invalid cron expression: ${expression} (AWS cron has 6 fields)`);
  const [minutes, hours, dayOfMonth, , dayOfWeek] = fields as [string, string, string, string, string, string];
  // AWS requires `?` in exactly one of the two day fields, and nowhere else.
  if ((dayOfMonth === '?') === (dayOfWeek === '?') || minutes.includes('?') || hours.includes('?')) {
    throw new Error(`Invalid cron expression: ${expression} (use ? in exactly one of day-of-month and day-of-week)`);
  }
  let pattern: Cron;
  try {
    // croner's seven-part form is seconds + AWS's six fields; Quartz weekday numbering is AWS's.
    pattern = new Cron(`0 ${fields.join(' ')}`, {
      timezone: 'UTC',
      mode: '7-part',
      alternativeWeekdays: true,
      // AWS writes steps as `0/15`, which croner calls a sloppy range.
      sloppyRanges: true,
    });
  } catch (error) {
    throw new Error(`Invalid cron expression: ${expression}`, { cause: error });
  }
  return { expression, next: (after) => pattern.nextRun(after) ?? undefined };
}

/** Creates stopped timers for the given rules; every expression is parsed up front. */
export function createRuleTimers(targets: readonly RuleTarget[], options: RuleTimersOptions): RuleTimers {
  const accountId = options.accountId ?? '000000000000';
  const log =
    options.log ??
    ((entry: Record<string, unknown>) =>
      process.stderr.write(`${JSON.stringify({ level: 'ERROR', source: 'rule-timers', ...entry })}\n`));
  const rules = new Map(targets.map((target) => [target.name, { target, schedule: parseScheduleExpression(target.schedule) }]));
  const timers = new Map<string, { cancel(): void; dueAt: Date }>();
  const invocations = new Set<Promise<unknown>>();
  let running = false;

  function event(ruleName: string, time: Date): ScheduledEvent<Record<string, never>> {
    return {
      version: '0',
      id: randomUUID(),
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: accountId,
      // EventBridge stamps the scheduled time to the second.
      time: time.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      region: options.region,
      resources: [`arn:aws:events:${options.region}:${accountId}:rule/${ruleName}`],
      detail: {},
    };
  }

  /** Runs a target, turning a synchronous throw into a rejection, and tracks it for stop(). */
  function invoke(target: RuleTarget, scheduledEvent: ScheduledEvent<Record<string, never>>): Promise<unknown> {
    const invocation = Promise.resolve().then(() => target.invoke(scheduledEvent));
    invocations.add(invocation);
    void invocation.catch(() => undefined).finally(() => invocations.delete(invocation));
    return invocation;
  }

  function arm(ruleName: string, after: Date): void {
    const rule = rules.get(ruleName);
    const dueAt = rule?.schedule.next(after);
    if (!rule || !dueAt) return;
    const timer = setLongTimeout(() => {
      timers.delete(ruleName);
      invoke(rule.target, event(ruleName, dueAt)).catch((error: unknown) =>
        log({ message: 'scheduled invocation failed', rule: ruleName, error: error instanceof Error ? error.message : String(error) }),
      );
      // After a sleeping laptop wakes, fire once and carry on from now rather than replay every missed tick.
      arm(ruleName, new Date(Math.max(dueAt.getTime(), Date.now())));
    }, dueAt.getTime() - Date.now());
    timers.set(ruleName, { cancel: timer.cancel, dueAt });
  }

  return {
    start() {
      if (running) return;
      running = true;
      const now = new Date();
      for (const ruleName of rules.keys()) arm(ruleName, now);
    },
    async stop() {
      running = false;
      for (const timer of timers.values()) timer.cancel();
      timers.clear();
      await Promise.allSettled([...invocations]);
    },
    runNow(ruleName) {
      const rule = rules.get(ruleName);
      if (!rule) return Promise.reject(new Error(`No rule named ${ruleName}`));
      return invoke(rule.target, event(ruleName, new Date()));
    },
    nextFireTime: (ruleName) => timers.get(ruleName)?.dueAt,
  };
}
