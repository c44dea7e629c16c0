import { beforeAll, describe, expect, it } from 'vitest';
import type { Caller } from '../../../../shared/domain/caller.ts';
import { channels } from '../../../../shared/domain/notification.ts';
import type { CreateBroadcastBody } from '../../../../shared/domain/schemas.ts';
import { ConflictError, ForbiddenError, NotFoundError, ServiceUnavailableError, ValidationError } from '../../../../shared/errors.ts';
import { logger } from '../../../../shared/observability/logger.ts';
import {
  cancelBroadcast,
  checkCreateBroadcast,
  createBroadcast,
  getBroadcast,
  listBroadcastRecipients,
  listBroadcasts,
  retryBroadcast,
  scheduleBroadcast,
} from '../../../../shared/use-cases/broadcasts.ts';
import { aBroadcastWorld } from '../../fakes/broadcast-world.ts';
import type { BroadcastWorld } from '../../fakes/broadcast-world.ts';
import { aRecipient, admin, plainUser, sender, tenantId } from '../../fakes/fixtures.ts';

beforeAll(() => {
  logger.setLogLevel('SILENT');
});

function aBody(overrides: Partial<CreateBroadcastBody> = {}): CreateBroadcastBody {
  return { audience: { groups: ['staff'] }, title: 'Maintenance', message: 'Tonight at 2am', type: 'system', priority: 'normal', draft: false, ...overrides };
}

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

async function withStaff(world: BroadcastWorld, ids: readonly string[]): Promise<void> {
  for (const id of ids) await world.recipients.put(aRecipient({ id, groups: ['staff'], email: undefined }));
}

/** Creates a broadcast now and runs it to its end; `erased` are registered for the create and erased right after it. */
async function sentBroadcast(world: BroadcastWorld, caller: Caller, body: CreateBroadcastBody = aBody(), erased: readonly string[] = []): Promise<string> {
  for (const id of erased) await world.recipients.put(aRecipient({ id, email: undefined }));
  const { broadcastId } = await createBroadcast(world.api, caller, body);
  for (const id of erased) world.recipients.delete(caller.tenantId, id);
  await world.fanoutQueue.send([{ kind: 'start', tenantId: caller.tenantId, broadcastId }]);
  await world.runAll();
  return broadcastId;
}

describe('createBroadcast', () => {
  it('creates a scheduled broadcast due now with one schedule, and the default channels', async () => {
    // Prepare
    const world = aBroadcastWorld();

    // Act
    const created = await createBroadcast(world.api, sender, aBody());

    // Assess
    expect(created.status).toBe('scheduled');
    const stored = await world.broadcasts.get(tenantId, created.broadcastId);
    expect(stored).toMatchObject({ createdBy: sender.sub, channels: [...channels], scheduledAt: '2030-01-01T12:00:00.000Z' });
    expect(world.scheduler.scheduledAt(tenantId, created.broadcastId)).toBe('2030-01-01T12:00:00.000Z');
  });

  it('keeps an explicit audience in slices and shows only its size', async () => {
    // Prepare
    const world = aBroadcastWorld();
    const recipientIds = Array.from({ length: 1_500 }, (_, i) => `user-${i}`);
    await withStaff(world, recipientIds);

    // Act
    const { broadcastId } = await createBroadcast(world.api, admin, aBody({ audience: { recipientIds } }));

    // Assess
    expect((await world.broadcasts.get(tenantId, broadcastId))?.audience).toEqual({ kind: 'recipients', count: 1_500, sliceSize: 250 });
    expect(await world.broadcasts.audienceSlice(tenantId, broadcastId, 5)).toHaveLength(250);
    expect(await world.broadcasts.audienceSlice(tenantId, broadcastId, 6)).toHaveLength(0);
  });

  it('creates a draft with no schedule, keeping its planned time', async () => {
    // Prepare
    const world = aBroadcastWorld();

    // Act
    const created = await createBroadcast(world.api, sender, aBody({ draft: true, scheduledAt: '2030-01-02T09:00:00Z' }));

    // Assess
    expect(created.status).toBe('draft');
    expect(world.scheduler.scheduledAt(tenantId, created.broadcastId)).toBeUndefined();
    expect((await world.broadcasts.get(tenantId, created.broadcastId))?.scheduledAt).toBe('2030-01-02T09:00:00.000Z');
  });

  it('refuses a time in the past, naming scheduledAt, and writes nothing', async () => {
    // Prepare
    const world = aBroadcastWorld();

    // Act
    const error = await rejectionOf(createBroadcast(world.api, sender, aBody({ scheduledAt: '2029-12-31T00:00:00Z' })));

    // Assess
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).details).toEqual([{ field: 'scheduledAt', message: 'must not be in the past' }]);
    expect((await world.broadcasts.list({ tenantId, limit: 10 })).items).toEqual([]);
  });

  it('refuses a time more than 2 years ahead', async () => {
    // Act
    const error = await rejectionOf(createBroadcast(aBroadcastWorld().api, sender, aBody({ scheduledAt: '2032-06-01T00:00:00Z' })));

    // Assess
    expect(error).toBeInstanceOf(ValidationError);
  });

  it('takes a time exactly two calendar years ahead and refuses the day after, which 732 days once allowed', async () => {
    // Prepare: it is 2030-01-01T12:00Z
    const world = aBroadcastWorld();

    // Act
    const created = await createBroadcast(world.api, sender, aBody({ scheduledAt: '2032-01-01T12:00:00Z' }));
    const dayAfter = await rejectionOf(createBroadcast(world.api, sender, aBody({ scheduledAt: '2032-01-02T12:00:00Z' })));

    // Assess
    expect(world.scheduler.scheduledAt(tenantId, created.broadcastId)).toBe('2032-01-01T12:00:00.000Z');
    expect((dayAfter as ValidationError).details).toEqual([{ field: 'scheduledAt', message: 'must be at most 2 years ahead' }]);
  });

  it('refuses a plain user', async () => {
    // Act / Assess
    expect(await rejectionOf(createBroadcast(aBroadcastWorld().api, plainUser, aBody()))).toBeInstanceOf(ForbiddenError);
  });

  it.each([false, true])('refuses an explicit list naming recipients not registered (draft: %s), naming them and writing nothing', async (draft) => {
    // Prepare: bob is registered, ghost and nemo are not
    const world = aBroadcastWorld();
    await withStaff(world, ['bob']);
    const body = aBody({ audience: { recipientIds: ['ghost', 'bob', 'nemo'] }, draft });

    // Act
    const checked = await rejectionOf(checkCreateBroadcast(world.api, sender, body));
    const created = await rejectionOf(createBroadcast(world.api, sender, body));

    // Assess: the idempotent create's precheck and the create refuse alike (404)
    for (const error of [checked, created]) {
      expect(error).toBeInstanceOf(NotFoundError);
      expect(error).toMatchObject({ message: 'Recipients not registered: ghost, nemo', details: { missing: ['ghost', 'nemo'] } });
    }
    expect((await world.broadcasts.list({ tenantId, limit: 10 })).items).toEqual([]);
  });

  it('takes the broadcast back when its schedule cannot be created, answering 503', async () => {
    // Prepare
    const world = aBroadcastWorld();
    world.scheduler.scheduleFailures.add(new Error('Scheduler down'));

    // Act
    const error = await rejectionOf(createBroadcast(world.api, sender, aBody()));

    // Assess
    expect(error).toBeInstanceOf(ServiceUnavailableError);
    expect((await world.broadcasts.list({ tenantId, limit: 10 })).items).toEqual([]);
  });
});

describe('scheduleBroadcast', () => {
  it('schedules a draft at its planned time when the body names none', async () => {
    // Prepare
    const world = aBroadcastWorld();
    const { broadcastId } = await createBroadcast(world.api, sender, aBody({ draft: true, scheduledAt: '2030-01-02T09:00:00Z' }));

    // Act
    const scheduled = await scheduleBroadcast(world.api, sender, broadcastId, {});

    // Assess
    expect(scheduled.status).toBe('scheduled');
    expect(world.scheduler.scheduledAt(tenantId, broadcastId)).toBe('2030-01-02T09:00:00.000Z');
  });

  it('schedules a draft now when neither the body nor the draft names a time', async () => {
    // Prepare
    const world = aBroadcastWorld();
    const { broadcastId } = await createBroadcast(world.api, sender, aBody({ draft: true }));

    // Act
    const scheduled = await scheduleBroadcast(world.api, sender, broadcastId, {});

    // Assess
    expect(scheduled.scheduledAt).toBe('2030-01-01T12:00:00.000Z');
  });

  it('refuses to schedule a draft more than two calendar years ahead, naming scheduledAt', async () => {
    // Prepare: it is 2030-01-01T12:00Z
    const world = aBroadcastWorld();
    const { broadcastId } = await createBroadcast(world.api, sender, aBody({ draft: true }));

    // Act
    const error = await rejectionOf(scheduleBroadcast(world.api, sender, broadcastId, { scheduledAt: '2032-01-02T12:00:00Z' }));

    // Assess
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).details).toEqual([{ field: 'scheduledAt', message: 'must be at most 2 years ahead' }]);
    expect((await world.broadcasts.get(tenantId, broadcastId))?.status).toBe('draft');
  });

  it('refuses to schedule what is not a draft (409)', async () => {
    // Prepare
    const world = aBroadcastWorld();
    const { broadcastId } = await createBroadcast(world.api, sender, aBody());

    // Act
    const error = await rejectionOf(scheduleBroadcast(world.api, sender, broadcastId, {}));

    // Assess
    expect(error).toBeInstanceOf(ConflictError);
  });

  it('leaves the draft a draft when its schedule cannot be created', async () => {
    // Prepare
    const world = aBroadcastWorld();
    const { broadcastId } = await createBroadcast(world.api, sender, aBody({ draft: true }));
    world.scheduler.scheduleFailures.add(new Error('Scheduler down'));

    // Act
    const error = await rejectionOf(scheduleBroadcast(world.api, sender, broadcastId, { scheduledAt: '2030-01-01T13:00:00Z' }));

    // Assess
    expect(error).toBeInstanceOf(ServiceUnavailableError);
    expect((await world.broadcasts.get(tenantId, broadcastId))?.status).toBe('draft');
  });
});

describe('who sees a broadcast', () => {
  it('answers 404 for another tenant, and for another sender, but shows it to an admin', async () => {
    // Prepare
    const world = aBroadcastWorld();
    const { broadcastId } = await createBroadcast(world.api, sender, aBody());
    const otherTenant: Caller = { ...admin, tenantId: 'globex' };
    const otherSender: Caller = { ...sender, sub: 'other-sender' };

    // Act / Assess
    expect(await rejectionOf(getBroadcast(world.api, otherTenant, broadcastId))).toBeInstanceOf(NotFoundError);
    expect(await rejectionOf(getBroadcast(world.api, otherSender, broadcastId))).toBeInstanceOf(NotFoundError);
    expect((await getBroadcast(world.api, admin, broadcastId)).content).toEqual({ message: 'Tonight at 2am' });
  });

  it('lists a sender only its own broadcasts, an admin all of them, newest first, page by page', async () => {
    // Prepare
    const world = aBroadcastWorld();
    const first = await createBroadcast(world.api, sender, aBody());
    world.clock.advanceSeconds(1);
    const second = await createBroadcast(world.api, admin, aBody());
    world.clock.advanceSeconds(1);
    const third = await createBroadcast(world.api, sender, aBody({ draft: true }));

    // Act
    const mine = await listBroadcasts(world.api, sender, { limit: 20 });
    const page1 = await listBroadcasts(world.api, admin, { limit: 2 });
    const page2 = await listBroadcasts(world.api, admin, { limit: 2, cursor: page1.nextCursor ?? '' });
    const drafts = await listBroadcasts(world.api, admin, { limit: 20, status: 'draft' });

    // Assess
    expect(mine.items.map((b) => b.id)).toEqual([third.broadcastId, first.broadcastId]);
    expect(page1.items.map((b) => b.id)).toEqual([third.broadcastId, second.broadcastId]);
    expect(page2.items.map((b) => b.id)).toEqual([first.broadcastId]);
    expect(page2.nextCursor).toBeNull();
    expect(drafts.items.map((b) => b.id)).toEqual([third.broadcastId]);
  });

  it('refuses a cursor it did not hand out, naming the field', async () => {
    // Act
    const error = await rejectionOf(listBroadcasts(aBroadcastWorld().api, admin, { limit: 5, cursor: 'bogus' }));

    // Assess
    expect((error as ValidationError).details).toEqual([{ field: 'cursor', message: 'is not a cursor this API returned' }]);
  });
});

describe('cancelBroadcast', () => {
  it('cancels a scheduled broadcast and removes its schedule', async () => {
    // Prepare
    const world = aBroadcastWorld();
    const { broadcastId } = await createBroadcast(world.api, sender, aBody({ scheduledAt: '2030-01-01T18:00:00Z' }));

    // Act
    const cancelled = await cancelBroadcast(world.api, sender, broadcastId);

    // Assess
    expect(cancelled.status).toBe('cancelled');
    expect(world.scheduler.scheduledAt(tenantId, broadcastId)).toBeUndefined();
  });

  it('counts the rows quiet hours held as held no more once the cancel has cancelled them', async () => {
    // Prepare: night and quiet2 are in their quiet hours (11:00-13:00 UTC, it is 12:00), alice is not
    const world = aBroadcastWorld();
    const quiet = { timezone: 'UTC', quietHours: { start: '11:00', end: '13:00' } };
    await world.recipients.put(aRecipient({ id: 'night', email: undefined, ...quiet }));
    await world.recipients.put(aRecipient({ id: 'quiet2', email: undefined, ...quiet }));
    await withStaff(world, ['alice']);
    const broadcastId = await sentBroadcast(world, sender, aBody({ audience: { recipientIds: ['night', 'quiet2', 'alice'] }, channels: ['inbox'] }));
    const heldBefore = (await world.broadcasts.get(tenantId, broadcastId))?.counts.held;

    // Act
    await cancelBroadcast(world.api, sender, broadcastId);
    await world.runAll();

    // Assess
    expect(heldBefore).toBe(2);
    expect((await world.broadcasts.get(tenantId, broadcastId))?.counts).toMatchObject({ sent: 1, cancelled: 2, held: 0 });
  });

  it('still cancels when the schedule cannot be removed: the state stops it', async () => {
    // Prepare
    const world = aBroadcastWorld();
    const { broadcastId } = await createBroadcast(world.api, sender, aBody());
    world.scheduler.unscheduleFailures.add(new Error('Scheduler down'));

    // Act
    const cancelled = await cancelBroadcast(world.api, sender, broadcastId);

    // Assess
    expect(cancelled.status).toBe('cancelled');
  });

  it('nudges the fan-out of a broadcast that is sending', async () => {
    // Prepare
    const world = aBroadcastWorld();
    const { broadcastId } = await createBroadcast(world.api, sender, aBody());
    await world.step({ kind: 'start', tenantId, broadcastId });

    // Act
    await cancelBroadcast(world.api, sender, broadcastId);

    // Assess
    expect(world.fanoutQueue.kinds()).toContain('cancel');
  });

  it('refuses to cancel a completed broadcast (409)', async () => {
    // Prepare
    const world = aBroadcastWorld();
    await withStaff(world, ['bob']);
    const broadcastId = await sentBroadcast(world, sender);

    // Act
    const error = await rejectionOf(cancelBroadcast(world.api, sender, broadcastId));

    // Assess
    expect(error).toBeInstanceOf(ConflictError);
    expect((error as ConflictError).details).toEqual({ status: 'completed' });
  });
});

describe('retryBroadcast', () => {
  it('reopens a broadcast with failed recipients and starts the retry walk', async () => {
    // Prepare
    const world = aBroadcastWorld();
    await withStaff(world, ['bob']);
    const broadcastId = await sentBroadcast(world, sender, aBody({ audience: { recipientIds: ['bob', 'ghost'] } }), ['ghost']);

    // Act
    const reopened = await retryBroadcast(world.api, sender, broadcastId);

    // Assess
    expect(reopened).toMatchObject({ status: 'sending', run: 1, counts: { failed: 1 } });
    expect(world.fanoutQueue.kinds().slice(-2)).toEqual(['retry', 'watch']);
  });

  it('refuses a broadcast with no failed recipient (409)', async () => {
    // Prepare
    const world = aBroadcastWorld();
    await withStaff(world, ['bob']);
    const broadcastId = await sentBroadcast(world, sender);

    // Act
    const error = await rejectionOf(retryBroadcast(world.api, sender, broadcastId));

    // Assess
    expect(error).toBeInstanceOf(ConflictError);
  });
});

describe('listBroadcastRecipients', () => {
  it('pages through every recipient across the shards, then by status', async () => {
    // Prepare
    const world = aBroadcastWorld();
    const staff = Array.from({ length: 12 }, (_, i) => `user-${String(i).padStart(2, '0')}`);
    await withStaff(world, staff);
    const broadcastId = await sentBroadcast(world, admin, aBody({ audience: { recipientIds: [...staff, 'ghost'] } }), ['ghost']);

    // Act
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await listBroadcastRecipients(world.api, admin, broadcastId, { limit: 5, ...(cursor ? { cursor } : {}) });
      seen.push(...page.items.map((r) => r.recipientId));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    const failed = await listBroadcastRecipients(world.api, admin, broadcastId, { limit: 50, status: 'failed' });

    // Assess
    expect(seen.sort()).toEqual([...staff, 'ghost'].sort());
    // One delivery engine now words a missing recipient the same for notifications and broadcasts.
    expect(failed.items.map((r) => [r.recipientId, r.lastError])).toEqual([['ghost', 'Recipient ghost no longer exists']]);
  });

  it('refuses a cursor of another filter, naming the field', async () => {
    // Prepare
    const world = aBroadcastWorld();
    await withStaff(world, ['a', 'b', 'c', 'd', 'e', 'f']);
    const broadcastId = await sentBroadcast(world, admin);
    const page = await listBroadcastRecipients(world.api, admin, broadcastId, { limit: 1 });

    // Act
    const error = await rejectionOf(listBroadcastRecipients(world.api, admin, broadcastId, { limit: 1, status: 'sent', cursor: page.nextCursor ?? '' }));

    // Assess
    expect(error).toBeInstanceOf(ValidationError);
  });
});
