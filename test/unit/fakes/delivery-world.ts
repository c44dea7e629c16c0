/**
 * The delivery engine wired to in-memory fakes of every port it touches, as the functions wire it
 * to AWS: notifications, broadcasts and their rows, the directory, the inbox and live state (one
 * unread count, as on the one DynamoDB item), sockets and mail. Its sleep moves the
 * test's clock, so a wait costs no time and every instant is exact; its timers fire when the clock
 * is moved past them (by a sleep, or `timers.advance`), never on their own.
 */
import { SendBudgets } from '../../../shared/adapters/dynamo-send-budgets.ts';
import { createChannels } from '../../../shared/delivery/channels/index.ts';
import { deliverUnits } from '../../../shared/delivery/engine.ts';
import type { EngineDeps, EngineInvocation } from '../../../shared/delivery/engine.ts';
import type { UnitOutcome, UnitRef } from '../../../shared/domain/delivery.ts';
import { unitKey } from '../../../shared/domain/delivery.ts';
import type { RateBudgets } from '../../../shared/domain/rate-budget.ts';
import { defaultRetryPolicy } from '../../../shared/domain/retry-policy.ts';
import type { RetryPolicy } from '../../../shared/domain/retry-policy.ts';
import type { DeliveryMessage } from '../../../shared/domain/schemas.ts';
import { deliverMessages } from '../../../shared/use-cases/deliver-messages.ts';
import type { MessageResult, MessageWork } from '../../../shared/use-cases/deliver-messages.ts';
import { InMemoryBroadcastRecipientStore } from './broadcast-recipient-store.ts';
import { InMemoryBroadcastStore } from './broadcast-store.ts';
import { FakeClock } from './clock.ts';
import { InMemoryDeliveryStore } from './delivery-store.ts';
import { InMemoryInboxStore } from './inbox-store.ts';
import { InMemoryLiveStateStore } from './live-state-store.ts';
import { FakeMailer } from './mailer.ts';
import { InMemoryNotificationStore } from './notification-store.ts';
import { InMemoryRecipientStore } from './recipient-store.ts';
import { FakeSocketPoster } from './socket-poster.ts';
import { FakeTimers } from './timers.ts';

export interface DeliveryWorldOptions {
  /** @default the default policy without jitter, so delays are exact */
  readonly retry?: RetryPolicy;
  /** @default 2000 */
  readonly holdMs?: number;
  /** @default 60 */
  readonly leaseSeconds?: number;
  /** The providers' send budgets. @default none */
  readonly budgets?: RateBudgets;
  /** Write shards of broadcast rows. @default 4 */
  readonly shards?: number;
  /** @default noon on 2030-01-01 */
  readonly start?: string;
}

export interface DeliveryWorld {
  readonly clock: FakeClock;
  readonly notifications: InMemoryNotificationStore;
  readonly broadcasts: InMemoryBroadcastStore;
  readonly rows: InMemoryBroadcastRecipientStore;
  readonly recipients: InMemoryRecipientStore;
  readonly inbox: InMemoryInboxStore;
  readonly live: InMemoryLiveStateStore;
  readonly sockets: FakeSocketPoster;
  readonly mailer: FakeMailer;
  readonly store: InMemoryDeliveryStore;
  readonly budgets: SendBudgets;
  /** The engine's timers (how long a unit whose sends are done waits for the rest of its round). */
  readonly timers: FakeTimers;
  readonly deps: EngineDeps;
  /** Every wait of the engine, in ms (each moved the clock on). */
  readonly sleeps: number[];
  /** An invocation with ten seconds left: shorter than the lease, which then decides its length. */
  invocation(): EngineInvocation;
  /** Runs the engine once over `refs`, as one batch; the outcome of each unit by its key. */
  deliver(...refs: UnitRef[]): Promise<Map<string, UnitOutcome>>;
  /** Runs the engine once over `ref` alone; its outcome. */
  deliverOne(ref: UnitRef): Promise<UnitOutcome | undefined>;
  /** Runs `deliverMessages` over one batch of messages. */
  deliverMessages(messages: readonly MessageWork[]): Promise<MessageResult[]>;
}

export function aDeliveryWorld(options: DeliveryWorldOptions = {}): DeliveryWorld {
  const clock = new FakeClock(options.start ?? '2030-01-01T12:00:00.000Z');
  const notifications = new InMemoryNotificationStore();
  const broadcasts = new InMemoryBroadcastStore();
  const rows = new InMemoryBroadcastRecipientStore(options.shards ?? 4);
  const recipients = new InMemoryRecipientStore();
  const inbox = new InMemoryInboxStore();
  const live = new InMemoryLiveStateStore(inbox);
  const sockets = new FakeSocketPoster();
  const mailer = new FakeMailer();
  const budgets = new SendBudgets(() => options.budgets ?? {});
  const store = new InMemoryDeliveryStore({ notifications, broadcasts, rows, recipients, inbox, live }, { budgets });
  const sleeps: number[] = [];
  const timers = new FakeTimers(clock);
  const deps: EngineDeps = {
    store,
    channels: createChannels({ mailer, sockets, live }),
    live,
    sockets,
    broadcasts,
    clock,
    settings: { leaseSeconds: options.leaseSeconds ?? 60, retry: options.retry ?? { ...defaultRetryPolicy, jitter: 0 }, holdMs: options.holdMs ?? 2_000 },
    sleep: async (ms) => {
      sleeps.push(ms);
      timers.advance(ms);
    },
    setTimer: timers.setTimer,
  };
  const invocation = (): EngineInvocation => ({ deadline: new Date(clock.now().getTime() + 10_000) });
  const world: DeliveryWorld = {
    clock,
    notifications,
    broadcasts,
    rows,
    recipients,
    inbox,
    live,
    sockets,
    mailer,
    store,
    budgets,
    timers,
    deps,
    sleeps,
    invocation,
    deliver: (...refs) => deliverUnits(deps, refs, invocation()),
    deliverOne: async (ref) => (await deliverUnits(deps, [ref], invocation())).get(unitKey(ref)),
    deliverMessages: (messages) => deliverMessages(deps, messages, invocation()),
  };
  return world;
}

/** The units a delivery queue message names, as the deliver function reads them. */
export function refsOfDeliveryMessage(message: DeliveryMessage): UnitRef[] {
  if ('notifications' in message) {
    return message.notifications.map((n) => ({ kind: 'notification', tenantId: message.tenantId, notificationId: n.id, recipientId: n.recipientId }));
  }
  return [{ kind: 'notification', tenantId: message.tenantId, notificationId: message.notificationId, ...(message.recipientId ? { recipientId: message.recipientId } : {}) }];
}

/** The ids of the notifications delivery messages name, in order. */
export function notificationIdsOf(messages: readonly DeliveryMessage[]): string[] {
  return messages.flatMap((message) => ('notifications' in message ? message.notifications.map((n) => n.id) : [message.notificationId]));
}
