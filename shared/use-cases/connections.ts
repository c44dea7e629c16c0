/** WebSocket connections: who is connected where, and the little protocol they speak. */
import type { Caller } from '../domain/caller.ts';
import { expiredConnections } from '../domain/delivery.ts';
import { logger } from '../observability/logger.ts';
import type { Clock, LiveStateStore, SocketPoster } from '../ports.ts';

/**
 * Records an authorised connection on the user's live state, so deliveries find it, and forgets the
 * recorded ones past API Gateway's two hours whose `$disconnect` never came (without it they would
 * pile up on the live item towards DynamoDB's 400 KB). The forgetting is best effort: its failure
 * leaves them for the next connect and never refuses this one.
 */
export async function openConnection(deps: { live: LiveStateStore; clock: Clock }, caller: Caller, connectionId: string): Promise<void> {
  const now = deps.clock.now();
  const live = await deps.live.connect(caller.tenantId, caller.sub, { connectionId, connectedAt: now.toISOString() });
  const expired = expiredConnections(live, now).map((c) => c.connectionId);
  if (expired.length === 0) return;
  await deps.live.forgetConnections(caller.tenantId, caller.sub, expired).catch((error: unknown) => {
    logger.warn('Could not forget expired connections', { tenantId: caller.tenantId, expired: expired.length, error: error as Error });
  });
}

/** Forgets a connection that closed. */
export async function closeConnection(deps: { live: LiveStateStore }, caller: Caller, connectionId: string): Promise<void> {
  await deps.live.forgetConnections(caller.tenantId, caller.sub, [connectionId]);
}

/** What a client may send, said with every unknown action. */
const knownActions = 'send JSON: {"action":"ping"} or {"action":"markRead","id":"<inbox item id>"}';

/** Answers one client message: `ping` → `pong`; anything else is named as unknown, with what is known. */
export async function answerSocketMessage(
  deps: { sockets: SocketPoster },
  connectionId: string,
  action: string | undefined,
): Promise<void> {
  const reply = action === 'ping' ? { type: 'pong' } : { type: 'error', message: `Unknown action: ${action ?? '(none)'}: ${knownActions}` };
  await deps.sockets.post(connectionId, reply);
}
