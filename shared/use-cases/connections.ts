/** WebSocket connections: who is connected where, and the little protocol they speak. */
import type { Caller } from '../domain/caller.ts';
import { answerToFullConnections, expiredConnections, maxOpenConnectionsPerUser } from '../domain/delivery.ts';
import type { LiveConnection } from '../domain/delivery.ts';
import { TooManyRequestsError } from '../errors.ts';
import { logger } from '../observability/logger.ts';
import type { Clock, ConnectOutcome, LiveStateStore, SocketPoster } from '../ports.ts';

/**
 * Records an authorised connection on the user's live state, so deliveries find it, and forgets the
 * recorded ones past API Gateway's two hours whose `$disconnect` never came (without it they would
 * pile up on the live item towards DynamoDB's 400 KB). The forgetting is best effort: its failure
 * leaves them for the next connect and never refuses this one.
 *
 * At `maxConnections` recorded (default {@link maxOpenConnectionsPerUser}) the connection is refused,
 * after forgetting the expired ones and trying once more if there are any: a
 * {@link TooManyRequestsError} (429, `Retry-After`) naming the limit, which refuses the handshake;
 * a forgetting that fails there refuses it the same way, to be tried again in a second.
 */
export async function openConnection(
  deps: { live: LiveStateStore; clock: Clock; maxConnections?: number },
  caller: Caller,
  connectionId: string,
): Promise<void> {
  const now = deps.clock.now();
  const max = deps.maxConnections ?? maxOpenConnectionsPerUser;
  const connection: LiveConnection = { connectionId, connectedAt: now.toISOString() };
  let outcome: ConnectOutcome = await deps.live.connect(caller.tenantId, caller.sub, connection, max);
  if (!outcome.recorded) {
    const answer = answerToFullConnections(outcome.live, now);
    if (answer.kind === 'refuse') throw tooManyConnections(max, answer.retryAfterMs);
    const expired = answer.expired.map((c) => c.connectionId);
    // Best effort here too: a failure is a refusal to try again shortly, not a server error.
    const forgotten = await deps.live.forgetConnections(caller.tenantId, caller.sub, expired).then(
      () => true,
      (error: unknown) => {
        logger.warn('Could not forget expired connections', { tenantId: caller.tenantId, expired: expired.length, error: error as Error });
        return false;
      },
    );
    if (!forgotten) throw tooManyConnections(max, 1000);
    outcome = await deps.live.connect(caller.tenantId, caller.sub, connection, max);
    if (!outcome.recorded) {
      const again = answerToFullConnections(outcome.live, now);
      throw tooManyConnections(max, again.kind === 'refuse' ? again.retryAfterMs : 1000);
    }
    return;
  }
  const expired = expiredConnections(outcome.live, now).map((c) => c.connectionId);
  if (expired.length === 0) return;
  await deps.live.forgetConnections(caller.tenantId, caller.sub, expired).catch((error: unknown) => {
    logger.warn('Could not forget expired connections', { tenantId: caller.tenantId, expired: expired.length, error: error as Error });
  });
}

function tooManyConnections(max: number, retryAfterMs: number): TooManyRequestsError {
  return new TooManyRequestsError(`This user has ${max} WebSocket connections open, the most allowed: close one (or wait for one to end) and connect again`, {
    retryAfterSeconds: retryAfterMs / 1000,
    // Also in the body: a refused handshake's headers may not reach the client.
    details: { maxConnections: max, retryAfterSeconds: Math.max(1, Math.ceil(retryAfterMs / 1000)) },
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
