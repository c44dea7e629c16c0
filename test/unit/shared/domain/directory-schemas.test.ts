import { describe, expect, it } from 'vitest';
import {
  batchRecipientEntrySchema,
  batchRecipientsBodySchema,
  listInboxQuerySchema,
  listRecipientsQuerySchema,
  maxBatchRecipients,
  maxDomainLabelLength,
  maxEmailLength,
  maxEmailLocalPartLength,
  notificationTypeSchema,
  putRecipientBodySchema,
  updateMeBodySchema,
} from '../../../../shared/domain/schemas.ts';
import { markReadMessageSchema } from '../../../../shared/domain/socket-messages.ts';
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

describe('a notification type', () => {
  it('may be any one-line text but __proto__, which no switch could name', () => {
    expect(parseWith(updateMeBodySchema, { types: { marketing: { email: false }, constructor: { sms: false } } }, 'body')).toEqual({ types: { marketing: { email: false }, constructor: { sms: false } } });
    expect(refusal(notificationTypeSchema, '__proto__')).toEqual([{ field: 'body', message: 'is not an accepted type name' }]);
  });
});

describe('the body of PUT /v1/recipients/{id}', () => {
  it('takes null for every field, as absent: what GET shows of an unset field can be sent back', () => {
    const nulls = { email: null, phone: null, telegramChatId: null, webhookUrl: null, locale: null, timezone: null, groups: null, quietHours: null };
    expect(parseWith(putRecipientBodySchema, nulls, 'body')).toEqual(nulls);
  });
});

describe('group ids', () => {
  it.each(['.', '..', '@', '-', '_ops'])('refuses %j, saying that an id begins with a letter or a digit', (group) => {
    // Act
    const refused = (() => {
      try {
        parseWith(putRecipientBodySchema, { groups: [group] }, 'body');
      } catch (error) {
        return error as ValidationError;
      }
      throw new Error('accepted');
    })();

    // Assess
    expect(refused.details).toEqual([{ field: 'groups.0', message: 'must be 1-128 characters of letters, digits and _ . @ : + -, the first a letter or a digit' }]);
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

/** Every body that takes an address, with a way to give it one: PUT, a batch entry, PATCH /v1/me. */
const addressBodies = [
  ['PUT /v1/recipients/{id}', putRecipientBodySchema, (fields: Record<string, unknown>) => fields],
  ['a POST /v1/recipients/batch entry', batchRecipientEntrySchema, (fields: Record<string, unknown>) => ({ id: 'bob', ...fields })],
  ['PATCH /v1/me', updateMeBodySchema, (fields: Record<string, unknown>) => fields],
] as const;

/** `count` characters of `letter`, as one domain label or local part. */
const run = (letter: string, count: number): string => letter.repeat(count);
/** The longest address there is: a 64-character local part, 63-character labels, 254 in all. */
const longestAddress = `${run('l', maxEmailLocalPartLength)}@${run('a', maxDomainLabelLength)}.${run('b', maxDomainLabelLength)}.${run('c', 57)}.com`;

describe('e-mail addresses and phone numbers, in every body that takes them', () => {
  it.each(addressBodies)('%s accepts the longest address, hyphens inside a label, and a 7-digit number', (_, schema, body) => {
    // Prepare
    const fields = [{ email: longestAddress }, { email: 'ops@mail-relay.ex-ample.com' }, { phone: '+6834002' }, { phone: '+123456789012345' }];

    // Act
    const refusals = fields.map((field) => refusal(schema, body(field)));

    // Assess
    expect(longestAddress).toHaveLength(maxEmailLength);
    expect(refusals).toEqual([undefined, undefined, undefined, undefined]);
  });

  it.each(
    addressBodies.flatMap(([route, schema, body]) =>
      [
        [`${run('l', maxEmailLocalPartLength + 1)}@example.com`, 'must have at most 64 characters before the @ (RFC 5321, 4.5.3.1.1)'],
        [`bob@${run('a', maxDomainLabelLength + 1)}.com`, 'must have at most 63 characters between two dots of its domain (RFC 1035, 2.3.4)'],
        ['a@ex-.com', 'must not have a part of its domain that starts or ends with a hyphen (RFC 1035, 2.3.1)'],
      ].map(([email, message]) => [route, email, message, schema, body] as const),
    ),
  )('%s refuses the address %s, naming email: %s', (_, email, message, schema, body) => {
    // Act
    const details = refusal(schema, body({ email }));

    // Assess
    expect(details).toEqual([{ field: 'email', message }]);
  });

  it.each(addressBodies.flatMap(([route, schema, body]) => ['+123', '+123456', '+1234567890123456'].map((phone) => [route, phone, schema, body] as const)))(
    '%s refuses the phone number %s, naming phone and saying how many digits it takes',
    (_, phone, schema, body) => {
      // Act
      const details = refusal(schema, body({ phone }));

      // Assess
      expect(details).toEqual([{ field: 'phone', message: 'must be an E.164 phone number: + and 7 to 15 digits, no spaces, e.g. +14155550100' }]);
    },
  );
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

describe('the addresses, locale and switches of the telegram and webhook channels', () => {
  it('accepts a chat id or @username, an http(s) URL, a BCP 47 locale made canonical, and per-type switches', () => {
    // Act
    const body = parseWith(
      updateMeBodySchema,
      { telegramChatId: '-100123', webhookUrl: 'https://hooks.example.com/herald?x=1', locale: 'pt-br', types: { marketing: { telegram: false }, alerts: null } },
      'body',
    );

    // Assess
    expect(body).toEqual({ telegramChatId: '-100123', webhookUrl: 'https://hooks.example.com/herald?x=1', locale: 'pt-BR', types: { marketing: { telegram: false }, alerts: null } });
    expect(parseWith(putRecipientBodySchema, { telegramChatId: '@herald_news' }, 'body')).toEqual({ telegramChatId: '@herald_news' });
  });

  it.each([
    [{ telegramChatId: '12ab' }, 'telegramChatId'],
    [{ telegramChatId: 42 }, 'telegramChatId'],
    [{ webhookUrl: 'ftp://example.com/' }, 'webhookUrl'],
    [{ webhookUrl: 'https://user:pass@example.com/' }, 'webhookUrl'],
    [{ webhookUrl: `https://example.com/${'x'.repeat(2048)}` }, 'webhookUrl'],
    [{ locale: 'not a locale' }, 'locale'],
    [{ locale: 'x'.repeat(36) }, 'locale'],
    [{ channels: { pigeon: false } }, 'channels.pigeon'],
    [{ types: { marketing: { inbox: false } } }, 'types.marketing.inbox'],
    [{ types: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`t${i}`, { telegram: false }])) }, 'types'],
  ])('refuses %j, naming %s', (value, field) => {
    // Act
    const details = refusal(updateMeBodySchema, value);

    // Assess
    expect(details?.map((d) => d.field)).toContain(field);
  });

  it.each([
    ['http://127.0.0.1:13100/ok/n\nl\t1', 'must not contain spaces or control characters'],
    ['https://hooks.example.com/a b', 'must not contain spaces or control characters'],
    ['https://hooks.example.com/\u0000', 'must not contain spaces or control characters'],
    ['https://hooks.example.com/x\r', 'must not contain spaces or control characters'],
    ['http:///127.0.0.1:13100/ok/triple', 'must name a host after http(s)://'],
    ['https:hooks.example.com/x', 'must name a host after http(s)://'],
  ])('refuses the webhook URL %j, which the URL parser would post elsewhere than stored: %s', (webhookUrl, message) => {
    // Act
    const details = refusal(putRecipientBodySchema, { webhookUrl });

    // Assess: one message, naming the field, in the directory and in PATCH /v1/me alike
    expect(details).toEqual([{ field: 'webhookUrl', message }]);
    expect(refusal(updateMeBodySchema, { webhookUrl })).toEqual([{ field: 'webhookUrl', message }]);
  });

  it('refuses the same bad addresses in a directory write', () => {
    expect(refusal(putRecipientBodySchema, { webhookUrl: 'javascript:alert(1)' })?.map((d) => d.field)).toEqual(['webhookUrl']);
    expect(refusal(putRecipientBodySchema, { locale: '' })?.map((d) => d.field)).toEqual(['locale']);
  });
});
