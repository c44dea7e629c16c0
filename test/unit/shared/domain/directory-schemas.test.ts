import { describe, expect, it } from 'vitest';
import {
  batchRecipientsBodySchema,
  listInboxQuerySchema,
  listRecipientsQuerySchema,
  markReadMessageSchema,
  maxBatchRecipients,
  updateMeBodySchema,
} from '../../../../shared/domain/schemas.ts';
import { ValidationError } from '../../../../shared/errors.ts';
import { parseWith } from '../../../../shared/http/request.ts';

/** The `{ field, message }` details of the 400 a value gets, or undefined when it is accepted. */
function refusal(schema: Parameters<typeof parseWith>[0], value: unknown): { field: string; message: string }[] | undefined {
  try {
    parseWith(schema, value, 'body');
    return undefined;
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    return error.details as { field: string; message: string }[];
  }
}

describe('the body of PATCH /v1/me', () => {
  it('accepts an email, a time zone and channel switches, or null to clear', () => {
    // Act
    const body = parseWith(updateMeBodySchema, { email: null, timezone: 'Europe/Paris', channels: { email: false } }, 'body');

    // Assess
    expect(body).toEqual({ email: null, timezone: 'Europe/Paris', channels: { email: false } });
  });

  it.each(['id', 'tenantId', 'groups', 'createdAt', 'updatedAt', 'version'])('refuses the server-owned field %s, naming it', (field) => {
    // Act
    const details = refusal(updateMeBodySchema, { timezone: 'Europe/Paris', [field]: 'x' });

    // Assess
    expect(details).toEqual([{ field, message: 'is set by the server and cannot be changed' }]);
  });

  it.each<[string, unknown, string]>([
    ['the inbox switched off', { channels: { inbox: false } }, 'channels.inbox'],
    ['a switch that is not a boolean', { channels: { email: 'no' } }, 'channels.email'],
    ['an unknown channel', { channels: { fax: false } }, 'channels.fax'],
    ['an unknown field', { timezone: 'Europe/Paris', nickname: 'bobby' }, 'nickname'],
    ['an unknown time zone', { timezone: 'Mars/Olympus' }, 'timezone'],
    ['a malformed email', { email: 'bob' }, 'email'],
    ['nothing to change', {}, 'body'],
  ])('refuses %s, naming the field', (_, body, field) => {
    // Act
    const details = refusal(updateMeBodySchema, body);

    // Assess
    expect(details?.map((d) => d.field)).toEqual([field]);
  });
});

describe('the body of POST /v1/recipients/batch', () => {
  it(`accepts ${maxBatchRecipients} entries, leaving each to be validated on its own`, () => {
    // Act
    const details = refusal(batchRecipientsBodySchema, { recipients: Array.from({ length: maxBatchRecipients }, () => 'anything') });

    // Assess
    expect(details).toBeUndefined();
  });

  it.each<[string, unknown]>([
    [`${maxBatchRecipients + 1} entries`, { recipients: Array.from({ length: maxBatchRecipients + 1 }, (_, i) => ({ id: `u${i}` })) }],
    ['no entry', { recipients: [] }],
    ['a bare array', [{ id: 'bob' }]],
  ])('refuses %s as a whole', (_, body) => {
    // Act
    const details = refusal(batchRecipientsBodySchema, body);

    // Assess
    expect(details?.[0]?.field).toMatch(/recipients|body/);
  });
});

describe('the listing queries', () => {
  it('reads unread=true as a boolean and defaults the limit to 20', () => {
    // Act
    const query = parseWith(listInboxQuerySchema, { unread: 'true' }, 'query');

    // Assess
    expect(query).toEqual({ unread: true, limit: 20 });
  });

  it.each<[string, unknown, string]>([
    ['a limit above 100', { limit: '101' }, 'limit'],
    ['a limit of 0', { limit: '0' }, 'limit'],
    ['a limit that is not a number', { limit: 'ten' }, 'limit'],
    ['unread=yes', { unread: 'yes' }, 'unread'],
    ['an unknown parameter', { sort: 'asc' }, 'sort'],
  ])('refuses an inbox query with %s', (_, query, field) => {
    // Act
    const details = refusal(listInboxQuerySchema, query);

    // Assess
    expect(details?.map((d) => d.field)).toEqual([field]);
  });

  it('accepts a limit of 100 for the directory, and refuses a malformed group', () => {
    // Act
    const accepted = parseWith(listRecipientsQuerySchema, { limit: '100', group: 'ops' }, 'query');
    const details = refusal(listRecipientsQuerySchema, { group: 'a b' });

    // Assess
    expect(accepted).toEqual({ limit: 100, group: 'ops' });
    expect(details?.map((d) => d.field)).toEqual(['group']);
  });
});

describe('the markRead WebSocket message', () => {
  it('carries the id of the item to read', () => {
    // Act
    const message = markReadMessageSchema.safeParse({ action: 'markRead', id: 'ntf_01JABCDEFGHJKMNPQRSTVWXYZ0' });

    // Assess
    expect(message.success).toBe(true);
  });
});
