/** WebSocket connections: who is connected where, and the little protocol they speak. */
import type { Caller } from '../domain/caller.ts';
import type { Clock, ConnectionStore, SocketPoster } from '../ports.ts';

/** Records an authorised connection so deliveries can find it. */
export async function openConnection(
  deps: { connections: ConnectionStore; clock: Clock; ttlSeconds: number },
  caller: Caller,
  connectionId: string,
): Promise<void> {
  const now = deps.clock.now();
  await deps.connections.put(
    { connectionId, tenantId: caller.tenantId, userId: caller.sub, connectedAt: now.toISOString() },
    new Date(now.getTime() + deps.ttlSeconds * 1000),
  );
}

/** Forgets a connection that closed. */
export async function closeConnection(deps: { connections: ConnectionStore }, connectionId: string): Promise<void> {
  await deps.connections.remove(connectionId);
}

/** Answers one client message: `ping` → `pong`; anything else is named as unknown. */
export async function answerSocketMessage(
  deps: { sockets: SocketPoster },
  connectionId: string,
  action: string | undefined,
): Promise<void> {
  const reply = action === 'ping' ? { type: 'pong' } : { type: 'error', message: `Unknown action: ${action ?? '(none)'}` };
  await deps.sockets.post(connectionId, reply);
}
