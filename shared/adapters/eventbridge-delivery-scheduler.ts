/**
 * Puts notifications on their way to the delivery queue: one one-shot EventBridge Scheduler
 * schedule per notification, or, for one due within the scheduler's lead time, a message sent
 * straight to the queue with `DelaySeconds`.
 *
 * AWS fires one-time schedules within about a minute of their time, so schedules fire
 * `leadSeconds` early and the delivery consumer holds the message (visibility) until the exact
 * second: delivery lands on time instead of up to a minute late.
 */
import { ConflictException, CreateScheduleCommand, DeleteScheduleCommand, ResourceNotFoundException } from '@aws-sdk/client-scheduler';
import type { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { SchedulerConfig } from '../config.ts';
import type { DeliveryMessage } from '../domain/schemas.ts';
import type { Notification } from '../domain/notification.ts';
import type { DeliveryScheduler } from '../ports.ts';

/** SQS caps `DelaySeconds` at 15 minutes. */
const maxQueueDelaySeconds = 900;
/** A reschedule racing another one may find a schedule re-created under the same name: try again. */
const rescheduleAttempts = 3;

/** `at()` takes a local date-time without offset; Herald always passes UTC. */
export function atExpression(instant: Date): string {
  return `at(${instant.toISOString().slice(0, 19)})`;
}

export class EventBridgeDeliveryScheduler implements DeliveryScheduler {
  private readonly scheduler: SchedulerClient;
  private readonly sqs: SQSClient;
  private readonly config: SchedulerConfig;
  private readonly queueUrl: string;

  constructor(scheduler: SchedulerClient, sqs: SQSClient, config: SchedulerConfig, queueUrl: string) {
    this.scheduler = scheduler;
    this.sqs = sqs;
    this.config = config;
    this.queueUrl = queueUrl;
  }

  async schedule(notification: Pick<Notification, 'tenantId' | 'id' | 'scheduledAt'>, now: Date): Promise<void> {
    const message: DeliveryMessage = { tenantId: notification.tenantId, notificationId: notification.id };
    const dueAt = new Date(notification.scheduledAt);
    // Whole seconds: a schedule cannot fire in the past, and at() has a resolution of one second.
    const fireAt = new Date(Math.floor((dueAt.getTime() - this.config.leadSeconds * 1000) / 1000) * 1000);
    if (fireAt.getTime() <= now.getTime()) {
      const delaySeconds = Math.min(maxQueueDelaySeconds, Math.max(0, Math.ceil((dueAt.getTime() - now.getTime()) / 1000)));
      await this.sqs.send(
        new SendMessageCommand({ QueueUrl: this.queueUrl, MessageBody: JSON.stringify(message), DelaySeconds: delaySeconds }),
      );
      return;
    }
    await this.scheduler.send(
      new CreateScheduleCommand({
        Name: notification.id,
        GroupName: this.config.groupName,
        ScheduleExpression: atExpression(fireAt),
        ScheduleExpressionTimezone: 'UTC',
        FlexibleTimeWindow: { Mode: 'OFF' },
        ActionAfterCompletion: 'DELETE',
        State: 'ENABLED',
        Target: {
          Arn: this.config.targetArn,
          RoleArn: this.config.roleArn,
          Input: JSON.stringify(message),
          // Keep trying for a day; what still fails lands in the scheduler DLQ, and the sweep
          // delivers anything whose schedule never reached the queue.
          RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86_400 },
          DeadLetterConfig: { Arn: this.config.deadLetterArn },
        },
      }),
    );
  }

  async reschedule(notification: Pick<Notification, 'tenantId' | 'id' | 'scheduledAt'>, now: Date): Promise<void> {
    // Delete and create rather than UpdateSchedule: the notification may have no schedule (it
    // went straight to the queue) or need none now (due within the lead time).
    for (let attempt = 1; ; attempt++) {
      await this.unschedule(notification);
      try {
        await this.schedule(notification, now);
        return;
      } catch (error) {
        if (!(error instanceof ConflictException) || attempt === rescheduleAttempts) throw error;
      }
    }
  }

  async unschedule(notification: Pick<Notification, 'tenantId' | 'id'>): Promise<void> {
    try {
      await this.scheduler.send(new DeleteScheduleCommand({ Name: notification.id, GroupName: this.config.groupName }));
    } catch (error) {
      // Fired already (ActionAfterCompletion=DELETE) or never created (sent straight to the queue).
      if (error instanceof ResourceNotFoundException) return;
      throw error;
    }
  }
}
