/** The tenants' hourly metrics counters. */
import { once, tableNames } from '../../config.ts';
import { DynamoMetricsStore } from '../dynamo-metrics-store.ts';
import { documentClient } from './dynamodb.ts';

/** The metrics table's store. */
export const metricsStore = once(() => new DynamoMetricsStore(documentClient(), tableNames().metrics));
