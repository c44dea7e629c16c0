/**
 * State machines as data: each transition names the states it leaves, the state it enters and the
 * guards that must hold besides the state. The tables in notification.ts and broadcast.ts are the
 * rules that run: the stores build the condition of every conditional write from them
 * (shared/adapters/dynamo-transitions.ts), and one test walks every transition against the real
 * DynamoDB protocol.
 */

/** One transition: from any of `from` to `to`, when every guard holds. */
export interface Transition<S extends string, G extends string> {
  readonly from: readonly S[];
  readonly to: S;
  /** Conditions beyond the current state, each a clause of the store's condition. @default none */
  readonly guards?: readonly G[];
  /** Only a person asks for it (an API call), never a delivery worker. @default false */
  readonly manual?: boolean;
}

/** A named set of transitions over the states `S`, guarded by `G`. */
export type TransitionTable<S extends string, G extends string> = Readonly<Record<string, Transition<S, G>>>;

/** True when some transition of `table` leads from `from` to `to` (manual ones included). */
export function tableAllows<S extends string, G extends string>(table: TransitionTable<S, G>, from: S, to: S): boolean {
  return Object.values(table).some((t) => t.to === to && t.from.includes(from));
}

/** True when no automatic transition leaves `state`: nothing happens to it by itself. */
export function tableIsTerminal<S extends string, G extends string>(table: TransitionTable<S, G>, state: S): boolean {
  return !Object.values(table).some((t) => !t.manual && t.from.includes(state));
}
