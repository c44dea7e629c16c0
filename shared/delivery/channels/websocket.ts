/**
 * Live frames over the WebSocket API: one `PostToConnection` per open connection of the
 * recipient, the newest 25 (`postFrame`). Not connected is not a failure (the inbox holds the
 * notification); a connection that answers 410 is forgotten, and an older one takes its place.
 */
import { classifyProviderError, decisiveFailure, describeError } from '../../domain/delivery-errors.ts';
import { openConnections, toSocketFrame } from '../../domain/delivery.ts';
import type { LiveConnection } from '../../domain/delivery.ts';
import type { LiveStateStore, SocketPoster } from '../../ports.ts';
import { sectionFor } from '../../templates/section.ts';
import { postFrame } from '../../use-cases/socket-frames.ts';
import type { DeliveryChannel } from '../channel.ts';

/** The WebSocket channel: frames through `sockets`; gone connections are dropped from `live`. */
export function websocketChannel(sockets: SocketPoster, live: Pick<LiveStateStore, 'forgetConnections'>): DeliveryChannel<readonly LiveConnection[], unknown> {
  return {
    name: 'websocket',
    kind: 'send',
    needs: [],
    target(context) {
      const open = openConnections(context.live, context.now);
      return open.length > 0 ? open : { skip: 'not connected' };
    },
    render(content, { unread }) {
      const chosen = sectionFor(content, 'websocket');
      const words = chosen.kind === 'section' ? chosen.section : chosen;
      return toSocketFrame({ ...content, title: words.title, message: words.message }, unread);
    },
    async send(connections, frame, context) {
      const { posted, failures } = await postFrame({ sockets, live }, { tenantId: context.tenantId, userId: context.recipient.id }, connections, frame);
      // Some socket took it: the channel is sent (repeating it would duplicate it there).
      if (posted === 0 && failures.length > 0) throw decisiveFailure(failures);
      if (posted === 0) return { status: 'skipped', detail: 'not connected' };
      const failed = failures.length > 0 ? `, ${failures.length} failed (${describeError(failures[0])})` : '';
      return { detail: `${posted} connection(s)${failed}` };
    },
    classify: (error) => classifyProviderError(error),
  };
}
