/** Broadcasts (issue 5): their items and their recipients' rows. */
import { broadcastConfig, once } from '../../config.ts';
import { DynamoBroadcastRecipientStore } from '../dynamo-broadcast-recipient-store.ts';
import { DynamoBroadcastStore } from '../dynamo-broadcast-store.ts';
import { DynamoBroadcastSweeps } from '../dynamo-broadcast-sweeps.ts';
import { documentClient, tables } from './dynamodb.ts';

/** Broadcast items: content, audience, status and counts. */
export const broadcastStore = /* @__PURE__ */ once(() => new DynamoBroadcastStore(documentClient(), tables().broadcasts));
/** One row per recipient of a broadcast, write-sharded. */
export const broadcastRecipientStore = /* @__PURE__ */ once(
  () => new DynamoBroadcastRecipientStore(documentClient(), tables().broadcastRecipients, { retentionDays: broadcastConfig().retentionDays }),
);
/** What the stuck-retry sweep pages through: the scheduled broadcasts by due time. */
export const broadcastSweeps = /* @__PURE__ */ once(() => new DynamoBroadcastSweeps(documentClient(), tables().broadcasts));
