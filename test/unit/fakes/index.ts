/** In-memory fakes of every port in shared/ports.ts, plus a clock the test controls. */
export { FakeClock } from './clock.ts';
export { InMemoryConnectionStore } from './connection-store.ts';
export { FakeDeliveryQueue } from './delivery-queue.ts';
export { FakeDeliveryScheduler } from './delivery-scheduler.ts';
export { ScriptedFailures } from './failures.ts';
export { InMemoryInboxStore } from './inbox-store.ts';
export { FakeMailer } from './mailer.ts';
export type { Email } from './mailer.ts';
export { InMemoryNotificationStore } from './notification-store.ts';
export { InMemoryRecipientStore } from './recipient-store.ts';
export { FakeSocketPoster } from './socket-poster.ts';
