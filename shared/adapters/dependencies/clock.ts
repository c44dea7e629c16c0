/** The clock every function runs on: the system's. */
import type { Clock } from '../../ports.ts';

/** The system clock (tests pass their own {@link Clock}). */
export const systemClock: Clock = { now: () => new Date() };
