/**
 * A create with an `Idempotency-Key` that died between its writes, retried, with the real
 * adapters: the notification store and the create records on the local stack's DynamoDB endpoint
 * (dynalite's store), the EventBridge scheduler adapter on the local Scheduler. Fronts on both
 * (test/unit/support/wire-front.ts) count the calls as the wire carries them and make the
 * Scheduler's trouble: a call that never answers (the attempt dies there), a throttled one. The
 * retry ends with one set of notifications, the first attempt's. A recurring create retried so
 * ends with one definition and one schedule.
 */
import { SchedulerClient, ThrottlingException } from '@aws-sdk/client-scheduler';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { faultResponse } from '../../../../local/aws-call-hook.ts';
import { DynamoCreateRecords } from '../../../../shared/adapters/dynamo-create-records.ts';
import { DynamoNotificationStore } from '../../../../shared/adapters/dynamo-notification-store.ts';
import { DynamoRecurringStore, markerRetentionSeconds } from '../../../../shared/adapters/dynamo-recurring-store.ts';
import { EventBridgeRecurringScheduler, recurringScheduleName } from '../../../../shared/adapters/eventbridge-recurring-scheduler.ts';
import { idempotencyRetentionSeconds } from '../../../../shared/adapters/powertools-idempotency-store.ts';
import { newNotificationId } from '../../../../shared/domain/ids.ts';
import { createRecurringBodySchema } from '../../../../shared/domain/schemas.ts';
import type { CreateNotificationsBody } from '../../../../shared/domain/schemas.ts';
import { ServiceUnavailableError } from '../../../../shared/errors.ts';
import { logger } from '../../../../shared/observability/logger.ts';
import { scheduleNotifications } from '../../../../shared/use-cases/notifications.ts';
import { createRecurring, runOccurrence } from '../../../../shared/use-cases/recurring.ts';
import type { OccurrenceDeps, RecurringDeps } from '../../../../shared/use-cases/recurring.ts';
import type { DeliveryScheduler } from '../../../../shared/ports.ts';
import type { CreateKey, NotificationDeps } from '../../../../shared/use-cases/notifications.ts';
import { aBroadcastWorld } from '../../fakes/broadcast-world.ts';
import { FakeClock, FakeDeliveryScheduler, InMemoryRecipientStore, InMemorySelfSendLimits } from '../../fakes/index.ts';
import { admin, aNotification, aRecipient, aRecurringDefinition } from '../../fakes/fixtures.ts';
import { startLocalDynamo } from '../../support/local-dynamo.ts';
import type { LocalDynamo } from '../../support/local-dynamo.ts';
import { testAccountDeliveryScheduler, testAccountScheduling } from '../../support/delivery-scheduler.ts';
import { startLocalScheduler } from '../../support/local-queues.ts';
import { startDynamoWire } from '../../support/wire-front.ts';
import type { DynamoWire } from '../../support/wire-front.ts';

let dynamo: LocalDynamo;
/** The DynamoDB calls of the code under test; the test's own reads and writes go straight to the endpoint. */
let dynamoWire: DynamoWire;
/** The Scheduler, its front (`scheduler.front`) seeing the calls of the code under test. */
const scheduler = await startLocalScheduler({ now: new Date('2030-01-01T12:00:00.000Z'), groupNames: [testAccountScheduling.groupName] });

beforeAll(async () => {
  logger.setLogLevel('SILENT');
  dynamo = await startLocalDynamo({ withTables: true });
  dynamoWire = await startDynamoWire(dynamo.endpoint);
});

beforeEach(() => {
  scheduler.front.reset();
});

afterAll(async () => {
  await scheduler.stop();
  await dynamoWire?.stop();
  await dynamo?.stop();
});

/** A call the Scheduler never answers: the attempt that made it dies there. */
const never = (): Promise<undefined> => new Promise(() => undefined);

/** The names of the schedules in the Scheduler that are among `names`. */
function schedulesNamed(names: readonly string[]): string[] {
  return scheduler.emulator.listSchedules().map((schedule) => schedule.name).filter((name) => names.includes(name)).sort();
}

/** The names of the schedules the calls of `operation` named (the last part of their path), in order. */
function scheduleNamesOf(operation: string): string[] {
  return scheduler.front.calls(operation).map((call) => call.path.split('/').pop() ?? '');
}

/** The recipients of a request: 150 make two batch schedules (100 + 50). */
function recipientsOf(tenantId: string): string[] {
  return Array.from({ length: 150 }, (_, i) => `${tenantId}-user-${String(i).padStart(3, '0')}`);
}

/**
 * The deps of a create, on the fronts when its DynamoDB calls are `counted`; `schedulerAttempts`:
 * of each Scheduler call, the SDK's retries included (1: a refusal fails the create at once).
 */
async function setUp(tenantId: string, options: { counted?: boolean; schedulerAttempts?: number } = {}): Promise<{ deps: NotificationDeps; body: CreateNotificationsBody }> {
  const { counted = false, schedulerAttempts } = options;
  const db = counted ? dynamoWire.documentClient : dynamo.documentClient;
  const recipients = new InMemoryRecipientStore();
  const ids = recipientsOf(tenantId);
  for (const id of ids) await recipients.put(aRecipient({ tenantId, id }));
  const deps: NotificationDeps = {
    notifications: new DynamoNotificationStore(db, 'notifications'),
    recipients,
    scheduler: testAccountDeliveryScheduler({ scheduler: scheduler.front.endpoint, ...(schedulerAttempts === undefined ? {} : { schedulerAttempts }) }),
    clock: new FakeClock('2030-01-01T12:00:00.000Z'),
    selfSend: new InMemorySelfSendLimits(),
    createRecords: new DynamoCreateRecords(db, 'idempotency', idempotencyRetentionSeconds),
  };
  const body: CreateNotificationsBody = {
    recipients: ids,
    title: 'Maintenance',
    message: 'Tonight at 22:00',
    scheduledAt: '2030-01-01T13:00:00.000Z',
    type: 'system',
    priority: 'normal',
  };
  return { deps, body };
}

function keyOf(tenantId: string): CreateKey {
  return { key: JSON.stringify([tenantId, admin.sub, 'POST /v1/notifications', '/v1/notifications', 'k-1']), fingerprint: 'body-1' };
}

async function idsStored(tenantId: string): Promise<string[]> {
  const items = (await dynamo.documentClient.send(new ScanCommand({ TableName: 'notifications' }))).Items ?? [];
  return items.filter((item) => item.tenantId === tenantId).map((item) => String(item.id)).sort();
}

/** The DynamoDB calls the code under test made while `act` ran, counted by operation. */
async function dynamoCallsDuring(act: () => Promise<unknown>): Promise<Record<string, number>> {
  const from = dynamoWire.calls().length;
  await act();
  const counts: Record<string, number> = {};
  for (const { operation } of dynamoWire.calls().slice(from)) counts[operation] = (counts[operation] ?? 0) + 1;
  return counts;
}

describe('a create with an Idempotency-Key retried after a death between its writes, on the real adapters', () => {
  it('ends with one set of notifications, the first attempt\'s, its existing schedule taken as made', async () => {
    // Prepare: the first attempt writes its 150 notifications, makes one schedule, and dies
    // while the second CreateSchedule hangs (the SDK retrying a throttled Scheduler)
    const tenantId = 'died';
    const caller = { ...admin, tenantId };
    const { deps, body } = await setUp(tenantId, { counted: true });
    scheduler.front.intercept('CreateSchedule', () => undefined);
    scheduler.front.intercept('CreateSchedule', never, Number.POSITIVE_INFINITY);
    // The dead attempt never ends; its call fails when the front closes, unseen.
    scheduleNotifications(deps, caller, body, { idempotency: keyOf(tenantId) }).catch(() => undefined);
    await vi.waitFor(() => {
      expect(scheduler.front.calls('CreateSchedule')).toHaveLength(2);
      expect(schedulesNamed(scheduleNamesOf('CreateSchedule'))).toHaveLength(1);
    }, { timeout: 20_000 });
    const firstIds = await idsStored(tenantId);
    expect(firstIds).toHaveLength(150);
    const names = scheduleNamesOf('CreateSchedule');
    scheduler.front.reset();

    // Act: the retry, once the dead attempt's lock ran out
    let retried: Awaited<ReturnType<typeof scheduleNotifications>> | undefined;
    const commands = await dynamoCallsDuring(async () => {
      retried = await scheduleNotifications(deps, caller, body, { idempotency: keyOf(tenantId) });
    });

    // Assess: the schedule made is taken as made (the Scheduler's ConflictException), the other made now
    expect([...(retried?.notificationIds ?? [])].sort()).toEqual(firstIds);
    expect(await idsStored(tenantId)).toEqual(firstIds);
    expect(scheduleNamesOf('CreateSchedule').sort()).toEqual(names.slice().sort());
    expect(scheduler.front.calls('DeleteSchedule')).toHaveLength(0);
    expect(schedulesNamed(names)).toEqual(names.slice().sort());
    // The refused put learns the record, the renewal keeps it as long as the key; two reads of 100 find every notification.
    expect(commands).toEqual({ PutItem: 2, BatchGetItem: 2 });
  });

  it('costs one PutItem more with a key, and nothing more without', async () => {
    // Prepare
    const plain = await setUp('plain', { counted: true });
    const keyed = await setUp('keyed', { counted: true });

    // Act
    const withoutKey = await dynamoCallsDuring(() => scheduleNotifications(plain.deps, { ...admin, tenantId: 'plain' }, plain.body));
    const withKey = await dynamoCallsDuring(() => scheduleNotifications(keyed.deps, { ...admin, tenantId: 'keyed' }, keyed.body, { idempotency: keyOf('keyed') }));

    // Assess: 150 notifications are 6 BatchWriteItems of 25
    expect(withoutKey).toEqual({ BatchWriteItem: 6 });
    expect(withKey).toEqual({ BatchWriteItem: 6, PutItem: 1 });
    expect(scheduler.front.calls('CreateSchedule')).toHaveLength(4);
  });
});

describe('an occurrence of a recurring notification whose worker died mid-create, on the real adapters', () => {
  it('is created by the worker that takes it over with the dead one\'s ids: one set of notifications', async () => {
    // Prepare: the definition names two recipients; the first worker writes their notifications,
    // then dies on its way to the queue; its claim's lease (60 s) runs out
    const tenantId = 'occurrence';
    const clock = new FakeClock('2030-01-02T09:00:00.000Z');
    const recipients = new InMemoryRecipientStore();
    for (const id of ['bob', 'carol']) await recipients.put(aRecipient({ tenantId, id }));
    const recurring = new DynamoRecurringStore(dynamo.documentClient, () => 'recurring');
    await recurring.put(aRecurringDefinition({ tenantId }));
    const scheduler = new FakeDeliveryScheduler();
    const dying: DeliveryScheduler = { scheduleMany: async () => new Promise<never>(() => undefined), unschedule: async () => undefined, reschedule: async () => undefined };
    const deps = (queue: DeliveryScheduler): OccurrenceDeps => ({
      recurring,
      notifications: { notifications: new DynamoNotificationStore(dynamo.documentClient, 'notifications'), recipients, scheduler: queue, clock, selfSend: new InMemorySelfSendLimits() },
      broadcasts: aBroadcastWorld().api,
      clock,
      createRecords: new DynamoCreateRecords(dynamo.documentClient, 'recurring', markerRetentionSeconds, { key: 'pk', ttl: 'expiresAt' }),
    });
    void runOccurrence(deps(dying), tenantId, 'rec_01J0000000000000000000000A', '2030-01-02T09:00:00Z');
    await vi.waitFor(async () => expect(await idsStored(tenantId)).toHaveLength(2), { timeout: 20_000 });
    const firstIds = await idsStored(tenantId);
    clock.advanceSeconds(61);

    // Act
    const outcome = await runOccurrence(deps(scheduler), tenantId, 'rec_01J0000000000000000000000A', '2030-01-02T09:00:00Z');

    // Assess
    expect(outcome).toEqual({ kind: 'done', note: 'created' });
    expect(await idsStored(tenantId)).toEqual(firstIds);
    expect(scheduler.all().map((n) => n.id).sort()).toEqual(firstIds);
    expect((await recurring.get(tenantId, 'rec_01J0000000000000000000000A'))?.occurrences[0]?.notificationIds?.slice().sort()).toEqual(firstIds);
  });
});

describe('a create whose scheduling failed after one of it was delivered, on the real adapters', () => {
  it('learns from each refused cancel itself the status that refused it, and nothing for one that is not there', async () => {
    // Prepare: one sent, one being delivered, one pending, one never written
    const tenantId = 'refused';
    const store = new DynamoNotificationStore(dynamoWire.documentClient, 'notifications');
    const now = new Date('2030-01-01T12:00:00.000Z');
    const [sent, sending, pending, missing] = ['a', 'b', 'c', 'd'].map((recipientId) => aNotification({ tenantId, recipientId, id: newNotificationId(now) }));
    if (!sent || !sending || !pending || !missing) throw new Error('four notifications');
    await store.createMany([sent, sending, pending]);
    const sentClaim = await store.claim(tenantId, sent.id, now, 60);
    if (!sentClaim) throw new Error('could not claim');
    await store.markSent(sentClaim, now, new Date('2030-01-02T12:00:00.000Z'));
    await store.claim(tenantId, sending.id, now, 60);

    // Act
    const outcomes: unknown[] = [];
    const commands = await dynamoCallsDuring(async () => {
      for (const n of [sent, sending, pending, missing]) outcomes.push(await store.cancel(tenantId, n.id, now));
    });

    // Assess: one UpdateItem each, and no read
    expect(outcomes).toEqual([{ status: 'sent' }, { status: 'sending' }, { cancelled: expect.objectContaining({ id: pending.id, status: 'cancelled' }) }, {}]);
    expect(commands).toEqual({ UpdateItem: 4 });
  });

  it('answers 503 naming the delivered one, and the retry with the same key completes the set under its ids: no recipient gets it twice', async () => {
    // Prepare: while the Scheduler is throttled, one notification is delivered (sent straight to the queue, or by the sweep)
    const tenantId = 'delivered';
    const caller = { ...admin, tenantId };
    // One attempt per Scheduler call: the SDK's backoff on a throttled call is not what this proves.
    const { deps, body } = await setUp(tenantId, { schedulerAttempts: 1 });
    const store = deps.notifications;
    let deliveredId: string | undefined;
    scheduler.front.intercept('CreateSchedule', async () => {
      if (deliveredId === undefined) {
        [deliveredId] = await idsStored(tenantId);
        const claim = await store.claim(tenantId, deliveredId ?? '', new Date('2030-01-01T12:00:00.000Z'), 60);
        if (claim) await store.markSent(claim, new Date('2030-01-01T12:00:00.000Z'), new Date('2030-01-02T12:00:00.000Z'));
      }
      return faultResponse('scheduler', 'restJson', { statusCode: 429, code: 'ThrottlingException', message: 'Rate exceeded' });
    }, Number.POSITIVE_INFINITY);

    // Act: the failed create, then its retry
    const failure = await scheduleNotifications(deps, caller, body, { idempotency: keyOf(tenantId) }).catch((error: unknown) => error);
    const firstIds = (await idsStored(tenantId)).length;
    scheduler.front.reset();
    const retried = await scheduleNotifications(deps, caller, body, { idempotency: keyOf(tenantId) });

    // Assess: only the delivered one was left by the rollback; the retry rewrote the others under the same ids
    expect(failure).toBeInstanceOf(ServiceUnavailableError);
    const delivered = (await store.get(tenantId, deliveredId ?? ''));
    expect((failure as ServiceUnavailableError).details).toEqual({ delivered: [{ notificationId: deliveredId, recipientId: delivered?.recipientId }] });
    expect(firstIds).toBe(1);
    expect(retried.notificationIds).toContain(deliveredId);
    expect(await idsStored(tenantId)).toEqual([...retried.notificationIds].sort());
    expect(delivered?.status).toBe('sent');
    const statuses = await Promise.all(retried.notificationIds.map(async (id) => (await store.get(tenantId, id))?.status));
    expect(statuses.filter((status) => status === 'pending')).toHaveLength(149);
  });

  it('an occurrence so rolled back is completed by the worker that takes it over, under the same ids: each recipient gets it once', async () => {
    // Prepare: bob's notification goes straight to the queue and is delivered, then the Scheduler fails
    const tenantId = 'occurrence-delivered';
    const clock = new FakeClock('2030-01-02T09:00:00.000Z');
    const recipients = new InMemoryRecipientStore();
    for (const id of ['bob', 'carol']) await recipients.put(aRecipient({ tenantId, id }));
    const recurring = new DynamoRecurringStore(dynamo.documentClient, () => 'recurring');
    await recurring.put(aRecurringDefinition({ tenantId }));
    const notifications = new DynamoNotificationStore(dynamo.documentClient, 'notifications');
    const scheduler = new FakeDeliveryScheduler();
    const failing: DeliveryScheduler = {
      unschedule: async () => undefined,
      reschedule: async () => undefined,
      scheduleMany: async (batch, now): Promise<void> => {
        const bob = batch.find((n) => n.recipientId === 'bob');
        const claim = bob && (await notifications.claim(tenantId, bob.id, now, 60));
        if (claim) await notifications.markSent(claim, now, new Date(now.getTime() + 86_400_000));
        throw new ThrottlingException({ message: 'Rate exceeded', Message: 'Rate exceeded', $metadata: { httpStatusCode: 429 } });
      },
    };
    const deps = (queue: DeliveryScheduler): OccurrenceDeps => ({
      recurring,
      notifications: { notifications, recipients, scheduler: queue, clock, selfSend: new InMemorySelfSendLimits() },
      broadcasts: aBroadcastWorld().api,
      clock,
      createRecords: new DynamoCreateRecords(dynamo.documentClient, 'recurring', markerRetentionSeconds, { key: 'pk', ttl: 'expiresAt' }),
    });
    await expect(runOccurrence(deps(failing), tenantId, 'rec_01J0000000000000000000000A', '2030-01-02T09:00:00Z')).rejects.toThrow(/1 of 2 were already delivered/);
    clock.advanceSeconds(61);

    // Act: its claim's lease ran out; the next worker runs it
    const outcome = await runOccurrence(deps(scheduler), tenantId, 'rec_01J0000000000000000000000A', '2030-01-02T09:00:00Z');

    // Assess
    expect(outcome).toEqual({ kind: 'done', note: 'created' });
    const stored = await Promise.all((await idsStored(tenantId)).map(async (id) => notifications.get(tenantId, id)));
    expect(stored.map((n) => [n?.recipientId, n?.status]).sort()).toEqual([
      ['bob', 'sent'],
      ['carol', 'pending'],
    ]);
    expect(scheduler.all().map((n) => n.id).sort()).toEqual(await idsStored(tenantId));
  });
});

describe('a recurring create with an Idempotency-Key retried after a death between its definition and its schedule, on the real adapters', () => {
  it('ends with one definition, the first attempt\'s, its schedule made by the dead attempt taken as made (ConflictException, then an update)', async () => {
    // Prepare: the first attempt writes its definition, its CreateSchedule reaches the Scheduler, and the answer never comes back
    const tenantId = 'recurring-died';
    const caller = { ...admin, tenantId };
    const recipients = new InMemoryRecipientStore();
    await recipients.put(aRecipient({ tenantId, id: 'bob' }));
    const recurring = new DynamoRecurringStore(dynamo.documentClient, () => 'recurring');
    const deps: RecurringDeps = {
      recurring,
      scheduler: new EventBridgeRecurringScheduler(new SchedulerClient({ region: 'eu-west-1', endpoint: scheduler.front.endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } }), () => ({
        groupName: 'herald',
        roleArn: 'arn:aws:iam::111122223333:role/scheduler',
        targetArn: 'arn:aws:sqs:eu-west-1:111122223333:fanout',
        deadLetterArn: 'arn:aws:sqs:eu-west-1:111122223333:scheduler-dlq',
        leadSeconds: 60,
        firesPerSecond: 1000,
      }), { send: () => Promise.reject(new Error('a cron whose next time is tomorrow missed no firing: nothing is fired')) }),
      recipients,
      clock: new FakeClock('2030-01-01T12:00:00.000Z'),
      createRecords: new DynamoCreateRecords(dynamo.documentClient, 'idempotency', idempotencyRetentionSeconds),
    };
    const body = createRecurringBodySchema.parse({ recipients: ['bob'], title: 'Digest', message: 'Your day', schedule: { cron: '0 9 * * *', timezone: 'Europe/Paris' } });
    const key: CreateKey = { key: JSON.stringify([tenantId, admin.sub, 'POST /v1/recurring-notifications', '/v1/recurring-notifications', 'k-1']), fingerprint: 'body-1' };
    let reached = false;
    scheduler.front.intercept('CreateSchedule', async (call, serve) => {
      await serve(call.input);
      reached = true;
      return never();
    }, Number.POSITIVE_INFINITY);
    // The dead attempt never ends; its call fails when the front closes, unseen.
    createRecurring(deps, caller, body, { idempotency: key }).catch(() => undefined);
    await vi.waitFor(() => expect(reached).toBe(true), { timeout: 20_000 });
    const [first] = (await recurring.list(tenantId, 10)).items;
    const name = recurringScheduleName(first?.id ?? '');
    expect(schedulesNamed([name])).toEqual([name]);
    scheduler.front.reset();

    // Act
    const retried = await createRecurring(deps, caller, body, { idempotency: key });

    // Assess: the Scheduler's ConflictException, then an update of the schedule there
    expect(first).toBeDefined();
    expect(retried.id).toBe(first?.id);
    expect((await recurring.list(tenantId, 10)).items.map((r) => r.id)).toEqual([retried.id]);
    expect(scheduleNamesOf('CreateSchedule')).toEqual([name]);
    expect(scheduleNamesOf('UpdateSchedule')).toEqual([name]);
    expect(scheduler.front.calls('DeleteSchedule')).toHaveLength(0);
    expect(scheduler.emulator.listSchedules().filter((schedule) => schedule.name.startsWith('r-')).map((schedule) => schedule.name)).toEqual([name]);
  });
});
