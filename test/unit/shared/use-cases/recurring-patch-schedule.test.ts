/**
 * A PATCH of a recurring definition's `schedule` is a change of it, merged into the schedule it
 * has: a cron or a rate replaces the expression, the zone and the bounds change only when given,
 * `null` clears a bound (and stands for the expression it does not have beside the one it has), and the result is checked as a new schedule is (a 400 naming the field).
 * A changed expression starts a rate afresh; a change of zone or bounds keeps its times.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { toRecurringView } from '../../../../shared/domain/recurring.ts';
import type { RecurringNotification, RecurringSchedule } from '../../../../shared/domain/recurring.ts';
import { patchRecurringBodySchema } from '../../../../shared/domain/schemas.ts';
import { ValidationError } from '../../../../shared/errors.ts';
import { parseWith } from '../../../../shared/http/request.ts';
import { logger } from '../../../../shared/observability/logger.ts';
import type { PatchRecurringBody } from '../../../../shared/domain/schemas.ts';
import type { RecurringScheduler } from '../../../../shared/ports.ts';
import { patchRecurring } from '../../../../shared/use-cases/recurring.ts';
import type { RecurringDeps } from '../../../../shared/use-cases/recurring.ts';
import { aBroadcastWorld } from '../../fakes/broadcast-world.ts';
import { FakeClock } from '../../fakes/index.ts';
import { admin, tenantId } from '../../fakes/fixtures.ts';
import { InMemoryRecurringStore } from '../../fakes/recurring-store.ts';

beforeAll(() => {
  logger.setLogLevel('SILENT');
});

const id = 'rec_01J0000000000000000000000A';
const createdAt = '2030-01-01T00:00:00.000Z';
const now = '2030-01-10T12:30:00.000Z';

function aDefinition(schedule: RecurringSchedule): RecurringNotification {
  return {
    tenantId,
    id,
    createdBy: admin.sub,
    createdByRoles: admin.roles,
    recipients: ['bob'],
    title: 'Digest',
    message: 'Hello',
    type: 'reminder',
    priority: 'normal',
    schedule,
    status: 'active',
    occurrences: [],
    createdAt,
    updatedAt: createdAt,
    scheduleSetAt: createdAt,
  };
}

/** A store holding `schedule`'s definition, a scheduler that records what it is given, and the clock at {@link now}. */
async function aWorld(schedule: RecurringSchedule): Promise<{ deps: RecurringDeps; store: InMemoryRecurringStore; puts: { schedule: RecurringSchedule; startDate: number | 'ended' | undefined }[] }> {
  const store = new InMemoryRecurringStore();
  await store.put(aDefinition(schedule));
  const puts: { schedule: RecurringSchedule; startDate: number | 'ended' | undefined }[] = [];
  const scheduler: RecurringScheduler = {
    put: async (recurring, startDate) => {
      puts.push({ schedule: recurring.schedule, startDate });
    },
    remove: async () => undefined,
    exists: () => Promise.reject(new Error('a PATCH asks no schedule whether it exists')),
    fire: () => Promise.reject(new Error('a PATCH fires nothing')),
  };
  return { deps: { recurring: store, scheduler, recipients: aBroadcastWorld().recipients, clock: new FakeClock(now) }, store, puts };
}

/** A PATCH body changing the schedule, read as the route reads it. */
function bodyOf(schedule: Record<string, unknown>): PatchRecurringBody {
  return parseWith(patchRecurringBodySchema, { schedule }, 'body');
}

const parisCron: RecurringSchedule = { cron: '0 9 * * 1-5', timezone: 'Europe/Paris', startAt: '2030-01-06T00:00:00.000Z', endAt: '2030-12-31T00:00:00.000Z' };

describe('a PATCH of a recurring schedule', () => {
  it.each<[string, Record<string, unknown>, RecurringSchedule]>([
    ['a cron keeps the zone and the bounds', { cron: '0 8 * * *' }, { ...parisCron, cron: '0 8 * * *' }],
    ['a zone keeps the cron and the bounds', { timezone: 'America/New_York' }, { ...parisCron, timezone: 'America/New_York' }],
    ['a rate replaces the cron', { rate: '2 hours' }, { rate: '2 hours', timezone: 'Europe/Paris', startAt: parisCron.startAt, endAt: parisCron.endAt }],
    ['an end keeps the start', { endAt: '2031-06-30T00:00:00+02:00' }, { ...parisCron, endAt: '2031-06-29T22:00:00.000Z' }],
    ['startAt: null clears the start only', { startAt: null }, { cron: parisCron.cron, timezone: 'Europe/Paris', endAt: parisCron.endAt }],
    ['null for both bounds clears both', { startAt: null, endAt: null }, { cron: parisCron.cron, timezone: 'Europe/Paris' }],
    ['a rate beside cron: null replaces the cron, as GET shows a rate', { cron: null, rate: '2 hours' }, { rate: '2 hours', timezone: 'Europe/Paris', startAt: parisCron.startAt, endAt: parisCron.endAt }],
    ['a cron beside rate: null is that cron', { cron: '0 8 * * *', rate: null }, { ...parisCron, cron: '0 8 * * *' }],
  ])('merges into the schedule it has: %s', async (_case, change, expected) => {
    // Prepare
    const { deps, store, puts } = await aWorld(parisCron);

    // Act
    const changed = await patchRecurring(deps, admin, id, bodyOf(change));

    // Assess
    expect(changed.schedule).toEqual(expected);
    expect(store.definitions.get(id)?.schedule).toEqual(expected);
    expect(puts.map((put) => put.schedule)).toEqual([expected]);
  });

  it('replaces a rate with a cron, keeping the zone', async () => {
    // Prepare
    const { deps } = await aWorld({ rate: '1 day', timezone: 'Asia/Tokyo' });

    // Act
    const changed = await patchRecurring(deps, admin, id, bodyOf({ cron: '0 9 * * *' }));

    // Assess
    expect(changed.schedule).toEqual({ cron: '0 9 * * *', timezone: 'Asia/Tokyo' });
  });

  it('starts a rate afresh when the rate changes, and keeps its times when only its zone or bounds do', async () => {
    // Prepare: every hour since its creation; it is 12:30 now
    const rate: RecurringSchedule = { rate: '1 hour', timezone: 'UTC' };
    const zone = await aWorld(rate);
    const bounds = await aWorld(rate);
    const period = await aWorld(rate);

    // Act
    const zoneChanged = await patchRecurring(zone.deps, admin, id, bodyOf({ timezone: 'Europe/Paris' }));
    const boundsChanged = await patchRecurring(bounds.deps, admin, id, bodyOf({ endAt: '2030-02-01T00:00:00Z' }));
    const periodChanged = await patchRecurring(period.deps, admin, id, bodyOf({ rate: '2 hours' }));

    // Assess: the same rate on its grid from its creation (13:00 next); the new one from now, without a StartDate
    expect(zoneChanged.scheduleSetAt).toBe(createdAt);
    expect(zone.puts[0]?.startDate).toBe(Date.parse('2030-01-10T13:00:00.000Z'));
    expect(boundsChanged.scheduleSetAt).toBe(createdAt);
    expect(bounds.puts[0]?.startDate).toBe(Date.parse('2030-01-10T13:00:00.000Z'));
    expect(periodChanged.scheduleSetAt).toBe(now);
    expect(period.puts[0]?.startDate).toBeUndefined();
  });

  it.each<[string, RecurringSchedule, Record<string, unknown>]>([
    ['a rate in another spelling', { rate: '5 minutes', timezone: 'UTC' }, { rate: '5 minute' }],
    ['a rate of one written in the plural', { rate: '1 hour', timezone: 'UTC' }, { rate: '1 hours' }],
    ['a five-field cron as its EventBridge fields', { cron: '0 9 * * 1-5', timezone: 'UTC' }, { cron: '0 9 ? * 2-6 *' }],
    ['a cron with other spaces', { cron: '0 9 * * 1-5', timezone: 'UTC' }, { cron: ' 0  9 * * 1-5' }],
  ])('keeps the times of a schedule given %s, which fires on the same expression', async (_case, schedule, change) => {
    // Prepare
    const world = await aWorld(schedule);

    // Act
    const changed = await patchRecurring(world.deps, admin, id, bodyOf(change));

    // Assess: the grid from its creation, not a fresh start at the PATCH
    expect(changed.scheduleSetAt).toBe(createdAt);
  });

  it('keeps a changed rate on the grid of the startAt it keeps, as a new definition with that startAt would be', async () => {
    // Prepare: every day from Sunday 09:00; it is Thursday 12:30 now
    const { deps, puts } = await aWorld({ rate: '1 day', timezone: 'UTC', startAt: '2030-01-06T09:00:00.000Z' });

    // Act
    const changed = await patchRecurring(deps, admin, id, bodyOf({ rate: '12 hours' }));

    // Assess: every 12 hours from Sunday 09:00, so Thursday 21:00 next
    expect(changed.schedule).toEqual({ rate: '12 hours', timezone: 'UTC', startAt: '2030-01-06T09:00:00.000Z' });
    expect(puts[0]?.startDate).toBe(Date.parse('2030-01-10T21:00:00.000Z'));
  });

  it.each<[string, Record<string, unknown>, string, string]>([
    ['both a cron and a rate', { cron: '0 8 * * *', rate: '1 day' }, 'schedule.cron', 'must not be given with rate: give one of cron and rate'],
    ['an end before the start it keeps', { endAt: '2030-01-05T00:00:00Z' }, 'schedule.endAt', 'must be after startAt'],
    ['a start after the end it keeps', { startAt: '2031-01-01T00:00:00Z' }, 'schedule.endAt', 'must be after startAt'],
    ['an end before the start it gives', { startAt: '2030-03-01T00:00:00Z', endAt: '2030-02-01T00:00:00Z' }, 'schedule.endAt', 'must be after startAt'],
    ['an unknown zone', { timezone: 'Mars/Olympus_Mons' }, 'schedule.timezone', 'is not a known IANA time zone'],
    ['a start that is no instant', { startAt: 'tomorrow' }, 'schedule.startAt', 'must be an ISO-8601 date-time with an offset, seconds included (2027-03-28T09:00:00Z)'],
    ['an end with an offset but no seconds', { endAt: '2031-01-01T00:00Z' }, 'schedule.endAt', 'must be an ISO-8601 date-time with an offset, seconds included (2027-03-28T09:00:00Z)'],
    ['a cron of four fields', { cron: '0 9 * *' }, 'schedule.cron', 'must have five fields (minute hour day-of-month month day-of-week) or six (EventBridge: ... year)'],
    ['a rate in weeks', { rate: '2 weeks' }, 'schedule.rate', 'must be "<n> minute(s) | hour(s) | day(s)", without rate( )'],
    ['a rate as EventBridge writes it', { rate: 'rate(5 minutes)' }, 'schedule.rate', 'must be "<n> minute(s) | hour(s) | day(s)", without rate( )'],
    ['a cron as EventBridge writes it', { cron: 'cron(0 9 ? * MON-FRI *)' }, 'schedule.cron', 'must be the fields alone, without cron( )'],
    ['an empty change', {}, 'schedule', 'must change something'],
    ['cron: null alone, which would leave no expression', { cron: null }, 'schedule.cron', 'may be null only beside a rate: a schedule keeps one of cron and rate'],
    ['rate: null beside a zone only', { rate: null, timezone: 'UTC' }, 'schedule.rate', 'may be null only beside a cron: a schedule keeps one of cron and rate'],
  ])('refuses %s with a 400 naming the field, and changes nothing', async (_case, change, field, message) => {
    // Prepare
    const { deps, store, puts } = await aWorld(parisCron);

    // Act
    const error = await (async () => patchRecurring(deps, admin, id, bodyOf(change)))().catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).details).toEqual([{ field, message }]);
    expect(store.definitions.get(id)?.schedule).toEqual(parisCron);
    expect(puts).toEqual([]);
  });

  it('takes back the schedule GET shows, nulls included, and changes nothing by it', async () => {
    // Prepare: a rate without bounds, as GET /v1/recurring-notifications/{id} shows it
    const { deps, store } = await aWorld({ rate: '1 day', timezone: 'Asia/Tokyo' });
    const shown = toRecurringView((await store.get(tenantId, id)) as RecurringNotification, Date.parse(now)).schedule as Record<string, unknown>;
    expect(shown).toEqual({ cron: null, rate: '1 day', timezone: 'Asia/Tokyo', startAt: null, endAt: null });

    // Act
    const changed = await patchRecurring(deps, admin, id, bodyOf(shown));

    // Assess
    expect(changed.schedule).toEqual({ rate: '1 day', timezone: 'Asia/Tokyo' });
  });

  it('refuses a null expression without the other in the use case too, whatever the schema let through', async () => {
    // Prepare
    const { deps, puts } = await aWorld(parisCron);

    // Act
    const error = await patchRecurring(deps, admin, id, { schedule: { cron: null } }).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).details).toEqual([{ field: 'schedule.cron', message: 'may be null only beside a rate: a schedule keeps one of cron and rate' }]);
    expect(puts).toEqual([]);
  });

  it('refuses a merged end before the start in the use case too, whatever the schema let through', async () => {
    // Prepare
    const { deps, puts } = await aWorld(parisCron);

    // Act
    const error = await patchRecurring(deps, admin, id, { schedule: { endAt: '2030-01-01T00:00:00.000Z' } }).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).details).toEqual([{ field: 'schedule.endAt', message: 'must be after startAt' }]);
    expect(puts).toEqual([]);
  });

  it.each<[string, Record<string, unknown>, string, string]>([
    ['an end already past', { endAt: '2030-01-01T00:00:00Z', startAt: null }, 'schedule.endAt', 'is past: the schedule would never fire'],
    ['an end before the next weekday 09:00', { endAt: '2030-01-10T12:45:00Z', startAt: null }, 'schedule.endAt', 'comes before the first time the schedule fires: it would never fire'],
    ['a cron of 30 February', { cron: '0 9 30 2 *' }, 'schedule.cron', 'matches no time to come: the schedule would never fire'],
  ])('refuses a schedule that would never fire again: %s, changing nothing', async (_case, change, field, message) => {
    // Prepare
    const { deps, store, puts } = await aWorld(parisCron);

    // Act
    const error = await patchRecurring(deps, admin, id, bodyOf(change)).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).details).toEqual([{ field, message }]);
    expect(store.definitions.get(id)?.schedule).toEqual(parisCron);
    expect(puts).toEqual([]);
  });

  it('lets a definition past its end be renamed and paused: only a change of its schedule must fire again', async () => {
    // Prepare: it ended on 2030-01-05
    const { deps, store } = await aWorld({ ...parisCron, startAt: '2030-01-01T00:00:00.000Z', endAt: '2030-01-05T00:00:00.000Z' });

    // Act
    await patchRecurring(deps, admin, id, parseWith(patchRecurringBodySchema, { title: 'Renamed', paused: true }, 'body'));

    // Assess
    expect(store.definitions.get(id)).toMatchObject({ title: 'Renamed', status: 'paused' });
  });

  it('lets a definition stored under older rules be renamed and paused, its schedule unchanged', async () => {
    // Prepare: a weekday step and an ICU zone id, which a create no longer takes
    const { deps, store, puts } = await aWorld({ cron: '0 0 ? * 2/2 *', timezone: 'PST' });

    // Act
    await patchRecurring(deps, admin, id, parseWith(patchRecurringBodySchema, { title: 'Renamed', paused: true }, 'body'));

    // Assess
    expect(store.definitions.get(id)).toMatchObject({ title: 'Renamed', status: 'paused', schedule: { cron: '0 0 ? * 2/2 *', timezone: 'PST' } });
    expect(puts).toHaveLength(1);
  });
});
