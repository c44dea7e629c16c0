/** In-memory broadcast queues and scheduler: they keep what was sent, with its delay. */
import type { Broadcast } from '../../../shared/domain/broadcast.ts';
import type { BroadcastDeliveryMessage, FanoutMessage } from '../../../shared/domain/schemas.ts';
import type { BroadcastDeliveryQueue, BroadcastScheduler, FanoutQueue } from '../../../shared/ports.ts';
import { ScriptedFailures } from './failures.ts';

export class FakeFanoutQueue implements FanoutQueue {
  /** Messages not yet taken by `take`, in send order. */
  readonly waiting: { message: FanoutMessage; delaySeconds?: number }[] = [];
  /** Every message ever sent. */
  readonly sent: { message: FanoutMessage; delaySeconds?: number }[] = [];
  /** Errors the next `send` calls throw. */
  readonly sendFailures = new ScriptedFailures();

  async send(messages: readonly FanoutMessage[], delaySeconds?: number): Promise<void> {
    this.sendFailures.throwNext();
    for (const message of messages) {
      const entry = { message: structuredClone(message), ...(delaySeconds !== undefined ? { delaySeconds } : {}) };
      this.waiting.push(entry);
      this.sent.push(entry);
    }
  }



  /** Takes the next waiting message of one of `kinds` (any kind when none given). */
  take(...kinds: FanoutMessage['kind'][]): FanoutMessage | undefined {
    const index = this.waiting.findIndex((entry) => kinds.length === 0 || kinds.includes(entry.message.kind));
    if (index < 0) return undefined;
    return this.waiting.splice(index, 1)[0]?.message;
  }

  /** The kinds of the waiting messages, in order. */
  kinds(): string[] {
    return this.waiting.map((entry) => entry.message.kind);
  }
}

export class FakeBroadcastDeliveryQueue implements BroadcastDeliveryQueue {
  /** Messages not yet taken, in send order. */
  readonly waiting: BroadcastDeliveryMessage[] = [];
  readonly sent: BroadcastDeliveryMessage[] = [];
  /** Errors the next `enqueue` calls throw. */
  readonly enqueueFailures = new ScriptedFailures();

  async enqueue(messages: readonly BroadcastDeliveryMessage[]): Promise<void> {
    this.enqueueFailures.throwNext();
    for (const message of messages) {
      this.waiting.push(structuredClone(message));
      this.sent.push(structuredClone(message));
    }
  }



  /** Takes the next waiting message. */
  take(): BroadcastDeliveryMessage | undefined {
    return this.waiting.shift();
  }
}

export class FakeBroadcastScheduler implements BroadcastScheduler {
  private readonly schedules = new Map<string, string>();
  /** Errors the next `schedule` calls throw. */
  readonly scheduleFailures = new ScriptedFailures();
  /** Errors the next `unschedule` calls throw. */
  readonly unscheduleFailures = new ScriptedFailures();
  unscheduleCalls = 0;

  async schedule(broadcast: Pick<Broadcast, 'tenantId' | 'id'> & { readonly scheduledAt: string }): Promise<void> {
    this.scheduleFailures.throwNext();
    this.schedules.set(`${broadcast.tenantId}#${broadcast.id}`, broadcast.scheduledAt);
  }

  async unschedule(broadcast: Pick<Broadcast, 'tenantId' | 'id'>): Promise<void> {
    this.unscheduleCalls++;
    this.unscheduleFailures.throwNext();
    this.schedules.delete(`${broadcast.tenantId}#${broadcast.id}`);
  }

  /** When the broadcast's schedule fires (its scheduledAt), if it has one. */
  scheduledAt(tenantId: string, id: string): string | undefined {
    return this.schedules.get(`${tenantId}#${id}`);
  }
}
