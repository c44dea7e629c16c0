/** An in-memory ConnectionStore. */
import type { Connection, ConnectionStore } from '../../../shared/ports.ts';

export class InMemoryConnectionStore implements ConnectionStore {
  private readonly items = new Map<string, { connection: Connection; expiresAt: Date }>();

  async put(connection: Connection, expiresAt: Date): Promise<void> {
    this.items.set(connection.connectionId, { connection: { ...connection }, expiresAt: new Date(expiresAt) });
  }

  async remove(connectionId: string): Promise<void> {
    this.items.delete(connectionId);
  }

  async listByUser(tenantId: string, userId: string): Promise<Connection[]> {
    return [...this.items.values()]
      .map((item) => item.connection)
      .filter((c) => c.tenantId === tenantId && c.userId === userId)
      .map((c) => ({ ...c }));
  }

  /** The expiry recorded for a connection, if it is stored. */
  expiresAtOf(connectionId: string): Date | undefined {
    return this.items.get(connectionId)?.expiresAt;
  }

  /** Ids of every stored connection. */
  ids(): string[] {
    return [...this.items.keys()];
  }
}
