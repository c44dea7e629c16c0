/**
 * The delivery engine on its real store, DynamoDeliveryStore, over the real DynamoDB protocol
 * (dynalite behind the local transactions front): duplicates and racing workers, a lease that
 * outlives a dead worker, a cancel or an erasure that lands mid-delivery, the unread counter
 * moved by a read, two units of one recipient in one batch, and the send-rate budget slots.
 * Providers (mail, sockets) are fakes; the clock and the sleeps are the test's.
 */
import { DynamoDBClient, ProvisionedThroughputExceededException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import type { CancellationReason } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { applyUnread } from '../../../../client/unread.ts';
import type { UnreadCount } from '../../../../client/unread.ts';
import { DynamoBroadcastRecipientStore } from '../../../../shared/adapters/dynamo-broadcast-recipient-store.ts';
import { rowKey } from '../../../../shared/adapters/delivery-units.ts';
import { DynamoBroadcastStore } from '../../../../shared/adapters/dynamo-broadcast-store.ts';
import { DynamoBroadcastSweeps } from '../../../../shared/adapters/dynamo-broadcast-sweeps.ts';
import { DynamoDeliveryStore } from '../../../../shared/adapters/dynamo-delivery-store.ts';
import type { DeliveryTables } from '../../../../shared/adapters/dynamo-delivery-store.ts';
import { DynamoInboxStore } from '../../../../shared/adapters/dynamo-inbox-store.ts';
import { DynamoLiveStateStore } from '../../../../shared/adapters/dynamo-live-state-store.ts';
import { DynamoNotificationStore, notificationKey } from '../../../../shared/adapters/dynamo-notification-store.ts';
import { DynamoNotificationSweeps } from '../../../../shared/adapters/dynamo-notification-sweeps.ts';
import { DynamoRecipientStore } from '../../../../shared/adapters/dynamo-recipient-store.ts';
import { SendBudgets } from '../../../../shared/adapters/dynamo-send-budgets.ts';
import { transactConflictRetries } from '../../../../shared/adapters/dynamo-transact.ts';
import { createChannels } from '../../../../shared/delivery/channels/index.ts';
import { deliverUnits } from '../../../../shared/delivery/engine.ts';
import type { EngineDeps } from '../../../../shared/delivery/engine.ts';
import { zeroCounts } from '../../../../shared/domain/broadcast.ts';
import type { Broadcast } from '../../../../shared/domain/broadcast.ts';
import { maxOpenConnectionsPerUser, unitKey } from '../../../../shared/domain/delivery.ts';
import type { UnitOutcome, UnitRef } from '../../../../shared/domain/delivery.ts';
import { newBroadcastId, newNotificationId } from '../../../../shared/domain/ids.ts';
import type { Notification } from '../../../../shared/domain/notification.ts';
import type { RateBudgets } from '../../../../shared/domain/rate-budget.ts';
import { defaultRetryPolicy } from '../../../../shared/domain/retry-policy.ts';
import { logger } from '../../../../shared/observability/logger.ts';
import type { ClaimRequest, ClaimResult, CommitEntry, CommitResult, SmsSender } from '../../../../shared/ports.ts';
import { cleanupSweep } from '../../../../shared/use-cases/cleanup-sweep.ts';
import { markInboxItemRead } from '../../../../shared/use-cases/inbox.ts';
import { stuckRetrySweep } from '../../../../shared/use-cases/stuck-retry-sweep.ts';
import { FakeClock, FakeDeliveryEnqueuer, FakeFanoutQueue, FakeMailer, FakeSocketPoster } from '../../fakes/index.ts';
import { notificationIdsOf, refsOfDeliveryMessage } from '../../fakes/delivery-world.ts';
import { aNotification, aRecipient } from '../../fakes/fixtures.ts';
import { fakeSleep } from '../../support/fake-sleep.ts';
import { startLocalDynamo } from '../../support/local-dynamo.ts';
import type { LocalDynamo } from '../../support/local-dynamo.ts';

type TransactItems = NonNullable<TransactWriteCommandInput['TransactItems']>;

const tables: DeliveryTables = {
  notifications: 'notifications',
  broadcasts: 'broadcasts',
  broadcastRecipients: 'broadcast-recipients',
  recipients: 'recipients',
  inbox: 'inbox',
  rateLimits: 'rate-limits',
};

let dynamo: LocalDynamo;
let notifications: DynamoNotificationStore;
let recipients: DynamoRecipientStore;
let inbox: DynamoInboxStore;
let live: DynamoLiveStateStore;
let broadcasts: DynamoBroadcastStore;
let rows: DynamoBroadcastRecipientStore;

beforeAll(async () => {
  logger.setLogLevel('SILENT');
  dynamo = await startLocalDynamo({ withTables: true });
  const db = dynamo.documentClient;
  notifications = new DynamoNotificationStore(db, tables.notifications);
  recipients = new DynamoRecipientStore(db, tables.recipients, () => 'memberships');
  inbox = new DynamoInboxStore(db, tables.inbox, () => tables.recipients);
  live = new DynamoLiveStateStore(db, tables.inbox);
  broadcasts = new DynamoBroadcastStore(db, tables.broadcasts);
  rows = new DynamoBroadcastRecipientStore(db, tables.broadcastRecipients, { retentionDays: 90 });
});

afterAll(async () => {
  await dynamo?.stop();
});

afterEach(() => {
  vi.restoreAllMocks();
});

/** The real store, with a seam to let a rival's write land just before a claim or a commit. */
class RacingDeliveryStore extends DynamoDeliveryStore {
  beforeClaim: (() => Promise<void>) | undefined;
  afterClaim: (() => Promise<void>) | undefined;
  beforeCommit: (() => Promise<void>) | undefined;
  commits = 0;
  /** What each commit answered, in order. */
  readonly results: CommitResult[] = [];

  override async claim(requests: readonly ClaimRequest[], now: Date): Promise<ClaimResult> {
    const hook = this.beforeClaim;
    this.beforeClaim = undefined;
    await hook?.();
    const result = await super.claim(requests, now);
    const after = this.afterClaim;
    this.afterClaim = undefined;
    await after?.();
    return result;
  }

  override async commit(entries: readonly CommitEntry[], now: Date): Promise<CommitResult> {
    this.commits++;
    const hook = this.beforeCommit;
    this.beforeCommit = undefined;
    await hook?.();
    const result = await super.commit(entries, now);
    this.results.push(result);
    return result;
  }
}

/** One worker: its own store (and what it knows of the budget slots), on the shared tables and providers. */
interface Worker {
  readonly store: RacingDeliveryStore;
  readonly budgets: SendBudgets;
  deliver(...refs: UnitRef[]): Promise<Map<string, UnitOutcome>>;
}

interface World {
  readonly tenantId: string;
  readonly clock: FakeClock;
  readonly mailer: FakeMailer;
  readonly sockets: FakeSocketPoster;
  /** When (epoch ms) each email was handed to the mailer. */
  readonly sendTimes: number[];
  /** `db`: the client its store writes through (default: the endpoint's, as is). */
  worker(options?: { budgets?: RateBudgets; sms?: SmsSender; sleep?: (ms: number) => Promise<void>; db?: DynamoDBDocumentClient }): Worker;
  /** A pending notification due now, written to the table. */
  create(overrides?: Partial<Notification>): Promise<Notification>;
  refOf(n: Notification): UnitRef;
}

let tenants = 0;

/** A fresh tenant with bob (an address), and a clock at `start`: tests of budgets each use their own seconds. */
async function aWorld(start = '2030-01-01T12:00:00.000Z'): Promise<World> {
  const tenantId = `t${++tenants}`;
  const clock = new FakeClock(start);
  const mailer = new FakeMailer();
  const sockets = new FakeSocketPoster();
  const sendTimes: number[] = [];
  mailer.onSend = () => {
    sendTimes.push(clock.now().getTime());
  };
  await recipients.put(aRecipient({ tenantId, id: 'bob', email: 'bob@example.com' }));
  // One sleep for every worker of the world: their waits overlap, as real ones do.
  const sleep = fakeSleep(clock);
  return {
    tenantId,
    clock,
    mailer,
    sockets,
    sendTimes,
    worker: (options = {}) => {
      const budgets = new SendBudgets(() => options.budgets ?? {});
      const store = new RacingDeliveryStore(options.db ?? dynamo.documentClient, () => tables, { sentRetentionDays: 90, rowRetentionDays: 90, budgets });
      const deps: EngineDeps = {
        store,
        channels: createChannels({ mailer, sockets, live, ...(options.sms ? { sms: options.sms } : {}) }),
        live,
        sockets,
        broadcasts,
        clock,
        settings: { leaseSeconds: 60, retry: { ...defaultRetryPolicy, jitter: 0 }, holdMs: 2_000 },
        sleep: options.sleep ?? sleep,
      };
      return { store, budgets, deliver: (...refs) => deliverUnits(deps, refs, { deadline: new Date(clock.now().getTime() + 10_000) }) };
    },
    create: async (overrides = {}) => {
      const n = aNotification({ tenantId, id: newNotificationId(clock.now()), scheduledAt: clock.now().toISOString(), channels: ['inbox', 'email'], ...overrides });
      await notifications.createMany([n]);
      return n;
    },
    refOf: (n) => ({ kind: 'notification', tenantId, notificationId: n.id, recipientId: n.recipientId }),
  };
}

/**
 * The endpoint's client, with `onTransaction` run for every TransactWriteItems instead of sending
 * it plainly: it is handed the actions and the real send, and answers as it likes.
 */
function interceptTransactions(onTransaction: (items: TransactItems, send: () => Promise<unknown>) => Promise<unknown>): DynamoDBDocumentClient {
  const real = dynamo.documentClient;
  return new Proxy(real, {
    get(target, property, receiver) {
      if (property !== 'send') return Reflect.get(target, property, receiver) as unknown;
      return (command: unknown) =>
        command instanceof TransactWriteCommand
          ? onTransaction(command.input.TransactItems ?? [], () => real.send(command))
          : real.send(command as never);
    },
  });
}

/** How many sends a budget slot item holds. */
async function usedIn(pk: string): Promise<number | undefined> {
  const { Item } = await dynamo.documentClient.send(new GetCommand({ TableName: tables.rateLimits, Key: { pk }, ConsistentRead: true }));
  return Item?.used as number | undefined;
}

/** A cancellation, as DynamoDB answers it, with one reason per action. */
function cancellation(reasons: CancellationReason[]): TransactionCanceledException {
  return new TransactionCanceledException({ message: 'Transaction cancelled', $metadata: { httpStatusCode: 400 }, CancellationReasons: reasons });
}

/**
 * Creates a broadcast of `sam`'s ("Tonight") to `people` on `channels`, starts it and writes its
 * pending rows, as the fan-out does; resolves with its id.
 */
async function aStartedBroadcast(world: World, people: readonly string[], channels: Broadcast['channels']): Promise<string> {
  const id = newBroadcastId(world.clock.now());
  const now = world.clock.now().toISOString();
  await broadcasts.create(
    {
      tenantId: world.tenantId,
      id,
      createdBy: 'sam',
      title: 'Maintenance',
      type: 'system',
      priority: 'normal',
      channels,
      audience: { kind: 'recipients', count: people.length },
      status: 'scheduled',
      scheduledAt: now,
      createdAt: now,
      counts: zeroCounts,
      run: 0,
    },
    { message: 'Tonight' },
    people,
  );
  await broadcasts.start(world.tenantId, id, world.clock.now());
  await rows.putPending(world.tenantId, id, people, world.clock.now());
  return id;
}

async function outcomeOf(worker: Worker, ref: UnitRef): Promise<UnitOutcome | undefined> {
  return (await worker.deliver(ref)).get(unitKey(ref));
}

function framesOf(world: World, type: string): unknown[] {
  return world.sockets.posted.filter((p) => (p.payload as { type?: string }).type === type).map((p) => p.payload);
}

describe('duplicates and races', () => {
  it('delivers once when the same message comes twice', async () => {
    // Prepare
    const world = await aWorld();
    const n = await world.create();
    const worker = world.worker();

    // Act
    const outcomes = [await outcomeOf(worker, world.refOf(n)), await outcomeOf(worker, world.refOf(n))];

    // Assess
    expect(outcomes).toEqual([
      { kind: 'done', status: 'sent' },
      { kind: 'done', status: 'sent' },
    ]);
    expect(world.mailer.sent).toHaveLength(1);
    expect(await inbox.list(world.tenantId, 'bob')).toHaveLength(1);
    expect(await notifications.get(world.tenantId, n.id)).toMatchObject({ status: 'sent', attempts: 1 });
  });

  it('delivers once when three workers race on the same notification', async () => {
    // Prepare
    const world = await aWorld();
    const n = await world.create();
    const workers = [world.worker(), world.worker(), world.worker()];

    // Act
    const outcomes = await Promise.all(workers.map((w) => outcomeOf(w, world.refOf(n))));

    // Assess: one sends; the others lose the claim, find it held, or find it sent
    expect(outcomes.filter((o) => o?.kind === 'done' && o.status === 'sent').length).toBeGreaterThanOrEqual(1);
    for (const o of outcomes) expect(o?.kind === 'done' ? o.status : o?.kind === 'later' ? o.cause : o?.kind).toMatch(/^(sent|changed|leased)$/);
    expect(world.mailer.sent).toHaveLength(1);
    expect(await inbox.list(world.tenantId, 'bob')).toHaveLength(1);
    expect((await inbox.unreadCount(world.tenantId, 'bob')).unread).toBe(1);
    expect(await notifications.get(world.tenantId, n.id)).toMatchObject({ status: 'sent', attempts: 1 });
  });

  it('cancels a notification waiting to retry its e-mail, keeping the inbox it delivered, and sends nothing after', async () => {
    // Prepare: the inbox is written, SES answers 503, so the e-mail waits for its retry
    const world = await aWorld();
    const n = await world.create();
    world.mailer.failures.add(Object.assign(new Error('Service unavailable'), { name: 'ServiceUnavailable', $metadata: { httpStatusCode: 503 } }));
    const first = await outcomeOf(world.worker(), world.refOf(n));

    // Act: cancelled during the wait; the retry comes when it was due
    const cancelled = await notifications.cancel(world.tenantId, n.id, world.clock.now());
    world.clock.advanceSeconds(3_600);
    const retry = await outcomeOf(world.worker(), world.refOf(n));

    // Assess: the cancel stops only what was still to be sent; what reached bob stays recorded
    expect(first?.kind).toBe('later');
    expect(cancelled).toBeTruthy();
    expect(retry).toEqual({ kind: 'done', status: 'cancelled' });
    const stored = await notifications.get(world.tenantId, n.id);
    expect(stored).toMatchObject({ status: 'cancelled', deliveries: { inbox: { status: 'sent' } } });
    expect(stored?.deliveries.email).toBeUndefined();
    expect(stored?.sentAt).toBeUndefined();
    expect(world.mailer.sendCalls).toBe(1);
    expect(await inbox.list(world.tenantId, 'bob')).toHaveLength(1);
  });

  it('delivers nothing when a schedule fires late, after a cancel', async () => {
    // Prepare
    const world = await aWorld();
    const n = await world.create();
    await notifications.cancel(world.tenantId, n.id, new Date(world.clock.now().getTime() - 60_000));
    world.clock.advanceSeconds(120);

    // Act
    const outcome = await outcomeOf(world.worker(), world.refOf(n));

    // Assess
    expect(outcome).toEqual({ kind: 'done', status: 'cancelled' });
    expect(world.mailer.sendCalls).toBe(0);
    expect(await inbox.list(world.tenantId, 'bob')).toEqual([]);
  });
});

describe('a claim is a lease', () => {
  it('lets a worker that died mid-delivery block nobody: after its lease the next one takes over, never sending the email twice', async () => {
    // Prepare: a worker claimed at noon with its email intent, sent (perhaps), and died
    const world = await aWorld();
    const n = await world.create();
    const dead = world.worker();
    const loaded = await dead.store.load([world.refOf(n)]);
    const unit = loaded.units.get(unitKey(world.refOf(n)));
    if (!unit) throw new Error('not loaded');
    const now = world.clock.now();
    const claim = await dead.store.claim(
      [{ unit, token: 'dead-worker', takeover: false, leaseUntil: now.getTime() + 60_000, intents: ['email'], intent: { status: 'sending', at: now.toISOString(), detail: 'attempt 1' }, providers: ['ses'] }],
      now,
    );
    const next = world.worker();

    // Act
    world.clock.advanceSeconds(30);
    const duringLease = await outcomeOf(next, world.refOf(n));
    world.clock.advanceSeconds(31);
    const afterLease = await outcomeOf(next, world.refOf(n));

    // Assess
    expect(claim.claimed.has(unitKey(world.refOf(n)))).toBe(true);
    expect(duringLease).toEqual({ kind: 'later', at: now.getTime() + 60_000, cause: 'leased', reason: 'held by another worker' });
    expect(afterLease).toEqual({ kind: 'done', status: 'sent' });
    expect(await notifications.get(world.tenantId, n.id)).toMatchObject({
      status: 'sent',
      attempts: 2,
      deliveries: { inbox: { status: 'sent' }, email: { status: 'unconfirmed', detail: expect.stringContaining('attempt 1') } },
    });
    expect(world.mailer.sendCalls).toBe(0);
    expect(await inbox.list(world.tenantId, 'bob')).toHaveLength(1);
  });

  it('sends the email once when the dead worker never got as far as recording an intent for it', async () => {
    // Prepare: the claim of an older worker, without intents (nothing was about to go out)
    const world = await aWorld();
    const n = await world.create();
    await notifications.claim(world.tenantId, n.id, world.clock.now(), 60);
    world.clock.advanceSeconds(61);

    // Act
    const outcome = await outcomeOf(world.worker(), world.refOf(n));

    // Assess
    expect(outcome).toEqual({ kind: 'done', status: 'sent' });
    expect(world.mailer.sent).toHaveLength(1);
    expect(await notifications.get(world.tenantId, n.id)).toMatchObject({ status: 'sent', attempts: 2, deliveries: { email: { status: 'sent' } } });
  });

  it('writes nothing for a worker whose lease was taken over: the new owner\'s outcome stands', async () => {
    // Prepare: the email takes longer than the lease and another worker takes over meanwhile
    const world = await aWorld();
    const n = await world.create({ channels: ['email'] });
    const slow = world.worker();
    const rival = world.worker();
    world.mailer.onSend = async () => {
      world.mailer.onSend = undefined;
      world.clock.advanceSeconds(61);
      await rival.deliver(world.refOf(n));
    };

    // Act
    const outcome = await outcomeOf(slow, world.refOf(n));

    // Assess
    expect(outcome).toEqual({ kind: 'done', status: 'sending' });
    expect(world.mailer.sendCalls).toBe(1);
    expect(await notifications.get(world.tenantId, n.id)).toMatchObject({ status: 'sent', attempts: 2, deliveries: { email: { status: 'unconfirmed' } } });
  });
});

/** Gives bob one unread inbox item (delivered) and one open connection, `c1`; resolves with that item's notification. */
async function oneUnreadAndConnected(world: World): Promise<Notification> {
  const old = await world.create({ channels: ['inbox'] });
  await outcomeOf(world.worker(), world.refOf(old));
  await live.connect(world.tenantId, 'bob', { connectionId: 'c1', connectedAt: world.clock.now().toISOString() }, maxOpenConnectionsPerUser);
  world.sockets.open('c1');
  return old;
}

describe('what lands between the read, the claim and the write', () => {
  it('lets a broadcast cancelled between the read and the claim win: the row claimed is cancelled at once, nobody is sent to', async () => {
    // Prepare
    const world = await aWorld();
    const id = await aStartedBroadcast(world, ['bob'], ['inbox', 'email']);
    const worker = world.worker();
    worker.store.beforeClaim = async () => {
      await broadcasts.cancel(world.tenantId, id, world.clock.now());
    };
    const ref: UnitRef = { kind: 'broadcast', tenantId: world.tenantId, broadcastId: id, recipientId: 'bob' };

    // Act
    const first = await outcomeOf(worker, ref);
    const rowAfterRace = (await rows.getMany(world.tenantId, id, ['bob']))[0];
    world.clock.advanceSeconds(1);
    const second = await outcomeOf(worker, ref);

    // Assess: the claim went through; the consistent read of the status after it saw the cancel
    expect(first).toEqual({ kind: 'done', status: 'cancelled' });
    expect(rowAfterRace).toMatchObject({ status: 'cancelled', attempts: 0 });
    expect(rowAfterRace?.deliveries.email).toBeUndefined();
    expect(rowAfterRace?.leaseUntil).toBeUndefined();
    expect(second).toEqual({ kind: 'done', status: 'cancelled' });
    expect((await rows.getMany(world.tenantId, id, ['bob']))[0]?.status).toBe('cancelled');
    expect(world.mailer.sendCalls).toBe(0);
    expect(await inbox.list(world.tenantId, 'bob')).toEqual([]);
    expect(await broadcasts.get(world.tenantId, id)).toMatchObject({ status: 'cancelled', counts: { cancelled: 1 } });
  });

  it('lets the broadcast item\'s plain writes land while its rows are being claimed: no claim includes that item', async () => {
    // Prepare: a started broadcast to 40 people, and a client that never retries, so a write
    // that met a claim transaction would come back as TransactionConflictException
    const world = await aWorld();
    const people = Array.from({ length: 40 }, (_, i) => `p${String(i).padStart(2, '0')}`);
    const id = await aStartedBroadcast(world, people, ['inbox']);
    const refs: UnitRef[] = people.map((recipientId) => ({ kind: 'broadcast', tenantId: world.tenantId, broadcastId: id, recipientId }));
    const worker = world.worker();
    const loaded = await worker.store.load(refs);
    const now = world.clock.now();
    const requests = [...loaded.units.values()].map((unit) => ({
      unit,
      token: 'w',
      takeover: false,
      leaseUntil: now.getTime() + 60_000,
      intents: ['inbox' as const],
      intent: { status: 'sending' as const, at: now.toISOString(), detail: 'attempt 1' },
      providers: [],
    }));
    const noRetries = DynamoDBDocumentClient.from(
      new DynamoDBClient({ endpoint: dynamo.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 }),
    );
    const progress = new DynamoBroadcastStore(noRetries, tables.broadcasts);

    // Act: claims of ten rows each, and counter updates of the broadcast, all at once
    const claims = Array.from({ length: 4 }, (_, i) => worker.store.claim(requests.slice(i * 10, i * 10 + 10), now));
    const counters = Array.from({ length: 40 }, () => progress.addCounts(world.tenantId, id, { sent: 1 }).then(() => 'landed', (error: unknown) => error));
    const [claimed, landed] = await Promise.all([Promise.all(claims), Promise.all(counters)]);
    noRetries.destroy();

    // Assess
    expect(landed.filter((outcome) => outcome !== 'landed')).toEqual([]);
    expect(claimed.reduce((sum, result) => sum + result.claimed.size, 0)).toBe(40);
    expect(await broadcasts.get(world.tenantId, id)).toMatchObject({ status: 'sending', counts: { sent: 40 } });
  });

  it('cancels a row of a cancelled broadcast that a dead worker still held, once, and never one taken over since', async () => {
    // Prepare: a started broadcast to bob and carol; a worker claimed both rows with an email
    // intent and died; the broadcast was then cancelled
    const world = await aWorld();
    await recipients.put(aRecipient({ tenantId: world.tenantId, id: 'carol', email: 'carol@example.com' }));
    const id = await aStartedBroadcast(world, ['bob', 'carol'], ['email']);
    const refs: UnitRef[] = ['bob', 'carol'].map((recipientId) => ({ kind: 'broadcast', tenantId: world.tenantId, broadcastId: id, recipientId }));
    const dead = world.worker();
    const loaded = await dead.store.load(refs);
    const now = world.clock.now();
    await dead.store.claim(
      [...loaded.units.values()].map((unit) => ({ unit, token: 'dead', takeover: false, leaseUntil: now.getTime() + 60_000, intents: ['email'], intent: { status: 'sending', at: now.toISOString(), detail: 'attempt 1' }, providers: [] })),
      now,
    );
    await broadcasts.cancel(world.tenantId, id, now);
    world.clock.advanceSeconds(61);
    // The read sees carol's row as the dead worker left it, but another worker takes it over first.
    const worker = world.worker();
    const before = await worker.store.load(refs);
    await dynamo.documentClient.send(
      new UpdateCommand({ TableName: tables.broadcastRecipients, Key: rowKey(world.tenantId, id, 'carol'), UpdateExpression: 'SET attempts = attempts + :one', ExpressionAttributeValues: { ':one': 1 } }),
    );

    // Act
    const cancelled = await worker.store.cancel([...before.units.values()], world.clock.now());

    // Assess
    expect(cancelled).toEqual({ landed: new Set([unitKey(refs[0] as UnitRef)]), failed: new Map() });
    // A batch read answers in any order.
    const read = await rows.getMany(world.tenantId, id, ['bob', 'carol']);
    const bob = read.find((row) => row.recipientId === 'bob');
    const carol = read.find((row) => row.recipientId === 'carol');
    expect(bob).toMatchObject({ status: 'cancelled', deliveries: { email: { status: 'unconfirmed' } } });
    expect(bob?.leaseUntil).toBeUndefined();
    expect(carol).toMatchObject({ status: 'sending', attempts: 2 });
  });

  it('fails a notification whose recipient was erased between the claim and the write, adding nothing to the inbox', async () => {
    // Prepare
    const world = await aWorld();
    const n = await world.create();
    const worker = world.worker();
    worker.store.beforeCommit = async () => {
      const bob = await recipients.get(world.tenantId, 'bob');
      if (!bob || !(await recipients.remove(bob))) throw new Error('could not erase bob');
    };

    // Act
    const outcome = await outcomeOf(worker, world.refOf(n));

    // Assess
    expect(outcome).toEqual({ kind: 'done', status: 'failed' });
    expect(await notifications.get(world.tenantId, n.id)).toMatchObject({
      status: 'failed',
      lastError: 'Recipient bob no longer exists',
      lastErrorCategory: 'gone',
      deliveries: { inbox: { status: 'failed', errorCategory: 'gone' } },
    });
    expect(await inbox.list(world.tenantId, 'bob')).toEqual([]);
    expect(worker.store.commits).toBe(2);
  });

  it('writes the item anyway on the count its refusal found, and tells that count, when a read moved it between the frame and the write', async () => {
    // Prepare: bob has one unread item and is connected; the frame will announce 2
    const world = await aWorld();
    const old = await oneUnreadAndConnected(world);
    const n = await world.create({ channels: ['inbox', 'websocket'] });
    const worker = world.worker();
    worker.store.beforeCommit = async () => {
      await inbox.markRead(world.tenantId, 'bob', old.id, world.clock.now(), new Date('2030-02-01T00:00:00.000Z'));
    };

    // Act
    const outcome = await outcomeOf(worker, world.refOf(n));

    // Assess
    expect(outcome).toEqual({ kind: 'done', status: 'sent' });
    // The frame announced version 2, which the read made (count 0); the write after it made 3
    expect(framesOf(world, 'notification')).toEqual([expect.objectContaining({ unread: 2, unreadVersion: 2 })]);
    expect(framesOf(world, 'inboxChanged')).toEqual([{ type: 'inboxChanged', unread: 1, unreadVersion: 3 }]);
    expect((await inbox.unreadCount(world.tenantId, 'bob')).unread).toBe(1);
    expect((await live.get(world.tenantId, 'bob')).unread).toBe(1);
    expect(worker.store.commits).toBe(2);
    // The refusal itself carried the count (ReturnValuesOnConditionCheckFailure), on the wire protocol.
    const key = unitKey(world.refOf(n));
    expect(worker.store.results[0]?.verdicts.get(key)).toBe('unreadMoved');
    expect(worker.store.results[0]?.unreadFound.get(key)).toEqual({ unread: 0, unreadVersion: 2 });
    expect(worker.store.results[1]?.verdicts.get(key)).toBe('committed');
  });

  it('delivers two notifications of one recipient in one batch, the counter moving one item at a time', async () => {
    // Prepare
    const world = await aWorld();
    await live.connect(world.tenantId, 'bob', { connectionId: 'c1', connectedAt: world.clock.now().toISOString() }, maxOpenConnectionsPerUser);
    world.sockets.open('c1');
    const first = await world.create({ channels: ['inbox', 'websocket'] });
    const second = await world.create({ channels: ['inbox', 'websocket'] });
    const worker = world.worker();

    // Act
    const outcomes = await worker.deliver(world.refOf(first), world.refOf(second));

    // Assess: each frame announces the exact count, and no write needed putting right
    expect([...outcomes.values()]).toEqual([
      { kind: 'done', status: 'sent' },
      { kind: 'done', status: 'sent' },
    ]);
    expect(framesOf(world, 'notification').map((f) => countOf(f))).toEqual([
      { unread: 1, unreadVersion: 1 },
      { unread: 2, unreadVersion: 2 },
    ]);
    expect(framesOf(world, 'inboxChanged')).toEqual([]);
    expect(worker.store.commits).toBe(2);
    expect((await inbox.unreadCount(world.tenantId, 'bob')).unread).toBe(2);
  });
});

/** The unread count and version a frame carries. */
function countOf(frame: unknown): { unread?: number; unreadVersion?: number } {
  const { unread, unreadVersion } = frame as { unread?: number; unreadVersion?: number };
  return { unread, unreadVersion };
}

/** Every frame posted that carries a count, in the order it was posted. */
function countFrames(world: World): { type: string; unread: number; unreadVersion: number }[] {
  return world.sockets.posted.map((p) => p.payload as { type: string; unread?: number; unreadVersion: number }).filter((f): f is { type: string; unread: number; unreadVersion: number } => f.unread !== undefined);
}

/** What a client shows after the frames arrive in this order, by the published client's rule. */
function shownAfter(frames: readonly { unread?: number; unreadVersion?: number }[]): UnreadCount | undefined {
  let applied: UnreadCount | undefined;
  for (const frame of frames) applied = applyUnread(applied, frame).count;
  return applied;
}

/** Every order of `items` (few: a handful of frames). */
function orders<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [[...items]];
  return items.flatMap((item, i) => orders([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]));
}

describe('the order of the unread counts told (unreadVersion)', () => {
  it('gives a read that lands between a frame and its write an older version than the write, so every arrival order ends on the stored count', async () => {
    // Prepare: bob has one unread item and is connected; a delivery's frame announces 2 (version
    // 2); before its write lands, bob reads the old item through the inbox use case (count 0,
    // version 2, told at once); the delivery's write then makes count 1, version 3
    const world = await aWorld();
    const old = await oneUnreadAndConnected(world);
    const n = await world.create({ channels: ['inbox', 'websocket'] });
    const worker = world.worker();
    const reads = { inbox, live, sockets: world.sockets, clock: world.clock, readRetentionDays: 30 };
    worker.store.beforeCommit = async () => {
      await markInboxItemRead(reads, { tenantId: world.tenantId, sub: 'bob', roles: [] }, old.id);
    };

    // Act
    await outcomeOf(worker, world.refOf(n));

    // Assess: the writes happened read (version 2), then delivery (version 3), and the frames say so
    const stored = await inbox.unreadCount(world.tenantId, 'bob');
    expect(stored).toEqual({ unread: 1, unreadVersion: 3 });
    const frames = countFrames(world);
    expect(frames).toEqual([
      expect.objectContaining({ type: 'notification', unread: 2, unreadVersion: 2 }),
      { type: 'inboxChanged', unread: 0, unreadVersion: 2 },
      { type: 'inboxChanged', unread: 1, unreadVersion: 3 },
    ]);
    for (const order of orders(frames)) expect(shownAfter(order)).toEqual(stored);
  });

  it('delivers to a recipient whose counter was written before versions existed as from version 0, in one write', async () => {
    // Prepare: bob's counter as the code before versions wrote it (3 unread, no version), bob connected
    const world = await aWorld();
    await dynamo.documentClient.send(
      new PutCommand({ TableName: tables.inbox, Item: { pk: `${world.tenantId}#bob`, notificationId: '#unread', unread: 3, 'conn:c1': world.clock.now().toISOString() } }),
    );
    world.sockets.open('c1');
    const n = await world.create({ channels: ['inbox', 'websocket'] });
    const worker = world.worker();

    // Act
    await outcomeOf(worker, world.refOf(n));

    // Assess: the frame announced version 1, which the write's condition (no version yet) made
    expect(framesOf(world, 'notification').map(countOf)).toEqual([{ unread: 4, unreadVersion: 1 }]);
    expect(framesOf(world, 'inboxChanged')).toEqual([]);
    expect(worker.store.commits).toBe(1);
    expect(await inbox.unreadCount(world.tenantId, 'bob')).toEqual({ unread: 4, unreadVersion: 1 });
  });

  it('raises the version past a frame that announced an item already in the inbox, so the count told after it is the newer', async () => {
    // Prepare: bob connected, the notification's item already in his inbox (count 1, version 1):
    // the frame will announce 2, version 2, which no write makes
    const world = await aWorld();
    await live.connect(world.tenantId, 'bob', { connectionId: 'c1', connectedAt: world.clock.now().toISOString() }, maxOpenConnectionsPerUser);
    world.sockets.open('c1');
    const n = await world.create({ channels: ['inbox', 'websocket'] });
    await inbox.add({ tenantId: world.tenantId, recipientId: 'bob', notificationId: n.id, title: n.title, message: n.message, type: n.type, priority: n.priority, createdAt: n.createdAt, deliveredAt: n.createdAt });

    // Act
    const outcome = await outcomeOf(world.worker(), world.refOf(n));

    // Assess
    expect(outcome).toEqual({ kind: 'done', status: 'sent' });
    const stored = await inbox.unreadCount(world.tenantId, 'bob');
    expect(stored).toEqual({ unread: 1, unreadVersion: 3 });
    const frames = countFrames(world);
    expect(frames.map(countOf)).toEqual([
      { unread: 2, unreadVersion: 2 },
      { unread: 1, unreadVersion: 3 },
    ]);
    for (const order of orders(frames)) expect(shownAfter(order)).toEqual(stored);
  });

  it('orders the frames of two deliveries to one recipient side by side, and a read between them, as their writes landed', async () => {
    // Prepare: bob has one unread item and is connected. Two workers (two invocations) each load
    // bob's count (1, version 1) and post a frame announcing the count their write will make;
    // once both have, bob reads the old item, and then both writes go at once
    const world = await aWorld();
    const old = await oneUnreadAndConnected(world);
    const first = await world.create({ channels: ['inbox', 'websocket'] });
    const second = await world.create({ channels: ['inbox', 'websocket'] });
    const [a, b] = [world.worker(), world.worker()];
    const reads = { inbox, live, sockets: world.sockets, clock: world.clock, readRetentionDays: 30 };
    let arrived = 0;
    let release: () => void = () => undefined;
    const bothAtTheirWrite = new Promise<void>((resolve) => (release = resolve));
    const barrier = async (): Promise<void> => {
      arrived += 1;
      if (arrived === 2) {
        await markInboxItemRead(reads, { tenantId: world.tenantId, sub: 'bob', roles: [] }, old.id);
        release();
      }
      await bothAtTheirWrite;
    };
    a.store.beforeCommit = barrier;
    b.store.beforeCommit = barrier;

    // Act
    const outcomes = await Promise.all([outcomeOf(a, world.refOf(first)), outcomeOf(b, world.refOf(second))]);

    // Assess: both delivered; the count stored is 2 (three adds, one read), at version 4
    expect(outcomes).toEqual([
      { kind: 'done', status: 'sent' },
      { kind: 'done', status: 'sent' },
    ]);
    const stored = await inbox.unreadCount(world.tenantId, 'bob');
    expect(stored).toEqual({ unread: 2, unreadVersion: 4 });
    const frames = countFrames(world);
    // Both frames announced (2, version 2) from the same load; the read made version 2 first, so
    // each write was refused and made on what it found: the versions after them order the counts
    expect(frames.filter((f) => f.type === 'notification').map(countOf)).toEqual([
      { unread: 2, unreadVersion: 2 },
      { unread: 2, unreadVersion: 2 },
    ]);
    const newest = Math.max(...frames.map((f) => f.unreadVersion));
    expect(newest).toBe(stored.unreadVersion);
    expect(frames.filter((f) => f.unreadVersion === newest).map(countOf)).toEqual([stored]);
    // Whatever order they arrive in, a client ends on the stored count
    for (const order of orders(frames)) expect(shownAfter(order)).toEqual(stored);
  });
});

describe('transactions that meet another (TransactionConflict)', () => {
  it('writes an outcome again when its commit keeps meeting another transaction, after a backoff, and loses nothing', async () => {
    // Prepare: the commit is cancelled with TransactionConflict on its unread counter once more than
    // the store retries a conflict
    const world = await aWorld();
    const n = await world.create();
    const conflicts = transactConflictRetries + 1;
    let injected = 0;
    const db = interceptTransactions(async (items, send) => {
      const isCommit = items.some((item) => item.Put?.TableName === tables.inbox);
      if (!isCommit || injected >= conflicts) return send();
      injected++;
      throw cancellation(items.map((item) => ({ Code: item.Update?.TableName === tables.inbox ? 'TransactionConflict' : 'None' })));
    });
    const worker = world.worker({ db });

    // Act
    const outcome = await outcomeOf(worker, world.refOf(n));

    // Assess: the store's own retries ran out (it threw), the engine waited and wrote it again
    expect(injected).toBe(conflicts);
    expect(worker.store.commits).toBe(2);
    expect(outcome).toEqual({ kind: 'done', status: 'sent' });
    expect(world.mailer.sent).toHaveLength(1);
    expect(await inbox.list(world.tenantId, 'bob')).toHaveLength(1);
    expect((await inbox.unreadCount(world.tenantId, 'bob')).unread).toBe(1);
    expect(await notifications.get(world.tenantId, n.id)).toMatchObject({ status: 'sent', attempts: 1, deliveries: { inbox: { status: 'sent' } } });
  });

  it('never reads a TransactionConflict beside a failed condition as a refusal: that unit is written again as it was', async () => {
    // Prepare: bob (connected, one unread) and carol get one notification each in one batch; a
    // read moves bob's count before the commit, and DynamoDB also reports a conflict on carol's inbox item
    const world = await aWorld();
    await recipients.put(aRecipient({ tenantId: world.tenantId, id: 'carol', email: 'carol@example.com' }));
    const old = await oneUnreadAndConnected(world);
    const toBob = await world.create({ channels: ['inbox', 'websocket'] });
    const toCarol = await world.create({ recipientId: 'carol', channels: ['inbox'] });
    let conflicted = 0;
    const db = interceptTransactions(async (items, send) => {
      try {
        return await send();
      } catch (error) {
        if (!(error instanceof TransactionCanceledException) || conflicted > 0) throw error;
        const carolsInbox = items.findIndex((item) => item.Put?.TableName === tables.inbox && item.Put.Item?.recipientId === 'carol');
        if (carolsInbox < 0) throw error;
        conflicted++;
        throw cancellation((error.CancellationReasons ?? []).map((reason, index) => (index === carolsInbox ? { Code: 'TransactionConflict' } : { Code: reason.Code ?? 'None', ...(reason.Item ? { Item: reason.Item } : {}) })));
      }
    });
    const worker = world.worker({ db });
    worker.store.beforeCommit = async () => {
      await inbox.markRead(world.tenantId, 'bob', old.id, world.clock.now(), new Date('2030-02-01T00:00:00.000Z'));
    };

    // Act
    const outcomes = await worker.deliver(world.refOf(toBob), world.refOf(toCarol));

    // Assess: carol's outcome is not 'already in the inbox' (which would have lost her item)
    expect(conflicted).toBe(1);
    const carolKey = unitKey(world.refOf(toCarol));
    expect(worker.store.results[0]?.verdicts.get(carolKey)).toBe('notAttempted');
    expect(worker.store.results[1]?.verdicts.get(carolKey)).toBe('committed');
    expect([...outcomes.values()]).toEqual([
      { kind: 'done', status: 'sent' },
      { kind: 'done', status: 'sent' },
    ]);
    expect(await inbox.list(world.tenantId, 'carol')).toHaveLength(1);
    expect((await inbox.unreadCount(world.tenantId, 'carol')).unread).toBe(1);
    expect((await notifications.get(world.tenantId, toCarol.id))?.deliveries.inbox).toEqual({ status: 'sent', at: world.clock.now().toISOString() });
    expect((await inbox.unreadCount(world.tenantId, 'bob')).unread).toBe(1);
  });

  it('gives back what the rows of a broadcast cancelled after their claim reserved in the send budget', async () => {
    // Prepare: three people by e-mail, budgeted; the broadcast is cancelled once their rows are claimed
    const world = await aWorld('2030-01-01T18:00:00.000Z');
    const people = ['w0', 'w1', 'w2'];
    for (const id of people) await recipients.put(aRecipient({ tenantId: world.tenantId, id, email: `${id}@example.com` }));
    const id = await aStartedBroadcast(world, people, ['inbox', 'email']);
    const worker = world.worker({ budgets: { ses: { perSecond: 100 } } });
    const second = Math.floor(world.clock.now().getTime() / 1000);
    let reservedAtClaim: number | undefined;
    worker.store.afterClaim = async () => {
      reservedAtClaim = await usedIn(`ses#all#${second}`);
      await broadcasts.cancel(world.tenantId, id, world.clock.now());
    };
    const refs: UnitRef[] = people.map((recipientId) => ({ kind: 'broadcast', tenantId: world.tenantId, broadcastId: id, recipientId }));

    // Act
    const outcomes = await worker.deliver(...refs);

    // Assess: withdrawn, nothing sent, and the second's budget holds none of their sends
    expect([...outcomes.values()]).toEqual(people.map(() => ({ kind: 'done', status: 'cancelled' })));
    expect(world.mailer.sent).toHaveLength(0);
    expect(reservedAtClaim).toBe(3);
    expect(await usedIn(`ses#all#${second}`)).toBe(0);
  });

  it('gives back what rows released unsent reserved, when their broadcast cannot be read after the claim', async () => {
    // Prepare: two people by e-mail, budgeted with a tenant share; the broadcast's read fails once the rows are claimed
    const world = await aWorld('2030-01-01T19:00:00.000Z');
    const people = ['u0', 'u1'];
    for (const id of people) await recipients.put(aRecipient({ tenantId: world.tenantId, id, email: `${id}@example.com` }));
    const id = await aStartedBroadcast(world, people, ['inbox', 'email']);
    const worker = world.worker({ budgets: { ses: { perSecond: 100, tenantPerSecond: 50 } } });
    const second = Math.floor(world.clock.now().getTime() / 1000);
    const slots = [`ses#all#${second}`, `ses#t:${world.tenantId}#${second}`];
    let reservedAtClaim: (number | undefined)[] = [];
    worker.store.afterClaim = async () => {
      reservedAtClaim = await Promise.all(slots.map(usedIn));
      vi.spyOn(broadcasts, 'get').mockRejectedValueOnce(new Error('read failed'));
    };
    const refs: UnitRef[] = people.map((recipientId) => ({ kind: 'broadcast', tenantId: world.tenantId, broadcastId: id, recipientId }));

    // Act
    const outcomes = await worker.deliver(...refs);

    // Assess: released to be tried again, nothing sent, and neither slot holds their sends
    expect([...outcomes.values()].map((o) => o.kind)).toEqual(['later', 'later']);
    expect(world.mailer.sent).toHaveLength(0);
    expect(reservedAtClaim).toEqual([2, 2]);
    expect(await Promise.all(slots.map(usedIn))).toEqual([0, 0]);
  });

  describe('a write of one row that fails beside others (cancel, withdrawal, hold)', () => {
    /** The endpoint's client, failing as throttled the first single-row update of `recipientId`'s row once `armed()` says so. */
    function failingRowUpdate(world: World, broadcastId: string, recipientId: string, armed: () => boolean = () => true): DynamoDBDocumentClient {
      const key = JSON.stringify(rowKey(world.tenantId, broadcastId, recipientId));
      let failed = false;
      return interceptTransactions(async (items, send) => {
        const update = items.length === 1 ? items[0]?.Update : undefined;
        if (!failed && armed() && update && JSON.stringify(update.Key) === key) {
          failed = true;
          throw new ProvisionedThroughputExceededException({ message: 'The level of configured provisioned throughput for the table was exceeded.', $metadata: {} });
        }
        return send();
      });
    }

    it('withdraws and counts the other rows, and releases the one whose withdrawal failed unsent, to be cancelled when it comes back', async () => {
      // Prepare: three people by e-mail, budgeted; the broadcast is cancelled once their rows are claimed; w1's withdrawal fails
      const world = await aWorld('2030-01-01T20:00:00.000Z');
      const people = ['w0', 'w1', 'w2'];
      for (const id of people) await recipients.put(aRecipient({ tenantId: world.tenantId, id, email: `${id}@example.com` }));
      const id = await aStartedBroadcast(world, people, ['inbox', 'email']);
      let claimed = false;
      const worker = world.worker({ budgets: { ses: { perSecond: 100 } }, db: failingRowUpdate(world, id, 'w1', () => claimed) });
      const second = Math.floor(world.clock.now().getTime() / 1000);
      worker.store.afterClaim = async () => {
        claimed = true;
        await broadcasts.cancel(world.tenantId, id, world.clock.now());
      };
      const refs: UnitRef[] = people.map((recipientId) => ({ kind: 'broadcast', tenantId: world.tenantId, broadcastId: id, recipientId }));
      const w1 = refs[1] as UnitRef;

      // Act
      const outcomes = await worker.deliver(...refs);
      const released = (await rows.getMany(world.tenantId, id, ['w1']))[0];
      const countedFirst = (await broadcasts.get(world.tenantId, id))?.counts.cancelled;
      world.clock.advanceSeconds(1);
      const again = await worker.deliver(w1);

      // Assess: w0 and w2 withdrawn and counted; w1 released unsent (pending, its attempt and
      // reservation given back, no intent left), then cancelled: nothing sent, nothing unconfirmed
      expect(outcomes.get(unitKey(refs[0] as UnitRef))).toEqual({ kind: 'done', status: 'cancelled' });
      expect(outcomes.get(unitKey(refs[2] as UnitRef))).toEqual({ kind: 'done', status: 'cancelled' });
      expect(outcomes.get(unitKey(w1))).toMatchObject({ kind: 'later', at: Date.parse('2030-01-01T20:00:01.000Z') });
      expect(released).toMatchObject({ status: 'pending', attempts: 0, deliveries: {} });
      expect(countedFirst).toBe(2);
      expect(await usedIn(`ses#all#${second}`)).toBe(0);
      expect(again.get(unitKey(w1))).toEqual({ kind: 'done', status: 'cancelled' });
      expect(world.mailer.sent).toHaveLength(0);
      expect((await broadcasts.get(world.tenantId, id))?.counts.cancelled).toBe(3);
      expect((await rows.getMany(world.tenantId, id, ['w1']))[0]).toMatchObject({ status: 'cancelled', deliveries: {} });
    });

    it('cancels and counts the other pending rows of a cancelled broadcast, answers an error for the failed one, and cancels it when it comes back', async () => {
      // Prepare: a broadcast to three people cancelled before any delivery; x1's cancel fails once
      const world = await aWorld('2030-01-01T20:10:00.000Z');
      const people = ['x0', 'x1', 'x2'];
      for (const id of people) await recipients.put(aRecipient({ tenantId: world.tenantId, id }));
      const id = await aStartedBroadcast(world, people, ['inbox']);
      await broadcasts.cancel(world.tenantId, id, world.clock.now());
      const worker = world.worker({ db: failingRowUpdate(world, id, 'x1') });
      const refs: UnitRef[] = people.map((recipientId) => ({ kind: 'broadcast', tenantId: world.tenantId, broadcastId: id, recipientId }));

      // Act
      const first = await worker.deliver(...refs);
      const countedFirst = (await broadcasts.get(world.tenantId, id))?.counts.cancelled;
      const again = await worker.deliver(refs[1] as UnitRef);

      // Assess: two cancelled and counted at once; x1 an error (its message is retried), then cancelled and counted
      expect([...first.values()].map((o) => (o.kind === 'done' ? o.status : o.kind))).toEqual(['cancelled', 'error', 'cancelled']);
      expect(first.get(unitKey(refs[1] as UnitRef))).toMatchObject({ kind: 'error', error: { name: 'ProvisionedThroughputExceededException' } });
      expect(countedFirst).toBe(2);
      expect(again.get(unitKey(refs[1] as UnitRef))).toEqual({ kind: 'done', status: 'cancelled' });
      expect((await broadcasts.get(world.tenantId, id))?.counts.cancelled).toBe(3);
      expect((await rows.getMany(world.tenantId, id, people)).map((row) => row.status)).toEqual(['cancelled', 'cancelled', 'cancelled']);
    });

    it('holds and counts the other rows in quiet hours, answers an error for the failed one, and holds it when it comes back', async () => {
      // Prepare: three people in Paris at 23:30, quiet from 22:00 to 08:00; y1's hold fails once
      const world = await aWorld('2030-01-01T22:30:00.000Z');
      const people = ['y0', 'y1', 'y2'];
      for (const id of people) await recipients.put(aRecipient({ tenantId: world.tenantId, id, timezone: 'Europe/Paris', quietHours: { start: '22:00', end: '08:00' } }));
      const id = await aStartedBroadcast(world, people, ['inbox']);
      const worker = world.worker({ db: failingRowUpdate(world, id, 'y1') });
      const refs: UnitRef[] = people.map((recipientId) => ({ kind: 'broadcast', tenantId: world.tenantId, broadcastId: id, recipientId }));
      const morning = Date.parse('2030-01-02T07:00:00.000Z');

      // Act
      const first = await worker.deliver(...refs);
      const heldFirst = (await broadcasts.get(world.tenantId, id))?.counts.held;
      const again = await worker.deliver(refs[1] as UnitRef);

      // Assess: two held and counted at once; y1 an error, then held and counted
      expect([...first.values()].map((o) => (o.kind === 'later' ? o.cause : o.kind))).toEqual(['quietHours', 'error', 'quietHours']);
      expect(heldFirst).toBe(2);
      expect(again.get(unitKey(refs[1] as UnitRef))).toMatchObject({ kind: 'later', at: morning, cause: 'quietHours' });
      expect((await broadcasts.get(world.tenantId, id))?.counts.held).toBe(3);
      expect((await rows.getMany(world.tenantId, id, people)).map((row) => [row.status, row.heldUntil])).toEqual(people.map(() => ['pending', new Date(morning).toISOString()]));
    });
  });

  it('puts neither a budget slot nor a broadcast item in any transaction', async () => {
    // Prepare: a started broadcast to 12 people with e-mail, budgeted, claimed by three workers at once
    const world = await aWorld('2030-01-01T17:00:00.000Z');
    const people = Array.from({ length: 12 }, (_, i) => `m${String(i).padStart(2, '0')}`);
    for (const id of people) await recipients.put(aRecipient({ tenantId: world.tenantId, id, email: `${id}@example.com` }));
    const id = await aStartedBroadcast(world, people, ['inbox', 'email']);
    const tablesInTransactions = new Set<string>();
    const db = interceptTransactions(async (items, send) => {
      for (const item of items) {
        const action = item.Put ?? item.Update ?? item.Delete ?? item.ConditionCheck;
        if (action?.TableName) tablesInTransactions.add(action.TableName);
      }
      return send();
    });
    const budgets: RateBudgets = { ses: { perSecond: 100, tenantPerSecond: 50 } };
    const workers = [0, 1, 2].map(() => world.worker({ budgets, db }));
    const refs: UnitRef[] = people.map((recipientId) => ({ kind: 'broadcast', tenantId: world.tenantId, broadcastId: id, recipientId }));
    const second = Math.floor(world.clock.now().getTime() / 1000);

    // Act
    const outcomes = await Promise.all(workers.map((w, i) => w.deliver(...refs.slice(i * 4, i * 4 + 4))));

    // Assess
    expect(outcomes.flatMap((o) => [...o.values()])).toEqual(Array.from({ length: 12 }, () => ({ kind: 'done', status: 'sent' })));
    expect(tablesInTransactions.has(tables.rateLimits)).toBe(false);
    expect(tablesInTransactions.has(tables.broadcasts)).toBe(false);
    expect(tablesInTransactions.has(tables.broadcastRecipients)).toBe(true);
    expect(await usedIn(`ses#all#${second}`)).toBe(12);
    expect(await usedIn(`ses#t:${world.tenantId}#${second}`)).toBe(12);
  });
});

describe('sweeps on the real protocol', () => {
  it('puts a stuck notification back, and delivering every copy (the sweep run twice, the late original) sends once', async () => {
    // Prepare: due at noon, nothing delivered it; the sweep runs at 12:06
    const world = await aWorld();
    const n = await world.create();
    const queue = new FakeDeliveryEnqueuer();
    const sweeps = new DynamoNotificationSweeps(dynamo.documentClient, tables.notifications);
    const broadcastSweeps = { sweeps: new DynamoBroadcastSweeps(dynamo.documentClient, tables.broadcasts), fanout: new FakeFanoutQueue() };
    world.clock.advanceSeconds(360);
    const sweep = (): ReturnType<typeof stuckRetrySweep> =>
      stuckRetrySweep({ sweeps, queue, broadcasts: broadcastSweeps, clock: world.clock, settings: { stuckAfterSeconds: 300, maxItems: 1000 }, remainingMs: () => 60_000 });

    // Act
    await sweep();
    await sweep();
    const queued = queue.messages.filter((m) => m.tenantId === world.tenantId);
    await Promise.all([...queued.map((m) => world.worker().deliver(...refsOfDeliveryMessage(m))), world.worker().deliver(world.refOf(n))]);
    await sweep();

    // Assess
    expect(notificationIdsOf(queued)).toEqual([n.id, n.id]);
    expect(queue.messages.filter((m) => m.tenantId === world.tenantId)).toHaveLength(2);
    expect(world.mailer.sent).toHaveLength(1);
    expect(await notifications.get(world.tenantId, n.id)).toMatchObject({ status: 'sent', attempts: 1 });
  });

  it('deletes each old cancelled notification once when two cleanups run at the same time', async () => {
    // Prepare: old cancellations of this tenant (the cutoff is 30 days before the clock)
    const world = await aWorld();
    const sweeps = new DynamoNotificationSweeps(dynamo.documentClient, tables.notifications);
    const made: Notification[] = [];
    for (let i = 0; i < 12; i++) {
      const n = await world.create();
      await notifications.cancel(world.tenantId, n.id, new Date(world.clock.now().getTime() - (40 + i) * 86_400_000));
      made.push(n);
    }
    const cleanup = (): ReturnType<typeof cleanupSweep> =>
      cleanupSweep({ sweeps, clock: world.clock, settings: { cancelledRetentionDays: 30, maxItems: 10_000 }, remainingMs: () => 60_000 });

    // Act
    const [a, b] = await Promise.all([cleanup(), cleanup()]);
    const after = await cleanup();

    // Assess: other tests' cancellations are younger than the cutoff, so only these count
    expect(a.deleted + b.deleted).toBe(12);
    expect(after).toMatchObject({ deleted: 0, before_cutoff: 0 });
    for (const n of made) expect(await notifications.get(world.tenantId, n.id)).toBeUndefined();
  });
});

describe('send-rate budgets', () => {
  /** Bob, Carol… one recipient with an address per email, and an email-only notification for each. */
  async function emails(world: World, count: number): Promise<UnitRef[]> {
    const refs: UnitRef[] = [];
    for (let i = 0; i < count; i++) {
      await recipients.put(aRecipient({ tenantId: world.tenantId, id: `r${i}`, email: `r${i}@example.com` }));
      refs.push(world.refOf(await world.create({ recipientId: `r${i}`, channels: ['email'] })));
    }
    return refs;
  }

  function perSecond(times: readonly number[]): number[] {
    const counts = new Map<number, number>();
    for (const t of times) counts.set(Math.floor(t / 1000), (counts.get(Math.floor(t / 1000)) ?? 0) + 1);
    return [...counts.values()];
  }

  it('never claims more sends in a second than the budget, even for two workers at once', async () => {
    // Prepare: 2 emails a second; two workers with 3 emails each, at the same instant
    const world = await aWorld('2030-01-01T13:00:00.000Z');
    const refs = await emails(world, 6);
    const budgets: RateBudgets = { ses: { perSecond: 2 } };
    const [a, b] = [world.worker({ budgets }), world.worker({ budgets })];
    const second = Math.floor(world.clock.now().getTime() / 1000);

    // Act
    const [outA, outB] = await Promise.all([a.deliver(...refs.slice(0, 3)), b.deliver(...refs.slice(3))]);

    // Assess
    expect([...outA.values(), ...outB.values()]).toEqual(Array.from({ length: 6 }, () => ({ kind: 'done', status: 'sent' })));
    const used = await Promise.all([0, 1, 2, 3].map((i) => usedIn(`ses#all#${second + i}`)));
    for (const u of used) expect(u ?? 0).toBeLessThanOrEqual(2);
    expect(used.reduce<number>((sum, u) => sum + (u ?? 0), 0)).toBe(6);
    expect(world.sendTimes).toHaveLength(6);
    for (const n of perSecond(world.sendTimes)) expect(n).toBeLessThanOrEqual(2);
  });

  it('sends e-mail at a rate of 0.5 a second, one every other second, never two within two seconds, for two workers at once', async () => {
    // Prepare: SES's MaxSendRate of 0.5 (a Double); five e-mails, half to each of two workers,
    // which deliver what they deferred again when the queue would bring it back
    const world = await aWorld('2030-01-01T21:00:00.400Z');
    const refs = await emails(world, 5);
    const budgets: RateBudgets = { ses: { perSecond: 0.5 } };
    const workers = [world.worker({ budgets }), world.worker({ budgets })];
    const first = Math.floor(world.clock.now().getTime() / 1000);

    // Act
    let waiting = refs;
    for (let round = 0; waiting.length > 0 && round < 20; round++) {
      const halves = [waiting.filter((_, i) => i % 2 === 0), waiting.filter((_, i) => i % 2 === 1)];
      const outcomes = await Promise.all(halves.map((half, i) => (half.length > 0 ? workers[i]?.deliver(...half) : undefined)));
      const later = waiting.flatMap((ref) => {
        const outcome = outcomes.map((o) => o?.get(unitKey(ref))).find((o) => o !== undefined);
        return outcome?.kind === 'later' ? [{ ref, at: outcome.at }] : [];
      });
      if (later.length > 0) world.clock.set(new Date(Math.max(world.clock.now().getTime(), Math.min(...later.map((l) => l.at)))));
      waiting = later.map((l) => l.ref);
    }

    // Assess: all sent, each once and on its first attempt (waiting spent none)
    expect(waiting).toEqual([]);
    for (const ref of refs) {
      expect(await notifications.get(world.tenantId, ref.kind === 'notification' ? ref.notificationId : '')).toMatchObject({ status: 'sent', attempts: 1 });
    }
    expect(world.mailer.sent).toHaveLength(5);
    const seconds = world.sendTimes.map((t) => Math.floor(t / 1000)).sort((a, b) => a - b);
    expect(seconds[0]).toBe(first);
    // Every send in an even second, none within two seconds of another: never faster than 0.5 a second.
    for (const second of seconds) expect(second % 2).toBe(0);
    for (let i = 1; i < seconds.length; i++) expect((seconds[i] ?? 0) - (seconds[i - 1] ?? 0)).toBeGreaterThanOrEqual(2);
    for (const second of seconds) expect(await usedIn(`ses#all#${second}`)).toBe(1);
  });

  it('defers what no slot within the look-ahead has room for to a later second, claiming nothing of it', async () => {
    // Prepare: 1 email a second, 6 emails: four slots (now and the three after) take four
    const world = await aWorld('2030-01-01T14:00:00.000Z');
    const refs = await emails(world, 6);
    const second = Math.floor(world.clock.now().getTime() / 1000);

    // Act
    const outcomes = await world.worker({ budgets: { ses: { perSecond: 1 } } }).deliver(...refs);

    // Assess
    const values = refs.map((ref) => outcomes.get(unitKey(ref)));
    expect(values.filter((o) => o?.kind === 'done' && o.status === 'sent')).toHaveLength(4);
    expect(values.filter((o) => o?.kind === 'later')).toEqual([
      { kind: 'later', at: (second + 4) * 1000, cause: 'budget', reason: 'provider send budget spent' },
      { kind: 'later', at: (second + 4) * 1000, cause: 'budget', reason: 'provider send budget spent' },
    ]);
    const deferred = refs.filter((ref) => outcomes.get(unitKey(ref))?.kind === 'later');
    for (const ref of deferred) {
      const id = ref.kind === 'notification' ? ref.notificationId : '';
      expect(await notifications.get(world.tenantId, id)).toMatchObject({ status: 'pending', attempts: 0 });
    }
    expect(perSecond(world.sendTimes)).toEqual([1, 1, 1, 1]);
  });

  it('sends nothing of a unit whose reserved second passed before its sends could start, and plans it again whole for a second to come', async () => {
    // Prepare: 2 emails a second; the claim's transaction commits 1.2 s after the plan was made
    const world = await aWorld('2030-01-01T16:00:00.100Z');
    const n = await world.create({ channels: ['inbox', 'email'] });
    const second = Math.floor(world.clock.now().getTime() / 1000);
    const worker = world.worker({ budgets: { ses: { perSecond: 2 } } });
    worker.store.beforeClaim = async () => {
      world.clock.advanceSeconds(1.2);
    };

    // Act
    const late = await outcomeOf(worker, world.refOf(n));
    const afterLate = await notifications.get(world.tenantId, n.id);
    const inboxAfterLate = await inbox.list(world.tenantId, 'bob');
    const again = await outcomeOf(worker, world.refOf(n));

    // Assess: nothing of the unit went on its old reservation, not even its inbox item; it was
    // released at once (the claim ended at .300 of the next second), the attempt handed back, and it
    // all went out on a new reservation
    expect(late).toMatchObject({ kind: 'later', at: (second + 1) * 1000 + 300, cause: 'retry' });
    expect(afterLate).toMatchObject({ status: 'pending', attempts: 0, deliveries: {} });
    expect(inboxAfterLate).toEqual([]);
    expect(again).toEqual({ kind: 'done', status: 'sent' });
    expect(world.sendTimes).toEqual([(second + 1) * 1000 + 300]);
    expect(await inbox.list(world.tenantId, 'bob')).toHaveLength(1);
    // The first reservation is spent for nothing (conservative); the send counts in its own second.
    expect(await usedIn(`ses#all#${second}`)).toBe(1);
    expect(await usedIn(`ses#all#${second + 1}`)).toBe(1);
  });

  it('does not text when the reserved second ends during the opt-out check, and texts on a new reservation', async () => {
    // Prepare: 2 texts a second; the first opt-out check takes 1.5 s, then SNS is quick again
    const world = await aWorld('2030-01-01T17:00:00.200Z');
    await recipients.put(aRecipient({ tenantId: world.tenantId, id: 'tess', phone: '+14155550100' }));
    const n = await world.create({ recipientId: 'tess', channels: ['inbox', 'sms'] });
    const second = Math.floor(world.clock.now().getTime() / 1000);
    const texted: number[] = [];
    let slowCheck = true;
    const sms: SmsSender = {
      async send(_phone, _text, options) {
        if (slowCheck) world.clock.advanceSeconds(1.5);
        slowCheck = false;
        options?.beforePublish?.();
        texted.push(world.clock.now().getTime());
        return { messageId: 'm-1' };
      },
    };
    const worker = world.worker({ budgets: { 'sns-sms': { perSecond: 2 } }, sms });

    // Act
    const late = await outcomeOf(worker, world.refOf(n));
    const afterLate = await notifications.get(world.tenantId, n.id);
    const again = await outcomeOf(worker, world.refOf(n));

    // Assess: the text waited for a new reservation, its attempt handed back; the inbox, already
    // written, stays as it is when a provider throttles
    expect(late).toMatchObject({ kind: 'later', cause: 'retry', reason: expect.stringContaining('send-budget second ended') });
    expect(afterLate).toMatchObject({ status: 'pending', attempts: 0, deliveries: { inbox: { status: 'sent' } } });
    expect(afterLate?.deliveries.sms).toBeUndefined();
    expect(again).toEqual({ kind: 'done', status: 'sent' });
    // Tried again at .700 of the next second: less than the 500 ms a send in the current second
    // needs were left, so it took the second after, and texted at its start.
    expect(texted).toEqual([(second + 2) * 1000]);
    expect(await usedIn(`sns-sms#all#${second + 2}`)).toBe(1);
  });

  it('waits again when its sleep wakes before the second it reserved, sending nothing early', async () => {
    // Prepare: 400 ms of this second left, less than a send in the current second needs: the e-mail
    // waits for the next second; its first sleep wakes 300 ms early, as a timer on a busy event loop does
    const world = await aWorld('2030-01-01T18:10:00.600Z');
    const [ref] = await emails(world, 1);
    if (!ref) throw new Error('no unit');
    const second = Math.floor(world.clock.now().getTime() / 1000);
    let early = true;
    const sleeps: number[] = [];
    const sleep = async (ms: number): Promise<void> => {
      sleeps.push(ms);
      world.clock.advanceSeconds((early ? ms - 300 : ms) / 1000);
      early = false;
    };

    // Act
    const outcomes = await world.worker({ budgets: { ses: { perSecond: 1 } }, sleep }).deliver(ref);

    // Assess: the sleep of 400 ms woke 300 ms short; it slept the rest, and sent at its second's start
    expect(outcomes.get(unitKey(ref))).toEqual({ kind: 'done', status: 'sent' });
    expect(sleeps).toEqual([400, 300]);
    expect(world.sendTimes).toEqual([(second + 1) * 1000]);
  });

  it('plans the e-mail again, keeping what the other channels did, when its second ends while the unit is sending', async () => {
    // Prepare: 2 emails a second; bob is connected, and the WebSocket post takes a whole second
    const world = await aWorld('2030-01-01T16:30:00.100Z');
    await live.connect(world.tenantId, 'bob', { connectionId: 'c-slow', connectedAt: world.clock.now().toISOString() }, maxOpenConnectionsPerUser);
    world.sockets.open('c-slow');
    const post = world.sockets.post.bind(world.sockets);
    world.sockets.post = (connectionId, payload) => {
      world.clock.advanceSeconds(1);
      return post(connectionId, payload);
    };
    const n = await world.create({ channels: ['inbox', 'websocket', 'email'] });
    const second = Math.floor(world.clock.now().getTime() / 1000);
    const worker = world.worker({ budgets: { ses: { perSecond: 2 } } });

    // Act
    const late = await outcomeOf(worker, world.refOf(n));
    const afterLate = await notifications.get(world.tenantId, n.id);

    // Assess: the frame and the inbox item are kept; only the e-mail waits, its attempt handed back
    expect(late).toMatchObject({ kind: 'later', cause: 'retry' });
    expect(afterLate).toMatchObject({ status: 'pending', attempts: 0, deliveries: { inbox: { status: 'sent' }, websocket: { status: 'sent' } } });
    expect(afterLate?.deliveries.email).toBeUndefined();
    expect(world.mailer.sendCalls).toBe(0);
    expect(await usedIn(`ses#all#${second}`)).toBe(1);
  });

  it('gives back the room a unit reserved when another worker changed it before the claim', async () => {
    // Prepare: 5 emails a second; a rival moves the second unit on after the batch was read
    const world = await aWorld('2030-01-01T18:20:00.000Z');
    const [first, second] = await emails(world, 2);
    if (!first || !second || second.kind !== 'notification') throw new Error('no units');
    const slot = Math.floor(world.clock.now().getTime() / 1000);
    const worker = world.worker({ budgets: { ses: { perSecond: 5 } } });
    worker.store.beforeClaim = async () => {
      await dynamo.documentClient.send(
        new UpdateCommand({ TableName: tables.notifications, Key: notificationKey(world.tenantId, second.notificationId), UpdateExpression: 'SET attempts = attempts + :one', ExpressionAttributeValues: { ':one': 1 } }),
      );
    };

    // Act
    const outcomes = await worker.deliver(first, second);

    // Assess: both were reserved before the claim; the one lost handed its send back
    expect(outcomes.get(unitKey(first))).toEqual({ kind: 'done', status: 'sent' });
    expect(outcomes.get(unitKey(second))).toMatchObject({ kind: 'later', cause: 'changed' });
    expect(world.mailer.sent).toHaveLength(1);
    expect(await usedIn(`ses#all#${slot}`)).toBe(1);
  });

  it('learns how full a slot another worker filled from the refusal, and sends in the next second without asking again', async () => {
    // Prepare: another worker already spent this second's 2 sends
    const world = await aWorld('2030-01-01T15:00:00.000Z');
    const [ref] = await emails(world, 1);
    if (!ref) throw new Error('no unit');
    const second = Math.floor(world.clock.now().getTime() / 1000);
    await dynamo.documentClient.send(new PutCommand({ TableName: tables.rateLimits, Item: { pk: `ses#all#${second}`, used: 2 } }));
    const worker = world.worker({ budgets: { ses: { perSecond: 2 } } });

    // Act
    const outcome = await outcomeOf(worker, ref);
    const nextPlan = worker.budgets.plan([{ key: 'another', tenantId: world.tenantId, providers: ['ses'] }], new Date(second * 1000));

    // Assess
    expect(outcome).toEqual({ kind: 'done', status: 'sent' });
    expect(world.sendTimes).toEqual([(second + 1) * 1000]);
    expect(await usedIn(`ses#all#${second}`)).toBe(2);
    expect(await usedIn(`ses#all#${second + 1}`)).toBe(1);
    // It knows the first second is full, and that the next has one send left.
    expect(nextPlan.sendAt.get('another')).toBe((second + 1) * 1000);
    expect(nextPlan.reservations).toEqual([{ pk: `ses#all#${second + 1}`, n: 1, capacity: 2 }]);
  });
});

describe('a hold ends with the attempt it held back', () => {
  it('takes the hold off a notification and a row released to a retry, and counts the row off its broadcast', async () => {
    // Prepare: bob in Paris at 23:30, quiet from 22:00 to 08:00; a notification and a broadcast to him, both held
    const world = await aWorld('2030-01-01T22:30:00.000Z');
    await recipients.put(aRecipient({ tenantId: world.tenantId, id: 'bob', email: 'bob@example.com', timezone: 'Europe/Paris', quietHours: { start: '22:00', end: '08:00' } }));
    const n = await world.create({ channels: ['email'] });
    const id = await aStartedBroadcast(world, ['bob'], ['email']);
    const row: UnitRef = { kind: 'broadcast', tenantId: world.tenantId, broadcastId: id, recipientId: 'bob' };
    const worker = world.worker();
    await worker.deliver(world.refOf(n), row);
    const heldBefore = [(await notifications.get(world.tenantId, n.id))?.heldUntil, (await broadcasts.get(world.tenantId, id))?.counts.held];

    // Act: at the window's end SES is unavailable for both sends, which are to be tried again
    world.clock.set(new Date('2030-01-02T07:00:00.000Z'));
    world.mailer.failures.add(Object.assign(new Error('Service unavailable'), { name: 'ServiceUnavailable', $metadata: { httpStatusCode: 503 } }));
    world.mailer.failures.add(Object.assign(new Error('Service unavailable'), { name: 'ServiceUnavailable', $metadata: { httpStatusCode: 503 } }));
    const outcomes = await worker.deliver(world.refOf(n), row);

    // Assess
    expect(heldBefore).toEqual(['2030-01-02T07:00:00.000Z', 1]);
    expect([...outcomes.values()].map((o) => o.kind)).toEqual(['later', 'later']);
    const stored = await notifications.get(world.tenantId, n.id);
    expect(stored).toMatchObject({ status: 'pending', lastErrorCategory: expect.any(String) as string });
    expect(stored).not.toHaveProperty('heldUntil');
    expect(stored).not.toHaveProperty('heldReason');
    const [storedRow] = await rows.getMany(world.tenantId, id, ['bob']);
    expect(storedRow).toMatchObject({ status: 'pending' });
    expect(storedRow).not.toHaveProperty('heldUntil');
    expect((await broadcasts.get(world.tenantId, id))?.counts.held).toBe(0);
  });
});
