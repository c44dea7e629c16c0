/** WebSocket connections: who is connected where, and the little protocol they speak. */
import type { Caller } from '../domain/caller.ts';
import type { Clock, LiveStateStore, SocketPoster } from '../ports.ts';

/** Records an authorised connection on the user's live state, so deliveries find it. */
export async function openConnection(deps: { live: LiveStateStore; clock: Clock }, caller: Caller, connectionId: string): Promise<void> {
  await deps.live.connect(caller.tenantId, caller.sub, { connectionId, connectedAt: deps.clock.now().toISOString() });
}

/** Forgets a connection that closed. */
export async function closeConnection(deps: { live: LiveStateStore }, caller: Caller, connectionId: string): Promise<void> {
  await deps.live.forgetConnections(caller.tenantId, caller.sub, [connectionId]);
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
