/**
 * The operators' view of the dead-letter queues. The queues are the deployment's, shared by every
 * tenant, so only the `operator` role may see or move them, whatever its tenant.
 */
import type { Caller } from '../domain/caller.ts';
import { isOperator } from '../domain/caller.ts';
import { ForbiddenError } from '../errors.ts';
import type { DeadLetterQueueDepth, DeadLetterQueues, DeadLetterRedrive } from '../ports.ts';

export interface DeadLetterDeps {
  readonly deadLetters: DeadLetterQueues;
}

function requireOperator(caller: Caller): void {
  if (!isOperator(caller)) throw new ForbiddenError('Only operators may read or redrive the dead-letter queues, which every tenant shares');
}

/** The depth of every dead-letter queue. Throws ForbiddenError for a caller who is not an operator. */
export async function listDeadLetterQueues(deps: DeadLetterDeps, caller: Caller): Promise<DeadLetterQueueDepth[]> {
  requireOperator(caller);
  return deps.deadLetters.depths();
}

/**
 * Moves the messages of one dead-letter queue back to where they are delivered from, until
 * `deadline` (epoch ms). Throws ForbiddenError for a non-operator, NotFoundError for an unknown
 * queue, ConflictError for one whose messages cannot be moved back.
 */
export async function redriveDeadLetterQueue(deps: DeadLetterDeps, caller: Caller, name: string, deadline: number): Promise<DeadLetterRedrive> {
  requireOperator(caller);
  return deps.deadLetters.redrive(name, deadline);
}
