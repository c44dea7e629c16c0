import { describe, expect, it } from 'vitest';
import type { Caller } from '../../../../shared/domain/caller.ts';
import { applyRecipientChanges, hasVerifiedAddress, toRecipientView } from '../../../../shared/domain/recipient.ts';
import { maxTypePreferences } from '../../../../shared/domain/schemas.ts';
import { WebhookTargetRefusedError } from '../../../../shared/domain/webhook-targets.ts';
import { ConflictError, NotFoundError, ServiceUnavailableError, TooManyRequestsError, UnprocessableEntityError, ValidationError } from '../../../../shared/errors.ts';
import { checkUpdateMe, getMe, updateMe, verifyContact } from '../../../../shared/use-cases/me.ts';
import { MessageRejected, SESServiceException } from '@aws-sdk/client-ses';
import { OptedOutError } from '../../../../shared/adapters/sns-messaging.ts';
import { TelegramApiError } from '../../../../shared/adapters/telegram-bot-api.ts';
import type { MeDeps } from '../../../../shared/use-cases/me.ts';
import { FakeClock, InMemoryRecipientStore, InMemorySelfSendLimits, UnlimitedSendBudget } from '../../fakes/index.ts';
import { aRecipient, admin, plainUser, tenantId } from '../../fakes/fixtures.ts';

interface World {
  deps: MeDeps;
  recipients: InMemoryRecipientStore;
  clock: FakeClock;
  /** The codes sent, newest last. */
  codes: { channel: string; address: string; code: string }[];
}

function aWorld(options: { userPerHour?: number; codesFail?: boolean } = {}): World {
  const recipients = new InMemoryRecipientStore();
  const clock = new FakeClock('2030-01-01T12:00:00.000Z');
  const codes: World['codes'] = [];
  const deps: MeDeps = {
    recipients,
    clock,
    selfSend: new InMemorySelfSendLimits({ userPerHour: options.userPerHour ?? 10 }),
    sendBudget: new UnlimitedSendBudget(),
    codes: {
      send: async (channel, address, code) => {
        if (options.codesFail) throw new Error('SES is down');
        codes.push({ channel, address, code });
      },
    },
  };
  return { deps, recipients, clock, codes };
}

function lastCode(world: World): string {
  const sent = world.codes[world.codes.length - 1];
  if (!sent) throw new Error('no code was sent');
  return sent.code;
}

describe('getMe', () => {
  it('reads the caller own record', async () => {
    // Prepare
    const { deps, recipients } = aWorld();
    await recipients.put(aRecipient({ id: plainUser.sub, timezone: 'Europe/Paris' }));

    // Act
    const me = await getMe(deps, plainUser);

    // Assess
    expect(me).toMatchObject({ id: plainUser.sub, email: 'bob@example.com', timezone: 'Europe/Paris' });
  });

  it.each<[string, Caller]>([
    ['a user not in the directory', { ...plainUser, sub: 'newcomer' }],
    ['the same id in another tenant', { ...plainUser, tenantId: 'other' }],
  ])('answers 404 for %s', async (_, caller) => {
    // Prepare
    const { deps, recipients } = aWorld();
    await recipients.put(aRecipient({ id: plainUser.sub }));

    // Act
    const result = getMe(deps, caller);

    // Assess
    await expect(result).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe('updateMe', () => {
  it('sets email, time zone and channel switches, keeping what the body leaves out', async () => {
    // Prepare
    const { deps, recipients } = aWorld();
    await recipients.put(aRecipient({ id: plainUser.sub, groups: ['ops'], channelPreferences: { websocket: false } }));

    // Act
    const me = await updateMe(deps, plainUser, { timezone: 'Asia/Tokyo', channels: { email: false } });

    // Assess
    expect(me).toMatchObject({
      email: 'bob@example.com',
      timezone: 'Asia/Tokyo',
      groups: ['ops'],
      channelPreferences: { email: false, websocket: false },
      updatedAt: '2030-01-01T12:00:00.000Z',
    });
    expect(await recipients.get(tenantId, plainUser.sub)).toMatchObject({ timezone: 'Asia/Tokyo', channelPreferences: { email: false, websocket: false } });
    expect(recipients.membersOf(tenantId, 'ops')).toEqual([plainUser.sub]);
  });

  it('clears the email and time zone set to null, and switches a channel back on', async () => {
    // Prepare
    const { deps, recipients } = aWorld();
    await recipients.put(aRecipient({ id: plainUser.sub, timezone: 'Europe/Paris', channelPreferences: { email: false } }));

    // Act
    const me = await updateMe(deps, plainUser, { email: null, timezone: null, channels: { email: true } });

    // Assess
    expect(me.email).toBeUndefined();
    expect(me.timezone).toBeUndefined();
    expect(me.channelPreferences).toEqual({ email: true });
  });

  it(`holds the switches kept to ${maxTypePreferences} types, whatever each request adds, and lets some be forgotten to make room`, async () => {
    // Prepare: the user holds switches for 50 types already
    const { deps, recipients } = aWorld();
    const held = Object.fromEntries(Array.from({ length: maxTypePreferences }, (_, i) => [`type-${i}`, { email: false }]));
    await recipients.put(aRecipient({ id: plainUser.sub, typePreferences: held }));

    // Act
    const refused = await updateMe(deps, plainUser, { types: { 'one-more': { email: false } } }).catch((error: unknown) => error);
    const swapped = await updateMe(deps, plainUser, { types: { 'type-0': null, 'one-more': { email: false } } });

    // Assess: a 400 naming types, nothing written; a swap keeps 50
    expect(refused).toBeInstanceOf(ValidationError);
    expect((refused as ValidationError).details).toEqual([
      { field: 'types', message: `would hold switches for 51 types, more than ${maxTypePreferences}: forget some first ({ "types": { "<type>": null } })` },
    ]);
    expect(Object.keys(swapped.typePreferences ?? {})).toHaveLength(maxTypePreferences);
    expect(swapped.typePreferences?.['one-more']).toEqual({ email: false });
    expect(swapped.typePreferences?.['type-0']).toBeUndefined();
  });

  it('does not enrol a user who is not in the directory', async () => {
    // Prepare
    const { deps, recipients } = aWorld();

    // Act
    const result = updateMe(deps, admin, { timezone: 'Asia/Tokyo' });

    // Assess
    await expect(result).rejects.toBeInstanceOf(NotFoundError);
    expect(await recipients.get(tenantId, admin.sub)).toBeUndefined();
  });

  it('re-applies the change over a racing write of the record, and gives up with 409 if it never settles', async () => {
    // Prepare
    const { deps, recipients } = aWorld();
    await recipients.put(aRecipient({ id: plainUser.sub }));
    recipients.beforeNextSave = async (): Promise<void> => {
      const current = await recipients.get(tenantId, plainUser.sub);
      if (current) await recipients.save({ ...current, groups: ['eng'] }, current);
    };

    // Act
    await updateMe(deps, plainUser, { timezone: 'Asia/Tokyo' });
    recipients.savesToLose = 5;
    const stuck = updateMe(deps, plainUser, { timezone: 'Europe/Paris' });

    // Assess
    expect(await recipients.get(tenantId, plainUser.sub)).toMatchObject({ timezone: 'Asia/Tokyo', groups: ['eng'] });
    await expect(stuck).rejects.toBeInstanceOf(ConflictError);
  });
});

describe('an address a user sets for themself', () => {
  it('is stored unconfirmed, gets only a code, and the e-mail channel skips it until confirmed', async () => {
    // Prepare: the open relay: a plain user points their address anywhere
    const world = aWorld();
    await world.recipients.put(aRecipient({ id: plainUser.sub, email: 'bob@example.com' }));

    // Act
    const me = await updateMe(world.deps, plainUser, { email: 'victim@example.org' });

    // Assess
    expect(me.email).toBe('victim@example.org');
    expect(hasVerifiedAddress(me, 'email')).toBe(false);
    expect(toRecipientView(me).awaitingVerification).toEqual(['email']);
    expect(world.codes).toEqual([{ channel: 'email', address: 'victim@example.org', code: expect.stringMatching(/^\d{6}$/) }]);
  });

  it('is confirmed by the code sent to it', async () => {
    // Prepare
    const world = aWorld();
    await world.recipients.put(aRecipient({ id: plainUser.sub }));
    await updateMe(world.deps, plainUser, { email: 'new@example.com' });

    // Act
    const me = await verifyContact(world.deps, plainUser, { channel: 'email', code: lastCode(world) });

    // Assess
    expect(hasVerifiedAddress(me, 'email')).toBe(true);
    expect(toRecipientView(me).awaitingVerification).toEqual([]);
    expect((await world.recipients.get(tenantId, plainUser.sub))?.pendingVerifications).toBeUndefined();
  });

  it('counts a wrong code against its tries, then refuses even the right one', async () => {
    // Prepare
    const world = aWorld();
    await world.recipients.put(aRecipient({ id: plainUser.sub }));
    await updateMe(world.deps, plainUser, { email: 'new@example.com' });
    const right = lastCode(world);
    const wrong = right === '000000' ? '000001' : '000000';

    // Act
    const refusals: unknown[] = [];
    for (let i = 0; i < 5; i++) refusals.push(await verifyContact(world.deps, plainUser, { channel: 'email', code: wrong }).catch((e: unknown) => e));
    const late = verifyContact(world.deps, plainUser, { channel: 'email', code: right });

    // Assess
    expect(refusals.every((e) => e instanceof ValidationError)).toBe(true);
    expect((refusals[0] as ValidationError).details).toEqual([{ field: 'code', message: 'is not the code that was sent (4 tries left)' }]);
    expect((refusals[3] as ValidationError).details).toEqual([{ field: 'code', message: 'is not the code that was sent (1 try left)' }]);
    await expect(late).rejects.toMatchObject({ details: [{ field: 'code', message: expect.stringContaining('too many times') }] });
  });

  it('refuses a code after a day', async () => {
    // Prepare
    const world = aWorld();
    await world.recipients.put(aRecipient({ id: plainUser.sub }));
    await updateMe(world.deps, plainUser, { email: 'new@example.com' });
    world.clock.advanceSeconds(24 * 60 * 60);

    // Act
    const result = verifyContact(world.deps, plainUser, { channel: 'email', code: lastCode(world) });

    // Assess
    await expect(result).rejects.toMatchObject({ details: [{ field: 'code', message: expect.stringContaining('expired') }] });
  });

  it('answers 409 naming the channel when nothing awaits confirmation', async () => {
    // Prepare
    const world = aWorld();
    await world.recipients.put(aRecipient({ id: plainUser.sub }));

    // Act
    const result = verifyContact(world.deps, plainUser, { channel: 'email', code: '123456' });

    // Assess
    await expect(result).rejects.toBeInstanceOf(ConflictError);
    await expect(result).rejects.toMatchObject({ details: [{ field: 'channel', message: expect.any(String) }] });
  });

  it('sends nothing when the address is the confirmed one already', async () => {
    // Prepare: an address an admin put in the directory is trusted
    const world = aWorld();
    await world.recipients.put(aRecipient({ id: plainUser.sub, email: 'bob@example.com' }));

    // Act
    const me = await updateMe(world.deps, plainUser, { email: 'bob@example.com' });

    // Assess
    expect(hasVerifiedAddress(me, 'email')).toBe(true);
    expect(world.codes).toEqual([]);
  });

  it('answers 429 with the wait once the codes sent reach the hourly limit, writing nothing', async () => {
    // Prepare
    const world = aWorld({ userPerHour: 2 });
    await world.recipients.put(aRecipient({ id: plainUser.sub }));
    await updateMe(world.deps, plainUser, { email: 'a@example.com' });
    await updateMe(world.deps, plainUser, { email: 'b@example.com' });
    world.clock.advanceSeconds(60);

    // Act
    const result = updateMe(world.deps, plainUser, { email: 'c@example.com' });

    // Assess
    await expect(result).rejects.toBeInstanceOf(TooManyRequestsError);
    await expect(result).rejects.toMatchObject({ retryAfterSeconds: 3540, details: [{ field: 'email', message: expect.any(String) }] });
    expect((await world.recipients.get(tenantId, plainUser.sub))?.email).toBe('b@example.com');
    expect(world.codes).toHaveLength(2);
  });

  it('answers 503 when the send of the code got no answer, keeping the address unconfirmed: its code may have gone', async () => {
    // Prepare: the provider never answered (no status: it may have sent it)
    const world = aWorld({ codesFail: true });
    await world.recipients.put(aRecipient({ id: plainUser.sub }));

    // Act
    const result = updateMe(world.deps, plainUser, { email: 'new@example.com' });

    // Assess
    await expect(result).rejects.toMatchObject({ message: 'Your email is saved, but whether its code was sent is not known: enter it if it comes, or set the address again for a new code' });
    const stored = await world.recipients.get(tenantId, plainUser.sub);
    expect(stored?.email).toBe('new@example.com');
    expect(stored && hasVerifiedAddress(stored, 'email')).toBe(false);
  });
});

describe('an address whose provider refuses its code', () => {
  /** A world whose code sender fails each channel as `failures` says, and sends the rest. */
  function refusing(failures: Partial<Record<string, unknown>>): World {
    const world = aWorld();
    world.deps = {
      ...world.deps,
      codes: {
        send: async (channel, address, code) => {
          if (failures[channel] !== undefined) throw failures[channel];
          world.codes.push({ channel, address, code });
        },
      },
    };
    return world;
  }

  it.each<[string, string, unknown, string]>([
    ['SES', 'email', new MessageRejected({ message: 'Address blacklisted.', $metadata: { httpStatusCode: 400 } }), 'was refused by SES: Address blacklisted; nothing was kept: check the address, then set it again'],
    ['SNS', 'phone', new OptedOutError('+14155550199'), "has opted out of SMS from Herald: nothing can be texted to it; nothing was kept: check the number, then set it again"],
    ['Telegram', 'telegramChatId', new TelegramApiError(403, "Forbidden: bot can't initiate conversation with a user"), "was refused: Telegram answered 403: Forbidden: bot can't initiate conversation with a user; nothing was kept: check the chat id, and that the chat has started Herald's bot, then set it again"],
    ['Telegram', 'telegramChatId', new TelegramApiError(400, 'Bad Request: chat not found'), "was refused: Telegram answered 400: Bad Request: chat not found; nothing was kept: check the chat id, and that the chat has started Herald's bot, then set it again"],
  ])('is a 422 naming the field with what %s said, and the change is taken back whole', async (_provider, field, error, message) => {
    // Prepare: the address refused, with a new time zone and, unless it is the refused one, a new phone
    const channel = { email: 'email', phone: 'sms', telegramChatId: 'telegram' }[field] ?? field;
    const world = refusing({ [channel]: error });
    await world.recipients.put(aRecipient({ id: plainUser.sub, email: 'bob@example.com', timezone: 'Europe/Paris' }));
    const before = await world.recipients.get(tenantId, plainUser.sub);
    const body = { email: 'new@example.com', phone: '+14155550199', telegramChatId: '4242', timezone: 'Asia/Tokyo' };
    const changed = { email: { email: body.email, timezone: body.timezone }, phone: { phone: body.phone, email: body.email }, telegramChatId: { telegramChatId: body.telegramChatId, phone: body.phone } }[field];

    // Act
    const refused = await updateMe(world.deps, plainUser, changed ?? {}).catch((e: unknown) => e);

    // Assess: nothing of the change stays, its updatedAt included; the other code sent is void
    expect(refused).toBeInstanceOf(UnprocessableEntityError);
    expect((refused as UnprocessableEntityError).details).toEqual([{ field, message }]);
    expect(await world.recipients.get(tenantId, plainUser.sub)).toEqual({ ...before, version: expect.any(Number) as number });
    if (field !== 'email') expect((refused as Error).message).toContain('a code this request sent to another address will not confirm it');
  });

  it.each<[string, TelegramApiError]>([
    ["403 bot can't send messages to bots", new TelegramApiError(403, "Forbidden: bot can't send messages to bots")],
    ["403 bots can't send messages to bots", new TelegramApiError(403, "Forbidden: bots can't send messages to bots")],
    ['400 CHAT_RESTRICTED', new TelegramApiError(400, 'Bad Request: CHAT_RESTRICTED')],
  ])("reads every Telegram refusal about the chat as the user's to fix, a 422: %s", async (_case, error) => {
    // Prepare
    const world = refusing({ telegram: error });
    await world.recipients.put(aRecipient({ id: plainUser.sub }));

    // Act
    const refused = await updateMe(world.deps, plainUser, { telegramChatId: '4242' }).catch((e: unknown) => e);

    // Assess
    expect(refused).toBeInstanceOf(UnprocessableEntityError);
    expect((await world.recipients.get(tenantId, plainUser.sub))?.telegramChatId).toBeUndefined();
  });

  it.each<[string, 'email' | 'telegramChatId', unknown]>([
    ["SES refusing Herald's own sender identity", 'email', new MessageRejected({ message: 'Email address is not verified. The following identities failed the check in region EU-WEST-1: notifications@herald.example', $metadata: { httpStatusCode: 400 } })],
    ["SES refusing Herald's sender beside the address (the sandbox)", 'email', new MessageRejected({ message: 'Email address is not verified. The following identities failed the check in region EU-WEST-1: notifications@herald.example, new@example.com', $metadata: { httpStatusCode: 400 } })],
    ['SES refusing a parameter that is not the address', 'email', new SESServiceException({ name: 'InvalidParameterValue', $fault: 'client', message: 'Invalid tag value <x>: only alphanumeric ASCII characters are allowed.', $metadata: { httpStatusCode: 400 } })],
    ["Herald's bot token refused (401)", 'telegramChatId', new TelegramApiError(401, 'Unauthorized')],
    ["Herald's bot token not a token (404)", 'telegramChatId', new TelegramApiError(404, 'Not Found')],
    ['Telegram down (502)', 'telegramChatId', new TelegramApiError(502, 'Bad Gateway')],
    ["Herald's own text refused (400 can't parse entities)", 'telegramChatId', new TelegramApiError(400, "Bad Request: can't parse entities: unsupported start tag \"x\" at byte offset 0")],
  ])("answers a failure that is not the address, %s, with a 503: Herald's to fix, the confirmed address kept", async (_case, field, error) => {
    // Prepare: a confirmed address, which the user replaces
    const channel = field === 'email' ? 'email' : 'telegram';
    const confirmed = { email: 'bob@example.com', telegramChatId: '1111' }[field];
    const world = refusing({ [channel]: error });
    await world.recipients.put(aRecipient({ id: plainUser.sub, [field]: confirmed }));

    // Act
    const refused = await updateMe(world.deps, plainUser, { [field]: field === 'email' ? 'new@example.com' : '4242' }).catch((e: unknown) => e);

    // Assess: nothing went, so the confirmed address goes on receiving
    expect(refused).toBeInstanceOf(ServiceUnavailableError);
    expect((refused as Error).message).toBe(`Your ${field}'s code could not be sent; nothing was kept: repeat the request`);
    const stored = await world.recipients.get(tenantId, plainUser.sub);
    expect(stored?.[field]).toBe(confirmed);
    expect(stored && hasVerifiedAddress(stored, channel)).toBe(true);
  });

  it("is a 422 when the SES sandbox refuses the user's address alone", async () => {
    // Prepare
    const sandbox = new MessageRejected({ message: 'Email address is not verified. The following identities failed the check in region EU-WEST-1: New@Example.com', $metadata: { httpStatusCode: 400 } });
    const world = refusing({ email: sandbox });
    await world.recipients.put(aRecipient({ id: plainUser.sub, email: 'bob@example.com' }));

    // Act
    const refused = await updateMe(world.deps, plainUser, { email: 'new@example.com' }).catch((e: unknown) => e);

    // Assess
    expect(refused).toBeInstanceOf(UnprocessableEntityError);
    expect((await world.recipients.get(tenantId, plainUser.sub))?.email).toBe('bob@example.com');
  });

  it('takes back what the refused change wrote though another write landed while its code waited, as the 422 says nothing was kept', async () => {
    // Prepare: while the e-mail code waits for its send, another write sets the locale
    const world = refusing({ email: new MessageRejected({ message: 'Address blacklisted.', $metadata: { httpStatusCode: 400 } }) });
    const refusingSend = world.deps.codes.send;
    world.deps = {
      ...world.deps,
      codes: {
        send: async (...args) => {
          const current = await world.recipients.get(tenantId, plainUser.sub);
          if (current) await world.recipients.save({ ...current, locale: 'fr-FR' }, current);
          return refusingSend(...args);
        },
      },
    };
    await world.recipients.put(aRecipient({ id: plainUser.sub, email: 'bob@example.com' }));

    // Act
    const refused = await updateMe(world.deps, plainUser, { email: 'blacklisted@example.com', timezone: 'Asia/Tokyo' }).catch((e: unknown) => e);

    // Assess
    expect(refused).toBeInstanceOf(UnprocessableEntityError);
    const stored = await world.recipients.get(tenantId, plainUser.sub);
    expect(stored).toMatchObject({ locale: 'fr-FR', email: 'bob@example.com' });
    expect(stored?.timezone).toBeUndefined();
    expect(stored?.pendingVerifications).toBeUndefined();
  });

  it("answers Telegram's 429 with a 503 and its retry_after, nothing kept", async () => {
    // Prepare
    const world = refusing({ telegram: new TelegramApiError(429, 'Too Many Requests: retry after 7', { retryAfterSeconds: 7 }) });
    await world.recipients.put(aRecipient({ id: plainUser.sub }));

    // Act
    const error = await updateMe(world.deps, plainUser, { telegramChatId: '4242' }).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(ServiceUnavailableError);
    expect(error).toMatchObject({ retryAfterSeconds: 7 });
    expect((error as Error).message).toBe("Your telegramChatId's code could not be sent yet: the provider asked Herald to slow down; nothing was kept: repeat the request in 7 s for a new code");
    expect((await world.recipients.get(tenantId, plainUser.sub))?.telegramChatId).toBeUndefined();
  });

  it('says a code sent elsewhere by the same request is void when another could not be sent for now', async () => {
    // Prepare: the e-mail code goes, the Telegram one is throttled
    const world = refusing({ telegram: new TelegramApiError(429, 'Too Many Requests: retry after 3', { retryAfterSeconds: 3 }) });
    await world.recipients.put(aRecipient({ id: plainUser.sub, email: 'bob@example.com' }));

    // Act
    const answer = await updateMe(world.deps, plainUser, { email: 'new@example.com', telegramChatId: '4242' }).catch((e: unknown) => e);

    // Assess
    expect((answer as Error).message).toBe(
      "Your telegramChatId's code could not be sent yet: the provider asked Herald to slow down; nothing was kept (a code this request sent to another address will not confirm it): repeat the request in 3 s for a new code",
    );
    expect(world.codes.map((c) => c.channel)).toEqual(['email']);
    expect((await world.recipients.get(tenantId, plainUser.sub))?.email).toBe('bob@example.com');
  });

  it('keeps a chat whose code got no answer from Telegram (a timeout): it may have gone, and the user may enter it', async () => {
    // Prepare
    const timeout = Object.assign(new Error('Telegram could not be reached (TimeoutError)'), { name: 'TimeoutError' });
    const world = refusing({ telegram: timeout });
    await world.recipients.put(aRecipient({ id: plainUser.sub, telegramChatId: '1111' }));

    // Act
    const answer = await updateMe(world.deps, plainUser, { telegramChatId: '4242' }).catch((e: unknown) => e);

    // Assess
    expect(answer).toBeInstanceOf(ServiceUnavailableError);
    expect((answer as Error).message).toBe('Your telegramChatId is saved, but whether its code was sent is not known: enter it if it comes, or set the address again for a new code');
    expect((await world.recipients.get(tenantId, plainUser.sub))?.telegramChatId).toBe('4242');
  });
});

describe('a webhook URL a user sets for themself', () => {
  it.each([
    [404, 'UnprocessableEntityError', 'answered 404 to its code'],
    [410, 'UnprocessableEntityError', 'answered 410 to its code'],
    [301, 'UnprocessableEntityError', 'answered 301, a redirect, to its code (redirects are not followed)'],
    [429, 'ServiceUnavailableError', ''],
    [503, 'ServiceUnavailableError', ''],
  ])('answers a receiver that refused its code with %i by %s, and saves nothing', async (status, kind, why) => {
    // Prepare: the user's receiver answers `status` to the code's webhook
    const world = aWorld();
    await world.recipients.put(aRecipient({ id: plainUser.sub, webhookUrl: 'https://old.example.com/herald' }));
    const before = await world.recipients.get(tenantId, plainUser.sub);
    const sent: string[] = [];
    const deps: MeDeps = {
      ...world.deps,
      webhookTargets: 'any',
      codes: {
        send: async (channel) => {
          sent.push(channel);
          if (channel === 'webhook') throw Object.assign(new Error(`the webhook answered ${status}`), { $metadata: { httpStatusCode: status } });
        },
      },
    };

    // Act: a new e-mail address in the same request
    const error = await updateMe(deps, plainUser, { webhookUrl: 'https://hooks.example.com/herald', email: 'new@example.com', timezone: 'Asia/Tokyo' }).catch((e: unknown) => e);

    // Assess: a refusal is the user's to fix (422 naming the field); "later" answers are a 503; either way nothing changed and no e-mail went
    expect((error as Error).constructor.name).toBe(kind);
    if (error instanceof UnprocessableEntityError) {
      expect(error.details).toEqual([{ field: 'webhookUrl', message: `${why}; nothing was kept: check the URL and the receiver, then set it again` }]);
    }
    expect(await world.recipients.get(tenantId, plainUser.sub)).toEqual({ ...before, updatedAt: expect.any(String) as string, version: expect.any(Number) as number });
    expect(sent).toEqual(['webhook']);
  });

  it('lets a receiver confirm its code from inside its handler: the code is saved before it goes', async () => {
    // Prepare: the receiver posts the code it gets straight back to POST /v1/me/verify
    const world = aWorld();
    await world.recipients.put(aRecipient({ id: plainUser.sub }));
    const deps: MeDeps = {
      ...world.deps,
      webhookTargets: 'any',
      codes: {
        send: async (channel, _address, code) => {
          await verifyContact(deps, plainUser, { channel, code });
        },
      },
    };

    // Act
    await updateMe(deps, plainUser, { webhookUrl: 'https://hooks.example.com/herald' });

    // Assess
    const stored = await world.recipients.get(tenantId, plainUser.sub);
    expect(stored?.webhookUrl).toBe('https://hooks.example.com/herald');
    expect(stored && hasVerifiedAddress(stored, 'webhook')).toBe(true);
  });

  it('keeps what somebody wrote between the save and a refused code, and takes back only what the refused change wrote', async () => {
    // Prepare: the receiver refuses, and the user's record changes while it answers
    const world = aWorld();
    await world.recipients.put(aRecipient({ id: plainUser.sub }));
    const deps: MeDeps = {
      ...world.deps,
      webhookTargets: 'any',
      codes: {
        send: async () => {
          await updateMe({ ...deps, codes: { send: async () => undefined } }, plainUser, { timezone: 'Asia/Tokyo' });
          throw Object.assign(new Error('the webhook answered 404'), { $metadata: { httpStatusCode: 404 } });
        },
      },
    };

    // Act
    const error = await updateMe(deps, plainUser, { webhookUrl: 'https://hooks.example.com/herald' }).catch((e: unknown) => e);

    // Assess: the 422 stands ("nothing was kept"), and so does the later write
    expect(error).toBeInstanceOf(UnprocessableEntityError);
    const stored = await world.recipients.get(tenantId, plainUser.sub);
    expect(stored?.timezone).toBe('Asia/Tokyo');
    expect(stored?.webhookUrl).toBeUndefined();
    expect(stored?.pendingVerifications).toBeUndefined();
  });

  it('leaves a field another write changed since as that write left it', async () => {
    // Prepare: while the receiver answers, another tab sets another URL (and gets its own code)
    const world = aWorld();
    await world.recipients.put(aRecipient({ id: plainUser.sub }));
    const deps: MeDeps = {
      ...world.deps,
      webhookTargets: 'any',
      codes: {
        send: async (_channel, address) => {
          if (address === 'https://other.example.com/herald') return;
          await updateMe(deps, plainUser, { webhookUrl: 'https://other.example.com/herald' });
          throw Object.assign(new Error('the webhook answered 404'), { $metadata: { httpStatusCode: 404 } });
        },
      },
    };

    // Act
    const error = await updateMe(deps, plainUser, { webhookUrl: 'https://hooks.example.com/herald' }).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(UnprocessableEntityError);
    const stored = await world.recipients.get(tenantId, plainUser.sub);
    expect(stored?.webhookUrl).toBe('https://other.example.com/herald');
    expect(stored?.pendingVerifications?.webhook?.address).toBe('https://other.example.com/herald');
  });
});

describe('a webhook URL whose address webhooks may not reach', () => {
  it('is a 422 naming webhookUrl when the refusal comes at the send (a name that resolves to a private address)', async () => {
    // Prepare
    const world = aWorld();
    await world.recipients.put(aRecipient({ id: plainUser.sub }));
    const refused = new WebhookTargetRefusedError('webhook host hooks.example.com resolves to 10.0.0.7, a private address');
    const deps: MeDeps = { ...world.deps, webhookTargets: 'any', codes: { send: async () => Promise.reject(refused) } };

    // Act
    const error = await updateMe(deps, plainUser, { webhookUrl: 'https://hooks.example.com/herald' }).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(UnprocessableEntityError);
    expect((error as UnprocessableEntityError).details).toEqual([
      {
        field: 'webhookUrl',
        message: 'cannot be reached: webhook host hooks.example.com resolves to 10.0.0.7, a private address; nothing was kept: check the URL and the receiver, then set it again',
      },
    ]);
  });
});

describe('the per-type switches kept', () => {
  it('refuses a change past the limit before it spends any of the caller\'s sends', async () => {
    // Prepare: 50 types held, one send an hour
    const world = aWorld({ userPerHour: 1 });
    const held = Object.fromEntries(Array.from({ length: maxTypePreferences }, (_, i) => [`type-${i}`, { email: false }]));
    await world.recipients.put(aRecipient({ id: plainUser.sub, typePreferences: held }));

    // Act: refused twice with a new address beside the 51st type, then the address alone
    const refusals = await Promise.all([1, 2].map(() => updateMe(world.deps, plainUser, { email: 'x@example.com', types: { 'one-more': { email: false } } }).catch((e: unknown) => e)));
    const fine = await updateMe(world.deps, plainUser, { email: 'fine@example.com' });

    // Assess: both 400, no code sent for them; the one send of the hour went to the last
    for (const refusal of refusals) expect(refusal).toBeInstanceOf(ValidationError);
    expect(world.codes.map((c) => c.address)).toEqual(['fine@example.com']);
    expect(fine.email).toBe('fine@example.com');
  });
});

describe('checkUpdateMe (what an idempotent PATCH refuses before it takes its key)', () => {
  it('refuses what updateMe would, writing nothing, sending no code and spending none of the caller\'s sends', async () => {
    // Prepare: one send an hour; a record at the per-type limit
    const world = aWorld({ userPerHour: 1 });
    const held = Object.fromEntries(Array.from({ length: maxTypePreferences }, (_, i) => [`type-${i}`, { email: false }]));
    await world.recipients.put(aRecipient({ id: plainUser.sub, typePreferences: held }));
    const before = await world.recipients.get(tenantId, plainUser.sub);
    const stranger: Caller = { ...plainUser, sub: 'stranger' };

    // Act
    const refusals = await Promise.all([
      checkUpdateMe(world.deps, stranger, { timezone: 'Asia/Tokyo' }).catch((e: unknown) => e),
      checkUpdateMe(world.deps, plainUser, { webhookUrl: 'http://10.0.0.1/hook' }).catch((e: unknown) => e),
      checkUpdateMe(world.deps, plainUser, { types: { 'one-more': { email: false } } }).catch((e: unknown) => e),
      checkUpdateMe(world.deps, plainUser, { email: 'a@example.com', phone: '+14155550100' }).catch((e: unknown) => e),
    ]);
    const passes = await checkUpdateMe(world.deps, plainUser, { email: 'a@example.com' }).catch((e: unknown) => e);
    const afterChecks = await world.recipients.get(tenantId, plainUser.sub);
    const done = await updateMe(world.deps, plainUser, { email: 'a@example.com' });

    // Assess: a stranger 404, the URL 400, the 51st type 400, two codes past the one an hour 429; the last passes
    expect(refusals.map((r) => (r as Error).constructor)).toEqual([NotFoundError, ValidationError, ValidationError, TooManyRequestsError]);
    expect(passes).toBeUndefined();
    expect(afterChecks).toEqual(before);
    // The one send of the hour was still there for the PATCH itself.
    expect(world.codes.map((c) => c.address)).toEqual(['a@example.com']);
    expect(done.email).toBe('a@example.com');
  });
});

describe('a phone number a user sets for themself', () => {
  it('is stored unconfirmed and sent a code by SMS; an e-mail address and a phone set together get one code each', async () => {
    // Prepare
    const world = aWorld();
    await world.recipients.put(aRecipient({ id: plainUser.sub }));

    // Act
    const me = await updateMe(world.deps, plainUser, { email: 'new@example.com', phone: '+14155550100' });

    // Assess
    expect(me.phone).toBe('+14155550100');
    expect(toRecipientView(me).awaitingVerification).toEqual(['email', 'sms']);
    expect(world.codes.map(({ channel, address }) => [channel, address])).toEqual([
      ['email', 'new@example.com'],
      ['sms', '+14155550100'],
    ]);
  });

  it('is confirmed by the code sent to it, leaving the e-mail address as it was', async () => {
    // Prepare
    const world = aWorld();
    await world.recipients.put(aRecipient({ id: plainUser.sub, email: 'bob@example.com' }));
    await updateMe(world.deps, plainUser, { phone: '+14155550100' });

    // Act
    const me = await verifyContact(world.deps, plainUser, { channel: 'sms', code: lastCode(world) });

    // Assess
    expect(hasVerifiedAddress(me, 'sms')).toBe(true);
    expect(hasVerifiedAddress(me, 'email')).toBe(true);
    expect(world.codes).toHaveLength(1);
  });

  it('counts both codes against the hourly limit, and refuses the pair past it, naming both fields', async () => {
    // Prepare
    const world = aWorld({ userPerHour: 1 });
    await world.recipients.put(aRecipient({ id: plainUser.sub }));

    // Act
    const result = updateMe(world.deps, plainUser, { email: 'new@example.com', phone: '+14155550100' });

    // Assess
    await expect(result).rejects.toMatchObject({ details: [{ field: 'email, phone' }] });
    expect(world.codes).toEqual([]);
    expect((await world.recipients.get(tenantId, plainUser.sub))?.phone).toBeUndefined();
  });

  it('becomes trusted when an admin puts the same number in the directory', async () => {
    // Prepare
    const world = aWorld();
    await world.recipients.put(aRecipient({ id: plainUser.sub }));
    const pending = await updateMe(world.deps, plainUser, { phone: '+14155550100' });
    expect(hasVerifiedAddress(pending, 'sms')).toBe(false);

    // Act: a directory write of the number (nothing said of its confirmation)
    const trusted = applyRecipientChanges(tenantId, plainUser.sub, pending, { phone: '+14155550100' }, world.clock.now());

    // Assess
    expect(hasVerifiedAddress(trusted, 'sms')).toBe(true);
  });
});
