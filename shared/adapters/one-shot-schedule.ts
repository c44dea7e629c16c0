/**
 * Messages onto a queue at given instants: each one a one-shot EventBridge Scheduler schedule,
 * or, when it is due within the scheduler's lead time (plus a safety margin), a message sent
 * straight to the queue with `DelaySeconds`.
 *
 * AWS fires one-time schedules within about a minute of their time, so schedules fire
 * `leadSeconds` early and the consumer holds the message until the exact millisecond: delivery
 * lands on time instead of up to a minute late. The choice is made item by item with the clock
 * read just then, so a large request cannot create an `at()` that is already past when it reaches
 * the Scheduler (which refuses one: "Schedule types", EventBridge Scheduler User Guide).
 * Notifications and broadcasts both go their way through this.
 */
import { ConflictException, CreateScheduleCommand, DeleteScheduleCommand, ResourceNotFoundException } from '@aws-sdk/client-scheduler';
import type { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { SchedulerConfig } from '../config.ts';
import type { Clock, FireSlots } from '../ports.ts';
import { logger } from '../observability/logger.ts';
import { mapLimited } from '../use-cases/map-limited.ts';
import { maxDelaySeconds, sendEntries } from './sqs-send-batches.ts';
import { MessagesNotSentError } from './sqs-broadcast-queues.ts';

/**
 * A schedule must fire at least this long after it is created: time for the CreateSchedule
 * request to reach the Scheduler, and for clocks to disagree a little (the fire time is decided
 * right before each request). Anything sooner goes straight to the queue.
 */
export const scheduleSafetyMarginMs = 1_000;
/**
 * How much earlier than its lead time a schedule may fire to find a second with room: the
 * consumer puts an early message back on the queue (delayed up to 15 minutes), so a burst beyond
 * this many seconds' worth of the quota fires late rather than further ahead.
 */
export const maxExtraLeadSeconds = 15 * 60;
/**
 * How much earlier than its time a message sent straight to the queue is made visible: its
 * `DelaySeconds` is the whole seconds left after this, so it arrives 1–2 s early and the
 * consumer holds it to the millisecond (`HERALD_DELIVERY_HOLD_MS`, 2 s by default). With the
 * seconds left rounded down alone it arrived 0–1 s early, and a consumer that had to start first
 * (a cold start, ~0.3–2.5 s) delivered it late by what its start took past that.
 */
export const directSendLeadMs = 1_000;
/** CreateSchedule calls in flight at once for one request. */
const schedulingConcurrency = 16;

/** `at()` takes a local date-time without offset; Herald always passes UTC. */
export function atExpression(instant: Date): string {
  return `at(${instant.toISOString().slice(0, 19)})`;
}

/** One message to deliver at `dueAt`, under the schedule name `name` when it needs a schedule. */
export interface TimedMessage {
  readonly name: string;
  readonly dueAt: Date;
  readonly body: string;
}

export class OneShotSchedule {
  private readonly scheduler: SchedulerClient;
  private readonly sqs: SQSClient;
  private readonly config: SchedulerConfig;
  private readonly queueUrl: string;
  private readonly clock: Clock;
  private readonly slots: FireSlots | undefined;

  /**
   * `config.targetArn` is the ARN of the queue whose URL is `queueUrl`. With `slots`, each
   * schedule takes a fire second within the Scheduler's per-second quota (a burst due at once
   * fires spread over the seconds before); without, every one fires `leadSeconds` early.
   */
  constructor(
    scheduler: SchedulerClient,
    sqs: SQSClient,
    config: SchedulerConfig,
    queueUrl: string,
    clock: Clock = { now: () => new Date() },
    slots?: FireSlots,
  ) {
    this.scheduler = scheduler;
    this.sqs = sqs;
    this.config = config;
    this.queueUrl = queueUrl;
    this.clock = clock;
    this.slots = slots;
  }

  /**
   * When the schedule of a message due at `dueAt` fires: `leadSeconds` early, or earlier still in
   * the latest second with room under the quota (at most `maxExtraLeadSeconds` earlier, never
   * within the safety margin of `now`); `undefined` when it should go straight to the queue.
   */
  private async fireTime(dueAt: Date, now: Date, slots: FireSlots): Promise<Date> {
    const ideal = this.fireAt(dueAt);
    const latest = ideal.getTime() / 1000;
    const soonest = Math.floor((now.getTime() + scheduleSafetyMarginMs) / 1000) + 1;
    try {
      const second = await slots.claim(latest, Math.max(soonest, latest - maxExtraLeadSeconds));
      // No second with room: it fires on its lead time and waits its turn (it may arrive late).
      return second === undefined ? ideal : new Date(second * 1000);
    } catch (error) {
      // The count is an optimisation: without it the schedule still fires, on its lead time.
      logger.warn('Could not take a fire second; the schedule fires on its lead time', { error });
      return ideal;
    }
  }

  /** When the schedule of a message due at `dueAt` fires: `leadSeconds` early, on a whole second. */
  private fireAt(dueAt: Date): Date {
    return new Date(Math.floor((dueAt.getTime() - this.config.leadSeconds * 1000) / 1000) * 1000);
  }

  /** True when a message due at `dueAt` needs a schedule, judged against `now`. */
  private needsSchedule(dueAt: Date, now: Date): boolean {
    return this.fireAt(dueAt).getTime() > now.getTime() + scheduleSafetyMarginMs;
  }

  /** Arranges for `body` to reach the queue at `dueAt`; a schedule named `name` must not exist. */
  async create(name: string, dueAt: Date, body: string, now: Date): Promise<void> {
    await this.createMany([{ name, dueAt, body }], now);
  }

  /**
   * Arranges for every message to reach the queue at its time: those due soon in one
   * SendMessageBatch per ten, the others one schedule each. Resolves with the names of the
   * schedules it created; when it fails, it removes those it had created, then throws. With
   * `existing: 'made'`, a name the Scheduler already has (`ConflictException`) counts as made
   * (not created here: a failure leaves it); by default it is a failure.
   */
  async createMany(messages: readonly TimedMessage[], now: Date, options: { readonly existing?: 'made' | 'error' } = {}): Promise<string[]> {
    const clockNow = (): Date => new Date(Math.max(now.getTime(), this.clock.now().getTime()));
    const soon = messages.filter((m) => !this.needsSchedule(m.dueAt, clockNow()));
    const later = messages.filter((m) => !soon.includes(m));
    if (soon.length > 0) await this.sendSoon(soon, clockNow());
    const created: string[] = [];
    try {
      await mapLimited(later, schedulingConcurrency, async (message) => {
        // Judged again now: an earlier CreateSchedule of this request may have taken a while.
        const at = clockNow();
        if (!this.needsSchedule(message.dueAt, at)) return this.sendSoon([message], at);
        const fireAt = this.slots ? await this.fireTime(message.dueAt, at, this.slots) : this.fireAt(message.dueAt);
        try {
          await this.scheduleOne(message, fireAt);
        } catch (error) {
          if (options.existing === 'made' && error instanceof ConflictException) return;
          throw error;
        }
        created.push(message.name);
      });
    } catch (error) {
      await Promise.allSettled(created.map((name) => this.remove(name)));
      throw error;
    }
    return created;
  }

  private async sendSoon(messages: readonly TimedMessage[], now: Date): Promise<void> {
    const entries = messages.map((m) => ({
      body: m.body,
      delaySeconds: Math.min(maxDelaySeconds, Math.max(0, Math.floor((m.dueAt.getTime() - now.getTime() - directSendLeadMs) / 1000))),
    }));
    if (entries.length === 1 && entries[0]) {
      await this.sqs.send(new SendMessageCommand({ QueueUrl: this.queueUrl, MessageBody: entries[0].body, DelaySeconds: entries[0].delaySeconds }));
      return;
    }
    const { failures } = await sendEntries(this.sqs, this.queueUrl, entries);
    if (failures.length > 0) throw new MessagesNotSentError(this.queueUrl, failures);
  }

  private async scheduleOne(message: TimedMessage, fireAt: Date): Promise<void> {
    await this.scheduler.send(
      new CreateScheduleCommand({
        Name: message.name,
        GroupName: this.config.groupName,
        ScheduleExpression: atExpression(fireAt),
        ScheduleExpressionTimezone: 'UTC',
        FlexibleTimeWindow: { Mode: 'OFF' },
        ActionAfterCompletion: 'DELETE',
        State: 'ENABLED',
        Target: {
          Arn: this.config.targetArn,
          RoleArn: this.config.roleArn,
          Input: message.body,
          // Keep trying for a day; what still fails lands in the DLQ, and the sweeps deliver
          // anything whose schedule never reached the queue.
          RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86_400 },
          DeadLetterConfig: { Arn: this.config.deadLetterArn },
        },
      }),
    );
  }

  /** Removes the schedule named `name`; one that is already gone is not an error. */
  async remove(name: string): Promise<void> {
    try {
      await this.scheduler.send(new DeleteScheduleCommand({ Name: name, GroupName: this.config.groupName }));
    } catch (error) {
      // Fired already (ActionAfterCompletion=DELETE) or never created (sent straight to the queue).
      if (error instanceof ResourceNotFoundException) return;
      throw error;
    }
  }
}
