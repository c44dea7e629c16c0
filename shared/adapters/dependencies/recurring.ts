/** Recurring notifications (issue 12): their definitions and their recurring schedules. */
import { broadcastSchedulerConfig, once } from '../../config.ts';
import { DynamoCreateRecords } from '../dynamo-create-records.ts';
import { DynamoRecurringStore, markerRetentionSeconds } from '../dynamo-recurring-store.ts';
import { EventBridgeRecurringScheduler } from '../eventbridge-recurring-scheduler.ts';
import { documentClient, tables } from './dynamodb.ts';
import { fanoutQueue } from './broadcast-queues.ts';
import { schedulerClient } from './scheduler.ts';

/** Definitions and occurrence markers. */
export const recurringStore = /* @__PURE__ */ once(() => new DynamoRecurringStore(documentClient(), () => tables().recurring));
/** One recurring schedule per definition, firing into the fan-out queue (the broadcast scheduler's target). */
export const recurringScheduler = /* @__PURE__ */ once(() => new EventBridgeRecurringScheduler(schedulerClient(), () => broadcastSchedulerConfig(), fanoutQueue()));
/**
 * What each occurrence is about to create, in the recurring table beside its occurrence marker and
 * as long-lived (`pk` = `create#<hash>`, TTL `expiresAt`; not in `byTenant`, which needs
 * `tenantId`): the worker that takes an occurrence over after one died mid-create creates the same.
 */
export const occurrenceCreateRecords = /* @__PURE__ */ once(
  () => new DynamoCreateRecords(documentClient(), tables().recurring, markerRetentionSeconds, { key: 'pk', ttl: 'expiresAt' }),
);
