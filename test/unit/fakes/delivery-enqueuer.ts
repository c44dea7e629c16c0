/** A DeliveryEnqueuer that records what it was given and can refuse some of it. */
import type { DeliveryMessage } from '../../../shared/domain/schemas.ts';
import type { DeliveryEnqueuer } from '../../../shared/ports.ts';

export class FakeDeliveryEnqueuer implements DeliveryEnqueuer {
  readonly messages: DeliveryMessage[] = [];
  /** How many of the next messages the queue refuses. */
  refuseNext = 0;
  /** Runs on each call, before the messages are taken: lets a test act while the sweep runs. */
  onEnqueue?: (messages: readonly DeliveryMessage[]) => Promise<void> | void;

  async enqueue(messages: readonly DeliveryMessage[]): Promise<number> {
    await this.onEnqueue?.(messages);
    let accepted = 0;
    for (const message of messages) {
      if (this.refuseNext > 0) {
        this.refuseNext--;
        continue;
      }
      this.messages.push({ ...message });
      accepted++;
    }
    return accepted;
  }
}
