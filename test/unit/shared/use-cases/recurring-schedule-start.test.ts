/**
 * The StartDate a recurring definition's schedule gets, on the local Scheduler (which refuses a
 * StartDate more than 5 minutes past and starts a rate without one at the call, as EventBridge
 * Scheduler does), under a clock the test moves: a PATCH that does not change the expression
 * keeps a rate's times and fires nothing; a definition whose `startAt` has passed can still be
 * changed, paused and resumed; a past `startAt` is read on its rate's grid.
 */
import { CreateScheduleGroupCommand, GetScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { startFauxqs } from 'fauxqs';
import type { FauxqsServer } from 'fauxqs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSchedulerEmulator } from '../../../../local/scheduler-emulator.ts';
import type { SchedulerEmulator } from '../../../../local/scheduler-emulator.ts';
import { EventBridgeRecurringScheduler, recurringScheduleName } from '../../../../shared/adapters/eventbridge-recurring-scheduler.ts';
import { SqsFanoutQueue } from '../../../../shared/adapters/sqs-broadcast-queues.ts';
import { toRecurringView } from '../../../../shared/domain/recurring.ts';
import { createRecurringBodySchema, patchRecurringBodySchema } from '../../../../shared/domain/schemas.ts';
import { logger } from '../../../../shared/observability/logger.ts';
import { createRecurring, patchRecurring, upcomingOccurrences } from '../../../../shared/use-cases/recurring.ts';
import type { RecurringDeps } from '../../../../shared/use-cases/recurring.ts';
import { aBroadcastWorld } from '../../fakes/broadcast-world.ts';
import { admin, aRecipient } from '../../fakes/fixtures.ts';
import { InMemoryCreateRecords } from '../../fakes/index.ts';
import { manualClock } from '../../fakes/manual-clock.ts';
import { InMemoryRecurringStore } from '../../fakes/recurring-store.ts';
import type { ValidationError } from '../../../../shared/errors.ts';

const region = 'us-east-1';
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
const groupName = 'herald-recurring-test';
const minute = 60_000;
const hour = 60 * minute;

let fauxqs: FauxqsServer;
let emulator: SchedulerEmulator;
let client: SchedulerClient;
let sqs: SQSClient;
let targetUrl: string;
let clock: ReturnType<typeof manualClock>;
let deps: RecurringDeps;
let queues = 0;

beforeAll(async () => {
  logger.setLogLevel('SILENT');
  fauxqs = await startFauxqs({ port: 0, logger: false });
});

afterAll(async () => {
  await fauxqs.stop();
});

beforeEach(async () => {
  // A whole hour, so that the times read plainly.
  clock = manualClock(Math.ceil(Date.now() / hour) * hour);
  emulator = await startSchedulerEmulator({ region, sqsEndpoint: fauxqs.address, log: () => undefined, clock });
  client = new SchedulerClient({ region, endpoint: emulator.endpoint, credentials });
  await client.send(new CreateScheduleGroupCommand({ Name: groupName }));
  queues += 1;
  const target = fauxqs.createQueue(`recurring-start-${queues}`);
  const deadLetters = fauxqs.createQueue(`recurring-start-${queues}-dlq`);
  targetUrl = target.queueUrl;
  sqs = new SQSClient({ region, endpoint: fauxqs.address, credentials });
  const world = aBroadcastWorld();
  await world.recipients.put(aRecipient({ id: 'bob' }));
  deps = {
    recurring: new InMemoryRecurringStore(),
    scheduler: new EventBridgeRecurringScheduler(
      client,
      () => ({ groupName, roleArn: 'arn:aws:iam::000000000000:role/herald-scheduler', targetArn: target.queueArn, deadLetterArn: deadLetters.queueArn, leadSeconds: 60, firesPerSecond: 100 }),
      new SqsFanoutQueue(sqs, target.queueUrl),
    ),
    recipients: world.recipients,
    clock: { now: () => new Date(clock.now()) },
  };
});

afterEach(async () => {
  client.destroy();
  sqs.destroy();
  await emulator.stop();
});

async function create(schedule: Record<string, unknown>): Promise<string> {
  const body = createRecurringBodySchema.parse({ recipients: ['bob'], title: 'Digest', message: 'Hello', schedule });
  return (await createRecurring(deps, admin, body)).id;
}

async function patch(id: string, body: Record<string, unknown>): Promise<number[]> {
  const changed = await patchRecurring(deps, admin, id, patchRecurringBodySchema.parse(body));
  return upcomingOccurrences(changed, new Date(clock.now()));
}

async function startDateOf(id: string): Promise<number | undefined> {
  return (await client.send(new GetScheduleCommand({ Name: recurringScheduleName(id), GroupName: groupName }))).StartDate?.getTime();
}

function nextFireOf(id: string): number | undefined {
  return emulator.listSchedules().find((view) => view.name === recurringScheduleName(id))?.fireAt.getTime();
}

describe('the StartDate of a recurring schedule', () => {
  it('starts a new rate at its creation, and keeps its times through a PATCH of its title, a pause and a resume', async () => {
    // Prepare: rate(1 hour) created at t0 fires at t0, then t0+1h; it is t0+1h30 now
    const t0 = clock.now();
    const id = await create({ rate: '1 hour', timezone: 'UTC' });
    const createdStart = await startDateOf(id);
    clock.advance(90 * minute);

    // Act
    const afterTitle = await patch(id, { title: 'Daily digest' });
    const fireAfterTitle = nextFireOf(id);
    await patch(id, { paused: true });
    clock.advance(minute);
    const afterResume = await patch(id, { paused: false });

    // Assess: never at the PATCH (t0+1h30, as a rate without StartDate would), always on t0's grid
    expect(createdStart).toBeUndefined();
    expect(afterTitle[0]).toBe(t0 + 2 * hour);
    expect(fireAfterTitle).toBe(t0 + 2 * hour);
    expect(await startDateOf(id)).toBe(t0 + 2 * hour);
    expect(afterResume.slice(0, 2)).toEqual([t0 + 2 * hour, t0 + 3 * hour]);
    expect(nextFireOf(id)).toBe(t0 + 2 * hour);
  });

  it('starts a changed rate afresh at the PATCH, as a new one starts at its creation', async () => {
    // Prepare
    const t0 = clock.now();
    const id = await create({ rate: '1 hour', timezone: 'UTC' });
    clock.advance(90 * minute);

    // Act
    const upcoming = await patch(id, { schedule: { rate: '2 hours', timezone: 'UTC' } });

    // Assess: the new rate counts from the PATCH (where it fired), every 2 hours
    expect(await startDateOf(id)).toBeUndefined();
    expect(nextFireOf(id)).toBe(t0 + 90 * minute + 2 * hour);
    expect(upcoming[0]).toBe(t0 + 90 * minute + 2 * hour);
  });

  it('lets a definition whose startAt has passed be changed, paused and resumed, on its own grid', async () => {
    // Prepare: rate(1 day) from t0+1m; cron from t0+1m; it is t0+10m now, past the 5 minutes EventBridge allows a StartDate
    const t0 = clock.now();
    const rate = await create({ rate: '1 day', timezone: 'UTC', startAt: new Date(t0 + minute).toISOString() });
    const cron = await create({ cron: '0 9 * * *', timezone: 'Europe/Paris', startAt: new Date(t0 + minute).toISOString() });
    const startsAsked = [await startDateOf(rate), await startDateOf(cron)];
    clock.advance(10 * minute);

    // Act
    await patch(rate, { title: 'Renamed' });
    await patch(rate, { paused: true });
    const resumed = await patch(rate, { paused: false });
    await patch(cron, { paused: true });
    const cronResumed = await patch(cron, { paused: false });

    // Assess: the rate's next start on its grid; the cron without a StartDate, its times unchanged
    expect(startsAsked).toEqual([t0 + minute, t0 + minute]);
    expect(await startDateOf(rate)).toBe(t0 + minute + 24 * hour);
    expect(resumed[0]).toBe(t0 + minute + 24 * hour);
    expect(nextFireOf(rate)).toBe(t0 + minute + 24 * hour);
    expect(await startDateOf(cron)).toBeUndefined();
    expect(nextFireOf(cron)).toBe(cronResumed[0]);
  });

  it('reads a startAt already past on the rate\'s grid instead of refusing it', async () => {
    // Prepare
    const t0 = clock.now();

    // Act: every hour from t0-2h30: t0-30m was the last, t0+30m is the next
    const id = await create({ rate: '1 hour', timezone: 'UTC', startAt: new Date(t0 - 150 * minute).toISOString() });

    // Assess
    expect(await startDateOf(id)).toBe(t0 + 30 * minute);
    expect(nextFireOf(id)).toBe(t0 + 30 * minute);
  });

  it.each([
    ['a cron of 30 February', { cron: '0 9 30 2 *', timezone: 'UTC' }, 'schedule.cron'],
    ['an end already past', { rate: '1 day', timezone: 'UTC', startAt: '2020-01-01T00:00:00Z', endAt: '2020-06-01T00:00:00Z' }, 'schedule.endAt'],
  ])('refuses to create a definition that would never fire (%s), writing nothing', async (_case, schedule, field) => {
    // Act
    const error = await create(schedule).catch((e: unknown) => e);

    // Assess
    expect((error as ValidationError).details).toEqual([expect.objectContaining({ field })]);
    expect((deps.recurring as InMemoryRecurringStore).definitions.size).toBe(0);
    expect(emulator.listSchedules()).toEqual([]);
  });

  it('starts a new rate at once with a clock that moves between its reads, as every real clock does', async () => {
    // Prepare: each reading of the use case's clock is a millisecond later than the one before
    let reads = 0;
    deps = { ...deps, clock: { now: () => new Date(clock.now() + reads++) } };

    // Act
    const id = await create({ rate: '1 day', timezone: 'UTC' });

    // Assess: no StartDate, as on AWS a rate without one fires at once
    expect(await startDateOf(id)).toBeUndefined();
  });

  it('starts a rate at once when its startAt arrives a second or two past, as a client saying "from now" meets it', async () => {
    // Prepare: startAt read from the client's clock 2 s before the request arrived
    const t0 = clock.now();

    // Act
    const id = await create({ rate: '1 day', timezone: 'UTC', startAt: new Date(t0 - 2_000).toISOString() });
    const stored = await (deps.recurring as InMemoryRecurringStore).get('', id);

    // Assess: no StartDate (it fires at once, as its first occurrence), the next a day later, startAt taken as now
    expect(await startDateOf(id)).toBeUndefined();
    expect(stored?.schedule.startAt).toBe(new Date(t0).toISOString());
    expect(stored ? upcomingOccurrences(stored, new Date(t0))[0] : undefined).toBe(t0 + 24 * hour);
  });

  it('fires a rate whose startAt has milliseconds at the whole second after it, which the preview shows and the occurrence records', async () => {
    // Prepare
    const t0 = clock.now();
    const startAt = t0 + 27_632;

    // Act
    const id = await create({ rate: '1 hour', timezone: 'UTC', startAt: new Date(startAt).toISOString() });
    const stored = await (deps.recurring as InMemoryRecurringStore).get('', id);
    const view = stored ? toRecurringView(stored, t0, upcomingOccurrences(stored, new Date(t0))) : {};
    clock.advance(30_000);
    const received = await sqs.send(new ReceiveMessageCommand({ QueueUrl: targetUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 5 }));

    // Assess: never before startAt, and the preview's time is the occurrence's
    expect(await startDateOf(id)).toBe(t0 + 28_000);
    expect((view as { nextOccurrences: { at: string }[] }).nextOccurrences[0]?.at).toBe(new Date(t0 + 28_000).toISOString());
    expect((received.Messages ?? []).map((m) => (JSON.parse(m.Body ?? '{}') as { at: string }).at)).toEqual([new Date(t0 + 28_000).toISOString().replace('.000Z', 'Z')]);
  });

  it('puts a rate with no period left before its end DISABLED when it is renamed, so nothing fires off its grid', async () => {
    // Prepare: every day from t0 until t0+36h; it is t0+30h, the next day's time (t0+48h) is past the end
    const t0 = clock.now();
    const id = await create({ rate: '1 day', timezone: 'UTC', endAt: new Date(t0 + 36 * hour).toISOString() });
    clock.advance(30 * hour);

    // Act
    const upcoming = await patch(id, { title: 'Renamed' });

    // Assess
    expect(upcoming).toEqual([]);
    expect(emulator.listSchedules().find((view) => view.name === recurringScheduleName(id))?.state).toBe('DISABLED');
  });

  it("reads EventBridge's L alone in day-of-week as Saturday", async () => {
    // Act
    const id = await create({ cron: '0 9 ? * L *', timezone: 'UTC' });
    const definition = await (deps.recurring as InMemoryRecurringStore).get('', id);
    const upcoming = definition ? upcomingOccurrences(definition, new Date(clock.now())) : [];

    // Assess
    expect(upcoming.map((ms) => new Date(ms).getUTCDay())).toEqual([6, 6, 6, 6, 6]);
  });

  it('fires the first occurrence of a rate whose keyed create died before its schedule, when the retry makes it, and starts the schedule at the next period', async () => {
    // Prepare: the first attempt writes its definition at t0, and its CreateSchedule never answers (nor reaches the Scheduler)
    const t0 = clock.now();
    deps = { ...deps, createRecords: new InMemoryCreateRecords() };
    const body = createRecurringBodySchema.parse({ recipients: ['bob'], title: 'Digest', message: 'Hello', schedule: { rate: '1 day', timezone: 'UTC' } });
    const idempotency = { key: 'retried-rate', fingerprint: 'body' };
    const put = deps.scheduler.put.bind(deps.scheduler);
    deps.scheduler.put = () => new Promise<never>(() => undefined);
    void createRecurring(deps, admin, body, { idempotency });
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
    deps.scheduler.put = put;
    clock.advance(40_000);

    // Act
    const retried = await createRecurring(deps, admin, body, { idempotency });

    // Assess: the occurrence at t0 is on the schedule's target queue, as the schedule would have put it (its time to the second); the schedule fires next at t0 + 1 day
    const received = await sqs.send(new ReceiveMessageCommand({ QueueUrl: targetUrl, MaxNumberOfMessages: 10 }));
    expect((received.Messages ?? []).map((m) => JSON.parse(m.Body ?? '{}'))).toEqual([
      { kind: 'occurrence', tenantId: admin.tenantId, recurringId: retried.id, at: new Date(t0).toISOString().replace('.000Z', 'Z') },
    ]);
    expect(await startDateOf(retried.id)).toBe(t0 + 24 * hour);
  });
});
