/**
 * An in-memory RecipientStore keyed by tenant and id, with the semantics of DynamoRecipientStore:
 * `save` and `remove` only apply to the version the caller read, and group membership is an
 * index kept in step with every write.
 */
import { suppressionOfEmail } from '../../../shared/domain/recipient.ts';
import type { Recipient } from '../../../shared/domain/recipient.ts';
import type { RecipientListQuery, RecipientPage, RecipientStore } from '../../../shared/ports.ts';
import { ScriptedFailures } from './failures.ts';

export class InMemoryRecipientStore implements RecipientStore {
  private readonly items = new Map<string, Recipient>();
  /** tenant#group → member ids. */
  private readonly memberships = new Map<string, Set<string>>();
  /** Errors the next `get` calls throw. */
  readonly getFailures = new ScriptedFailures();
  /** Errors the next `save` calls throw. */
  readonly saveFailures = new ScriptedFailures();
  /** Runs once before the next `save` compares versions: lets a test slip in a racing write. */
  beforeNextSave: (() => Promise<void>) | undefined;
  /** How many of the next saves lose their race (answer false, write nothing). */
  savesToLose = 0;

  async put(recipient: Recipient): Promise<void> {
    const previous = this.items.get(`${recipient.tenantId}#${recipient.id}`);
    this.write(recipient, previous);
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

  async save(next: Recipient, previous: Recipient | undefined): Promise<boolean> {
    const race = this.beforeNextSave;
    this.beforeNextSave = undefined;
    await race?.();
    this.saveFailures.throwNext();
    if (this.savesToLose > 0) {
      this.savesToLose--;
      return false;
    }
    const stored = this.items.get(`${next.tenantId}#${next.id}`);
    if (!sameVersion(stored, previous)) return false;
    this.write(next, stored);
    return true;
  }

  async remove(previous: Recipient): Promise<boolean> {
    const key = `${previous.tenantId}#${previous.id}`;
    const stored = this.items.get(key);
    if (!stored || !sameVersion(stored, previous)) return false;
    this.items.delete(key);
    for (const group of stored.groups) this.memberships.get(`${previous.tenantId}#${group}`)?.delete(previous.id);
    return true;
  }

  async list(tenantId: string, query: RecipientListQuery): Promise<RecipientPage> {
    const ids =
      query.group === undefined
        ? [...this.items.values()].filter((r) => r.tenantId === tenantId && (!query.emailSuppressed || suppressionOfEmail(r))).map((r) => r.id)
        : [...(this.memberships.get(`${tenantId}#${query.group}`) ?? [])];
    const after = query.after;
    const sorted = ids.sort().filter((id) => after === undefined || id > after);
    const page = sorted.slice(0, query.limit);
    const last = page[page.length - 1];
    return {
      recipients: await this.getMany(tenantId, page),
      ...(sorted.length > query.limit && last !== undefined ? { after: last } : {}),
    };
  }

  /** Removes a recipient from the directory, whatever its version. */
  delete(tenantId: string, id: string): void {
    const stored = this.items.get(`${tenantId}#${id}`);
    if (stored) void this.remove(stored);
  }

  /** The member ids of a group, as the membership index holds them. */
  membersOf(tenantId: string, group: string): string[] {
    return [...(this.memberships.get(`${tenantId}#${group}`) ?? [])].sort();
  }

  private write(next: Recipient, stored: Recipient | undefined): void {
    for (const group of stored?.groups ?? []) this.memberships.get(`${next.tenantId}#${group}`)?.delete(next.id);
    for (const group of next.groups) {
      const key = `${next.tenantId}#${group}`;
      const members = this.memberships.get(key) ?? new Set<string>();
      members.add(next.id);
      this.memberships.set(key, members);
    }
    this.items.set(`${next.tenantId}#${next.id}`, structuredClone({ ...next, version: (stored?.version ?? 0) + 1 }));
  }
}

function sameVersion(stored: Recipient | undefined, previous: Recipient | undefined): boolean {
  if (!stored || !previous) return stored === previous;
  return stored.version === previous.version;
}
