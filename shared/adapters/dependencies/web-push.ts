/**
 * Web Push, signed with the stage's VAPID keys (`messaging.ts`), apart from the other messaging
 * dependencies: the library and what it carries (JWT, ASN.1 and big-number code, an HTTPS proxy
 * agent: ~110 KB minified) go only into the functions that push.
 */
import { once, pushConfig } from '../../config.ts';
import type { WebPushSender } from '../../delivery/channels/push.ts';
import { LibraryWebPushSender } from '../web-push-sender.ts';
import { vapidKeys } from './messaging.ts';

/** Web Push, signed with the stage's VAPID keys. */
// The push settings are read on the first push: a function told none fails only if it pushes.
export const webPushSender = /* @__PURE__ */ once((): WebPushSender => new LibraryWebPushSender(() => vapidKeys()(), () => pushConfig().vapidSubject, () => pushConfig().allowHttpLoopback));
