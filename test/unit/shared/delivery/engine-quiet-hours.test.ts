/**
 * Quiet hours at delivery time: a unit that falls due inside its recipient's quiet window is held
 * (still pending, due at the window's end, the reason recorded), never dropped; urgent ones go at
 * once; the recipient's own hours beat the tenant's, `null` means none, and whatever the recipient
 * or the tenant changed before the unit fell due is what counts.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { UnitRef } from '../../../../shared/domain/delivery.ts';
import type { Notification } from '../../../../shared/domain/notification.ts';
import type { Recipient } from '../../../../shared/domain/recipient.ts';
import { logger } from '../../../../shared/observability/logger.ts';
import { aDeliveryWorld } from '../../fakes/index.ts';
import type { DeliveryWorld } from '../../fakes/index.ts';
import { aNotification, aRecipient, tenantId } from '../../fakes/fixtures.ts';

beforeAll(() => {
  logger.setLogLevel('SILENT');
});

/** 23:30 in Paris (+01:00 in winter). */
const lateEvening = '2030-01-01T22:30:00.000Z';
/** 08:00 the next morning in Paris. */
const parisMorning = '2030-01-02T07:00:00.000Z';
const night = { start: '22:00', end: '08:00' };

function refOf(n: Notification): UnitRef {
  return { kind: 'notification', tenantId, notificationId: n.id };
}

async function aWorld(at: string, bob: Partial<Recipient>): Promise<DeliveryWorld> {
  const world = aDeliveryWorld({ start: at });
  await world.recipients.put(aRecipient({ id: 'bob', ...bob }));
  return world;
}

async function seedAndDeliver(world: DeliveryWorld, overrides: Partial<Notification>): Promise<{ n: Notification; outcome: Awaited<ReturnType<DeliveryWorld['deliverOne']>> }> {
  const n = aNotification({ scheduledAt: world.clock.now().toISOString(), channels: ['inbox', 'email'], ...overrides });
  world.notifications.seed(n);
  return { n, outcome: await world.deliverOne(refOf(n)) };
}

describe('quiet hours at delivery', () => {
  it('holds a notification due inside the window until it ends, pending, sending nothing', async () => {
    // Prepare
    const world = await aWorld(lateEvening, { timezone: 'Europe/Paris', quietHours: night });

    // Act
    const { n, outcome } = await seedAndDeliver(world, {});

    // Assess
    expect(outcome).toMatchObject({ kind: 'later', at: Date.parse(parisMorning), cause: 'quietHours' });
    const stored = await world.notifications.get(tenantId, n.id);
    expect(stored).toMatchObject({ status: 'pending', heldUntil: parisMorning, heldReason: 'quiet hours 22:00-08:00 in Europe/Paris', attempts: 0 });
    expect(world.mailer.sent).toHaveLength(0);
    expect(await world.inbox.list(tenantId, 'bob')).toHaveLength(0);
  });

  it('holds for a zone stored in lower case before zones were read in any case, naming it as the tz database spells it', async () => {
    // Prepare
    const world = await aWorld(lateEvening, { timezone: 'europe/paris', quietHours: night });

    // Act
    const { n, outcome } = await seedAndDeliver(world, {});

    // Assess
    expect(outcome).toMatchObject({ kind: 'later', at: Date.parse(parisMorning), cause: 'quietHours' });
    expect(await world.notifications.get(tenantId, n.id)).toMatchObject({ heldUntil: parisMorning, heldReason: 'quiet hours 22:00-08:00 in Europe/Paris' });
  });

  it('delivers the held notification once, when the window ends', async () => {
    // Prepare
    const world = await aWorld(lateEvening, { timezone: 'Europe/Paris', quietHours: night });
    const { n } = await seedAndDeliver(world, {});

    // Act: an early look changes nothing; at the window's end it goes
    const early = await world.deliverOne(refOf(n));
    world.clock.set(new Date(parisMorning));
    const atEnd = await world.deliverOne(refOf(n));
    const again = await world.deliverOne(refOf(n));

    // Assess
    expect(early).toMatchObject({ kind: 'later', at: Date.parse(parisMorning), cause: 'notYetDue' });
    expect(atEnd).toEqual({ kind: 'done', status: 'sent' });
    expect(again).toEqual({ kind: 'done', status: 'sent' });
    expect(world.mailer.sent).toHaveLength(1);
    expect(await world.inbox.list(tenantId, 'bob')).toHaveLength(1);
  });

  it('delivers an urgent notification inside the window at once', async () => {
    // Prepare
    const world = await aWorld(lateEvening, { timezone: 'Europe/Paris', quietHours: night });

    // Act
    const { outcome } = await seedAndDeliver(world, { priority: 'urgent' });

    // Assess
    expect(outcome).toEqual({ kind: 'done', status: 'sent' });
    expect(world.mailer.sent).toHaveLength(1);
  });

  it("holds by the tenant's quiet hours in the tenant's zone when the recipient has neither", async () => {
    // Prepare
    const world = await aWorld(lateEvening, {});
    world.store.tenantSettings.set(tenantId, { defaultTimezone: 'Europe/Paris', quietHours: night });

    // Act
    const { outcome } = await seedAndDeliver(world, {});

    // Assess
    expect(outcome).toMatchObject({ kind: 'later', at: Date.parse(parisMorning), cause: 'quietHours' });
  });

  it("does not hold a recipient who chose no quiet hours (null), whatever the tenant's", async () => {
    // Prepare
    const world = await aWorld(lateEvening, { timezone: 'Europe/Paris', quietHours: null });
    world.store.tenantSettings.set(tenantId, { quietHours: night });

    // Act
    const { outcome } = await seedAndDeliver(world, {});

    // Assess
    expect(outcome).toEqual({ kind: 'done', status: 'sent' });
  });

  it('reads the zone when the notification falls due, not when it was created', async () => {
    // Prepare: 14:00 UTC is quiet in Tokyo (23:00), not in UTC; bob moved to Tokyo after it was created
    const world = await aWorld('2030-01-01T14:00:00.000Z', { quietHours: night });
    const n = aNotification({ scheduledAt: '2030-01-01T14:00:00.000Z' });
    world.notifications.seed(n);
    await world.recipients.put(aRecipient({ id: 'bob', quietHours: night, timezone: 'Asia/Tokyo' }));

    // Act
    const outcome = await world.deliverOne(refOf(n));

    // Assess: held until 08:00 in Tokyo
    expect(outcome).toMatchObject({ kind: 'later', at: Date.parse('2030-01-01T23:00:00.000Z'), cause: 'quietHours' });
  });

  it('holds a notification scheduled inside the window of a window that crosses midnight, after midnight', async () => {
    // Prepare: 03:00 in New York
    const world = await aWorld('2030-01-01T08:00:00.000Z', { timezone: 'America/New_York', quietHours: night });

    // Act
    const { outcome } = await seedAndDeliver(world, {});

    // Assess: 08:00 the same morning
    expect(outcome).toMatchObject({ kind: 'later', at: Date.parse('2030-01-01T13:00:00.000Z'), cause: 'quietHours' });
  });
});
