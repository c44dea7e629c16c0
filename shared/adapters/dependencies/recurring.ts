/** Recurring notifications (issue 12): their definitions and their recurring schedules. */
import { broadcastSchedulerConfig, once } from '../../config.ts';
import { DynamoRecurringStore } from '../dynamo-recurring-store.ts';
import { EventBridgeRecurringScheduler } from '../eventbridge-recurring-scheduler.ts';
import { documentClient, tables } from './dynamodb.ts';
import { schedulerClient } from './scheduler.ts';

/** Definitions and occurrence markers. */
export const recurringStore = /* @__PURE__ */ once(() => new DynamoRecurringStore(documentClient(), () => tables().recurring));
/** One recurring schedule per definition, firing into the fan-out queue (the broadcast scheduler's target). */
export const recurringScheduler = /* @__PURE__ */ once(() => new EventBridgeRecurringScheduler(schedulerClient(), () => broadcastSchedulerConfig()));
