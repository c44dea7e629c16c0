/**
 * The Telegram adapter against the local Bot API, and the bot token read from the local Secrets
 * Manager through the AWS SDK: the wire shapes both ways, the Bot API's refusals and injected
 * faults, and what the telegram channel makes of each.
 */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { cachedSecret } from '../../../shared/adapters/secrets-manager-secret.ts';
import type { TelegramApiError} from '../../../shared/adapters/telegram-bot-api.ts';
import { telegramBotApi } from '../../../shared/adapters/telegram-bot-api.ts';
import { telegramChannel, telegramText } from '../../../shared/delivery/channels/telegram.ts';
import { createFaultInjector } from '../../../local/fault-rules.ts';
import { InMemoryRecipientStore } from '../fakes/index.ts';
import { aRecipient } from '../fakes/fixtures.ts';
import { Outbox } from '../../../local/outbox.ts';
import { startSecretsManagerEmulator } from '../../../local/secrets-manager-emulator.ts';
import type { SecretsManagerEmulator } from '../../../local/secrets-manager-emulator.ts';
import { localTelegramBotToken, startTelegramEmulator } from '../../../local/telegram-emulator.ts';
import type { TelegramEmulator } from '../../../local/telegram-emulator.ts';
import { startWireFront } from '../support/wire-front.ts';

const outbox = new Outbox();
const faults = createFaultInjector({ seed: 1 });
let telegram: TelegramEmulator;
let secrets: SecretsManagerEmulator;
let client: SecretsManagerClient;

beforeAll(async () => {
  telegram = await startTelegramEmulator({ outbox, faults });
  secrets = await startSecretsManagerEmulator({ secrets: { 'bot-token': `${localTelegramBotToken}\n` }, region: 'us-east-1', accountId: '000000000000' });
  client = new SecretsManagerClient({ endpoint: secrets.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
});

afterAll(async () => {
  client.destroy();
  await telegram.stop();
  await secrets.stop();
});

function bot(token: string = localTelegramBotToken): ReturnType<typeof telegramBotApi> {
  return telegramBotApi({ apiUrl: telegram.url, token: async () => token });
}

const failureOf = (promise: Promise<unknown>): Promise<TelegramApiError> => promise.then(() => Promise.reject(new Error('it was accepted')), (error: unknown) => error as TelegramApiError);

describe('the Telegram adapter on the local Bot API', () => {
  it('sends with the token from Secrets Manager, and the message lands in the outbox with its id', async () => {
    // Prepare
    const token = cachedSecret(() => client, secrets.arnOf('bot-token'));
    const sender = telegramBotApi({ apiUrl: telegram.url, token: () => token.value() });

    // Act
    const { messageId } = await sender.sendMessage('4242', 'Hello');

    // Assess
    expect(outbox.list('telegram')[0]).toMatchObject({ to: '4242', body: { chat_id: '4242', text: 'Hello' }, providerMessageId: messageId });
  });

  it('answers the Bot API refusals in its own shape, never naming the token', async () => {
    // Act
    const wrongToken = await failureOf(bot('1:not-the-token').sendMessage('1', 'x'));
    const notAToken = await failureOf(bot('not a token').sendMessage('1', 'x'));
    const empty = await failureOf(bot().sendMessage('1', '  '));
    const long = await failureOf(bot().sendMessage('1', 'x'.repeat(4097)));
    const missing = await secretNotFound();

    // Assess
    expect([wrongToken, notAToken, empty, long].map((e) => e.$metadata.httpStatusCode)).toEqual([401, 404, 400, 400]);
    expect(empty.message).toContain('Bad Request: message text is empty');
    expect(long.message).toContain('Bad Request: message is too long');
    for (const error of [wrongToken, notAToken, empty, long]) expect(error.message).not.toContain(localTelegramBotToken);
    expect(missing).toBe('ResourceNotFoundException');
  });

  it('refuses a request over the 50 MB the Bot API takes with 413, in its own shape', async () => {
    // Prepare
    const text = 'x'.repeat(50 * 1024 * 1024);

    // Act
    const reply = await fetch(`${telegram.url}/bot${localTelegramBotToken}/sendMessage`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ chat_id: '1', text }),
    });

    // Assess
    expect(reply.status).toBe(413);
    expect(await reply.json()).toEqual({ ok: false, error_code: 413, description: 'Request Entity Too Large' });
    expect(outbox.list('telegram').some((message) => message.to === '1' && (message.body as { text?: string }).text === text)).toBe(false);
  });

  it('answers injected faults as Telegram does, and the channel reads 429, 403 and 5xx rightly', async () => {
    // Prepare
    const channel = telegramChannel(bot());
    const faultWith = async (error: { statusCode: number; code: string; message?: string; retryAfterSeconds?: number }): Promise<TelegramApiError> => {
      faults.replace([{ service: 'telegram', operation: 'sendMessage', probability: 1, error }]);
      try {
        return await failureOf(bot().sendMessage('4242', 'x'));
      } finally {
        faults.clear();
      }
    };

    // Act
    const throttled = await faultWith({ statusCode: 429, code: 'TooManyRequests', message: 'Too Many Requests: retry after 7', retryAfterSeconds: 7 });
    const blocked = await faultWith({ statusCode: 403, code: 'Forbidden' });
    const down = await faultWith({ statusCode: 502, code: 'BadGateway' });

    // Assess
    expect(throttled).toMatchObject({ retryAfterMs: 7_000, $metadata: { httpStatusCode: 429 } });
    expect(channel.classify(throttled)).toEqual({ kind: 'throttled', retryAfterMs: 7_000 });
    expect(blocked.message).toContain('Forbidden: bot was blocked by the user');
    expect(channel.classify(blocked)).toEqual({ kind: 'permanent' });
    expect(channel.classify(down)).toEqual({ kind: 'transient' });
  });

  it('tries a message refused with 401 again, and the retry reads the rotated token from Secrets Manager', async () => {
    // Prepare: the secret still holds a token BotFather revoked when it is first read (the local
    // Secrets Manager holds the new one, which the operator then put: it does not rotate, so the front
    // answers that first read as Secrets Manager did)
    const front = await startWireFront('secretsmanager', secrets.endpoint);
    onTestFinished(() => front.stop());
    const arn = secrets.arnOf('bot-token');
    front.answerNext('GetSecretValue', { ARN: arn, Name: 'bot-token', SecretString: '1000000001:revoked-token', VersionId: 'v1', VersionStages: ['AWSCURRENT'], CreatedDate: 1_893_456_000 });
    const rotating = new SecretsManagerClient({ endpoint: front.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    onTestFinished(() => rotating.destroy());
    const token = cachedSecret(() => rotating, arn);
    const sender = telegramBotApi({ apiUrl: telegram.url, token: () => token.value(), forgetToken: () => token.forget() });
    const channel = telegramChannel(sender);

    // Act: the first attempt, then the retry (well within the token's 5-minute cache)
    const refused = await failureOf(sender.sendMessage('4242', 'Invoice ready'));
    const verdict = channel.classify(refused);
    const retried = await sender.sendMessage('4242', 'Invoice ready');

    // Assess
    expect(refused.$metadata.httpStatusCode).toBe(401);
    expect(verdict).toEqual({ kind: 'transient' });
    expect(outbox.list('telegram')[0]).toMatchObject({ to: '4242', body: { text: 'Invoice ready' }, providerMessageId: retried.messageId });
    expect(front.calls('GetSecretValue').map((call) => call.input.SecretId)).toEqual([arn, arn]);
  });

  it('answers a secret that is not a token at all 404 Not Found, as the Bot API does; the adapter reads the secret again and the channel retries', async () => {
    // Prepare: the secret was first stored as JSON, then fixed
    const stored = [JSON.stringify({ token: localTelegramBotToken }), localTelegramBotToken];
    let reads = 0;
    let forgotten = 0;
    const sender = telegramBotApi({ apiUrl: telegram.url, token: async () => stored[Math.min(reads++, 1)] ?? '', forgetToken: () => void forgotten++ });
    const channel = telegramChannel(sender);

    // Act
    const refused = await failureOf(sender.sendMessage('4242', 'Token fixed'));
    const retried = await sender.sendMessage('4242', 'Token fixed');

    // Assess
    expect(refused.$metadata.httpStatusCode).toBe(404);
    expect(refused.message).toBe('Telegram answered 404: Not Found');
    expect(channel.classify(refused)).toEqual({ kind: 'transient' });
    expect(forgotten).toBe(1);
    expect(outbox.list('telegram').find((m) => m.providerMessageId === retried.messageId)).toMatchObject({ to: '4242', body: { text: 'Token fixed' } });
  });

  it('follows a group upgraded to a supergroup: the message goes to its new id, and the recipient\'s chat follows it', async () => {
    // Prepare: a confirmed group chat, which its admin then upgrades
    const directory = new InMemoryRecipientStore();
    const recipient = aRecipient({ id: 'team', telegramChatId: '-4242' });
    await directory.put(recipient);
    const supergroup = telegram.migrateChat('-4242');
    const raw = await fetch(`${telegram.url}/bot${localTelegramBotToken}/sendMessage`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ chat_id: '-4242', text: 'x' }) });
    const channel = telegramChannel(bot(), directory);
    const context = { tenantId: recipient.tenantId, recipient, live: { connections: [], unread: 0, unreadVersion: 0 }, now: new Date() };

    // Act
    const receipt = await channel.send('-4242', 'Deploy done', context);
    const next = await bot().sendMessage(supergroup, 'Next one');

    // Assess
    expect(raw.status).toBe(400);
    expect(await raw.json()).toEqual({ ok: false, error_code: 400, description: 'Bad Request: group chat was upgraded to a supergroup chat', parameters: { migrate_to_chat_id: -1000000004242 } });
    expect(supergroup).toBe('-1000000004242');
    expect(receipt.detail).toBe("the group became supergroup -1000000004242, sent there; the recipient's telegramChatId follows it");
    expect(outbox.list('telegram').filter((m) => m.to === '-4242')).toEqual([]);
    // Newest first.
    expect(outbox.list('telegram').filter((m) => m.to === supergroup).map((m) => (m.body as { text: string }).text)).toEqual(['Next one', 'Deploy done']);
    expect(next.movedTo).toBeUndefined();
    expect((await directory.get(recipient.tenantId, 'team'))?.telegramChatId).toBe(supergroup);
  });

  it('leaves a recipient whose chat was changed meanwhile as it is, and sends to the new id all the same', async () => {
    // Prepare
    const directory = new InMemoryRecipientStore();
    const recipient = aRecipient({ id: 'ops', telegramChatId: '-5151' });
    await directory.put({ ...recipient, telegramChatId: '777' });
    const supergroup = telegram.migrateChat('-5151');
    const channel = telegramChannel(bot(), directory);

    // Act
    const receipt = await channel.send('-5151', 'Heads up', { tenantId: recipient.tenantId, recipient, live: { connections: [], unread: 0, unreadVersion: 0 }, now: new Date() });

    // Assess
    expect(receipt.detail).toBe(`the group became supergroup ${supergroup}, sent there`);
    expect((await directory.get(recipient.tenantId, 'ops'))?.telegramChatId).toBe('777');
  });

  it('renders the title and message, cut to the 4,096 characters Telegram takes', () => {
    expect(telegramText('Title', 'Body')).toBe('Title\n\nBody');
    expect([...telegramText('Title', 'x'.repeat(5000))]).toHaveLength(4096);
  });
});

async function secretNotFound(): Promise<string> {
  try {
    await cachedSecret(() => client, 'no-such-secret').value();
    return 'found';
  } catch (error) {
    return (error as Error).name;
  }
}

describe('the HTML parse mode, on the local Bot API as on Telegram', () => {
  it('shows a template section with its tags and entities parsed, and refuses unbalanced or unsupported tags', async () => {
    // Act
    const { messageId } = await bot().sendMessage('7', '<b>Invoice</b> 42 &amp; more &lt;3');
    const unbalanced = await failureOf(bot().sendMessage('7', '<b>Invoice'));
    const unsupported = await failureOf(bot().sendMessage('7', '<script>x</script>'));
    const bareAmpersand = await failureOf(bot().sendMessage('7', 'Fish & chips'));

    // Assess
    expect(outbox.list('telegram')[0]).toMatchObject({ providerMessageId: messageId, body: { parse_mode: 'HTML', shown: 'Invoice 42 & more <3' } });
    for (const refused of [unbalanced, unsupported, bareAmpersand]) {
      expect(refused.$metadata.httpStatusCode).toBe(400);
      expect(refused.message).toContain("can't parse entities");
    }
  });

  it('renders plain words escaped whole, so they show as written, and a template section as it was rendered', async () => {
    // Prepare
    const channel = telegramChannel(bot());
    const content = { id: 'ntf_1', title: 'Fish & <chips>', message: 'a < b', type: 'general', priority: 'normal' as const, createdAt: '2030-01-01T00:00:00.000Z', scheduledAt: null };
    const templated = {
      ...content,
      rendered: { templateId: 'invoice', version: 1, locale: 'en', channels: { telegram: { text: '<b>Invoice</b> 42', parseMode: 'HTML' as const } }, failures: {} },
    };

    // Act
    const plain = channel.render(content, {});
    const section = channel.render(templated, {});
    await channel.send('8', plain, { tenantId: 't', recipient: { id: 'r', groups: [], createdAt: '', updatedAt: '' }, live: { connections: [], unread: 0 }, now: new Date() } as never);

    // Assess
    expect(plain).toBe('Fish &amp; &lt;chips&gt;\n\na &lt; b');
    expect(section).toBe('<b>Invoice</b> 42');
    expect(outbox.list('telegram')[0]?.body).toMatchObject({ shown: 'Fish & <chips>\n\na < b' });
  });
});
