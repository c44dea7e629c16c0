/**
 * One EventBridge Scheduler recurring schedule per recurring notification, `r-<id>` in Herald's
 * group: `cron()` or `rate()` with `ScheduleExpressionTimezone`, the StartDate the caller works out
 * (`schedulerStartDate`: never a past one, which EventBridge refuses), EndDate from its bound,
 * DISABLED while paused. It puts an `occurrence` step on the fan-out queue naming the
 * occurrence's own time through the context attribute `<aws.scheduler.scheduled-time>` ("Adding
 * context attributes", EventBridge Scheduler User Guide), which keys what the occurrence creates.
 * A firing the schedule was not there to make is put on the same queue by SendMessage (`fire`).
 */
import { ConflictException, CreateScheduleCommand, DeleteScheduleCommand, GetScheduleCommand, ResourceNotFoundException, UpdateScheduleCommand } from '@aws-sdk/client-scheduler';
import type { CreateScheduleCommandInput, SchedulerClient } from '@aws-sdk/client-scheduler';
import type { SchedulerConfig } from '../config.ts';
import { occurrenceMaxAgeSeconds, scheduleExpressionOf } from '../domain/recurring.ts';
import type { RecurringNotification } from '../domain/recurring.ts';
import type { FanoutQueue, RecurringScheduler } from '../ports.ts';

/** The schedule name of a recurring notification. */
export function recurringScheduleName(id: string): string {
  return `r-${id}`;
}

export class EventBridgeRecurringScheduler implements RecurringScheduler {
  private readonly scheduler: SchedulerClient;
  private readonly config: () => SchedulerConfig;
  private readonly fanout: FanoutQueue;

  /** `config().targetArn` is the fan-out queue's ARN, the queue `fanout` sends to. */
  constructor(scheduler: SchedulerClient, config: () => SchedulerConfig, fanout: FanoutQueue) {
    this.scheduler = scheduler;
    this.config = config;
    this.fanout = fanout;
  }

  async put(recurring: RecurringNotification, startDate: number | 'ended' | undefined): Promise<void> {
    const config = this.config();
    const { schedule } = recurring;
    const input: CreateScheduleCommandInput = {
      Name: recurringScheduleName(recurring.id),
      GroupName: config.groupName,
      ScheduleExpression: scheduleExpressionOf(schedule),
      ScheduleExpressionTimezone: schedule.timezone,
      ...(typeof startDate === 'number' ? { StartDate: new Date(startDate) } : {}),
      ...(schedule.endAt ? { EndDate: new Date(schedule.endAt) } : {}),
      FlexibleTimeWindow: { Mode: 'OFF' },
      // An ended rate put ENABLED without a StartDate would fire at once.
      State: recurring.status === 'paused' || startDate === 'ended' ? 'DISABLED' : 'ENABLED',
      Target: {
        Arn: config.targetArn,
        RoleArn: config.roleArn,
        Input: JSON.stringify({ kind: 'occurrence', tenantId: recurring.tenantId, recurringId: recurring.id, at: '<aws.scheduler.scheduled-time>' }),
        // An occurrence is worth trying for an hour; what still fails lands in the DLQ.
        RetryPolicy: { MaximumRetryAttempts: 20, MaximumEventAgeInSeconds: occurrenceMaxAgeSeconds },
        DeadLetterConfig: { Arn: config.deadLetterArn },
      },
    };
    try {
      await this.scheduler.send(new CreateScheduleCommand(input));
    } catch (error) {
      if (!(error instanceof ConflictException)) throw error;
      await this.scheduler.send(new UpdateScheduleCommand(input));
    }
  }

  async remove(recurring: Pick<RecurringNotification, 'tenantId' | 'id'>): Promise<void> {
    try {
      await this.scheduler.send(new DeleteScheduleCommand({ Name: recurringScheduleName(recurring.id), GroupName: this.config().groupName }));
    } catch (error) {
      if (!(error instanceof ResourceNotFoundException)) throw error;
    }
  }

  async exists(recurring: Pick<RecurringNotification, 'tenantId' | 'id'>): Promise<boolean> {
    try {
      await this.scheduler.send(new GetScheduleCommand({ Name: recurringScheduleName(recurring.id), GroupName: this.config().groupName }));
      return true;
    } catch (error) {
      if (error instanceof ResourceNotFoundException) return false;
      throw error;
    }
  }

  /** `at` is given to the second, as the Scheduler gives `<aws.scheduler.scheduled-time>` (`2030-01-01T12:00:00Z`). */
  async fire(recurring: Pick<RecurringNotification, 'tenantId' | 'id'>, at: number): Promise<void> {
    const scheduledTime = new Date(at).toISOString().replace(/\.\d{3}Z$/, 'Z');
    await this.fanout.send([{ kind: 'occurrence', tenantId: recurring.tenantId, recurringId: recurring.id, at: scheduledTime }]);
  }
}
