/**
 * One message onto a queue at a given second: one one-shot EventBridge Scheduler schedule, or,
 * when it is due within the scheduler's lead time, a message sent straight to the queue with
 * `DelaySeconds`.
 *
 * AWS fires one-time schedules within about a minute of their time, so schedules fire
 * `leadSeconds` early and the consumer holds the message (visibility) until the exact second:
 * delivery lands on time instead of up to a minute late. Notifications and broadcasts both go
 * their way through this.
 */
import { CreateScheduleCommand, DeleteScheduleCommand, ResourceNotFoundException } from '@aws-sdk/client-scheduler';
import type { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { SchedulerConfig } from '../config.ts';

/** SQS caps `DelaySeconds` at 15 minutes. */
const maxQueueDelaySeconds = 900;

/** `at()` takes a local date-time without offset; Herald always passes UTC. */
export function atExpression(instant: Date): string {
  return `at(${instant.toISOString().slice(0, 19)})`;
}

export class OneShotSchedule {
  private readonly scheduler: SchedulerClient;
  private readonly sqs: SQSClient;
  private readonly config: SchedulerConfig;
  private readonly queueUrl: string;

  /** `config.targetArn` is the ARN of the queue whose URL is `queueUrl`. */
  constructor(scheduler: SchedulerClient, sqs: SQSClient, config: SchedulerConfig, queueUrl: string) {
    this.scheduler = scheduler;
    this.sqs = sqs;
    this.config = config;
    this.queueUrl = queueUrl;
  }

  /** Arranges for `body` to reach the queue at `dueAt`; a schedule named `name` must not exist. */
  async create(name: string, dueAt: Date, body: string, now: Date): Promise<void> {
    // Whole seconds: a schedule cannot fire in the past, and at() has a resolution of one second.
    const fireAt = new Date(Math.floor((dueAt.getTime() - this.config.leadSeconds * 1000) / 1000) * 1000);
    if (fireAt.getTime() <= now.getTime()) {
      const delaySeconds = Math.min(maxQueueDelaySeconds, Math.max(0, Math.ceil((dueAt.getTime() - now.getTime()) / 1000)));
      await this.sqs.send(new SendMessageCommand({ QueueUrl: this.queueUrl, MessageBody: body, DelaySeconds: delaySeconds }));
      return;
    }
    await this.scheduler.send(
      new CreateScheduleCommand({
        Name: name,
        GroupName: this.config.groupName,
        ScheduleExpression: atExpression(fireAt),
        ScheduleExpressionTimezone: 'UTC',
        FlexibleTimeWindow: { Mode: 'OFF' },
        ActionAfterCompletion: 'DELETE',
        State: 'ENABLED',
        Target: {
          Arn: this.config.targetArn,
          RoleArn: this.config.roleArn,
          Input: body,
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
