/** A SocketPoster over a set of live connection ids; any other id is gone (410). */
import type { SocketPoster } from '../../../shared/ports.ts';
import { ScriptedFailures } from './failures.ts';

export class FakeSocketPoster implements SocketPoster {
  private readonly live = new Set<string>();
  readonly posted: { connectionId: string; payload: unknown }[] = [];
  /** The connections closed by the server, in order. */
  readonly disconnected: string[] = [];
  /** Errors the next posts throw. */
  readonly failures = new ScriptedFailures();

  /** Marks connections as open at the gateway. */
  open(...connectionIds: string[]): void {
    for (const id of connectionIds) this.live.add(id);
  }

  async post(connectionId: string, payload: unknown): Promise<'posted' | 'gone'> {
    this.failures.throwNext();
    if (!this.live.has(connectionId)) return 'gone';
    this.posted.push({ connectionId, payload: structuredClone(payload) });
    return 'posted';
  }

  async disconnect(connectionId: string): Promise<'closed' | 'gone'> {
    this.failures.throwNext();
    if (!this.live.delete(connectionId)) return 'gone';
    this.disconnected.push(connectionId);
    return 'closed';
  }
}
