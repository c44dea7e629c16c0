/** The notifications table: the store every transition goes through, its listings and its sweeps. */
import { once } from '../../config.ts';
import { DynamoNotificationListing } from '../dynamo-notification-listing.ts';
import { DynamoNotificationStore } from '../dynamo-notification-store.ts';
import { DynamoNotificationSweeps } from '../dynamo-notification-sweeps.ts';
import { MeteredNotificationStore } from '../metered-notification-store.ts';
import { documentClient, tables } from './dynamodb.ts';
import { metricsStore } from './metrics.ts';

/** Every transition it makes is counted in the tenant's metrics. */
export const notificationStore = once(
  () => new MeteredNotificationStore(new DynamoNotificationStore(documentClient(), tables().notifications), metricsStore),
);
/** The API's listings of notifications (by recipient, creator, tenant). */
export const notificationListing = once(() => new DynamoNotificationListing(documentClient(), tables().notifications));
/** What the stuck-retry and cleanup sweeps page through. */
export const notificationSweeps = once(() => new DynamoNotificationSweeps(documentClient(), tables().notifications));
