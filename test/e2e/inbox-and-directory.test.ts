/**
 * End to end on the local stack: the in-app inbox (HTTP and WebSocket, with live unread counts),
 * the recipient directory (batch upserts, group listing, erasure) and a user's own record and
 * channel switches, as clients see them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectSocket, eventually, inMs, startHarness } from './support/harness.ts';
import type { ApiResponse, Harness, SocketClient } from './support/harness.ts';

let h: Harness;
let admin: string;
let sender: string;
let bob: string;
let carol: string;
const sockets: SocketClient[] = [];

interface InboxView {
  readonly id: string;
  readonly title: string;
  readonly read: boolean;
}

beforeAll(async () => {
  h = await startHarness();
  admin = await h.token('ops', { role: 'admin' });
  sender = await h.token('billing', { role: 'sender' });
  bob = await h.token('bob');
  carol = await h.token('carol');
  const batch = await h.api('POST', '/v1/recipients/batch', {
    token: admin,
    body: { recipients: [{ id: 'bob', email: 'bob@example.com', groups: ['ops'] }, { id: 'carol', groups: ['ops'] }] },
  });
  expect(batch.status).toBe(200);
});

afterAll(async () => {
  await Promise.all(sockets.map((s) => s.close()));
  await h?.close();
});

async function openSocket(token: string): Promise<SocketClient> {
  const socket = await connectSocket(h.stack.wsUrl, token);
  sockets.push(socket);
  return socket;
}

/** Sends a notification to one recipient now and returns its id. */
async function notify(recipient: string, body: Record<string, unknown> = {}): Promise<string> {
  const created = await h.api('POST', '/v1/notifications', {
    token: admin,
    body: { recipients: [recipient], title: 'Hello', message: 'Something happened', ...body },
  });
  expect(created.status).toBe(201);
  return (created.body.notificationIds as string[])[0] as string;
}

async function inboxOf(token: string, query = ''): Promise<ApiResponse> {
  return h.api('GET', `/v1/me/inbox${query}`, { token });
}

async function unreadOf(token: string): Promise<number> {
  return (await h.api('GET', '/v1/me/inbox/unread-count', { token })).body.unread as number;
}

async function waitForInboxItem(token: string, id: string): Promise<void> {
  await eventually(
    () => inboxOf(token),
    (r) => (r.body.items as InboxView[]).some((i) => i.id === id),
  );
}

/** The new count reaching a connection: in an `inboxChanged` frame, or with the notification that changed it. */
function inboxChanged(socket: SocketClient, unread: number): Promise<unknown> {
  return socket.waitFor((d) => (d.type === 'inboxChanged' || d.type === 'notification') && d.unread === unread);
}

describe('the inbox', () => {
  it('holds a delivered notification unread, counts it, and tells every connection of the user', async () => {
    // Prepare
    const [first, second] = [await openSocket(bob), await openSocket(bob)];

    // Act
    const id = await notify('bob', { title: 'Standup' });

    // Assess
    await waitForInboxItem(bob, id);
    await Promise.all([inboxChanged(first as SocketClient, 1), inboxChanged(second as SocketClient, 1)]);
    const inbox = await inboxOf(bob);
    expect(inbox.status).toBe(200);
    expect(inbox.body.items).toEqual([expect.objectContaining({ id, title: 'Standup', read: false, readAt: null })]);
    expect(await unreadOf(bob)).toBe(1);
  });

  it('reads an item over HTTP: the count drops and every connection hears it, once', async () => {
    // Prepare
    const [first, second] = sockets;
    const [item] = (await inboxOf(bob, '?unread=true')).body.items as InboxView[];

    // Act
    const read = await h.api('POST', `/v1/me/inbox/${item?.id}/read`, { token: bob });
    const again = await h.api('POST', `/v1/me/inbox/${item?.id}/read`, { token: bob });

    // Assess
    expect(read).toEqual({ status: 200, body: { id: item?.id, read: true, unread: 0, unreadVersion: expect.any(Number) } });
    // Again changed nothing: the same count at the same version
    expect(again).toEqual(read);
    await Promise.all([inboxChanged(first as SocketClient, 0), inboxChanged(second as SocketClient, 0)]);
    expect((first as SocketClient).frames.filter((f) => f.data.type === 'inboxChanged' && f.data.unread === 0)).toHaveLength(1);
    expect((await inboxOf(bob)).body.items).toEqual([expect.objectContaining({ id: item?.id, read: true, readAt: expect.any(String) })]);
    expect((await inboxOf(bob, '?unread=true')).body.items).toEqual([]);
  });

  it('reads an item over the WebSocket, and every connection of the user hears the new count', async () => {
    // Prepare
    const [first, second] = sockets as [SocketClient, SocketClient];
    const id = await notify('bob', { channels: ['inbox'] });
    await waitForInboxItem(bob, id);
    first.frames.splice(0);
    second.frames.splice(0);

    // Act
    first.send({ action: 'markRead', id });

    // Assess
    await Promise.all([inboxChanged(first, 0), inboxChanged(second, 0)]);
    expect(await unreadOf(bob)).toBe(0);
  });

  it('answers a markRead of an unknown item on that connection only', async () => {
    // Prepare
    const [first, second] = sockets as [SocketClient, SocketClient];
    second.frames.splice(0);

    // Act
    first.send({ action: 'markRead', id: 'ntf_01JABCDEFGHJKMNPQRSTVWXYZ0' });

    // Assess
    await expect(first.waitFor((d) => d.type === 'error' && d.code === 'NOT_FOUND')).resolves.toBeTruthy();
    expect(second.frames.filter((f) => f.data.type === 'error')).toEqual([]);
  });

  it('hides one user item from another user as not found', async () => {
    // Prepare
    const [item] = (await inboxOf(bob)).body.items as InboxView[];

    // Act
    const response = await h.api('POST', `/v1/me/inbox/${item?.id}/read`, { token: carol });

    // Assess
    expect(response.status).toBe(404);
  });

  it('reads everything at once, and again changes nothing', async () => {
    // Prepare
    const ids = [await notify('bob', { channels: ['inbox'] }), await notify('bob', { channels: ['inbox'] }), await notify('bob', { channels: ['inbox'] })];
    for (const id of ids) await waitForInboxItem(bob, id);
    expect(await unreadOf(bob)).toBe(3);

    // Act
    const all = await h.api('POST', '/v1/me/inbox/read-all', { token: bob });
    const again = await h.api('POST', '/v1/me/inbox/read-all', { token: bob });

    // Assess
    expect(all).toEqual({ status: 200, body: { marked: 3, unread: 0, unreadVersion: expect.any(Number) } });
    expect(again).toEqual({ status: 200, body: { marked: 0, unread: 0, unreadVersion: (all.body as { unreadVersion: number }).unreadVersion } });
    expect((await inboxOf(bob, '?unread=true')).body.items).toEqual([]);
  });

  it('pages the inbox newest first with an opaque cursor, and refuses a forged one', async () => {
    // Act
    const first = await inboxOf(bob, '?limit=2');
    const second = await inboxOf(bob, `?limit=2&cursor=${String(first.body.nextCursor)}`);
    const forged = await inboxOf(bob, '?cursor=eyJ2IjoxLCJpbmJveCI6ImFsbCIsImFmdGVyIjoieCJ9');
    const tooMany = await inboxOf(bob, '?limit=101');

    // Assess
    expect(first.body.items).toHaveLength(2);
    expect(second.body.items).toHaveLength(2);
    const all = [...(first.body.items as InboxView[]), ...(second.body.items as InboxView[])].map((i) => i.id);
    expect(new Set(all).size).toBe(4);
    expect(forged.status).toBe(400);
    expect(forged.body.error?.message).toContain('cursor');
    expect(tooMany.status).toBe(400);
  });
});

describe('the directory', () => {
  it('applies the valid entries of a batch and says why the others failed (207)', async () => {
    // Act
    const response = await h.api('POST', '/v1/recipients/batch', {
      token: sender,
      body: {
        recipients: [
          { id: 'm1', groups: ['ops'] },
          { id: 'm2', email: 'nope' },
          { id: 'm3', groups: ['ops'], timezone: 'Europe/Paris' },
          { groups: ['ops'] },
        ],
      },
    });

    // Assess
    expect(response.status).toBe(207);
    expect(response.body.succeeded).toEqual([
      { index: 0, id: 'm1', created: true },
      { index: 2, id: 'm3', created: true },
    ]);
    expect(response.body.failed).toEqual([
      { index: 1, id: 'm2', error: expect.objectContaining({ code: 'VALIDATION_ERROR', message: expect.stringContaining('email') }) },
      { index: 3, id: null, error: expect.objectContaining({ code: 'VALIDATION_ERROR', message: expect.stringContaining('id') }) },
    ]);
    expect((await h.api('GET', '/v1/recipients/m2', { token: admin })).status).toBe(404);
  });

  it('refuses a batch past 1,000 entries as a whole', async () => {
    // Act
    const response = await h.api('POST', '/v1/recipients/batch', {
      token: admin,
      body: { recipients: Array.from({ length: 1001 }, (_, i) => ({ id: `bulk${i}` })) },
    });

    // Assess
    expect(response.status).toBe(400);
    expect(response.body.error?.message).toContain('recipients');
    expect((await h.api('GET', '/v1/recipients/bulk0', { token: admin })).status).toBe(404);
  });

  it('replays a batch sent again with the same Idempotency-Key', async () => {
    // Prepare
    const request = { token: admin, body: { recipients: [{ id: 'idem1' }] }, headers: { 'idempotency-key': 'batch-1' } };

    // Act
    const first = await h.apiWithHeaders('POST', '/v1/recipients/batch', request);
    const second = await h.apiWithHeaders('POST', '/v1/recipients/batch', request);

    // Assess
    expect(first.body).toEqual({ succeeded: [{ index: 0, id: 'idem1', created: true }], failed: [] });
    expect(second.body).toEqual(first.body);
    expect(second.headers['idempotent-replayed']).toBe('true');
  });

  it('pages the members of a group with a cursor, and refuses a cursor of another listing', async () => {
    // Act
    const pages: string[][] = [];
    let cursor: string | null = null;
    do {
      const page: ApiResponse = await h.api('GET', `/v1/recipients?group=ops&limit=2${cursor ? `&cursor=${cursor}` : ''}`, { token: sender });
      expect(page.status).toBe(200);
      pages.push((page.body.items as { id: string }[]).map((r) => r.id));
      cursor = page.body.nextCursor as string | null;
    } while (cursor);
    const firstPage = await h.api('GET', '/v1/recipients?group=ops&limit=2', { token: sender });
    const elsewhere = await h.api('GET', `/v1/recipients?limit=2&cursor=${String(firstPage.body.nextCursor)}`, { token: sender });

    // Assess
    expect(pages).toEqual([['bob', 'carol'], ['m1', 'm3']]);
    expect(elsewhere.status).toBe(400);
  });

  it('forbids a plain user to list the directory, and shows another tenant nothing', async () => {
    // Prepare
    const otherAdmin = await h.token('ops', { role: 'admin', tenant: 'globex' });

    // Act
    const plain = await h.api('GET', '/v1/recipients', { token: bob });
    const other = await h.api('GET', '/v1/recipients', { token: otherAdmin });
    const erase = await h.api('DELETE', '/v1/recipients/bob', { token: otherAdmin });

    // Assess
    expect(plain.status).toBe(403);
    expect(other).toEqual({ status: 200, body: { items: [], nextCursor: null } });
    expect(erase.status).toBe(404);
    expect((await h.api('GET', '/v1/recipients/bob', { token: admin })).status).toBe(200);
  });

  it('erases a recipient: their socket is closed, the pending notification never arrives and the inbox is gone', async () => {
    // Prepare
    expect((await h.api('PUT', '/v1/recipients/dave', { token: admin, body: { groups: ['ops'] } })).status).toBe(201);
    const dave = await h.token('dave');
    const daveSocket = await openSocket(dave);
    const delivered = await notify('dave', { channels: ['inbox'] });
    await waitForInboxItem(dave, delivered);
    const pending = await notify('dave', { title: 'Later', scheduledAt: inMs(4_000) });

    // Act
    const erased = await h.api('DELETE', '/v1/recipients/dave', { token: sender });

    // Assess
    expect(erased).toEqual({ status: 200, body: { id: 'dave', cancelledNotifications: 1, removedInboxItems: 1, removedConnections: 1, removedPushTargets: 0 } });
    // Closed by the server (DeleteConnection) as the erasure ran: 1000, as API Gateway closes. The
    // close handshake takes milliseconds; 5 s is the bound.
    expect(await Promise.race([daveSocket.closed, new Promise((resolve) => setTimeout(() => resolve('still open'), 5_000))])).toBe(1000);
    expect((await h.api('GET', `/v1/notifications/${pending}`, { token: admin })).body.status).toBe('cancelled');
    await new Promise((resolve) => setTimeout(resolve, 6_000));
    expect((await h.api('GET', `/v1/notifications/${pending}`, { token: admin })).body.status).toBe('cancelled');
    expect(daveSocket.frames.filter((f) => f.data.type === 'notification')).toEqual([]);
    expect(await inboxOf(dave)).toEqual({ status: 200, body: { items: [], nextCursor: null } });
    expect(await unreadOf(dave)).toBe(0);
    expect((await h.api('GET', '/v1/me', { token: dave })).status).toBe(404);
    expect((await h.api('GET', '/v1/recipients?group=ops', { token: admin })).body.items).not.toContainEqual(expect.objectContaining({ id: 'dave' }));
    expect((await h.api('DELETE', '/v1/recipients/dave', { token: admin })).status).toBe(404);
  }, 20_000);
});

describe('a user own record', () => {
  it('reads it, and 404s for a user not in the directory', async () => {
    // Act
    const me = await h.api('GET', '/v1/me', { token: bob });
    const stranger = await h.api('GET', '/v1/me', { token: await h.token('stranger') });
    const patchStranger = await h.api('PATCH', '/v1/me', { token: await h.token('stranger'), body: { timezone: 'Asia/Tokyo' } });

    // Assess
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ id: 'bob', email: 'bob@example.com', groups: ['ops'], channels: { email: true, websocket: true } });
    expect(stranger.status).toBe(404);
    expect(patchStranger.status).toBe(404);
  });

  it('sends one code for a new address set twice with one Idempotency-Key, and a new code for a repeat without one', async () => {
    // Prepare
    expect((await h.api('PUT', '/v1/recipients/erin', { token: admin, body: {} })).status).toBe(201);
    const erin = await h.token('erin');
    const address = `erin-${Date.now()}@example.com`;
    const codesTo = async (): Promise<number> =>
      ((await (await fetch(`${h.stack.sesUrl}/store`)).json()) as { emails: { destination: { to: string[] } }[] }).emails.filter((e) => e.destination.to.includes(address)).length;
    const patch = async (headers: Record<string, string>): ReturnType<Harness['apiWithHeaders']> => h.apiWithHeaders('PATCH', '/v1/me', { token: erin, body: { email: address }, headers });

    // Act
    const first = await patch({ 'idempotency-key': 'erin-email' });
    const repeat = await patch({ 'idempotency-key': 'erin-email' });
    const codesAfterRetry = await codesTo();
    const reused = await h.apiWithHeaders('PATCH', '/v1/me', { token: erin, body: { timezone: 'Asia/Tokyo' }, headers: { 'idempotency-key': 'erin-email' } });
    const again = await patch({});

    // Assess
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ email: address, awaitingVerification: ['email'] });
    expect([repeat.status, repeat.headers['idempotent-replayed'], repeat.body]).toEqual([200, 'true', first.body]);
    expect(codesAfterRetry).toBe(1);
    expect([reused.status, reused.body.error?.code]).toEqual([422, 'IDEMPOTENCY_KEY_REUSED']);
    expect(again.status).toBe(200);
    expect(await codesTo()).toBe(2);
  });

  it('refuses server-owned fields, naming them, and changes nothing', async () => {
    // Act
    const response = await h.api('PATCH', '/v1/me', { token: bob, body: { timezone: 'Asia/Tokyo', groups: ['admins'] } });

    // Assess
    expect(response.status).toBe(400);
    expect(response.body.error?.details).toEqual([{ field: 'groups', message: 'is set by the server and cannot be changed' }]);
    expect((await h.api('GET', '/v1/me', { token: bob })).body).toMatchObject({ timezone: null, groups: ['ops'] });
  });

  it('switches email off: a notification then sends no email, and says why', async () => {
    // Prepare
    const patched = await h.api('PATCH', '/v1/me', { token: bob, body: { timezone: 'Europe/Paris', channels: { email: false } } });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ timezone: 'Europe/Paris', channels: { email: false, websocket: true } });
    const subject = `Quiet please ${Date.now()}`;

    // Act
    const id = await notify('bob', { title: subject, channels: ['inbox', 'email'] });

    // Assess
    const sent = await eventually(
      () => h.api('GET', `/v1/notifications/${id}`, { token: admin }),
      (r) => r.body.status === 'sent',
    );
    expect((sent.body.deliveries as Record<string, unknown>).email).toMatchObject({ status: 'skipped', detail: 'disabled by preference' });
    const store = (await (await fetch(`${h.stack.sesUrl}/store`)).json()) as { emails: { subject: string }[] };
    expect(store.emails.filter((e) => e.subject === subject)).toEqual([]);
  });
});
