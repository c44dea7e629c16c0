import { describe, expect, it } from 'vitest';
import type { Caller } from '../../../../shared/domain/caller.ts';
import { encodeCursor } from '../../../../shared/domain/page-cursor.ts';
import { NotFoundError, ValidationError } from '../../../../shared/errors.ts';
import type { InboxItem } from '../../../../shared/ports.ts';
import {
  countUnread,
  listInbox,
  markAllInboxRead,
  markInboxItemRead,
  notifyInboxChanged,
} from '../../../../shared/use-cases/inbox.ts';
import type { InboxDeps } from '../../../../shared/use-cases/inbox.ts';
import { FakeClock, FakeSocketPoster, InMemoryInboxStore, InMemoryLiveStateStore } from '../../fakes/index.ts';
import { plainUser, tenantId } from '../../fakes/fixtures.ts';

interface World {
  deps: InboxDeps;
  inbox: InMemoryInboxStore;
  live: InMemoryLiveStateStore;
  sockets: FakeSocketPoster;
  clock: FakeClock;
}

async function aWorld(): Promise<World> {
  const inbox = new InMemoryInboxStore();
  // The live state shares the inbox's unread count, as the one DynamoDB item does.
  const live = new InMemoryLiveStateStore(inbox);
  const sockets = new FakeSocketPoster();
  const clock = new FakeClock('2030-01-02T10:00:00.000Z');
  const connectedAt = '2030-01-02T09:30:00.000Z';
  // bob has two open connections; a third one is stale at the gateway.
  for (const connectionId of ['c1', 'c2', 'stale']) await live.connect(tenantId, 'bob', { connectionId, connectedAt });
  await live.connect(tenantId, 'carol', { connectionId: 'carol1', connectedAt });
  sockets.open('c1', 'c2', 'carol1');
  return { deps: { inbox, live, sockets, clock, readRetentionDays: 30 }, inbox, live, sockets, clock };
}

function anItem(n: number, recipientId = 'bob'): InboxItem {
  return {
    tenantId,
    recipientId,
    notificationId: `ntf_${String(n).padStart(26, '0')}`,
    title: `Title ${n}`,
    message: 'Hello',
    type: 'reminder',
    priority: 'normal',
    createdAt: '2030-01-01T11:00:00.000Z',
    deliveredAt: `2030-01-01T12:00:${String(n).padStart(2, '0')}.000Z`,
  };
}

function framesTo(sockets: FakeSocketPoster, connectionId: string): unknown[] {
  return sockets.posted.filter((p) => p.connectionId === connectionId).map((p) => p.payload);
}

describe('listInbox', () => {
  it('lists the caller own inbox newest first, page by page, with an opaque cursor', async () => {
    // Prepare
    const { deps, inbox } = await aWorld();
    for (const n of [1, 2, 3]) await inbox.add(anItem(n));
    await inbox.add(anItem(4, 'carol'));

    // Act
    const first = await listInbox(deps, plainUser, { limit: 2 });
    const second = await listInbox(deps, plainUser, { limit: 2, ...(first.nextCursor ? { cursor: first.nextCursor } : {}) });

    // Assess
    expect(first.items.map((i) => i.title)).toEqual(['Title 3', 'Title 2']);
    expect(first.items[0]).toEqual({
      id: anItem(3).notificationId,
      title: 'Title 3',
      message: 'Hello',
      type: 'reminder',
      priority: 'normal',
      data: {},
      createdAt: '2030-01-01T11:00:00.000Z',
      deliveredAt: '2030-01-01T12:00:03.000Z',
      read: false,
      readAt: null,
    });
    expect(first.nextCursor).toEqual(expect.stringMatching(/^[A-Za-z0-9_-]+$/));
    expect(second.items.map((i) => i.title)).toEqual(['Title 1']);
    expect(second.nextCursor).toBeNull();
  });

  it('keeps only unread items when asked', async () => {
    // Prepare
    const { deps, inbox } = await aWorld();
    for (const n of [1, 2, 3]) await inbox.add(anItem(n));
    await markInboxItemRead(deps, plainUser, anItem(2).notificationId);

    // Act
    const page = await listInbox(deps, plainUser, { unread: true, limit: 20 });

    // Assess
    expect(page.items.map((i) => i.title)).toEqual(['Title 3', 'Title 1']);
  });

  it.each([
    ['a garbled cursor', 'not-a-cursor!'],
    ['a cursor edited by hand', encodeCursor({ inbox: 'all', after: 'whatever' })],
    ['a cursor of the unread listing', encodeCursor({ inbox: 'unread', after: `2030-01-01T12:00:01.000Z#${anItem(1).notificationId}` })],
  ])('refuses %s with a 400 naming the cursor', async (_, cursor) => {
    // Prepare
    const { deps } = await aWorld();

    // Act
    const result = listInbox(deps, plainUser, { limit: 20, cursor });

    // Assess
    await expect(result).rejects.toBeInstanceOf(ValidationError);
    await expect(result).rejects.toMatchObject({ details: [{ field: 'cursor' }] });
  });
});

describe('markInboxItemRead', () => {
  it('reads the item, lowers the count and tells every connection of the user, forgetting stale ones', async () => {
    // Prepare
    const { deps, inbox, live, sockets } = await aWorld();
    await inbox.add(anItem(1));
    await inbox.add(anItem(2));

    // Act
    const result = await markInboxItemRead(deps, plainUser, anItem(1).notificationId);

    // Assess
    // Two adds made versions 1 and 2; the read, version 3
    expect(result).toEqual({ id: anItem(1).notificationId, read: true, unread: 1, unreadVersion: 3 });
    expect(framesTo(sockets, 'c1')).toEqual([{ type: 'inboxChanged', unread: 1, unreadVersion: 3 }]);
    expect(framesTo(sockets, 'c2')).toEqual([{ type: 'inboxChanged', unread: 1, unreadVersion: 3 }]);
    expect(framesTo(sockets, 'carol1')).toEqual([]);
    expect(live.connectionIds(tenantId, 'bob')).not.toContain('stale');
    expect(inbox.expiresAtOf(tenantId, 'bob', anItem(1).notificationId)).toBe(Date.parse('2030-02-01T10:00:00.000Z') / 1000);
  });

  it('answers the same when the item was already read, without telling anyone again', async () => {
    // Prepare
    const { deps, inbox, sockets } = await aWorld();
    await inbox.add(anItem(1));
    await markInboxItemRead(deps, plainUser, anItem(1).notificationId);
    sockets.posted.length = 0;

    // Act
    const result = await markInboxItemRead(deps, plainUser, anItem(1).notificationId);

    // Assess
    expect(result).toEqual({ id: anItem(1).notificationId, read: true, unread: 0, unreadVersion: 2 });
    expect(sockets.posted).toEqual([]);
  });

  it.each<[string, Caller, string]>([
    ['an id nobody has', plainUser, 'ntf_unknown'],
    ['another user item', plainUser, anItem(9, 'carol').notificationId],
    ['the same user of another tenant', { ...plainUser, tenantId: 'other' }, anItem(1).notificationId],
  ])('answers 404 for %s, reading nothing', async (_, caller, id) => {
    // Prepare
    const { deps, inbox } = await aWorld();
    await inbox.add(anItem(1));
    await inbox.add(anItem(9, 'carol'));

    // Act
    const result = markInboxItemRead(deps, caller, id);

    // Assess
    await expect(result).rejects.toBeInstanceOf(NotFoundError);
    expect(await inbox.unreadCount(tenantId, 'carol')).toEqual({ unread: 1, unreadVersion: 1 });
    expect(await inbox.unreadCount(tenantId, 'bob')).toEqual({ unread: 1, unreadVersion: 1 });
  });

  it('still answers when telling a connection fails: the read is stored', async () => {
    // Prepare
    const { deps, inbox, sockets } = await aWorld();
    await inbox.add(anItem(1));
    sockets.failures.add(new Error('throttled'));

    // Act
    const result = await markInboxItemRead(deps, plainUser, anItem(1).notificationId);

    // Assess
    expect(result.unread).toBe(0);
    expect(sockets.posted).toHaveLength(1);
  });
});

describe('the order of the counts a user is told', () => {
  it('gives each change of the count a greater version, so the frames order as the writes happened whatever order they arrive in', async () => {
    // Prepare: three items, read one after the other
    const { deps, inbox, sockets } = await aWorld();
    for (const n of [1, 2, 3]) await inbox.add(anItem(n));

    // Act
    for (const n of [2, 1, 3]) await markInboxItemRead(deps, plainUser, anItem(n).notificationId);

    // Assess: delivered out of order, the frame with the greatest version is the last write's
    const frames = framesTo(sockets, 'c1') as { unread: number; unreadVersion: number }[];
    expect(frames.map((f) => f.unreadVersion)).toEqual([4, 5, 6]);
    const newest = [...frames].reverse().reduce((kept, f) => (f.unreadVersion > kept.unreadVersion ? f : kept));
    expect(newest).toEqual({ type: 'inboxChanged', unread: 0, unreadVersion: 6 });
  });

  it('answers the count with the version a frame of the same count carries', async () => {
    // Prepare
    const { deps, inbox, sockets } = await aWorld();
    await inbox.add(anItem(1));
    await inbox.add(anItem(2));
    await markInboxItemRead(deps, plainUser, anItem(1).notificationId);

    // Act
    const answered = await countUnread(deps, plainUser);

    // Assess
    expect(framesTo(sockets, 'c1')).toEqual([{ type: 'inboxChanged', ...answered }]);
  });

  it('reads a count stored before versions existed as version 0, and the next change makes it 1', async () => {
    // Prepare: a counter item with a count and no version (the fake's count as such an item reads)
    const { deps, inbox, sockets } = await aWorld();
    await inbox.add(anItem(1));
    await inbox.add(anItem(2));
    inbox.setUnread(tenantId, 'bob', 2, 0);

    // Act
    const before = await countUnread(deps, plainUser);
    await markInboxItemRead(deps, plainUser, anItem(1).notificationId);

    // Assess
    expect(before).toEqual({ unread: 2, unreadVersion: 0 });
    expect(framesTo(sockets, 'c1')).toEqual([{ type: 'inboxChanged', unread: 1, unreadVersion: 1 }]);
  });
});

describe('markAllInboxRead', () => {
  it('reads every unread item across pages and tells the user once', async () => {
    // Prepare
    const { deps, inbox, sockets } = await aWorld();
    for (let n = 1; n <= 250; n++) await inbox.add({ ...anItem(n), deliveredAt: new Date(Date.UTC(2030, 0, 1, 12, 0, n)).toISOString() });
    await markInboxItemRead(deps, plainUser, anItem(7).notificationId);
    sockets.posted.length = 0;

    // Act
    const result = await markAllInboxRead(deps, plainUser);

    // Assess
    const stored = await countUnread(deps, plainUser);
    expect(stored.unread).toBe(0);
    expect(stored.unreadVersion).toBeGreaterThan(251);
    expect(result).toEqual({ marked: 249, ...stored });
    expect(framesTo(sockets, 'c1')).toEqual([{ type: 'inboxChanged', ...stored }]);
  });

  it('changes nothing and tells nobody the second time', async () => {
    // Prepare
    const { deps, inbox, sockets } = await aWorld();
    await inbox.add(anItem(1));
    await markAllInboxRead(deps, plainUser);
    sockets.posted.length = 0;

    // Act
    const result = await markAllInboxRead(deps, plainUser);

    // Assess
    expect(result).toEqual({ marked: 0, unread: 0, unreadVersion: 2 });
    expect(sockets.posted).toEqual([]);
  });
});

describe('notifyInboxChanged', () => {
  it('tells nobody when the user has no connection', async () => {
    // Prepare
    const { deps, inbox, sockets } = await aWorld();
    inbox.setUnread(tenantId, 'dave', 3, 5);

    // Act
    const count = await notifyInboxChanged(deps, tenantId, 'dave');

    // Assess
    expect(count).toEqual({ unread: 3, unreadVersion: 5 });
    expect(sockets.posted).toEqual([]);
  });

  it('tells every open connection the count stored, read in one go with the connections', async () => {
    // Prepare
    const { deps, inbox, sockets } = await aWorld();
    inbox.setUnread(tenantId, 'bob', 7, 11);

    // Act
    const count = await notifyInboxChanged(deps, tenantId, 'bob');

    // Assess
    expect(count).toEqual({ unread: 7, unreadVersion: 11 });
    expect(framesTo(sockets, 'c1')).toEqual([{ type: 'inboxChanged', unread: 7, unreadVersion: 11 }]);
    expect(framesTo(sockets, 'c2')).toEqual([{ type: 'inboxChanged', unread: 7, unreadVersion: 11 }]);
    expect(framesTo(sockets, 'carol1')).toEqual([]);
  });
});
