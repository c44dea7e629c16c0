/**
 * A broadcast create with an `Idempotency-Key` whose first attempt died before answering, and its
 * retry with the same key: one broadcast, the first attempt's, never a second one that would reach
 * every recipient again (shared/use-cases/create-records.ts). A death is a call that never settles.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Broadcast } from '../../../../shared/domain/broadcast.ts';
import type { CreateBroadcastBody } from '../../../../shared/domain/schemas.ts';
import { ServiceUnavailableError } from '../../../../shared/errors.ts';
import { logger } from '../../../../shared/observability/logger.ts';
import { createBroadcast } from '../../../../shared/use-cases/broadcasts.ts';
import type { BroadcastDeps } from '../../../../shared/use-cases/broadcasts.ts';
import type { CreateKey } from '../../../../shared/use-cases/create-records.ts';
import { aBroadcastWorld } from '../../fakes/broadcast-world.ts';
import type { BroadcastWorld } from '../../fakes/broadcast-world.ts';
import { InMemoryCreateRecords } from '../../fakes/index.ts';
import { awsError, sender, tenantId } from '../../fakes/fixtures.ts';

beforeAll(() => {
  logger.setLogLevel('SILENT');
});

const key: CreateKey = { key: JSON.stringify([tenantId, sender.sub, 'POST /v1/broadcasts', '/v1/broadcasts', 'k-1']), fingerprint: 'body-1' };

function aBody(): CreateBroadcastBody {
  return { audience: { groups: ['staff'] }, title: 'Maintenance', message: 'Tonight at 2am', scheduledAt: '2030-01-01T13:00:00.000Z', type: 'system', priority: 'normal', draft: false };
}

function setUp(): { world: BroadcastWorld; deps: BroadcastDeps } {
  const world = aBroadcastWorld();
  world.clock.set('2030-01-01T12:00:00.000Z');
  return { world, deps: { ...world.api, createRecords: new InMemoryCreateRecords() } };
}

/** The next `schedule` never returns (the SDK retrying a throttled Scheduler until the Lambda times out); later ones work. */
function dieOnNextSchedule(world: BroadcastWorld): void {
  const schedule = world.scheduler.schedule.bind(world.scheduler);
  let calls = 0;
  world.scheduler.schedule = async (...args) => (++calls === 1 ? new Promise<never>(() => undefined) : schedule(...args));
}

/** Lets a dying attempt run as far as it gets. */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
}

describe('a broadcast create with an Idempotency-Key retried after its first attempt died', () => {
  it('makes one broadcast, the first attempt\'s, and its schedule', async () => {
    // Prepare: the first attempt writes its broadcast, then dies waiting for the Scheduler
    const { world, deps } = setUp();
    dieOnNextSchedule(world);
    void createBroadcast(deps, sender, aBody(), { idempotency: key });
    await settle();
    const written = world.broadcasts.dueEntries();
    expect(written).toHaveLength(1);
    world.clock.advanceSeconds(40);

    // Act
    const retried = await createBroadcast(deps, sender, aBody(), { idempotency: key });

    // Assess
    expect(retried).toEqual({ broadcastId: written[0]?.id, status: 'scheduled' });
    expect(world.broadcasts.dueEntries()).toHaveLength(1);
    expect(world.scheduler.scheduledAt(tenantId, retried.broadcastId)).toBe('2030-01-01T13:00:00.000Z');
  });

  it('leaves the broadcast its dead attempt wrote as it is now, cancelled', async () => {
    // Prepare
    const { world, deps } = setUp();
    dieOnNextSchedule(world);
    void createBroadcast(deps, sender, aBody(), { idempotency: key });
    await settle();
    const [written] = world.broadcasts.dueEntries();
    if (!written) throw new Error('the first attempt wrote nothing');
    await world.broadcasts.cancel(tenantId, written.id, world.clock.now());

    // Act
    const retried = await createBroadcast(deps, sender, aBody(), { idempotency: key });

    // Assess
    expect(retried.broadcastId).toBe(written.id);
    expect((await world.broadcasts.get(tenantId, written.id))?.status).toBe('cancelled');
    expect(world.broadcasts.dueEntries().filter((e) => e.status === 'scheduled')).toEqual([]);
  });

  it('after a rollback that could not remove its broadcast, removes it before it creates anew: one broadcast goes out', async () => {
    // Prepare: the schedule fails, and the rollback's remove fails too
    const { world, deps } = setUp();
    world.scheduler.scheduleFailures.add(awsError('ThrottlingException', 400));
    const remove = world.broadcasts.remove.bind(world.broadcasts);
    let removes = 0;
    world.broadcasts.remove = async (broadcast: Pick<Broadcast, 'tenantId' | 'id' | 'audience'>) => {
      if (++removes === 1) throw awsError('ProvisionedThroughputExceededException', 400);
      return remove(broadcast);
    };
    await expect(createBroadcast(deps, sender, aBody(), { idempotency: key })).rejects.toBeInstanceOf(ServiceUnavailableError);
    const [left] = world.broadcasts.dueEntries();
    expect(left?.status).toBe('scheduled');

    // Act
    const retried = await createBroadcast(deps, sender, aBody(), { idempotency: key });

    // Assess: the stuck-retry sweep starts any scheduled broadcast; only the retry's is there
    expect(world.broadcasts.dueEntries().map((e) => e.id)).toEqual([retried.broadcastId]);
    expect(retried.broadcastId).not.toBe(left?.id);
  });
});
