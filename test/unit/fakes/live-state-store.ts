/**
 * An in-memory LiveStateStore: each user's unread count and open connections. As in DynamoDB,
 * where both live on the unread-counter item of the inbox table, the count is the inbox's own
 * when an inbox fake is given, so a delivery and a read move the one number.
 */
import type { LiveConnection, LiveState } from '../../../shared/domain/delivery.ts';
import type { PushDevice, WebPushSubscription } from '../../../shared/domain/push-targets.ts';
import type { ConnectOutcome, LiveStateStore } from '../../../shared/ports.ts';
import { ScriptedFailures } from './failures.ts';
import type { InMemoryInboxStore } from './inbox-store.ts';

/** One user's live item: the count, the connections and the push targets, which go together. */
interface FakeLiveItem {
  unread: number;
  unreadVersion: number;
  connections: Map<string, string>;
  pushSubscriptions?: readonly WebPushSubscription[];
  devices?: readonly PushDevice[];
}

export class InMemoryLiveStateStore implements LiveStateStore {
  private readonly states = new Map<string, FakeLiveItem>();
  private readonly inbox: InMemoryInboxStore | undefined;
  /** Errors the next `get` calls throw. */
  readonly getFailures = new ScriptedFailures();

  constructor(inbox?: InMemoryInboxStore) {
    this.inbox = inbox;
    // The inbox's counter item is the live item: removing it forgets the connections on it.
    if (inbox) inbox.counterRemoved = (tenantId, recipientId) => this.states.delete(`${tenantId}#${recipientId}`);
  }

  private state(tenantId: string, userId: string): FakeLiveItem {
    const key = `${tenantId}#${userId}`;
    let state = this.states.get(key);
    if (!state) {
      state = { unread: 0, unreadVersion: 0, connections: new Map() };
      this.states.set(key, state);
    }
    return state;
  }

  /** The live state as stored, read at once (for the delivery store fake's `load`). */
  read(tenantId: string, recipientId: string): LiveState {
    const state = this.state(tenantId, recipientId);
    return {
      ...(this.inbox ? this.inbox.countOf(tenantId, recipientId) : { unread: state.unread, unreadVersion: state.unreadVersion }),
      connections: [...state.connections].map(([connectionId, connectedAt]) => ({ connectionId, connectedAt })),
      ...(state.pushSubscriptions ? { pushSubscriptions: state.pushSubscriptions } : {}),
      ...(state.devices ? { devices: state.devices } : {}),
    };
  }

  /** Sets the user's push targets, kept on their live item (and gone with it). */
  setPushTargets(tenantId: string, userId: string, targets: { readonly pushSubscriptions?: readonly WebPushSubscription[]; readonly devices?: readonly PushDevice[] }): void {
    Object.assign(this.state(tenantId, userId), targets);
  }

  async get(tenantId: string, recipientId: string): Promise<LiveState> {
    this.getFailures.throwNext();
    return this.read(tenantId, recipientId);
  }

  /** Records a connection, refused at `maxConnections` (unbounded when not given: most tests are not about the limit). */
  async connect(tenantId: string, userId: string, connection: LiveConnection, maxConnections = Number.POSITIVE_INFINITY): Promise<ConnectOutcome> {
    const { connections } = this.state(tenantId, userId);
    if (connections.size >= maxConnections) return { recorded: false, live: this.read(tenantId, userId) };
    connections.set(connection.connectionId, connection.connectedAt);
    return { recorded: true, live: this.read(tenantId, userId) };
  }

  async forgetConnections(tenantId: string, userId: string, connectionIds: readonly string[]): Promise<void> {
    const state = this.state(tenantId, userId);
    for (const id of connectionIds) state.connections.delete(id);
  }

  /** Sets the unread count a test starts from, and its version when given (else kept). */
  setUnread(tenantId: string, userId: string, unread: number, unreadVersion?: number): void {
    if (this.inbox) this.inbox.setUnread(tenantId, userId, unread, unreadVersion);
    else {
      const state = this.state(tenantId, userId);
      state.unread = unread;
      if (unreadVersion !== undefined) state.unreadVersion = unreadVersion;
    }
  }

  /** Ids of the open connections of a user. */
  connectionIds(tenantId: string, userId: string): string[] {
    return [...this.state(tenantId, userId).connections.keys()];
  }
}
