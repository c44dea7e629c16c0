/**
 * One EventBridge Scheduler schedule per broadcast, never one per recipient: at its time it puts
 * the broadcast's `start` on the fan-out queue. The same lead-time trick as notifications: the
 * schedule fires `leadSeconds` early and the fan-out holds the message until the exact second;
 * a broadcast due sooner than that goes straight to the fan-out queue with `DelaySeconds`.
 */
import { ConflictException, CreateScheduleCommand, DeleteScheduleCommand, ResourceNotFoundException } from '@aws-sdk/client-scheduler';
import type { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { SchedulerConfig } from '../config.ts';
import type { Broadcast } from '../domain/broadcast.ts';
import type { FanoutMessage } from '../domain/schemas.ts';
import type { BroadcastScheduler } from '../ports.ts';
import { atExpression } from './eventbridge-delivery-scheduler.ts';
import { maxDelaySeconds } from './sqs-broadcast-queues.ts';

export class EventBridgeBroadcastScheduler implements BroadcastScheduler {
  private readonly scheduler: SchedulerClient;
  private readonly sqs: SQSClient;
  private readonly config: SchedulerConfig;
  private readonly fanoutQueueUrl: string;

  /** `config.targetArn` is the fan-out queue's ARN, `fanoutQueueUrl` its URL. */
  constructor(scheduler: SchedulerClient, sqs: SQSClient, config: SchedulerConfig, fanoutQueueUrl: string) {
    this.scheduler = scheduler;
    this.sqs = sqs;
    this.config = config;
    this.fanoutQueueUrl = fanoutQueueUrl;
  }

  async schedule(broadcast: Pick<Broadcast, 'tenantId' | 'id'> & { readonly scheduledAt: string }, now: Date): Promise<void> {
    const message: FanoutMessage = { kind: 'start', tenantId: broadcast.tenantId, broadcastId: broadcast.id };
    const dueAt = new Date(broadcast.scheduledAt);
    const fireAt = new Date(Math.floor((dueAt.getTime() - this.config.leadSeconds * 1000) / 1000) * 1000);
    if (fireAt.getTime() <= now.getTime()) {
      const delaySeconds = Math.min(maxDelaySeconds, Math.max(0, Math.ceil((dueAt.getTime() - now.getTime()) / 1000)));
      await this.sqs.send(
        new SendMessageCommand({ QueueUrl: this.fanoutQueueUrl, MessageBody: JSON.stringify(message), DelaySeconds: delaySeconds }),
      );
      return;
    }
    const create = (): CreateScheduleCommand =>
      new CreateScheduleCommand({
        Name: broadcast.id,
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
          // Keep trying for a day; what still fails lands in the fan-out dead-letter queue.
          RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86_400 },
          DeadLetterConfig: { Arn: this.config.deadLetterArn },
        },
      });
    try {
      await this.scheduler.send(create());
    } catch (error) {
      // A schedule left by an earlier attempt under the same name: replace it.
      if (!(error instanceof ConflictException)) throw error;
      await this.unschedule(broadcast);
      await this.scheduler.send(create());
    }
  }

  async unschedule(broadcast: Pick<Broadcast, 'tenantId' | 'id'>): Promise<void> {
    try {
      await this.scheduler.send(new DeleteScheduleCommand({ Name: broadcast.id, GroupName: this.config.groupName }));
    } catch (error) {
      // Fired already (ActionAfterCompletion=DELETE) or never created (sent straight to the queue).
      if (error instanceof ResourceNotFoundException) return;
      throw error;
    }
  }
}
