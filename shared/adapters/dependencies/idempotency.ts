/** The `Idempotency-Key` records of the API (the Powertools idempotency utility behind a port). */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { once } from '../../config.ts';
import { DynamoCreateRecords } from '../dynamo-create-records.ts';
import { idempotencyRetentionSeconds, PowertoolsIdempotencyStore } from '../powertools-idempotency-store.ts';
import { sdkClientOptions } from '../sdk-clients.ts';
import { withoutSdkLogger } from '../sdk-logger.ts';
import type { CreateRecords } from '../../ports.ts';
import { documentClient, tables } from './dynamodb.ts';

/**
 * The idempotency record is written after the request's work is done: if that write failed, the
 * key would stay "in progress" and a later retry could do the work twice. So its client retries
 * far harder than the SDK's default (10 attempts: at a 20 % fault rate, a 1-in-10-million miss).
 */
const idempotencyClient = /* @__PURE__ */ once(() => withoutSdkLogger(new DynamoDBClient(sdkClientOptions({ maxAttempts: 10 }))));

/** The idempotency table's store. */
export const idempotencyStore = /* @__PURE__ */ once(() => new PowertoolsIdempotencyStore(idempotencyClient(), tables().idempotency));

const dynamoCreateRecords = /* @__PURE__ */ once(() => new DynamoCreateRecords(documentClient(), tables().idempotency, idempotencyRetentionSeconds));

/**
 * What each idempotent create is about to write, beside the keys (same table, same life), so a
 * retry after its death finds its ids. Made on first use: a create without a key never reads the
 * table's name. Its writes use the plain client: one that fails fails the request before anything
 * is written.
 */
export function createRecords(): CreateRecords {
  return {
    put: async (...args) => dynamoCreateRecords().put(...args),
    replace: async (...args) => dynamoCreateRecords().replace(...args),
    remove: async (...args) => dynamoCreateRecords().remove(...args),
  };
}
