/** An in-memory InboxStore: `add` is idempotent per (tenant, recipient, notification). */
import type { InboxItem, InboxStore } from '../../../shared/ports.ts';
import { ScriptedFailures } from './failures.ts';

export class InMemoryInboxStore implements InboxStore {
  private readonly items = new Map<string, InboxItem>();
  /** Errors the next `add` calls throw. */
  readonly failures = new ScriptedFailures();
  /** How many times `add` was called (repeats included). */
  addCalls = 0;

  async add(item: InboxItem): Promise<boolean> {
    this.addCalls++;
    this.failures.throwNext();
    const key = `${item.tenantId}#${item.recipientId}#${item.notificationId}`;
    if (this.items.has(key)) return false;
    this.items.set(key, structuredClone(item));
    return true;
  }

  async list(tenantId: string, recipientId: string): Promise<InboxItem[]> {
    return [...this.items.values()]
      .filter((item) => item.tenantId === tenantId && item.recipientId === recipientId)
      .sort((a, b) => b.notificationId.localeCompare(a.notificationId))
      .map((item) => structuredClone(item));
  }
}
