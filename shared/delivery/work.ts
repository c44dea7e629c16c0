/**
 * What the delivery engine's modules share about a unit on its way through one round: the `Work`
 * built for it once it is planned (engine.ts, before step 2's claim) and read by the sends
 * (send.ts, step 3), the templates (content.ts) and the commit (commit.ts, step 4); its log lines;
 * the `tenant#id` key the loaded recipients, live state and broadcasts are found by; and what the
 * engine is given (`EngineDeps`, which engine.ts exports to its callers).
 */
import type { ChannelStep, DeliveryUnit, LiveState } from '../domain/delivery.ts';
import type { Channel } from '../domain/notification.ts';
import type { Recipient } from '../domain/recipient.ts';
import type { RetryPolicy } from '../domain/retry-policy.ts';
import type { TemplateVersion } from '../domain/template.ts';
import { logger } from '../observability/logger.ts';
import type { BroadcastStore, Clock, DeliveryMetricsRecorder, DeliveryStore, LiveStateStore, SocketPoster, TemplateStore } from '../ports.ts';
import type { ChannelRegistry } from './channel.ts';
import type { SetTimer } from './commit-as-ready.ts';

export interface EngineSettings {
  readonly leaseSeconds: number;
  readonly retry: RetryPolicy;
  /** A unit due within this many ms is waited for here rather than sent back to the queue. */
  readonly holdMs: number;
}

export interface EngineDeps {
  readonly store: DeliveryStore;
  readonly channels: ChannelRegistry;
  readonly live: Pick<LiveStateStore, 'get' | 'forgetConnections'>;
  readonly sockets: SocketPoster;
  /** `get` reads a broadcast's status after its rows were claimed (a consistent read). */
  readonly broadcasts: Pick<BroadcastStore, 'addCounts' | 'finish' | 'get'>;
  readonly clock: Clock;
  readonly settings: EngineSettings;
  /**
   * Where templated units find their template's version. @default none: a templated unit's
   * channels fail, its template not found (what the functions that deliver always set)
   */
  readonly templates?: Pick<TemplateStore, 'get'>;
  /** @default a real timer */
  readonly sleep?: (ms: number) => Promise<void>;
  /**
   * Times how long a unit whose sends are done waits for the rest of its round before its outcome
   * is written (commit-as-ready.ts); apart from `sleep`, which a test's clock may answer at once.
   * @default a real timer
   */
  readonly setTimer?: SetTimer;
  /** Where each channel's outcomes are counted (delivered, failed, retried, throttled, and lateness). @default none */
  readonly metrics?: DeliveryMetricsRecorder;
}

/** A unit on its way through one round. */
export interface Work {
  readonly unit: DeliveryUnit;
  readonly key: string;
  readonly recipient: Recipient | undefined;
  readonly live: LiveState;
  readonly steps: ReadonlyMap<Channel, ChannelStep>;
  readonly targets: ReadonlyMap<Channel, unknown>;
  readonly takeover: boolean;
  readonly token: string;
  /** A templated unit's template version (undefined: it no longer exists). */
  readonly template?: TemplateVersion | undefined;
}

/** The key of a recipient (or a broadcast) in the loaded maps: `tenantId#recipientId` (or `tenantId#broadcastId`). */
export function recipientKeyOf(tenantId: string, recipientId: string): string {
  return `${tenantId}#${recipientId}`;
}

/** The log lines of one unit, each naming it: its tenant and notification, or broadcast and recipient. */
export interface UnitLog {
  info(message: string, attributes?: Record<string, unknown>): void;
  warn(message: string, attributes?: Record<string, unknown>): void;
  error(message: string, attributes?: Record<string, unknown>): void;
}

/**
 * The log lines of `unit`, each carrying its keys (tenant and notification, or broadcast and recipient).
 *
 * The unit's keys go with each line rather than into a child logger: building a Powertools child
 * for every unit of a batch, lines logged or not, was a twentieth of a burst's CPU.
 */
export function logFor(unit: Pick<DeliveryUnit, 'ref'>): UnitLog {
  const ref = unit.ref;
  const keys =
    ref.kind === 'notification'
      ? { tenantId: ref.tenantId, notificationId: ref.notificationId }
      : { tenantId: ref.tenantId, broadcastId: ref.broadcastId, recipientId: ref.recipientId };
  return {
    info: (message, attributes) => logger.info(message, { ...keys, ...attributes }),
    warn: (message, attributes) => logger.warn(message, { ...keys, ...attributes }),
    error: (message, attributes) => logger.error(message, { ...keys, ...attributes }),
  };
}
