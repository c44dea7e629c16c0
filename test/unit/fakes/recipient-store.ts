/** An in-memory RecipientStore keyed by tenant and id. */
import type { Recipient } from '../../../shared/domain/recipient.ts';
import type { RecipientStore } from '../../../shared/ports.ts';
import { ScriptedFailures } from './failures.ts';

export class InMemoryRecipientStore implements RecipientStore {
  private readonly items = new Map<string, Recipient>();
  /** Errors the next `get` calls throw. */
  readonly getFailures = new ScriptedFailures();

  async put(recipient: Recipient): Promise<void> {
    this.items.set(`${recipient.tenantId}#${recipient.id}`, structuredClone(recipient));
  }

  async get(tenantId: string, id: string): Promise<Recipient | undefined> {
    this.getFailures.throwNext();
    const recipient = this.items.get(`${tenantId}#${id}`);
    return recipient ? structuredClone(recipient) : undefined;
  }

  async getMany(tenantId: string, ids: readonly string[]): Promise<Recipient[]> {
    return ids.flatMap((id) => {
      const recipient = this.items.get(`${tenantId}#${id}`);
      return recipient ? [structuredClone(recipient)] : [];
    });
  }

  /** Removes a recipient from the directory. */
  delete(tenantId: string, id: string): void {
    this.items.delete(`${tenantId}#${id}`);
  }
}
