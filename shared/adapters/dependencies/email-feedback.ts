/** The queue SES's bounces and complaints arrive on, as its consumer puts reports back. */
import { once, sesFeedbackQueueConfig } from '../../config.ts';
import { SqsRequeue } from '../sqs-requeue.ts';
import { sqsClient } from './sqs.ts';

/** The `ses-feedback` queue as its consumer puts a report back (the backoff after a failure). */
export const sesFeedbackRequeue = /* @__PURE__ */ once(() => new SqsRequeue(sqsClient(), sesFeedbackQueueConfig().url));
