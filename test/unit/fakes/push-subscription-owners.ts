/** An in-memory PushSubscriptionOwners: one owner per subscription id, across tenants, as the DynamoDB records hold them. */
import type { PushSubscriptionOwners, SubscriptionClaim, TargetOwner } from '../../../shared/ports.ts';
import { ScriptedFailures } from './failures.ts';

export class InMemoryPushSubscriptionOwners implements PushSubscriptionOwners {
  readonly owners = new Map<string, TargetOwner>();
  /** What a claim does to the previous owner's record, in the same step (the adapter's transaction). */
  private readonly forget: (tenantId: string, userId: string, ids: readonly string[]) => Promise<void>;
  /** Errors the next `release` calls throw. */
  readonly releaseFailures = new ScriptedFailures();
  /** Errors the next `claim` calls throw, before anything is written. */
  readonly claimFailures = new ScriptedFailures();
  /** Told after each claim, before it answers: a test's other user may register the same endpoint then. */
  afterClaim: (subscriptionId: string) => Promise<void> = async () => undefined;

  constructor(forget: (tenantId: string, userId: string, ids: readonly string[]) => Promise<void>) {
    this.forget = forget;
  }

  async claim(subscriptionId: string, owner: TargetOwner): Promise<SubscriptionClaim> {
    this.claimFailures.throwNext();
    const previous = this.owners.get(subscriptionId);
    const from = previous && (previous.tenantId !== owner.tenantId || previous.userId !== owner.userId) ? previous : undefined;
    // Moved from another user only with their record losing it, at once, as the transaction does.
    if (from) await this.forget(from.tenantId, from.userId, [subscriptionId]);
    this.owners.set(subscriptionId, { tenantId: owner.tenantId, userId: owner.userId });
    await this.afterClaim(subscriptionId);
    return from ? { claimed: true, from } : { claimed: true };
  }

  async ownerOf(subscriptionId: string): Promise<TargetOwner | undefined> {
    return this.owners.get(subscriptionId);
  }

  async release(subscriptionId: string, owner: TargetOwner): Promise<void> {
    this.releaseFailures.throwNext();
    const current = this.owners.get(subscriptionId);
    if (current?.tenantId === owner.tenantId && current.userId === owner.userId) this.owners.delete(subscriptionId);
  }
}
