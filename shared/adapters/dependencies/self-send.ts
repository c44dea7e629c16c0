/** What plain users may send themselves, per user and tenant per hour (the `rate-limits` table). */
import { once, selfSendConfig } from '../../config.ts';
import { DynamoSelfSendLimits } from '../dynamo-self-send-limits.ts';
import { documentClient, tables } from './dynamodb.ts';

/** The self-send limits, counted in the `rate-limits` table beside the providers' send budgets. */
export const selfSendLimits = /* @__PURE__ */ once(() => new DynamoSelfSendLimits(documentClient(), () => tables().rateLimits, selfSendConfig()));
