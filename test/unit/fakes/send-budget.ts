/** A send budget with room for every send at once, as a provider without a budget (tests of other rules). */
import type { Provider } from '../../../shared/domain/rate-budget.ts';
import type { OneSendSlot, SendBudget } from '../../../shared/ports.ts';

export class UnlimitedSendBudget implements SendBudget {
  /** The sends placed, in order. */
  readonly placed: { readonly provider: Provider; readonly tenantId: string }[] = [];

  async reserveOne(provider: Provider, tenantId: string, now: Date): Promise<OneSendSlot> {
    this.placed.push({ provider, tenantId });
    return { placed: true, sendAt: now.getTime() };
  }
}
