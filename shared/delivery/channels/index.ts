/** Every channel Herald delivers on, built over the providers it is given. */
import type { LiveStateStore, Mailer, MobilePush, SmsSender, SocketPoster } from '../../ports.ts';
import type { ChannelRegistry, DeliveryChannel } from '../channel.ts';
import { emailChannel } from './email.ts';
import { inboxChannel } from './inbox.ts';
import { pushChannel } from './push.ts';
import type { PushTargetCleaner, WebPushSender } from './push.ts';
import { smsChannel } from './sms.ts';
import { websocketChannel } from './websocket.ts';

/** The providers the channels deliver through. */
export interface ChannelProviders {
  readonly mailer: Mailer;
  readonly sockets: SocketPoster;
  readonly live: Pick<LiveStateStore, 'forgetConnections'>;
  /** Absent: the channel skips every recipient (`not configured`), as in tests of other channels. */
  readonly sms?: SmsSender;
  readonly push?: { readonly web: WebPushSender; readonly mobile: MobilePush; readonly cleaner: PushTargetCleaner };
}

/** A channel whose provider this registry was not given: it delivers nowhere. */
function unconfigured(name: 'push' | 'sms'): DeliveryChannel<never, undefined> {
  return {
    name,
    kind: 'send',
    needs: [],
    target: () => ({ skip: 'not configured' }),
    render: () => undefined,
    send: () => Promise.reject(new Error(`${name} is not configured`)),
    classify: () => ({ kind: 'permanent' }),
  };
}

/** The registry of channels, by name. */
export function createChannels(providers: ChannelProviders): ChannelRegistry {
  return {
    inbox: inboxChannel(),
    websocket: websocketChannel(providers.sockets, providers.live),
    email: emailChannel(providers.mailer),
    push: providers.push ? pushChannel(providers.push.web, providers.push.mobile, providers.push.cleaner) : unconfigured('push'),
    sms: providers.sms ? smsChannel(providers.sms) : unconfigured('sms'),
  };
}
