/**
 * The `{queue}` of `/v1/admin/dead-letters/{queue}/redrive`, apart from the route so that the route
 * docs (loaded on the first docs request, routes/openapi.ts) name it without the route's SQS client.
 */
import * as z from 'zod';
import { deadLetterQueues } from '../../../lib/app-description.ts';

const names = deadLetterQueues().map((queue) => queue.name);

/** A dead-letter queue of the app description, by its logical name (`delivery-dlq`). */
export const deadLetterQueueNameSchema = z.enum(names as [string, ...string[]], { error: `must be one of ${names.join(', ')}` });
