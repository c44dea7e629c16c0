/** The recurring store in memory. */
import type { RecurringNotification, RecurringOccurrence } from '../../../shared/domain/recurring.ts';
import type { OccurrenceClaim, RecurringPage, RecurringStore } from '../../../shared/ports.ts';

/** The recurring store in memory, with the marker semantics of the DynamoDB one. */
export class InMemoryRecurringStore implements RecurringStore {
  readonly definitions = new Map<string, RecurringNotification>();
  readonly markers = new Map<string, 'creating' | 'created'>();
  async put(r: RecurringNotification): Promise<void> {
    this.definitions.set(r.id, r);
  }
  async update(r: RecurringNotification): Promise<boolean> {
    const current = this.definitions.get(r.id);
    if (!current) return false;
    this.definitions.set(r.id, { ...r, occurrences: current.occurrences });
    return true;
  }
  async get(_tenantId: string, id: string): Promise<RecurringNotification | undefined> {
    return this.definitions.get(id);
  }
  async remove(_tenantId: string, id: string): Promise<boolean> {
    return this.definitions.delete(id);
  }
  /** When each deleted definition was deleted (`markDeleted`), by id. */
  readonly deletions = new Map<string, string>();

  async markDeleted(_tenantId: string, id: string, at: Date): Promise<void> {
    this.deletions.set(id, at.toISOString());
  }

  async unmarkDeleted(_tenantId: string, id: string): Promise<void> {
    this.deletions.delete(id);
  }

  async deletedAt(_tenantId: string, id: string): Promise<string | undefined> {
    return this.deletions.get(id);
  }

  async list(): Promise<RecurringPage> {
    return { items: [...this.definitions.values()] };
  }
  async claimOccurrence(_tenantId: string, id: string, at: string): Promise<OccurrenceClaim> {
    const state = this.markers.get(`${id}#${at}`);
    if (state === 'created') return 'done';
    if (state === 'creating') return 'busy';
    this.markers.set(`${id}#${at}`, 'creating');
    return 'claimed';
  }
  async recordOccurrence(_tenantId: string, id: string, occurrence: RecurringOccurrence): Promise<void> {
    this.markers.set(`${id}#${occurrence.at}`, 'created');
    const r = this.definitions.get(id);
    if (r) this.definitions.set(id, { ...r, occurrences: [occurrence, ...r.occurrences] });
  }
}
