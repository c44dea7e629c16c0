/** The deployment's dead-letter queues, as the operators' routes read and redrive them. */
import { deadLetterQueuesConfig, once } from '../../config.ts';
import { SqsDeadLetterQueues } from '../sqs-dead-letter-queues.ts';
import { sqsClient } from './sqs.ts';

/** Every dead-letter queue with its redrive destination. */
export const deadLetterQueues = /* @__PURE__ */ once(() => new SqsDeadLetterQueues(sqsClient(), deadLetterQueuesConfig()));
