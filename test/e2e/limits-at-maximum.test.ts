/**
 * Every documented limit, reached at its maximum together with all the others, on each route that
 * takes a body (issue 10, kind 3): ids of 255 characters, 1,000 of them, a message of 10,000
 * control characters, `data` of 16 KiB, 100 groups of 128 characters... written the longest way a
 * JSON encoder writes them (free text as `\uXXXX` escapes). Each is accepted; and each route takes a
 * body of exactly its cap and refuses one byte more with 413.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bodyCapBytes, worstCaseBodyBytes } from '../../shared/http/body-limits.ts';
import {
  maxBatchRecipients,
  maxBroadcastRecipientIds,
  maxDataBytes,
  maxDomainLabelLength,
  maxEmailLength,
  maxEmailLocalPartLength,
  maxGroupIdLength,
  maxGroupsPerRecipient,
  maxMessageLength,
  maxRecipientsPerRequest,
  maxRelatedObjectIdLength,
  maxRelatedObjectTypeLength,
  maxSubjectLength,
  maxTitleLength,
  maxTypeLength,
  maxPhoneLength,
  maxTelegramChatIdLength,
  maxTypePreferences,
  maxWebhookUrlLength,
  maxLocaleLength,
} from '../../shared/domain/schemas.ts';
import { switchableChannels } from '../../shared/domain/recipient.ts';
import { startHarness } from './support/harness.ts';
import type { Harness } from './support/harness.ts';

let h: Harness;
let admin: string;

/** Free text as an encoder that escapes everything writes it: each UTF-16 unit as `\uXXXX`. */
function escaped(text: string): string {
  let out = '"';
  for (let i = 0; i < text.length; i++) out += `\\u${text.charCodeAt(i).toString(16).padStart(4, '0')}`;
  return `${out}"`;
}

/** JSON of an object whose member values are already JSON text. */
function object(members: Record<string, string>): string {
  return `{${Object.entries(members).map(([name, value]) => `${JSON.stringify(name)}:${value}`).join(',')}}`;
}

/** The i-th id of 255 characters, three UTF-8 bytes each but its digits. */
const recipientId = (i: number): string => `${'€'.repeat(maxSubjectLength - 5)}${String(i).padStart(5, '0')}`;
const ids = Array.from({ length: Math.max(maxRecipientsPerRequest, maxBroadcastRecipientIds) }, (_, i) => recipientId(i));
/** The longest address: a local part of 64, labels of 63 (RFC 5321, RFC 1035), 254 characters in all. */
const email = `${'a'.repeat(maxEmailLocalPartLength)}@${'b'.repeat(maxDomainLabelLength)}.${'c'.repeat(maxDomainLabelLength)}.${'d'.repeat(57)}.com`;
if (email.length !== maxEmailLength) throw new Error('the longest address is no longer the longest kept');
/** The longest address of every other channel; the webhook URL with every character escaped, as it may travel. */
const addresses = {
  phone: JSON.stringify(`+1${'5'.repeat(maxPhoneLength - 2)}`),
  telegramChatId: JSON.stringify(`@${'t'.repeat(maxTelegramChatIdLength - 1)}`),
  webhookUrl: escaped(`https://hooks.example.com/${'h'.repeat(maxWebhookUrlLength - 'https://hooks.example.com/'.length)}`),
};
const groups = Array.from({ length: maxGroupsPerRecipient }, (_, i) => `${'g'.repeat(maxGroupIdLength - 3)}${String(i).padStart(3, '0')}`);
/** A well-formed locale tag of the longest length kept (four distinct variants). */
const longestLocale = 'en-aaaaaaaa-bbbbbbbb-cccccccc-ddddd';
if (longestLocale.length !== maxLocaleLength) throw new Error('the longest locale is no longer the longest kept');
const inTwoYears = new Date(Date.now() + 700 * 24 * 3_600_000).toISOString().replace('Z', '123456+00:00');
/** `data` of exactly the limit as JSON, of letters an encoder may still write 6 bytes each. */
const data = object({ k: escaped('a'.repeat(maxDataBytes - '{"k":""}'.length)) });
const content = {
  title: escaped('€'.repeat(maxTitleLength)),
  message: escaped('\u0000'.repeat(maxMessageLength)),
  type: escaped('€'.repeat(maxTypeLength)),
  priority: '"urgent"',
  data,
};

async function post(method: string, path: string, body: string): Promise<{ status: number; text: string }> {
  const response = await fetch(`${h.stack.httpUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
    ...(method === 'GET' ? {} : { body }),
  });
  return { status: response.status, text: await response.text() };
}

/** Asserts a body sits at its route's worst case (within the cap, near the computed maximum). */
function atMaximum(route: string, body: string): string {
  const bytes = Buffer.byteLength(body);
  expect(bytes, route).toBeLessThanOrEqual(bodyCapBytes[route] ?? 0);
  expect(bytes, route).toBeGreaterThan(0.9 * (worstCaseBodyBytes[route] ?? 0));
  return body;
}

beforeAll(async () => {
  h = await startHarness();
  admin = await h.token('ops', { role: 'admin' });
}, 120_000);

afterAll(async () => {
  await h?.close();
});

describe('every limit at its maximum, together', () => {
  it(`POST /v1/recipients/batch takes ${maxBatchRecipients} entries with every field at its limit`, async () => {
    // Prepare
    const entry = (i: number, withGroups: boolean): string =>
      object({
        id: escaped(recipientId(i)),
        email: JSON.stringify(email),
        ...(withGroups ? { ...addresses, locale: JSON.stringify(longestLocale), groups: JSON.stringify(groups) } : {}),
        timezone: '"America/Argentina/ComodRivadavia"',
      });
    const batches = Array.from({ length: ids.length / maxBatchRecipients }, (_, b) =>
      object({ recipients: `[${Array.from({ length: maxBatchRecipients }, (_, i) => entry(b * maxBatchRecipients + i, b === 0)).join(',')}]` }),
    );

    // Act
    const answers = [];
    for (const [index, body] of batches.entries()) answers.push(await post('POST', '/v1/recipients/batch', index === 0 ? atMaximum('POST /v1/recipients/batch', body) : body));

    // Assess
    for (const answer of answers) expect(answer.status, answer.text.slice(0, 300)).toBe(200);
  }, 120_000);

  it(`POST /v1/notifications takes ${maxRecipientsPerRequest} recipients of 255 characters with the largest content`, async () => {
    // Act
    const body = atMaximum(
      'POST /v1/notifications',
      object({
        recipients: `[${ids.slice(0, maxRecipientsPerRequest).map(escaped).join(',')}]`,
        ...content,
        scheduledAt: JSON.stringify(inTwoYears),
        channels: '["inbox","websocket","email"]',
        relatedObject: object({ type: escaped('€'.repeat(maxRelatedObjectTypeLength)), id: escaped('€'.repeat(maxRelatedObjectIdLength)) }),
      }),
    );
    const answer = await post('POST', '/v1/notifications', body);
    const page = await post('GET', '/v1/notifications?limit=100', '');
    const listed = JSON.parse(page.text) as { items: unknown[]; nextCursor: string | null };

    // Assess
    expect(answer.status, answer.text.slice(0, 300)).toBe(201);
    expect((JSON.parse(answer.text) as { count: number }).count).toBe(maxRecipientsPerRequest);
    expect(page.status).toBe(200);
    // A hundred of them would outgrow the Lambda response: the page stops short, with a cursor.
    expect(listed.items.length).toBeLessThan(100);
    expect(listed.nextCursor).not.toBeNull();
  }, 120_000);

  it('POST /api/notifications/schedule takes the same, in the Celery scheduler’s words', async () => {
    // Act
    const body = atMaximum(
      'POST /api/notifications/schedule/',
      object({
        recipients: `[${ids.slice(0, maxRecipientsPerRequest).map(escaped).join(',')}]`,
        title: content.title,
        message: content.message,
        scheduled_at: JSON.stringify(inTwoYears),
        type: content.type,
        priority: content.priority,
        related_object_type: escaped('€'.repeat(maxRelatedObjectTypeLength)),
        related_object_id: escaped('€'.repeat(maxRelatedObjectIdLength)),
        data,
      }),
    );
    const answer = await post('POST', '/api/notifications/schedule/', body);

    // Assess
    expect(answer.status, answer.text.slice(0, 300)).toBe(201);
  }, 120_000);

  it(`POST /v1/broadcasts takes an explicit list of ${maxBroadcastRecipientIds} ids of 255 characters with the largest content`, async () => {
    // Act
    const body = atMaximum(
      'POST /v1/broadcasts',
      object({
        audience: object({ recipientIds: `[${ids.slice(0, maxBroadcastRecipientIds).map(escaped).join(',')}]` }),
        ...content,
        scheduledAt: JSON.stringify(inTwoYears),
        channels: '["inbox","websocket","email"]',
        draft: 'true',
      }),
    );
    const answer = await post('POST', '/v1/broadcasts', body);

    // Assess
    expect(answer.status, answer.text.slice(0, 300)).toBe(201);
  }, 120_000);

  it('PUT /v1/recipients/{id} takes an id of 255 characters, the longest addresses and 100 groups of 128 characters', async () => {
    // Act
    const body = atMaximum(
      'PUT /v1/recipients/{id}',
      object({ email: JSON.stringify(email), ...addresses, locale: JSON.stringify(longestLocale), timezone: '"America/Argentina/ComodRivadavia"', groups: JSON.stringify(groups) }),
    );
    const answer = await post('PUT', `/v1/recipients/${encodeURIComponent(recipientId(99_999))}`, body);

    // Assess
    expect(answer.status, answer.text.slice(0, 300)).toBe(201);
  });
});

describe('PATCH /v1/me at its maximum', () => {
  it(`takes every address at its longest, every switch, and ${maxTypePreferences} types of ${maxTypeLength} characters`, async () => {
    // Prepare: a self-set webhook URL gets a verification code, so it points at a server that takes it
    const hook = createServer((request, response) => request.resume().on('end', () => response.writeHead(204).end()));
    await new Promise<void>((listening) => hook.listen(0, '127.0.0.1', listening));
    const base = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/`;
    const ownAddresses = { ...addresses, webhookUrl: escaped(`${base}${'h'.repeat(maxWebhookUrlLength - base.length)}`) };
    const user = await h.token('maximal-user');
    await post('PUT', '/v1/recipients/maximal-user', '{}');
    const switches = object(Object.fromEntries(switchableChannels.map((channel) => [channel, 'false'])));
    const types = object(Object.fromEntries(Array.from({ length: maxTypePreferences }, (_, i) => [`${'€'.repeat(maxTypeLength - 2)}${String(i).padStart(2, '0')}`, switches])));
    // JSON.stringify of the names above would not escape them: write the object by hand
    const escapedTypes = `{${Array.from({ length: maxTypePreferences }, (_, i) => `${escaped(`${'€'.repeat(maxTypeLength - 2)}${String(i).padStart(2, '0')}`)}:${switches}`).join(',')}}`;
    expect(JSON.parse(escapedTypes)).toEqual(JSON.parse(types));
    const body = atMaximum(
      'PATCH /v1/me',
      object({ email: JSON.stringify(email), ...ownAddresses, locale: JSON.stringify(longestLocale), timezone: '"America/Argentina/ComodRivadavia"', channels: switches, types: escapedTypes }),
    );

    // Act
    const answer = await fetch(`${h.stack.httpUrl}/v1/me`, { method: 'PATCH', headers: { authorization: `Bearer ${user}`, 'content-type': 'application/json' }, body });
    await new Promise((closed) => hook.close(closed));

    // Assess
    expect(answer.status, (await answer.clone().text()).slice(0, 300)).toBe(200);
    expect(Object.keys(((await answer.json()) as { types: Record<string, unknown> }).types)).toHaveLength(maxTypePreferences);
  });
});

describe('the body cap of each route', () => {
  it.each(Object.keys(bodyCapBytes))('%s takes a body of exactly its cap and answers 413 to one byte more', async (route) => {
    // Prepare: `{}` padded with white space to the byte
    const [method = 'POST', template = '/'] = route.split(' ');
    const path = template.replace('{id}', template.startsWith('/v1/broadcasts') ? 'brd_01HZZZZZZZZZZZZZZZZZZZZZZZ' : 'ntf_01HZZZZZZZZZZZZZZZZZZZZZZZ');
    const cap = bodyCapBytes[route] ?? 0;
    const atCap = `{}${' '.repeat(cap - 2)}`;

    // Act
    const taken = await post(method, path, atCap);
    const refused = await post(method, path, `${atCap} `);

    // Assess: read and judged on its content (whatever that says), not refused for its size
    expect(taken.status, taken.text.slice(0, 200)).not.toBe(413);
    expect(taken.status).toBeLessThan(500);
    expect(refused.status).toBe(413);
    expect(JSON.parse(refused.text)).toMatchObject({ error: { code: 'PAYLOAD_TOO_LARGE', details: [{ field: 'body', message: `must be at most ${cap} bytes` }] } });
  });
});
