/**
 * One EventBridge Scheduler schedule per broadcast, never one per recipient: at its time it puts
 * the broadcast's `start` on the fan-out queue. The same lead-time trick as notifications: the
 * schedule fires `leadSeconds` early and the fan-out holds the message until the exact second;
 * a broadcast due sooner than that goes straight to the fan-out queue with `DelaySeconds`.
 */
import { ConflictException } from '@aws-sdk/client-scheduler';
import type { SchedulerClient } from '@aws-sdk/client-scheduler';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { SchedulerConfig } from '../config.ts';
import type { Broadcast } from '../domain/broadcast.ts';
import type { FanoutMessage } from '../domain/schemas.ts';
import type { BroadcastScheduler } from '../ports.ts';
import { OneShotSchedule } from './one-shot-schedule.ts';

export class EventBridgeBroadcastScheduler implements BroadcastScheduler {
  private readonly oneShot: OneShotSchedule;

  /** `config.targetArn` is the fan-out queue's ARN, `fanoutQueueUrl` its URL. */
  constructor(scheduler: SchedulerClient, sqs: SQSClient, config: SchedulerConfig, fanoutQueueUrl: string) {
    this.oneShot = new OneShotSchedule(scheduler, sqs, config, fanoutQueueUrl);
  }

  async schedule(broadcast: Pick<Broadcast, 'tenantId' | 'id'> & { readonly scheduledAt: string }, now: Date): Promise<void> {
    const message: FanoutMessage = { kind: 'start', tenantId: broadcast.tenantId, broadcastId: broadcast.id };
    const create = (): Promise<void> => this.oneShot.create(broadcast.id, new Date(broadcast.scheduledAt), JSON.stringify(message), now);
    try {
      await create();
    } catch (error) {
      // A schedule left by an earlier attempt under the same name: replace it.
      if (!(error instanceof ConflictException)) throw error;
      await this.unschedule(broadcast);
      await create();
    }
  }

  async unschedule(broadcast: Pick<Broadcast, 'tenantId' | 'id'>): Promise<void> {
    await this.oneShot.remove(broadcast.id);
  }
}
