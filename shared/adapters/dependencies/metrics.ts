/** The tenants' hourly metrics counters. */
import { once } from '../../config.ts';
import { DynamoMetricsStore } from '../dynamo-metrics-store.ts';
import { documentClient, tables } from './dynamodb.ts';

/** The metrics table's store. */
export const metricsStore = /* @__PURE__ */ once(() => new DynamoMetricsStore(documentClient(), tables().metrics));
