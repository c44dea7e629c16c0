/** The inbox table: inbox items with their unread counter, and each user's live connections. */
import { once } from '../../config.ts';
import { DynamoInboxStore } from '../dynamo-inbox-store.ts';
import { DynamoLiveStateStore } from '../dynamo-live-state-store.ts';
import { documentClient, tables } from './dynamodb.ts';

/** Inbox items and the unread count. */
export const inboxStore = /* @__PURE__ */ once(() => new DynamoInboxStore(documentClient(), tables().inbox, () => tables().recipients));
/** A user's connections and unread count, read together. */
export const liveStateStore = /* @__PURE__ */ once(() => new DynamoLiveStateStore(documentClient(), tables().inbox));
