/**
 * A broadcast at each recipient's own wall time (`timezone: "recipient"`): it starts when that
 * wall time first comes anywhere, each row is due at the wall time in its recipient's zone, and
 * what waits goes back on the queue once per instant (per zone offset), not once per recipient.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { UnitRef } from '../../../../shared/domain/delivery.ts';
import { toBroadcastView } from '../../../../shared/domain/broadcast.ts';
import { logger } from '../../../../shared/observability/logger.ts';
import { ValidationError } from '../../../../shared/errors.ts';
import { createBroadcast, scheduleBroadcast } from '../../../../shared/use-cases/broadcasts.ts';
import { deliverMessages } from '../../../../shared/use-cases/deliver-messages.ts';
import { runFanoutStep } from '../../../../shared/use-cases/fan-out-broadcast.ts';
import { aBroadcastWorld } from '../../fakes/broadcast-world.ts';
import { aRecipient, admin, tenantId } from '../../fakes/fixtures.ts';

beforeAll(() => {
  logger.setLogLevel('SILENT');
});

const people = [
  { id: 'tokyo-1', timezone: 'Asia/Tokyo' },
  { id: 'tokyo-2', timezone: 'Asia/Tokyo' },
  { id: 'paris-1', timezone: 'Europe/Paris' },
  { id: 'paris-2', timezone: 'Europe/Paris' },
  { id: 'nozone' },
] as const;

describe('a broadcast at each recipient wall time', () => {
  it('starts when the wall time first comes anywhere and reaches each recipient at it in their zone, one requeue per instant', async () => {
    // Prepare: noon UTC on 2030-01-01; 09:00 the next day
    const world = aBroadcastWorld({ shards: 1 });
    for (const p of people) await world.recipients.put(aRecipient({ id: p.id, email: undefined, ...('timezone' in p ? { timezone: p.timezone } : {}) }));
    const { broadcastId } = await createBroadcast(world.api, admin, {
      audience: { all: true },
      title: 'Good morning',
      message: 'Daily digest',
      type: 'system',
      priority: 'normal',
      draft: false,
      scheduledAt: '2030-01-02T09:00',
      timezone: 'recipient',
    });
    const broadcast = await world.broadcasts.get(tenantId, broadcastId);

    // Assess: it starts at 09:00 in UTC+14
    expect(broadcast && toBroadcastView(broadcast)).toMatchObject({ scheduledAt: '2030-01-01T19:00:00.000Z', timezone: 'recipient', localScheduledAt: '2030-01-02T09:00' });

    // Act: the fan-out runs at its time; the delivery messages are looked at then
    world.clock.set('2030-01-01T19:00:00.000Z');
    await world.step({ kind: 'start', tenantId, broadcastId });
    await world.runFanout();
    const later: { at: number; refs: readonly UnitRef[] }[] = [];
    for (let result = await world.deliverNext(); result; result = await world.deliverNext()) later.push(...result.later);

    // Assess: nobody got it yet; one instant per zone, each naming only its recipients
    expect(world.mailer.sent).toHaveLength(0);
    const byInstant = Object.fromEntries(later.map(({ at, refs }) => [new Date(at).toISOString(), refs.map((r) => (r as { recipientId: string }).recipientId).sort()]));
    expect(byInstant).toEqual({
      '2030-01-02T00:00:00.000Z': ['tokyo-1', 'tokyo-2'],
      '2030-01-02T08:00:00.000Z': ['paris-1', 'paris-2'],
      '2030-01-02T09:00:00.000Z': ['nozone'],
    });

    // Act: Tokyo's morning comes
    world.clock.set('2030-01-02T00:00:00.000Z');
    const tokyo = later.find(({ at }) => at === Date.parse('2030-01-02T00:00:00.000Z'));
    const [result] = await deliverMessages(world.delivery, [{ refs: tokyo?.refs ?? [] }], { deadline: new Date('2030-01-02T00:05:00.000Z') });

    // Assess: Tokyo has it, the others still wait
    expect(result?.later).toEqual([]);
    const rows = await world.rows.getMany(tenantId, broadcastId, ['tokyo-1', 'tokyo-2', 'paris-1']);
    expect(Object.fromEntries(rows.map((r) => [r.recipientId, r.status]))).toEqual({ 'tokyo-1': 'sent', 'tokyo-2': 'sent', 'paris-1': 'pending' });
  });

  it("reads the tenant's default zone for a recipient without one", async () => {
    // Prepare
    const world = aBroadcastWorld({ shards: 1 });
    await world.recipients.put(aRecipient({ id: 'nozone', email: undefined }));
    const fanout = { ...world.fanout, tenantSettings: { get: async () => ({ defaultTimezone: 'America/New_York' }) } };
    const { broadcastId } = await createBroadcast(world.api, admin, {
      audience: { recipientIds: ['nozone'] },
      title: 'Good morning',
      message: 'Daily digest',
      type: 'system',
      priority: 'normal',
      draft: false,
      scheduledAt: '2030-01-02T09:00',
      timezone: 'recipient',
    });

    // Act
    world.clock.set('2030-01-01T19:00:00.000Z');
    const invocation = { deadline: new Date('2030-01-01T19:05:00.000Z') };
    await runFanoutStep(fanout, { kind: 'start', tenantId, broadcastId }, invocation);
    for (let m = world.fanoutQueue.take('resolve', 'count', 'dispatch'); m; m = world.fanoutQueue.take('resolve', 'count', 'dispatch')) await runFanoutStep(fanout, m, invocation);

    // Assess: 09:00 in New York (-05:00)
    const [row] = await world.rows.getMany(tenantId, broadcastId, ['nozone']);
    expect(row?.localDueAt).toBe('2030-01-02T14:00:00.000Z');
  });

  it.each([
    ['a new instant, given: everyone at it, the plan in their zones dropped', { scheduledAt: '2030-01-01T12:30:00Z' }, ['2030-01-01T12:30:00.000Z', '2030-01-01T12:30:00.000Z'], undefined],
    ['no time: as planned, each at 09:00 in their zone', {}, ['2030-01-02T00:00:00.000Z', '2030-01-02T08:00:00.000Z'], '2030-01-02T09:00'],
  ])('schedules a draft planned in each recipient\'s zone with %s', async (_case, body, dueAt, localScheduledAt) => {
    // Prepare: a draft for 09:00 the next day in each recipient's zone
    const world = aBroadcastWorld({ shards: 1 });
    for (const id of ['tokyo-1', 'paris-1']) await world.recipients.put(aRecipient({ id, email: undefined, timezone: id === 'tokyo-1' ? 'Asia/Tokyo' : 'Europe/Paris' }));
    const { broadcastId } = await createBroadcast(world.api, admin, {
      audience: { recipientIds: ['tokyo-1', 'paris-1'] },
      title: 'Good morning',
      message: 'Daily digest',
      type: 'system',
      priority: 'normal',
      draft: true,
      scheduledAt: '2030-01-02T09:00',
      timezone: 'recipient',
    });

    // Act
    const scheduled = await scheduleBroadcast(world.api, admin, broadcastId, body);
    world.clock.set(scheduled.scheduledAt ?? '');
    const invocation = { deadline: new Date(Date.parse(scheduled.scheduledAt ?? '') + 300_000) };
    await runFanoutStep(world.fanout, { kind: 'start', tenantId, broadcastId }, invocation);
    for (let m = world.fanoutQueue.take('resolve', 'count', 'dispatch'); m; m = world.fanoutQueue.take('resolve', 'count', 'dispatch')) await runFanoutStep(world.fanout, m, invocation);

    // Assess: the rows are due when the view says
    const rows = await world.rows.getMany(tenantId, broadcastId, ['tokyo-1', 'paris-1']);
    expect(rows.map((r) => r.localDueAt ?? scheduled.scheduledAt)).toEqual(dueAt);
    expect(toBroadcastView(scheduled).localScheduledAt ?? undefined).toBe(localScheduledAt);
  });

  it('refuses a wall time already past everywhere, naming scheduledAt', async () => {
    // Prepare: noon UTC on 2030-01-01; 23:00 the day before came at 11:00Z even at UTC-12, the last place it comes
    const world = aBroadcastWorld();

    // Act
    const error = await createBroadcast(world.api, admin, {
      audience: { all: true },
      title: 't',
      message: 'm',
      type: 'system',
      priority: 'normal',
      draft: false,
      scheduledAt: '2029-12-31T23:00',
      timezone: 'recipient',
    }).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).details).toEqual([{ field: 'scheduledAt', message: 'must not be in the past' }]);
  });
});
