/**
 * Live broadcast progress: after a batch of a broadcast is delivered, its creator hears where the
 * broadcast stands on every WebSocket connection it has open (the console's progress bars).
 * Best effort by design: a frame lost or a connection gone changes nothing of the delivery, and
 * `GET /v1/broadcasts/{id}` always has the same counters.
 */
import { toBroadcastProgressFrame } from '../domain/broadcast.ts';
import { openConnections } from '../domain/delivery.ts';
import type { BroadcastStore, Clock, LiveStateStore, SocketPoster } from '../ports.ts';
import { postFrame } from './socket-frames.ts';

export interface BroadcastProgressDeps {
  readonly broadcasts: Pick<BroadcastStore, 'get'>;
  readonly live: LiveStateStore;
  readonly sockets: SocketPoster;
  readonly clock: Clock;
}

/** Posts one progress frame per broadcast named (each once) to its creator's open connections; forgets those gone (410). */
export async function announceBroadcastProgress(
  deps: BroadcastProgressDeps,
  delivered: readonly { readonly tenantId: string; readonly broadcastId: string }[],
): Promise<void> {
  const distinct = new Map(delivered.map((d) => [`${d.tenantId}#${d.broadcastId}`, d]));
  for (const { tenantId, broadcastId } of distinct.values()) {
    const broadcast = await deps.broadcasts.get(tenantId, broadcastId);
    if (!broadcast) continue;
    const live = await deps.live.get(tenantId, broadcast.createdBy);
    const { failures } = await postFrame(deps, { tenantId, userId: broadcast.createdBy }, openConnections(live, deps.clock.now()), toBroadcastProgressFrame(broadcast));
    if (failures.length > 0) throw failures[0];
  }
}
