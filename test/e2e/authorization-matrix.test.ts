/**
 * Authorization as a matrix, against a local stack. For every jwt route of the app description
 * (read from the description, so a new route is in the matrix at once), the table below says how
 * to make a valid request and who may make it; the test then proves, route by route:
 *
 * - no token, or a token the authorizer refuses → 401 (the gateway's `{ message }`);
 * - each role the route serves succeeds, with a body its documentation describes;
 * - each other role gets 403, whether or not what it names exists;
 * - naming someone else's item (another user's notification, inbox item or profile, another
 *   sender's notification or broadcast) gets 404 (or the row's answer), exactly as naming
 *   nothing does: never "it exists";
 * - naming another tenant's item gets the same as naming nothing (404);
 * - a body naming a field the server owns (`status`, `sentAt`, `attempts`, `recipientId`, ...) → 400
 *   naming that field, nothing applied.
 *
 * Every answer must be documented for its route (status in `/openapi.json`, body parsed by the
 * route's response schema). A jwt route without a row fails: the matrix grows with the API.
 */
import { createECDH, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { httpRoutes } from '../../lib/app-description.ts';
import type { HttpRoute } from '../../lib/app-description.ts';
import { routeDocs } from '../../functions/api/route-docs.ts';
import { errorResponseSchema, gatewayErrorSchema } from '../../shared/domain/response-schemas.ts';
import { eventually, inMs, startHarness } from './support/harness.ts';
import type { ApiResponse, Harness } from './support/harness.ts';

type Role = 'admin' | 'sender' | 'user';
const allRoles: readonly Role[] = ['admin', 'sender', 'user'];

/** A request, without its method (the route's) and token (the role's). */
interface Call {
  readonly path: string;
  readonly body?: unknown;
}

/** What a route names by id, and whose items those ids may be. */
interface Target {
  /** The request naming `id` (in the path, the body or the query). */
  naming(id: string): Call;
  /** Items of someone else in the tenant, and the role that must not reach them. */
  readonly others: readonly { readonly as: Role; readonly id: () => string }[];
  /** An item of another tenant. */
  readonly foreign: () => string;
  /** A well-formed id of nothing at all. */
  readonly missing: string;
  /** What naming another's, another tenant's or no item answers a role. @default 404 */
  readonly hidden?: (role: Role) => number;
}

interface MatrixRow {
  /** The roles the route serves; every other role gets 403. */
  readonly roles: readonly Role[];
  /** The status of a valid request. */
  readonly ok: number;
  /** A valid request of `role`, on what that role may touch (making fresh fixtures when it changes them). */
  valid(role: Role): Promise<Call>;
  readonly target?: Target;
}

/** Fields the server owns: a body naming one is refused by name. */
const serverOwnedFields = ['id', 'tenantId', 'recipientId', 'createdBy', 'createdAt', 'status', 'sentAt', 'attempts'];

const missingNotification = 'ntf_01JAAAAAAAAAAAAAAAAAAAAAAA';
const missingBroadcast = 'brd_01JAAAAAAAAAAAAAAAAAAAAAAA';
const hour = 60 * 60 * 1000;

let h: Harness;
let document: { paths: Record<string, Record<string, { responses: Record<string, unknown> }>> };
const tokens = {} as Record<Role | 'otherSender' | 'bob' | 'foreignAdmin' | 'foreignUser', string>;
/** Fixtures made once; the rows name them. */
const f = {
  billingToBob: '',
  billingToAlice: '',
  marketingToBob: '',
  eveToGus: '',
  inbox: {} as Record<Role | 'bob' | 'gus', string>,
  failed: {} as Record<Role, string>,
  failedBroadcast: {} as Record<'admin' | 'sender', string>,
  billingDraft: '',
  marketingDraft: '',
  eveDraft: '',
  pushSubscription: {} as Record<'bob' | 'gus', string>,
  device: {} as Record<'bob' | 'gus', string>,
  template: '',
  eveTemplate: '',
};

/** A browser subscription on the local push service (fresh keys each time). */
function browserSubscription(): { endpoint: string; keys: { p256dh: string; auth: string } } {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  return { endpoint: h.stack.pushService.newEndpoint(), keys: { p256dh: ecdh.getPublicKey('base64url'), auth: randomBytes(16).toString('base64url') } };
}

/** A subscription and a device of `token`'s user; answers their ids. */
async function pushTargetsOf(token: string): Promise<{ subscription: string; device: string }> {
  const subscription = await ok('POST', '/v1/me/push-subscriptions', token, browserSubscription());
  const device = await ok('POST', '/v1/me/devices', token, { platform: 'fcm', token: fresh('device') });
  return { subscription: subscription.body.id as string, device: device.body.id as string };
}
let counter = 0;
const fresh = (prefix: string): string => `${prefix}-${Date.now().toString(36)}-${++counter}`;

/** The verification code the local SES delivered to `address`, if it did. */
async function codeSentTo(address: string): Promise<string | undefined> {
  const store = (await (await fetch(`${h.stack.sesUrl}/store`)).json()) as { emails: { destination: { to: string[] }; body: { text?: string } }[] };
  const mail = store.emails.filter((email) => email.destination.to.includes(address)).pop();
  return /\b(\d{6})\b/.exec(mail?.body.text ?? '')?.[1];
}

async function ok(method: string, path: string, token: string, body?: unknown): Promise<ApiResponse> {
  const response = await h.api(method, path, { token, body });
  expect(response.status, `${method} ${path}: ${JSON.stringify(response.body)}`).toBeLessThan(300);
  return response;
}

async function notification(token: string, recipient: string, extra: Record<string, unknown> = {}): Promise<string> {
  const created = await ok('POST', '/v1/notifications', token, { recipients: [recipient], title: 'Hello', message: 'Hi', scheduledAt: inMs(hour), ...extra });
  return (created.body.notificationIds as string[])[0] as string;
}

async function draft(token: string, extra: Record<string, unknown> = {}): Promise<string> {
  const created = await ok('POST', '/v1/broadcasts', token, { audience: { recipientIds: ['bob'] }, title: 'News', message: 'Hi all', draft: true, ...extra });
  return created.body.broadcastId as string;
}

/** A fresh recipient whose address SES's mailbox simulator bounced, so it is suppressed; its id. */
async function bouncedRecipient(): Promise<string> {
  const id = `bouncy-${Date.now()}-${Math.floor(Math.random() * 1e6)}`;
  await ok('PUT', `/v1/recipients/${id}`, tokens.admin, { email: 'bounce@simulator.amazonses.com' });
  await notification(tokens.admin, id, { scheduledAt: undefined, channels: ['email'] });
  await eventually(() => h.api('GET', `/v1/recipients/${id}`, { token: tokens.admin }), (r) => r.body.emailSuppression !== null, 20_000);
  return id;
}

/** A recurring notification far from firing (yearly, on 1 January), created by the sender. */
const recurringBody = { recipients: ['bob'], title: 'Yearly', message: 'Happy new year', schedule: { cron: '0 0 1 1 *', timezone: 'Europe/Paris' } };

async function recurring(): Promise<string> {
  return (await ok('POST', '/v1/recurring-notifications', tokens.sender, recurringBody)).body.id as string;
}

async function statusOf(path: string, token: string, status: string): Promise<void> {
  await eventually(() => h.api('GET', path, { token }), (r) => r.body.status === status, 20_000);
}

/** The row's answers for a notification the role may manage (the user's own, the sender's, the tenant's for an admin). */
async function ownNotification(role: Role): Promise<string> {
  return role === 'user' ? notification(tokens.user, 'alice') : notification(tokens.sender, 'bob');
}

const notificationTarget = (naming: (id: string) => Call): Target => ({
  naming,
  others: [
    { as: 'user', id: () => f.billingToBob },
    { as: 'sender', id: () => f.marketingToBob },
  ],
  foreign: () => f.eveToGus,
  missing: missingNotification,
});

const broadcastTarget = (naming: (id: string) => Call): Target => ({
  naming,
  others: [{ as: 'sender', id: () => f.marketingDraft }],
  foreign: () => f.eveDraft,
  missing: missingBroadcast,
});

const aTemplate = { channels: { inbox: { title: 'Hello {{ name }}', message: 'Hi' } } };

/** Templates belong to the tenant: its admins and senders share them, another tenant's are nothing. */
const templateTarget = (naming: (id: string) => Call): Target => ({
  naming,
  others: [],
  foreign: () => f.eveTemplate,
  missing: 'no-such-template',
});

async function template(token: string): Promise<string> {
  const id = fresh('tpl');
  await ok('PUT', `/v1/templates/${id}`, token, aTemplate);
  return id;
}

const scheduleBody = (recipient: string): Record<string, unknown> => ({ recipients: [recipient], title: 'Hello', message: 'Hi', scheduledAt: inMs(hour) });

/** The matrix, by route key. */
const matrix: Readonly<Record<string, MatrixRow>> = {
  'PUT /v1/recipients/{id}': {
    roles: ['admin', 'sender'],
    ok: 201,
    // An id names a recipient of the caller's own tenant: another tenant's same id is another recipient.
    valid: async () => ({ path: `/v1/recipients/${fresh('new')}`, body: { email: 'new@example.com' } }),
  },
  'GET /v1/recipients/{id}': {
    roles: allRoles,
    ok: 200,
    valid: async (role) => ({ path: `/v1/recipients/${role === 'user' ? 'alice' : 'bob'}` }),
    target: { naming: (id) => ({ path: `/v1/recipients/${id}` }), others: [{ as: 'user', id: () => 'bob' }], foreign: () => 'gus', missing: 'nobody' },
  },
  'DELETE /v1/recipients/{id}': {
    roles: ['admin', 'sender'],
    ok: 200,
    valid: async () => {
      const id = fresh('leaver');
      await ok('PUT', `/v1/recipients/${id}`, tokens.admin, {});
      return { path: `/v1/recipients/${id}` };
    },
    target: { naming: (id) => ({ path: `/v1/recipients/${id}` }), others: [], foreign: () => 'gus', missing: 'nobody' },
  },
  'GET /v1/recipients': { roles: ['admin', 'sender'], ok: 200, valid: async () => ({ path: '/v1/recipients?limit=5' }) },
  'POST /v1/recipients/batch': {
    roles: ['admin', 'sender'],
    ok: 200,
    valid: async () => ({ path: '/v1/recipients/batch', body: { recipients: [{ id: fresh('batch'), email: 'b@example.com' }] } }),
  },
  'GET /v1/me': { roles: allRoles, ok: 200, valid: async () => ({ path: '/v1/me' }) },
  'PATCH /v1/me': { roles: allRoles, ok: 200, valid: async () => ({ path: '/v1/me', body: { timezone: 'Europe/Paris' } }) },
  'POST /v1/me/verify': {
    roles: allRoles,
    ok: 200,
    // An address set with PATCH /v1/me, confirmed with the code the local SES received.
    valid: async (role) => {
      const address = `${fresh(`verify-${role}`)}@example.com`;
      await ok('PATCH', '/v1/me', tokens[role], { email: address });
      const code = await eventually(async () => codeSentTo(address), (found) => found !== undefined);
      return { path: '/v1/me/verify', body: { channel: 'email', code } };
    },
  },
  'POST /v1/me/push-subscriptions': { roles: allRoles, ok: 201, valid: async () => ({ path: '/v1/me/push-subscriptions', body: browserSubscription() }) },
  'GET /v1/me/push-subscriptions': { roles: allRoles, ok: 200, valid: async () => ({ path: '/v1/me/push-subscriptions' }) },
  'DELETE /v1/me/push-subscriptions/{id}': {
    roles: allRoles,
    ok: 200,
    valid: async (role) => ({ path: `/v1/me/push-subscriptions/${(await pushTargetsOf(tokens[role])).subscription}` }),
    target: {
      naming: (id) => ({ path: `/v1/me/push-subscriptions/${id}` }),
      // A user's targets are theirs alone: not even an admin reaches bob's.
      others: allRoles.map((as) => ({ as, id: () => f.pushSubscription.bob })),
      foreign: () => f.pushSubscription.gus,
      missing: 'ps_AAAAAAAAAAAAAAAAAAAAAA',
    },
  },
  'POST /v1/me/devices': { roles: allRoles, ok: 201, valid: async () => ({ path: '/v1/me/devices', body: { platform: 'apns', token: fresh('device') } }) },
  'GET /v1/me/devices': { roles: allRoles, ok: 200, valid: async () => ({ path: '/v1/me/devices' }) },
  'DELETE /v1/me/devices/{id}': {
    roles: allRoles,
    ok: 200,
    valid: async (role) => ({ path: `/v1/me/devices/${(await pushTargetsOf(tokens[role])).device}` }),
    target: {
      naming: (id) => ({ path: `/v1/me/devices/${id}` }),
      others: allRoles.map((as) => ({ as, id: () => f.device.bob })),
      foreign: () => f.device.gus,
      missing: 'dv_AAAAAAAAAAAAAAAAAAAAAA',
    },
  },
  'GET /v1/me/push/vapid-public-key': { roles: allRoles, ok: 200, valid: async () => ({ path: '/v1/me/push/vapid-public-key' }) },
  'GET /v1/me/inbox': { roles: allRoles, ok: 200, valid: async () => ({ path: '/v1/me/inbox?limit=5' }) },
  'GET /v1/me/inbox/unread-count': { roles: allRoles, ok: 200, valid: async () => ({ path: '/v1/me/inbox/unread-count' }) },
  'POST /v1/me/inbox/{id}/read': {
    roles: allRoles,
    ok: 200,
    valid: async (role) => ({ path: `/v1/me/inbox/${f.inbox[role]}/read` }),
    target: {
      naming: (id) => ({ path: `/v1/me/inbox/${id}/read` }),
      // An inbox is its owner's alone: not even an admin reaches bob's.
      others: allRoles.map((as) => ({ as, id: () => f.inbox.bob })),
      foreign: () => f.inbox.gus,
      missing: missingNotification,
    },
  },
  'POST /v1/me/inbox/read-all': { roles: allRoles, ok: 200, valid: async () => ({ path: '/v1/me/inbox/read-all' }) },
  'POST /v1/notifications': {
    roles: allRoles,
    ok: 201,
    valid: async (role) => ({ path: '/v1/notifications', body: scheduleBody(role === 'user' ? 'alice' : 'bob') }),
    target: {
      naming: (id) => ({ path: '/v1/notifications', body: scheduleBody(id) }),
      others: [{ as: 'user', id: () => 'bob' }],
      foreign: () => 'gus',
      missing: 'nobody',
      // A plain user may notify no one but themself, whoever the others are.
      hidden: (role) => (role === 'user' ? 403 : 404),
    },
  },
  'GET /v1/notifications': {
    roles: allRoles,
    ok: 200,
    valid: async () => ({ path: '/v1/notifications?limit=5' }),
    target: {
      naming: (id) => ({ path: `/v1/notifications?recipientId=${id}` }),
      others: [{ as: 'user', id: () => 'bob' }],
      foreign: () => 'gus',
      missing: 'nobody',
      // A filter on what the caller may not see is an empty page, like any other filter.
      hidden: () => 200,
    },
  },
  'GET /v1/notifications/{id}': {
    roles: allRoles,
    ok: 200,
    valid: async (role) => ({ path: `/v1/notifications/${role === 'user' ? f.billingToAlice : f.billingToBob}` }),
    target: notificationTarget((id) => ({ path: `/v1/notifications/${id}` })),
  },
  'PATCH /v1/notifications/{id}': {
    roles: allRoles,
    ok: 200,
    valid: async (role) => ({ path: `/v1/notifications/${await ownNotification(role)}`, body: { scheduledAt: inMs(2 * hour) } }),
    target: notificationTarget((id) => ({ path: `/v1/notifications/${id}`, body: { scheduledAt: inMs(2 * hour) } })),
  },
  'DELETE /v1/notifications/{id}': {
    roles: allRoles,
    ok: 200,
    valid: async (role) => ({ path: `/v1/notifications/${await ownNotification(role)}` }),
    target: notificationTarget((id) => ({ path: `/v1/notifications/${id}` })),
  },
  'POST /v1/notifications/{id}/send-now': {
    roles: allRoles,
    ok: 202,
    valid: async (role) => ({ path: `/v1/notifications/${await ownNotification(role)}/send-now`, body: {} }),
    target: notificationTarget((id) => ({ path: `/v1/notifications/${id}/send-now`, body: {} })),
  },
  'POST /v1/notifications/{id}/retry': {
    roles: allRoles,
    ok: 202,
    valid: async (role) => ({ path: `/v1/notifications/${f.failed[role]}/retry`, body: { delayMinutes: 60 } }),
    target: notificationTarget((id) => ({ path: `/v1/notifications/${id}/retry`, body: { delayMinutes: 60 } })),
  },
  'GET /v1/metrics': { roles: ['admin'], ok: 200, valid: async () => ({ path: '/v1/metrics?period=3600' }) },
  'GET /v1/suppressions': { roles: ['admin'], ok: 200, valid: async () => ({ path: '/v1/suppressions?limit=5' }) },
  'DELETE /v1/suppressions/{recipientId}': { roles: ['admin'], ok: 200, valid: async () => ({ path: `/v1/suppressions/${await bouncedRecipient()}` }) },
  'GET /v1/settings': { roles: ['admin'], ok: 200, valid: async () => ({ path: '/v1/settings' }) },
  'PUT /v1/settings': { roles: ['admin'], ok: 200, valid: async () => ({ path: '/v1/settings', body: { defaultTimezone: 'UTC' } }) },
  'POST /v1/recurring-notifications': {
    roles: ['admin', 'sender'],
    ok: 201,
    valid: async () => ({ path: '/v1/recurring-notifications', body: recurringBody }),
  },
  'GET /v1/recurring-notifications': { roles: ['admin', 'sender'], ok: 200, valid: async () => ({ path: '/v1/recurring-notifications?limit=5' }) },
  'GET /v1/recurring-notifications/{id}': { roles: ['admin', 'sender'], ok: 200, valid: async () => ({ path: `/v1/recurring-notifications/${await recurring()}` }) },
  'PATCH /v1/recurring-notifications/{id}': {
    roles: ['admin', 'sender'],
    ok: 200,
    valid: async () => ({ path: `/v1/recurring-notifications/${await recurring()}`, body: { paused: true } }),
  },
  'DELETE /v1/recurring-notifications/{id}': { roles: ['admin', 'sender'], ok: 200, valid: async () => ({ path: `/v1/recurring-notifications/${await recurring()}` }) },
  // Operators only, a role outside this matrix: every tenant role gets 403 here, and
  // test/e2e/dead-letters-api.test.ts proves what an operator gets.
  'GET /v1/admin/dead-letters': { roles: [], ok: 200, valid: async () => ({ path: '/v1/admin/dead-letters' }) },
  'POST /v1/admin/dead-letters/{queue}/redrive': { roles: [], ok: 200, valid: async () => ({ path: '/v1/admin/dead-letters/delivery-dlq/redrive' }) },
  'GET /v1/settings/webhook-secret': { roles: ['admin'], ok: 200, valid: async () => ({ path: '/v1/settings/webhook-secret' }) },
  'POST /v1/settings/webhook-secret/rotate': { roles: ['admin'], ok: 200, valid: async () => ({ path: '/v1/settings/webhook-secret/rotate' }) },
  'POST /v1/broadcasts': {
    roles: ['admin', 'sender'],
    ok: 201,
    valid: async () => ({ path: '/v1/broadcasts', body: { audience: { recipientIds: ['bob'] }, title: 'News', message: 'Hi all', draft: true } }),
  },
  'GET /v1/broadcasts': { roles: ['admin', 'sender'], ok: 200, valid: async () => ({ path: '/v1/broadcasts?limit=5' }) },
  'GET /v1/broadcasts/{id}': {
    roles: ['admin', 'sender'],
    ok: 200,
    valid: async () => ({ path: `/v1/broadcasts/${f.billingDraft}` }),
    target: broadcastTarget((id) => ({ path: `/v1/broadcasts/${id}` })),
  },
  'DELETE /v1/broadcasts/{id}': {
    roles: ['admin', 'sender'],
    ok: 200,
    valid: async () => ({ path: `/v1/broadcasts/${await draft(tokens.sender)}` }),
    target: broadcastTarget((id) => ({ path: `/v1/broadcasts/${id}` })),
  },
  'POST /v1/broadcasts/{id}/schedule': {
    roles: ['admin', 'sender'],
    ok: 200,
    valid: async () => ({ path: `/v1/broadcasts/${await draft(tokens.sender)}/schedule`, body: { scheduledAt: inMs(hour) } }),
    target: broadcastTarget((id) => ({ path: `/v1/broadcasts/${id}/schedule`, body: { scheduledAt: inMs(hour) } })),
  },
  'POST /v1/broadcasts/{id}/retry': {
    roles: ['admin', 'sender'],
    ok: 202,
    valid: async (role) => ({ path: `/v1/broadcasts/${f.failedBroadcast[role === 'admin' ? 'admin' : 'sender']}/retry` }),
    target: broadcastTarget((id) => ({ path: `/v1/broadcasts/${id}/retry` })),
  },
  'GET /v1/broadcasts/{id}/recipients': {
    roles: ['admin', 'sender'],
    ok: 200,
    valid: async () => ({ path: `/v1/broadcasts/${f.billingDraft}/recipients` }),
    target: broadcastTarget((id) => ({ path: `/v1/broadcasts/${id}/recipients` })),
  },
  'PUT /v1/templates/{id}': {
    roles: ['admin', 'sender'],
    ok: 201,
    valid: async () => ({ path: `/v1/templates/${fresh('tpl')}`, body: aTemplate }),
  },
  'GET /v1/templates': { roles: ['admin', 'sender'], ok: 200, valid: async () => ({ path: '/v1/templates?limit=5' }) },
  'GET /v1/templates/{id}': {
    roles: ['admin', 'sender'],
    ok: 200,
    valid: async () => ({ path: `/v1/templates/${f.template}` }),
    target: templateTarget((id) => ({ path: `/v1/templates/${id}` })),
  },
  'DELETE /v1/templates/{id}': {
    roles: ['admin', 'sender'],
    ok: 200,
    valid: async () => ({ path: `/v1/templates/${await template(tokens.sender)}` }),
    target: templateTarget((id) => ({ path: `/v1/templates/${id}` })),
  },
  'GET /v1/templates/{id}/versions/{version}': {
    roles: ['admin', 'sender'],
    ok: 200,
    valid: async () => ({ path: `/v1/templates/${f.template}/versions/1` }),
    target: templateTarget((id) => ({ path: `/v1/templates/${id}/versions/1` })),
  },
  'POST /v1/templates/{id}/preview': {
    roles: ['admin', 'sender'],
    ok: 200,
    // recipientId is the caller's to give here: the recipient whose fields and locale fill the preview.
    valid: async () => ({ path: `/v1/templates/${f.template}/preview`, body: { payload: { name: 'Bob' }, recipientId: 'bob' } }),
    target: templateTarget((id) => ({ path: `/v1/templates/${id}/preview`, body: { payload: { name: 'Bob' } } })),
  },
  'POST /api/notifications/schedule/': {
    roles: allRoles,
    ok: 201,
    valid: async (role) => ({
      path: '/api/notifications/schedule/',
      body: { recipients: [role === 'user' ? 'alice' : 'bob'], title: 'Hello', message: 'Hi', scheduled_at: inMs(hour) },
    }),
    target: {
      naming: (id) => ({ path: '/api/notifications/schedule/', body: { recipients: [id], title: 'Hello', message: 'Hi', scheduled_at: inMs(hour) } }),
      others: [{ as: 'user', id: () => 'bob' }],
      foreign: () => 'gus',
      missing: 'nobody',
      hidden: (role) => (role === 'user' ? 403 : 404),
    },
  },
  'DELETE /api/notifications/{id}/cancel_scheduled/': {
    roles: allRoles,
    ok: 200,
    valid: async (role) => ({ path: `/api/notifications/${await ownNotification(role)}/cancel_scheduled/` }),
    target: notificationTarget((id) => ({ path: `/api/notifications/${id}/cancel_scheduled/` })),
  },
  'GET /api/notifications/{id}/schedule_status/': {
    roles: allRoles,
    ok: 200,
    valid: async (role) => ({ path: `/api/notifications/${role === 'user' ? f.billingToAlice : f.billingToBob}/schedule_status/` }),
    target: notificationTarget((id) => ({ path: `/api/notifications/${id}/schedule_status/` })),
  },
};

const routeKey = (route: HttpRoute): string => `${route.method} ${route.path}`;
const jwtRoutes = httpRoutes.filter((route) => route.auth === 'jwt');

/** Asserts an answer is one the route's documentation describes: its status, and its body by the documented schema. */
function expectDocumented(key: string, route: HttpRoute, response: ApiResponse): void {
  const documented = Object.keys(document.paths[route.path]?.[route.method.toLowerCase()]?.responses ?? {});
  expect(documented, `${key} answered ${response.status}, which /openapi.json does not document`).toContain(String(response.status));
  let schema: z.ZodType | undefined = routeDocs[key]?.responses[response.status]?.schema;
  if (response.status >= 400) schema = response.status === 401 && !('error' in response.body) ? gatewayErrorSchema : errorResponseSchema;
  if (!schema) return;
  const parsed = schema.safeParse(response.body);
  expect(parsed.success, `${key} ${response.status}: the body does not match its documented schema: ${parsed.error?.message}\n${JSON.stringify(response.body)}`).toBe(true);
}

async function send(route: HttpRoute, call: Call, token?: string): Promise<ApiResponse> {
  const key = routeKey(route);
  const response = await h.api(route.method, call.path, { ...(token ? { token } : {}), ...(call.body !== undefined ? { body: call.body } : {}) });
  expectDocumented(key, route, response);
  return response;
}

/** What tells "exists but not yours" from "does not exist": the status, the error code, a success's body. */
function disclosure(response: ApiResponse): unknown {
  return { status: response.status, code: response.body.error?.code, ...(response.status < 300 ? { body: response.body } : {}) };
}

beforeAll(async () => {
  h = await startHarness();
  document = (await h.api('GET', '/openapi.json')).body as typeof document;
  Object.assign(tokens, {
    admin: await h.token('ops', { role: 'admin' }),
    sender: await h.token('billing', { role: 'sender' }),
    user: await h.token('alice'),
    otherSender: await h.token('marketing', { role: 'sender' }),
    bob: await h.token('bob'),
    foreignAdmin: await h.token('eve', { role: 'admin', tenant: 'globex' }),
    foreignUser: await h.token('gus', { tenant: 'globex' }),
  });
  for (const id of ['ops', 'billing', 'marketing', 'bob']) await ok('PUT', `/v1/recipients/${id}`, tokens.admin, {});
  for (const id of ['alice', 'carol']) await ok('PUT', `/v1/recipients/${id}`, tokens.admin, { email: `${id}@example.com` });
  for (const id of ['eve', 'gus']) await ok('PUT', `/v1/recipients/${id}`, tokens.foreignAdmin, {});
  for (const who of ['bob', 'gus'] as const) {
    const targets = await pushTargetsOf(who === 'bob' ? tokens.bob : tokens.foreignUser);
    f.pushSubscription[who] = targets.subscription;
    f.device[who] = targets.device;
  }

  // Email is refused for good while the failed fixtures are made; inbox-only deliveries go through.
  expect((await h.api('POST', '/_local/faults', { body: [{ service: 'ses', operation: 'SendEmail', probability: 1, error: { statusCode: 400, code: 'MessageRejected' } }] })).status).toBe(200);
  const now = { scheduledAt: undefined };
  const inboxOnly = { ...now, channels: ['inbox'] };
  const emailOnly = { ...now, channels: ['email'] };
  const [inboxAdmin, inboxSender, inboxUser, inboxBob, inboxGus, failedAdmin, failedSender, failedUser, broadcastAdmin, broadcastSender] = await Promise.all([
    notification(tokens.admin, 'ops', inboxOnly),
    notification(tokens.admin, 'billing', inboxOnly),
    notification(tokens.admin, 'alice', inboxOnly),
    notification(tokens.admin, 'bob', inboxOnly),
    notification(tokens.foreignAdmin, 'gus', inboxOnly),
    notification(tokens.sender, 'carol', emailOnly),
    notification(tokens.sender, 'carol', emailOnly),
    notification(tokens.user, 'alice', emailOnly),
    draft(tokens.sender, { audience: { recipientIds: ['carol'] }, channels: ['email'], draft: false }),
    draft(tokens.sender, { audience: { recipientIds: ['carol'] }, channels: ['email'], draft: false }),
  ]);
  Object.assign(f.inbox, { admin: inboxAdmin, sender: inboxSender, user: inboxUser, bob: inboxBob, gus: inboxGus });
  Object.assign(f.failed, { admin: failedAdmin, sender: failedSender, user: failedUser });
  Object.assign(f.failedBroadcast, { admin: broadcastAdmin, sender: broadcastSender });
  [f.billingToBob, f.billingToAlice, f.marketingToBob, f.eveToGus, f.billingDraft, f.marketingDraft, f.eveDraft] = await Promise.all([
    notification(tokens.sender, 'bob'),
    notification(tokens.sender, 'alice'),
    notification(tokens.otherSender, 'bob'),
    notification(tokens.foreignAdmin, 'gus'),
    draft(tokens.sender),
    draft(tokens.otherSender),
    draft(tokens.foreignAdmin, { audience: { recipientIds: ['gus'] } }),
  ]);
  [f.template, f.eveTemplate] = await Promise.all([template(tokens.admin), template(tokens.foreignAdmin)]);
  await Promise.all([
    ...[inboxAdmin, inboxSender, inboxUser, inboxBob].map((id) => statusOf(`/v1/notifications/${id}`, tokens.admin, 'sent')),
    statusOf(`/v1/notifications/${inboxGus}`, tokens.foreignAdmin, 'sent'),
    ...[failedAdmin, failedSender, failedUser].map((id) => statusOf(`/v1/notifications/${id}`, tokens.admin, 'failed')),
    ...[broadcastAdmin, broadcastSender].map((id) => statusOf(`/v1/broadcasts/${id}`, tokens.admin, 'failed')),
  ]);
  await h.api('DELETE', '/_local/faults');
});

afterAll(async () => {
  await h?.close();
});

describe('the authorization matrix', () => {
  it('has a row for every jwt route of the app description, and none for a route it does not declare', () => {
    // Act
    const uncovered = jwtRoutes.map(routeKey).filter((key) => matrix[key] === undefined);
    const stale = Object.keys(matrix).filter((key) => !jwtRoutes.some((route) => routeKey(route) === key));

    // Assess
    expect(uncovered, 'add a row to the matrix for each of these routes').toEqual([]);
    expect(stale).toEqual([]);
  });

  it('leaves public only the routes meant to be public, each answering without a token', async () => {
    // Prepare
    const publicRoutes = httpRoutes.filter((route) => route.auth === 'none');

    // Act: plain fetches, since /docs is HTML
    const answers = await Promise.all(publicRoutes.map((route) => fetch(`${h.stack.httpUrl}${route.path}`, { method: route.method })));

    // Assess
    expect(publicRoutes.map(routeKey).sort()).toEqual(['GET /docs', 'GET /health', 'GET /openapi.json']);
    expect(answers.map((answer) => answer.status)).toEqual(publicRoutes.map(() => 200));
    const docs = answers[publicRoutes.findIndex((route) => route.path === '/docs')];
    expect(docs?.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(docs?.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(await docs?.text()).toContain('<h1>Herald API');
    expect(Object.keys(document.paths).sort()).toEqual([...new Set(httpRoutes.map((route) => route.path))].sort());
  });

  for (const route of jwtRoutes) {
    const key = routeKey(route);
    it(`holds for ${key}`, async () => {
      const row = matrix[key];
      if (!row) throw new Error(`The matrix has no row for ${key}: add one`);
      const placeholder = route.path.replace(/\{[^}]+\}/g, 'x');

      // No token, or one the authorizer refuses
      for (const token of [undefined, await h.token('alice', { audience: 'someone-else' })]) {
        const refused = await send(route, { path: placeholder }, token);
        expect(refused, `${key} with ${token ? 'a token for another audience' : 'no token'}`).toEqual({ status: 401, body: { message: 'Unauthorized' } });
      }

      // The roles it serves
      for (const role of row.roles) {
        const answer = await send(route, await row.valid(role), tokens[role]);
        expect(answer.status, `${key} as ${role}: ${JSON.stringify(answer.body)}`).toBe(row.ok);
      }

      // The roles it does not serve: 403, whether or not the item exists
      const firstRole = row.roles[0] as Role;
      for (const role of allRoles.filter((r) => !row.roles.includes(r))) {
        const refused = await send(route, await row.valid(firstRole), tokens[role]);
        expect(refused.status, `${key} as ${role}: ${JSON.stringify(refused.body)}`).toBe(403);
        if (row.target) expect((await send(route, row.target.naming(row.target.missing), tokens[role])).status).toBe(403);
      }

      // Someone else's items, and another tenant's, look like nothing at all
      if (row.target) {
        const { target } = row;
        const hidden = target.hidden ?? ((): number => 404);
        for (const other of target.others) {
          const theirs = await send(route, target.naming(other.id()), tokens[other.as]);
          const nothing = await send(route, target.naming(target.missing), tokens[other.as]);
          expect(theirs.status, `${key} as ${other.as} on another's: ${JSON.stringify(theirs.body)}`).toBe(hidden(other.as));
          expect(disclosure(theirs), `${key} as ${other.as}: another's item must answer as nothing does`).toEqual(disclosure(nothing));
        }
        for (const role of row.roles) {
          const foreign = await send(route, target.naming(target.foreign()), tokens[role]);
          const nothing = await send(route, target.naming(target.missing), tokens[role]);
          expect(foreign.status, `${key} as ${role} on another tenant's: ${JSON.stringify(foreign.body)}`).toBe(hidden(role));
          expect(disclosure(foreign), `${key} as ${role}: another tenant's item must answer as nothing does`).toEqual(disclosure(nothing));
        }
      }

      // Fields the server owns, refused by name
      const sample = await row.valid(firstRole);
      if (typeof sample.body === 'object' && sample.body !== null && !Array.isArray(sample.body)) {
        const sampleBody = sample.body as Record<string, unknown>;
        for (const field of serverOwnedFields.filter((name) => !(name in sampleBody))) {
          const refused = await send(route, { path: sample.path, body: { ...sampleBody, [field]: field === 'attempts' ? 0 : 'sent' } }, tokens[firstRole]);
          expect(refused.status, `${key} with ${field}: ${JSON.stringify(refused.body)}`).toBe(400);
          expect((refused.body.error?.details as { field: string }[]).map((d) => d.field), `${key} with ${field}`).toContain(field);
        }
      }
    });
  }

  it("left another tenant's items as they were", async () => {
    // Act
    const gus = await h.api('GET', '/v1/recipients/gus', { token: tokens.foreignAdmin });
    const notification = await h.api('GET', `/v1/notifications/${f.eveToGus}`, { token: tokens.foreignAdmin });
    const broadcast = await h.api('GET', `/v1/broadcasts/${f.eveDraft}`, { token: tokens.foreignAdmin });
    const inbox = await h.api('GET', '/v1/me/inbox/unread-count', { token: tokens.foreignUser });

    // Assess
    expect(gus.status).toBe(200);
    expect(notification.body).toMatchObject({ status: 'pending', scheduledAt: expect.any(String) });
    expect(broadcast.body).toMatchObject({ status: 'draft' });
    expect(inbox.body).toEqual({ unread: 1, unreadVersion: expect.any(Number) });
  });
});
