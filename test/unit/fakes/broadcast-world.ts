/**
 * Every port a broadcast touches, in memory, wired as the functions wire them, with runners that
 * play the fan-out and delivery queues by hand: a test decides which step runs when. Delivery
 * goes through the one delivery engine (`deliverMessages`), over the in-memory delivery store.
 */
import type { EngineDeps } from '../../../shared/delivery/engine.ts';
import type { RetryPolicy } from '../../../shared/domain/retry-policy.ts';
import type { BroadcastDeliveryMessage, FanoutMessage } from '../../../shared/domain/schemas.ts';
import type { BroadcastDeps } from '../../../shared/use-cases/broadcasts.ts';
import type { MessageResult } from '../../../shared/use-cases/deliver-messages.ts';
import { runFanoutStep } from '../../../shared/use-cases/fan-out-broadcast.ts';
import type { FanoutDeps, FanoutOutcome } from '../../../shared/use-cases/fan-out-broadcast.ts';
import type { InMemoryBroadcastRecipientStore } from './broadcast-recipient-store.ts';
import { FakeBroadcastDeliveryQueue, FakeBroadcastScheduler, FakeFanoutQueue } from './broadcast-queues.ts';
import type { InMemoryBroadcastStore } from './broadcast-store.ts';
import type { FakeClock } from './clock.ts';
import type { InMemoryDeliveryStore } from './delivery-store.ts';
import { aDeliveryWorld } from './delivery-world.ts';
import type { FakeTimers } from './timers.ts';
import type { InMemoryInboxStore } from './inbox-store.ts';
import type { InMemoryLiveStateStore } from './live-state-store.ts';
import type { InMemoryNotificationStore } from './notification-store.ts';
import type { FakeMailer } from './mailer.ts';
import type { InMemoryRecipientStore } from './recipient-store.ts';
import type { FakeSocketPoster } from './socket-poster.ts';

/** The units a broadcast delivery message names. */
export function refsOfBroadcastMessage(message: BroadcastDeliveryMessage): { kind: 'broadcast'; tenantId: string; broadcastId: string; recipientId: string }[] {
  return message.recipientIds.map((recipientId) => ({ kind: 'broadcast', tenantId: message.tenantId, broadcastId: message.broadcastId, recipientId }));
}

export interface BroadcastWorld {
  readonly clock: FakeClock;
  readonly broadcasts: InMemoryBroadcastStore;
  readonly rows: InMemoryBroadcastRecipientStore;
  readonly recipients: InMemoryRecipientStore;
  readonly inbox: InMemoryInboxStore;
  /** Notifications, delivered by the same engine (for tests that mix both kinds of unit). */
  readonly notifications: InMemoryNotificationStore;
  readonly live: InMemoryLiveStateStore;
  readonly store: InMemoryDeliveryStore;
  readonly sockets: FakeSocketPoster;
  readonly mailer: FakeMailer;
  readonly fanoutQueue: FakeFanoutQueue;
  readonly deliveryQueue: FakeBroadcastDeliveryQueue;
  readonly scheduler: FakeBroadcastScheduler;
  readonly api: BroadcastDeps;
  readonly fanout: FanoutDeps;
  readonly delivery: EngineDeps;
  /** The engine's timers (see DeliveryWorld.timers). */
  readonly timers: FakeTimers;
  /** Runs one fan-out step, as an invocation with a minute left. */
  step(message: FanoutMessage): Promise<FanoutOutcome>;
  /** Runs waiting fan-out steps (never `watch`) until none is left; how many ran. */
  runFanout(): Promise<number>;
  /** Delivers one waiting delivery message through the engine; `undefined` when none waits. */
  deliverNext(): Promise<MessageResult | undefined>;
  /** Runs fan-out steps and deliveries until both queues are empty (retries are not replayed). */
  runAll(): Promise<void>;
}

export function aBroadcastWorld(options: { readonly pageSize?: number; readonly shards?: number; readonly retry?: RetryPolicy } = {}): BroadcastWorld {
  const engine = aDeliveryWorld({ shards: options.shards ?? 4, ...(options.retry ? { retry: options.retry } : {}) });
  const { clock, broadcasts, rows, recipients, inbox, notifications, live, store, sockets, mailer, timers } = engine;
  const fanoutQueue = new FakeFanoutQueue();
  const deliveryQueue = new FakeBroadcastDeliveryQueue();
  const scheduler = new FakeBroadcastScheduler();
  const api: BroadcastDeps = { broadcasts, rows, recipients, scheduler, fanout: fanoutQueue, clock };
  const fanout: FanoutDeps = {
    broadcasts,
    rows,
    recipients,
    fanout: fanoutQueue,
    delivery: deliveryQueue,
    clock,
    settings: { pageSize: options.pageSize ?? 10, watchSeconds: 60 },
  };
  const delivery = engine.deps;
  const invocation = (): { deadline: Date } => ({ deadline: new Date(clock.now().getTime() + 60_000) });
  const world: BroadcastWorld = {
    clock,
    broadcasts,
    rows,
    recipients,
    inbox,
    notifications,
    live,
    store,
    sockets,
    mailer,
    fanoutQueue,
    deliveryQueue,
    scheduler,
    api,
    fanout,
    delivery,
    timers,
    step: (message) => runFanoutStep(fanout, message, invocation()),
    async runFanout() {
      let ran = 0;
      for (let message = fanoutQueue.take('start', 'resolve', 'count', 'dispatch', 'retry', 'cancel'); message; message = fanoutQueue.take('start', 'resolve', 'count', 'dispatch', 'retry', 'cancel')) {
        await world.step(message);
        ran++;
      }
      return ran;
    },
    async deliverNext() {
      const message = deliveryQueue.take();
      if (!message) return undefined;
      const [result] = await engine.deliverMessages([{ refs: refsOfBroadcastMessage(message) }]);
      return result;
    },
    async runAll() {
      for (;;) {
        const ran = await world.runFanout();
        let delivered = 0;
        while (await world.deliverNext()) delivered++;
        if (ran === 0 && delivered === 0) return;
      }
    },
  };
  return world;
}
