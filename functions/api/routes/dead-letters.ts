/** Routes of `/v1/admin/dead-letters` (operators): parse, call the use case, shape the response. */
import type { Context } from 'aws-lambda';
import { once } from '../../../shared/config.ts';
import { deadLetterQueues } from '../../../shared/adapters/dependencies/dead-letters.ts';
import { callerFrom, json, pathParameter } from '../../../shared/http/request.ts';
import type { HttpEvent, HttpResult } from '../../../shared/http/request.ts';
import { listDeadLetterQueues, redriveDeadLetterQueue } from '../../../shared/use-cases/dead-letters.ts';
import type { DeadLetterDeps } from '../../../shared/use-cases/dead-letters.ts';
import { deadLetterQueueNameSchema } from './dead-letter-queue-name.ts';

/** Time kept back from the function's timeout to read the depth after the last batch and answer. */
const answerMarginMs = 5_000;
/** Without a Lambda context (tests calling the route directly): this long at most. */
const defaultBudgetMs = 20_000;

const deps = once((): DeadLetterDeps => ({ deadLetters: deadLetterQueues() }));

/** `GET /v1/admin/dead-letters`: the depth of every dead-letter queue (operators). */
export async function listDeadLettersRoute(event: HttpEvent): Promise<HttpResult> {
  const caller = callerFrom(event);
  return json(200, { queues: await listDeadLetterQueues(deps(), caller) });
}

/** `POST /v1/admin/dead-letters/{queue}/redrive`: moves what the queue holds back, as far as the invocation's time allows (operators). */
export async function redriveDeadLettersRoute(event: HttpEvent, context?: Context): Promise<HttpResult> {
  const caller = callerFrom(event);
  const queue = pathParameter(event, 'queue', deadLetterQueueNameSchema);
  const budgetMs = context ? context.getRemainingTimeInMillis() - answerMarginMs : defaultBudgetMs;
  return json(200, await redriveDeadLetterQueue(deps(), caller, queue, Date.now() + Math.max(0, budgetMs)));
}
