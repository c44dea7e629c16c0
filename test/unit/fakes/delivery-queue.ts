/** A DeliveryQueue that records the visibility changes asked of it. */
import type { DeliveryQueue } from '../../../shared/ports.ts';

export class FakeDeliveryQueue implements DeliveryQueue {
  readonly hidden: { receiptHandle: string; seconds: number }[] = [];

  async hide(receiptHandle: string, seconds: number): Promise<void> {
    this.hidden.push({ receiptHandle, seconds });
  }
}
