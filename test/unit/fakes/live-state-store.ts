/** An in-memory LiveStateStore: each user's unread count and open connections. */
import type { LiveConnection, LiveState } from '../../../shared/domain/delivery.ts';
import type { LiveStateStore } from '../../../shared/ports.ts';

export class InMemoryLiveStateStore implements LiveStateStore {
  private readonly states = new Map<string, { unread: number; connections: Map<string, string> }>();

  private state(tenantId: string, userId: string): { unread: number; connections: Map<string, string> } {
    const key = `${tenantId}#${userId}`;
    let state = this.states.get(key);
    if (!state) {
      state = { unread: 0, connections: new Map() };
      this.states.set(key, state);
    }
    return state;
  }

  async get(tenantId: string, recipientId: string): Promise<LiveState> {
    const state = this.state(tenantId, recipientId);
    return { unread: state.unread, connections: [...state.connections].map(([connectionId, connectedAt]) => ({ connectionId, connectedAt })) };
  }

  async connect(tenantId: string, userId: string, connection: LiveConnection): Promise<void> {
    this.state(tenantId, userId).connections.set(connection.connectionId, connection.connectedAt);
  }

  async forgetConnections(tenantId: string, userId: string, connectionIds: readonly string[]): Promise<void> {
    const state = this.state(tenantId, userId);
    for (const id of connectionIds) state.connections.delete(id);
  }

  /** Sets the unread count a test starts from. */
  setUnread(tenantId: string, userId: string, unread: number): void {
    this.state(tenantId, userId).unread = unread;
  }

  /** Ids of the open connections of a user. */
  connectionIds(tenantId: string, userId: string): string[] {
    return [...this.state(tenantId, userId).connections.keys()];
  }
}
