/**
 * The engine writing each unit's outcome once its own sends are done: a recipient whose channels
 * answered at once is not left `sending`, their inbox item unwritten, while a slow provider keeps
 * another recipient of the same batch waiting; a round whose sends all answer promptly is still
 * one commit; a commit that throws does not keep the rest of its round from being written.
 */
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { readyWaitMs } from '../../../../shared/delivery/commit-as-ready.ts';
import { unitKey } from '../../../../shared/domain/delivery.ts';
import type { UnitRef } from '../../../../shared/domain/delivery.ts';
import type { Notification } from '../../../../shared/domain/notification.ts';
import { logger } from '../../../../shared/observability/logger.ts';
import { aBroadcastWorld } from '../../fakes/broadcast-world.ts';
import { aDeliveryWorld } from '../../fakes/index.ts';
import type { DeliveryWorld } from '../../fakes/index.ts';
import { aNotification, aRecipient, admin, awsError, tenantId } from '../../fakes/fixtures.ts';
import { createBroadcast } from '../../../../shared/use-cases/broadcasts.ts';

beforeAll(() => {
  logger.setLogLevel('SILENT');
});

const noon = '2030-01-01T12:00:00.000Z';
const sent = { kind: 'done', status: 'sent' };

interface World extends DeliveryWorld {
  /** To Dave, who has an e-mail address and no open socket. */
  readonly toDave: Notification;
  /** To Carol, who has no e-mail address and one open socket. */
  readonly toCarol: Notification;
  /** The notification as stored now. */
  current(n: Notification): Promise<Notification>;
}

const refOf = (n: Notification): UnitRef => ({ kind: 'notification', tenantId, notificationId: n.id });
const keyOf = (n: Notification): string => unitKey(refOf(n));

/** One request to Dave and Carol on inbox, WebSocket and e-mail, as a batch delivers it: one unit each. */
async function aWorld(): Promise<World> {
  const world = aDeliveryWorld({ start: noon });
  await world.recipients.put(aRecipient({ id: 'dave', email: 'dave@example.com' }));
  const { email: _none, ...carol } = aRecipient({ id: 'carol' });
  await world.recipients.put(carol);
  await world.live.connect(tenantId, 'carol', { connectionId: 'conn-carol', connectedAt: noon });
  world.sockets.open('conn-carol');
  const toDave = aNotification({ recipientId: 'dave' });
  const toCarol = aNotification({ recipientId: 'carol' });
  world.notifications.seed(toDave);
  world.notifications.seed(toCarol);
  return {
    ...world,
    toDave,
    toCarol,
    current: async (n) => {
      const stored = await world.notifications.get(tenantId, n.id);
      if (!stored) throw new Error('the notification is gone');
      return stored;
    },
  };
}

/** A provider's answer, held until the test gives it. */
function heldAnswer(): { readonly held: Promise<void>; answer(): void } {
  let answer = (): void => undefined;
  const held = new Promise<void>((resolve) => (answer = resolve));
  return { held, answer };
}

describe('the engine writing outcomes as units are ready', () => {
  it('writes a recipient whose channels answered at once without waiting for a slow send to another recipient of the batch', async () => {
    // Prepare: Dave's mail server holds its answer until the test gives it
    const world = await aWorld();
    const dave = heldAnswer();
    world.mailer.onSend = () => dave.held;

    // Act: Carol's sends are done and her outcome waits for the rest of the round, at most readyWaitMs
    const delivering = world.deliver(refOf(world.toDave), refOf(world.toCarol));
    await vi.waitFor(() => expect(world.timers.pending).toBe(1), { timeout: 20_000 });
    const carolWritten = new Promise<void>((resolve) => (world.store.afterCommit = resolve));
    world.timers.advance(readyWaitMs);
    await carolWritten;
    const carolMeanwhile = await world.current(world.toCarol);
    const carolsInboxMeanwhile = await world.inbox.list(tenantId, 'carol');
    const daveMeanwhile = await world.current(world.toDave);
    dave.answer();
    const outcomes = await delivering;

    // Assess
    expect(carolMeanwhile).toMatchObject({ status: 'sent', sentAt: '2030-01-01T12:00:00.250Z' });
    expect(carolsInboxMeanwhile.map((item) => item.notificationId)).toEqual([world.toCarol.id]);
    expect(daveMeanwhile.status).toBe('sending');
    expect(world.store.commitsDecided).toEqual([[keyOf(world.toCarol)], [keyOf(world.toDave)]]);
    expect(outcomes).toEqual(
      new Map([
        [keyOf(world.toDave), sent],
        [keyOf(world.toCarol), sent],
      ]),
    );
    expect(await world.current(world.toDave)).toMatchObject({ status: 'sent', deliveries: { email: { status: 'sent' } } });
    expect(await world.inbox.list(tenantId, 'dave')).toHaveLength(1);
    // Her frame announced the count her commit made: nothing more to tell her.
    expect(world.sockets.posted).toEqual([
      { connectionId: 'conn-carol', payload: { type: 'notification', notification: expect.objectContaining({ id: world.toCarol.id }), unread: 1, unreadVersion: 1 } },
    ]);
  });

  it('writes a round whose sends all answer promptly in one commit', async () => {
    // Prepare
    const world = await aWorld();

    // Act
    const outcomes = await world.deliver(refOf(world.toDave), refOf(world.toCarol));

    // Assess
    expect([...outcomes.values()]).toEqual([sent, sent]);
    expect(world.store.commitCalls).toBe(1);
    expect(world.store.commitsDecided).toEqual([[keyOf(world.toDave), keyOf(world.toCarol)]]);
    expect(world.timers.pending).toBe(0);
  });

  it('writes the rest of the round when the commit of the first ready unit throws, then fails the batch', async () => {
    // Prepare: Dave's e-mail is slow; the store fails every round of the first commit (Carol's)
    const world = await aWorld();
    const dave = heldAnswer();
    world.mailer.onSend = () => dave.held;
    world.store.commitFailures.add(...Array.from({ length: 6 }, () => awsError('ServiceUnavailable', 503, 'DynamoDB is having a moment')));

    // Act
    const delivering = world.deliver(refOf(world.toDave), refOf(world.toCarol)).then(
      () => undefined,
      (error: unknown) => error,
    );
    await vi.waitFor(() => expect(world.timers.pending).toBe(1), { timeout: 20_000 });
    world.timers.advance(readyWaitMs);
    await vi.waitFor(() => expect(world.store.commitFailures.pending).toBe(0), { timeout: 20_000 });
    dave.answer();
    const error = await delivering;

    // Assess: Dave's e-mail is recorded, not left to be read `unconfirmed`; Carol waits for her lease to end
    expect(error).toMatchObject({ name: 'ServiceUnavailable' });
    expect(world.store.commitsDecided).toEqual([[keyOf(world.toDave)]]);
    expect(await world.current(world.toDave)).toMatchObject({ status: 'sent', deliveries: { email: { status: 'sent' } } });
    expect(await world.current(world.toCarol)).toMatchObject({ status: 'sending' });
    expect(await world.inbox.list(tenantId, 'carol')).toEqual([]);
  });

  it('counts on the broadcast the rows written in separate commits, and completes it with the last', async () => {
    // Prepare: a broadcast to Dave (slow e-mail) and Carol, fanned out
    const world = aBroadcastWorld({ shards: 1 });
    await world.recipients.put(aRecipient({ id: 'dave', email: 'dave@example.com' }));
    const { email: _none, ...carol } = aRecipient({ id: 'carol' });
    await world.recipients.put(carol);
    const { broadcastId } = await createBroadcast(world.api, admin, {
      audience: { recipientIds: ['dave', 'carol'] },
      title: 'Maintenance',
      message: 'Tonight at 2am',
      type: 'system',
      priority: 'high',
      draft: false,
    });
    await world.step({ kind: 'start', tenantId, broadcastId });
    await world.runFanout();
    const dave = heldAnswer();
    world.mailer.onSend = () => dave.held;

    // Act
    const delivering = world.deliverNext();
    await vi.waitFor(() => expect(world.timers.pending).toBe(1), { timeout: 20_000 });
    const carolWritten = new Promise<void>((resolve) => (world.store.afterCommit = resolve));
    world.timers.advance(readyWaitMs);
    await carolWritten;
    await vi.waitFor(async () => expect((await world.broadcasts.get(tenantId, broadcastId))?.counts).toMatchObject({ sent: 1 }), { timeout: 20_000 });
    const meanwhile = await world.broadcasts.get(tenantId, broadcastId);
    dave.answer();
    await delivering;

    // Assess
    expect(meanwhile).toMatchObject({ status: 'sending', counts: { total: 2, sent: 1 } });
    expect(world.store.commitCalls).toBe(2);
    expect(await world.broadcasts.get(tenantId, broadcastId)).toMatchObject({ status: 'completed', counts: { total: 2, sent: 2, failed: 0 } });
  });
});
