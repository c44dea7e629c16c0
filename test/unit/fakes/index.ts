/** In-memory fakes of every port in shared/ports.ts, plus a clock the test controls. */
export { FakeClock } from './clock.ts';
export { InMemoryBroadcastRecipientStore } from './broadcast-recipient-store.ts';
export { FakeBroadcastDeliveryQueue, FakeBroadcastScheduler, FakeFanoutQueue } from './broadcast-queues.ts';
export { InMemoryBroadcastStore } from './broadcast-store.ts';
export { InMemoryLiveStateStore } from './live-state-store.ts';
export { FakeDeliveryEnqueuer } from './delivery-enqueuer.ts';
export { FakeDeliveryQueue } from './delivery-queue.ts';
export { FakeDeliveryScheduler } from './delivery-scheduler.ts';
export { ScriptedFailures } from './failures.ts';
export { InMemoryInboxStore } from './inbox-store.ts';
export { InMemoryIdempotencyStore } from './idempotency-store.ts';
export { InMemoryMetricsStore } from './metrics-store.ts';
export { FakeMailer } from './mailer.ts';
export type { Email } from './mailer.ts';
export { InMemoryNotificationStore } from './notification-store.ts';
export { InMemoryNotificationSweeps } from './notification-sweeps.ts';
export { InMemoryRecipientStore } from './recipient-store.ts';
export { FakeSocketPoster } from './socket-poster.ts';
