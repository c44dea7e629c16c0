/** An in-memory PushSubscriptionOwners: one owner per subscription id, across tenants, as the DynamoDB records hold them. */
import type { PushSubscriptionOwners, TargetOwner } from '../../../shared/ports.ts';
import { ScriptedFailures } from './failures.ts';

export class InMemoryPushSubscriptionOwners implements PushSubscriptionOwners {
  readonly owners = new Map<string, TargetOwner>();
  /** What a take-over does to the previous owner's record (with the owner check, atomically). */
  private readonly forget: (tenantId: string, userId: string, ids: readonly string[]) => Promise<void>;
  /** Errors the next `release` calls throw. */
  readonly releaseFailures = new ScriptedFailures();
  /** Told after each claim, before it answers: a test's other user may register the same endpoint then. */
  afterClaim: (subscriptionId: string) => Promise<void> = async () => undefined;

  async claim(subscriptionId: string, owner: TargetOwner): Promise<TargetOwner | undefined> {
    const previous = this.owners.get(subscriptionId);
    this.owners.set(subscriptionId, { tenantId: owner.tenantId, userId: owner.userId });
    await this.afterClaim(subscriptionId);
    return previous;
  }

  constructor(forget: (tenantId: string, userId: string, ids: readonly string[]) => Promise<void>) {
    this.forget = forget;
  }

  async takeOver(subscriptionId: string, from: TargetOwner, to: TargetOwner): Promise<boolean> {
    const current = this.owners.get(subscriptionId);
    if (current?.tenantId !== to.tenantId || current.userId !== to.userId) return false;
    await this.forget(from.tenantId, from.userId, [subscriptionId]);
    return true;
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
