/**
 * Condition expressions built from the state machines of shared/domain: every conditional write
 * of a notification or a broadcast recipient row checks exactly what its transition says, the
 * states it may leave and its guards, so the tables in the domain are the rules that run.
 */
import type { Transition } from '../domain/state-machine.ts';

/** A condition ready for a write: its expression, with the names and values it uses. */
export interface BuiltCondition {
  readonly ConditionExpression: string;
  readonly ExpressionAttributeNames: Record<string, string>;
  readonly ExpressionAttributeValues: Record<string, unknown>;
}

/** One guard as a store checks it: a clause, with the names and values it uses. */
export interface GuardClause {
  readonly clause: string;
  readonly names?: Readonly<Record<string, string>>;
  readonly values?: Readonly<Record<string, unknown>>;
}

/**
 * The condition of `transition`: the item's state (`status`) is one of those it leaves, and the
 * clause of each of its guards (from `guards`, written by the entity's store) holds. Only the
 * names and values of the guards it uses are passed, as DynamoDB refuses unused ones.
 */
export function transitionCondition<S extends string, G extends string>(
  transition: Transition<S, G>,
  guards: Readonly<Record<G, GuardClause>>,
): BuiltCondition {
  const from = transition.from.map((state, i) => [`:tfrom${i}`, state] as const);
  const stateClause = from.length === 1 ? `#tstatus = ${from[0]?.[0] ?? ''}` : `#tstatus IN (${from.map(([name]) => name).join(', ')})`;
  const used = (transition.guards ?? []).map((guard) => guards[guard]);
  return {
    ConditionExpression: [stateClause, ...used.map((g) => `(${g.clause})`)].join(' AND '),
    ExpressionAttributeNames: Object.assign({ '#tstatus': 'status' }, ...used.map((g) => g.names ?? {})) as Record<string, string>,
    ExpressionAttributeValues: Object.assign(Object.fromEntries(from), ...used.map((g) => g.values ?? {})) as Record<string, unknown>,
  };
}
