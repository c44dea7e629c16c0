/** The notifications table: the store every transition goes through, its listings and its sweeps. */
import { once } from '../../config.ts';
import { DynamoNotificationListing } from '../dynamo-notification-listing.ts';
import { DynamoNotificationStore } from '../dynamo-notification-store.ts';
import { DynamoNotificationSweeps } from '../dynamo-notification-sweeps.ts';
import { documentClient, tables } from './dynamodb.ts';

// Its transitions are counted in the tenants' metrics from the table's stream (functions/metrics).
export const notificationStore = /* @__PURE__ */ once(() => new DynamoNotificationStore(documentClient(), tables().notifications));
/** The API's listings of notifications (by recipient, creator, tenant). */
export const notificationListing = /* @__PURE__ */ once(() => new DynamoNotificationListing(documentClient(), tables().notifications));
/** What the stuck-retry and cleanup sweeps page through. */
export const notificationSweeps = /* @__PURE__ */ once(() => new DynamoNotificationSweeps(documentClient(), tables().notifications));
