/**
 * Every port a broadcast touches, in memory, wired as the functions wire them, with runners that
 * play the fan-out and delivery queues by hand: a test decides which step runs when.
 */
import { defaultRetryPolicy } from '../../../shared/domain/retry-policy.ts';
import type { RetryPolicy } from '../../../shared/domain/retry-policy.ts';
import type { FanoutMessage } from '../../../shared/domain/schemas.ts';
import type { BroadcastDeps } from '../../../shared/use-cases/broadcasts.ts';
import { deliverBroadcastMessage } from '../../../shared/use-cases/deliver-broadcast.ts';
import type { BroadcastDeliveryDeps, BroadcastDeliveryOutcome } from '../../../shared/use-cases/deliver-broadcast.ts';
import { runFanoutStep } from '../../../shared/use-cases/fan-out-broadcast.ts';
import type { FanoutDeps, FanoutOutcome } from '../../../shared/use-cases/fan-out-broadcast.ts';
import { InMemoryBroadcastRecipientStore } from './broadcast-recipient-store.ts';
import { FakeBroadcastDeliveryQueue, FakeBroadcastScheduler, FakeFanoutQueue } from './broadcast-queues.ts';
import { InMemoryBroadcastStore } from './broadcast-store.ts';
import { FakeClock } from './clock.ts';
import { InMemoryConnectionStore } from './connection-store.ts';
import { InMemoryInboxStore } from './inbox-store.ts';
import { FakeMailer } from './mailer.ts';
import { InMemoryRecipientStore } from './recipient-store.ts';
import { FakeSocketPoster } from './socket-poster.ts';

export interface BroadcastWorld {
  readonly clock: FakeClock;
  readonly broadcasts: InMemoryBroadcastStore;
  readonly rows: InMemoryBroadcastRecipientStore;
  readonly recipients: InMemoryRecipientStore;
  readonly inbox: InMemoryInboxStore;
  readonly connections: InMemoryConnectionStore;
  readonly sockets: FakeSocketPoster;
  readonly mailer: FakeMailer;
  readonly fanoutQueue: FakeFanoutQueue;
  readonly deliveryQueue: FakeBroadcastDeliveryQueue;
  readonly scheduler: FakeBroadcastScheduler;
  readonly api: BroadcastDeps;
  readonly fanout: FanoutDeps;
  readonly delivery: BroadcastDeliveryDeps;
  /** Runs one fan-out step, as an invocation with a minute left. */
  step(message: FanoutMessage): Promise<FanoutOutcome>;
  /** Runs waiting fan-out steps (never `watch`) until none is left; how many ran. */
  runFanout(): Promise<number>;
  /** Delivers one waiting delivery message; `undefined` when none waits. */
  deliverNext(): Promise<BroadcastDeliveryOutcome | undefined>;
  /** Runs fan-out steps and deliveries until both queues are empty (retries are not replayed). */
  runAll(): Promise<void>;
}

export function aBroadcastWorld(options: { readonly pageSize?: number; readonly shards?: number; readonly retry?: RetryPolicy } = {}): BroadcastWorld {
  const clock = new FakeClock('2030-01-01T12:00:00.000Z');
  const broadcasts = new InMemoryBroadcastStore();
  const rows = new InMemoryBroadcastRecipientStore(options.shards ?? 4);
  const recipients = new InMemoryRecipientStore();
  const inbox = new InMemoryInboxStore();
  const connections = new InMemoryConnectionStore();
  const sockets = new FakeSocketPoster();
  const mailer = new FakeMailer();
  const fanoutQueue = new FakeFanoutQueue();
  const deliveryQueue = new FakeBroadcastDeliveryQueue();
  const scheduler = new FakeBroadcastScheduler();
  const api: BroadcastDeps = { broadcasts, rows, scheduler, fanout: fanoutQueue, clock };
  const fanout: FanoutDeps = {
    broadcasts,
    rows,
    recipients,
    fanout: fanoutQueue,
    delivery: deliveryQueue,
    clock,
    settings: { pageSize: options.pageSize ?? 10, watchSeconds: 60 },
  };
  const delivery: BroadcastDeliveryDeps = {
    broadcasts,
    rows,
    recipients,
    inbox,
    connections,
    sockets,
    mailer,
    clock,
    settings: { leaseSeconds: 60, retry: options.retry ?? defaultRetryPolicy },
  };
  const invocation = (): { deadline: Date } => ({ deadline: new Date(clock.now().getTime() + 60_000) });
  const world: BroadcastWorld = {
    clock,
    broadcasts,
    rows,
    recipients,
    inbox,
    connections,
    sockets,
    mailer,
    fanoutQueue,
    deliveryQueue,
    scheduler,
    api,
    fanout,
    delivery,
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
      return message ? deliverBroadcastMessage(delivery, message, invocation()) : undefined;
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
