/**
 * The Telegram adapter against the local Bot API, and the bot token read from the local Secrets
 * Manager through the AWS SDK: the wire shapes both ways, the Bot API's refusals and injected
 * faults, and what the telegram channel makes of each.
 */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cachedSecret } from '../../../shared/adapters/secrets-manager-secret.ts';
import type { TelegramApiError} from '../../../shared/adapters/telegram-bot-api.ts';
import { telegramBotApi } from '../../../shared/adapters/telegram-bot-api.ts';
import { telegramChannel, telegramText } from '../../../shared/delivery/channels/telegram.ts';
import { createFaultInjector } from '../../../local/fault-rules.ts';
import { Outbox } from '../../../local/outbox.ts';
import { startSecretsManagerEmulator } from '../../../local/secrets-manager-emulator.ts';
import type { SecretsManagerEmulator } from '../../../local/secrets-manager-emulator.ts';
import { localTelegramBotToken, startTelegramEmulator } from '../../../local/telegram-emulator.ts';
import type { TelegramEmulator } from '../../../local/telegram-emulator.ts';

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
    const empty = await failureOf(bot().sendMessage('1', '  '));
    const long = await failureOf(bot().sendMessage('1', 'x'.repeat(4097)));
    const missing = await secretNotFound();

    // Assess
    expect([wrongToken, empty, long].map((e) => e.$metadata.httpStatusCode)).toEqual([401, 400, 400]);
    expect(empty.message).toContain('Bad Request: message text is empty');
    expect(long.message).toContain('Bad Request: message is too long');
    for (const error of [wrongToken, empty, long]) expect(error.message).not.toContain(localTelegramBotToken);
    expect(missing).toBe('ResourceNotFoundException');
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
