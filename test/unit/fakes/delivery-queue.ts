/** A DeliveryQueue that records the visibility changes and dead letters asked of it. */
import type { DeadLetterDetails, DeliveryQueue } from '../../../shared/ports.ts';

export class FakeDeliveryQueue implements DeliveryQueue {
  readonly deadLetters: { body: string; details: DeadLetterDetails }[] = [];

  async deadLetter(body: string, details: DeadLetterDetails): Promise<void> {
    this.deadLetters.push({ body, details });
  }


}
