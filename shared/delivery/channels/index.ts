/** Every channel Herald delivers on, built over the providers it is given. */
import type { LiveStateStore, Mailer, SocketPoster } from '../../ports.ts';
import type { ChannelRegistry } from '../channel.ts';
import { emailChannel } from './email.ts';
import { inboxChannel } from './inbox.ts';
import { websocketChannel } from './websocket.ts';

/** The providers the channels deliver through. */
export interface ChannelProviders {
  readonly mailer: Mailer;
  readonly sockets: SocketPoster;
  readonly live: Pick<LiveStateStore, 'forgetConnections'>;
}

/** The registry of channels, by name. */
export function createChannels(providers: ChannelProviders): ChannelRegistry {
  return {
    inbox: inboxChannel(),
    websocket: websocketChannel(providers.sockets, providers.live),
    email: emailChannel(providers.mailer),
  };
}
