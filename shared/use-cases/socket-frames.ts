/**
 * Posting a frame to a user's WebSocket connections (`@connections` `PostToConnection`), the one
 * way every frame goes: a notification, an `inboxChanged`, a broadcast's progress.
 */
import { maxFramedConnectionsPerUser } from '../domain/delivery.ts';
import type { LiveConnection } from '../domain/delivery.ts';
import type { LiveStateStore, SocketPoster } from '../ports.ts';

/** What became of one frame: how many connections took it, which were gone, and the errors of the others. */
export interface FramePosting {
  readonly posted: number;
  readonly gone: readonly string[];
  readonly failures: readonly unknown[];
}

/**
 * Posts `frame` to the newest {@link maxFramedConnectionsPerUser} of a user's open connections
 * (`connections`: every open one, newest first, `openConnections`), in parallel. One
 * that answers 410 was closed without its `$disconnect` (best effort on AWS): it is forgotten, and
 * the next older connection takes its place, so that records of closed connections cannot keep a
 * frame from the user's open ones. One whose post fails otherwise keeps its place (the frame may
 * have arrived). Failing to forget a connection fails nothing: it is ignored after its two hours
 * anyway. Never throws for a post; resolves with what each came to.
 */
export async function postFrame(
  deps: { readonly sockets: SocketPoster; readonly live: Pick<LiveStateStore, 'forgetConnections'> },
  owner: { readonly tenantId: string; readonly userId: string },
  connections: readonly LiveConnection[],
  frame: unknown,
): Promise<FramePosting> {
  const waiting = [...connections];
  let posted = 0;
  const gone: string[] = [];
  const failures: unknown[] = [];
  let places = maxFramedConnectionsPerUser;
  while (places > 0 && waiting.length > 0) {
    const wave = waiting.splice(0, places);
    const goneBefore = gone.length;
    await Promise.all(
      wave.map(async ({ connectionId }) => {
        try {
          if ((await deps.sockets.post(connectionId, frame)) === 'posted') posted++;
          else gone.push(connectionId);
        } catch (error) {
          failures.push(error);
        }
      }),
    );
    // Each gone connection's place goes to the next older one.
    places = gone.length - goneBefore;
  }
  if (gone.length > 0) await deps.live.forgetConnections(owner.tenantId, owner.userId, gone).catch(() => undefined);
  return { posted, gone, failures };
}
