/**
 * The local Telegram Bot API (core.telegram.org/bots/api), on its own port: `getMe` and
 * `sendMessage` at `/bot<token>/<method>`, with JSON, form or query parameters, answered in the
 * Bot API's own shapes: `{ ok: true, result }`, or `{ ok: false, error_code, description,
 * parameters? }` with the same HTTP status. It enforces what the real one does for these calls:
 * the bot's token (401 `Unauthorized`; 404 `Not Found` for what is not a token at all), a chat id
 * and a text of 1 to 4,096 characters (400 `Bad Request: …`), an unknown method (404 `Not
 * Found`), a group upgraded to a supergroup (400 with `parameters.migrate_to_chat_id`). Each
 * message it accepts goes to the outbox.
 * Fault rules of service `telegram` (`/_local/faults`) answer with their status, `message` as the
 * `description`, and `retryAfterSeconds` as `parameters.retry_after`.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readTelegramHtml } from '../shared/templates/telegram-html.ts';
import { maxTelegramTextLength } from '../shared/templates/telegram-text.ts';
import type { FaultInjector } from './fault-rules.ts';
import { httpUrl, listen } from './listen.ts';
import { readBody } from './request-body.ts';
import type { Outbox } from './outbox.ts';

/** The token of the local bot: what the local Secrets Manager holds for it. */
export const localTelegramBotToken = '1000000001:HERALD-local-bot-token_not-a-secret';
/** A bot token's shape, `<bot id>:<secret>` ("Authorizing your bot", core.telegram.org/bots/api). */
const telegramTokenShape = /^\d+:[A-Za-z0-9_-]+$/;

export interface TelegramEmulatorOptions {
  readonly host?: string;
  /** 0 picks a free port. @default 0 */
  readonly port?: number;
  readonly outbox: Outbox;
  readonly faults: FaultInjector;
  /** @default localTelegramBotToken */
  readonly token?: string;
}

export interface TelegramEmulator {
  /** The base URL, as `https://api.telegram.org` is on AWS. */
  readonly url: string;
  /**
   * Upgrades the group `chatId` (a negative id) to a supergroup, as a group admin can: messages to
   * the old id are answered 400 `Bad Request: group chat was upgraded to a supergroup chat` with
   * `parameters.migrate_to_chat_id`, the id this returns (`-100` and ten digits, as supergroups' are).
   */
  migrateChat(chatId: string): string;
  stop(): Promise<void>;
}

const defaultDescriptions: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden: bot was blocked by the user',
  404: 'Not Found',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
};

function answer(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** The `ResponseParameters` an error may carry. */
interface ResponseParameters {
  readonly retry_after?: number;
  readonly migrate_to_chat_id?: number;
}

function refuse(res: ServerResponse, status: number, description: string, parameters?: ResponseParameters): void {
  answer(res, status, { ok: false, error_code: status, description, ...(parameters ? { parameters } : {}) });
}

/** The Bot API's largest request: "Bots can send files of any type of up to 50 MB in size"; past it, 413. */
const maxRequestBytes = 50 * 1024 * 1024;

/** The body was over {@link maxRequestBytes}. */
class RequestEntityTooLargeError extends Error {}

async function parameters(req: IncomingMessage, url: URL): Promise<Record<string, unknown>> {
  const body = await readBody(req, maxRequestBytes);
  if (body === undefined) throw new RequestEntityTooLargeError('Request Entity Too Large');
  const text = body.toString('utf8');
  const query = Object.fromEntries(url.searchParams);
  const type = req.headers['content-type'] ?? '';
  if (text === '') return query;
  if (type.includes('application/json')) {
    const parsed = JSON.parse(text) as unknown;
    return { ...query, ...(typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {}) };
  }
  return { ...query, ...Object.fromEntries(new URLSearchParams(text)) };
}

/** Starts the local Bot API. */
export async function startTelegramEmulator(options: TelegramEmulatorOptions): Promise<TelegramEmulator> {
  const token = options.token ?? localTelegramBotToken;
  const botId = Number(token.split(':')[0]);
  let nextMessageId = 1;
  /** Groups upgraded to supergroups: the old id, the new. */
  const migrated = new Map<string, string>();

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://telegram.local');
    const match = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(url.pathname);
    if (!match) return refuse(res, 404, 'Not Found');
    const [, given, method] = match as unknown as [string, string, string];
    // What is not a token at all (`<bot id>:<secret>`) is a path the Bot API does not know: 404.
    // A token of that shape that is not the bot's: 401.
    if (!telegramTokenShape.test(given)) return refuse(res, 404, 'Not Found');
    if (given !== token) return refuse(res, 401, 'Unauthorized');
    let params: Record<string, unknown>;
    try {
      params = await parameters(req, url);
    } catch (error) {
      if (error instanceof RequestEntityTooLargeError) return refuse(res, 413, 'Request Entity Too Large');
      return refuse(res, 400, "Bad Request: can't parse JSON object");
    }
    if (method !== 'getMe' && method !== 'sendMessage') return refuse(res, 404, 'Not Found');
    const fault = options.faults.decide('telegram', method);
    if (fault) {
      return refuse(
        res,
        fault.statusCode,
        fault.message ?? defaultDescriptions[fault.statusCode] ?? fault.code,
        fault.retryAfterSeconds !== undefined ? { retry_after: fault.retryAfterSeconds } : undefined,
      );
    }
    const bot = { id: botId, is_bot: true, first_name: 'Herald (local)', username: 'herald_local_bot' };
    if (method === 'getMe') return answer(res, 200, { ok: true, result: bot });

    const chatId = params.chat_id;
    const written = params.text;
    const parseMode = params.parse_mode;
    if (chatId === undefined || chatId === '') return refuse(res, 400, 'Bad Request: chat_id is empty');
    if (typeof written !== 'string' || written.trim() === '') return refuse(res, 400, 'Bad Request: message text is empty');
    if (parseMode !== undefined && parseMode !== 'HTML') return refuse(res, 400, `Bad Request: unsupported parse_mode ${String(parseMode)} (the local Bot API parses HTML only)`);
    // The limit counts the text after entity parsing, as Telegram does.
    const parsed = parseMode === 'HTML' ? readTelegramHtml(written) : { text: written };
    if ('error' in parsed) return refuse(res, 400, `Bad Request: can't parse entities: ${parsed.error}`);
    const text = parsed.text;
    if (text.trim() === '') return refuse(res, 400, 'Bad Request: message text is empty');
    if ([...text].length > maxTelegramTextLength) return refuse(res, 400, 'Bad Request: message is too long');
    const chat = String(chatId);
    const movedTo = migrated.get(chat);
    if (movedTo !== undefined) return refuse(res, 400, 'Bad Request: group chat was upgraded to a supergroup chat', { migrate_to_chat_id: Number(movedTo) });
    const messageId = nextMessageId++;
    const date = Math.floor(Date.now() / 1000);
    options.outbox.record({
      channel: 'telegram',
      provider: 'telegram',
      to: chat,
      body: { chat_id: chat, text: written, ...(parseMode !== undefined ? { parse_mode: parseMode, shown: text } : {}) },
      providerMessageId: String(messageId),
    });
    const numeric = /^-?\d+$/.test(chat);
    const result = {
      message_id: messageId,
      from: bot,
      chat: numeric ? { id: Number(chat), type: chat.startsWith('-') ? 'group' : 'private' } : { id: -1000000000001, type: 'channel', username: chat.slice(1) },
      date,
      text,
    };
    return answer(res, 200, { ok: true, result });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => refuse(res, 500, 'Internal Server Error'));
  });
  const host = options.host ?? '127.0.0.1';
  const port = await listen(server, options.port ?? 0, host);
  return {
    url: httpUrl(host, port),
    migrateChat(chatId) {
      if (!/^-\d+$/.test(chatId) || chatId.startsWith('-100')) throw new Error(`${chatId} is not a basic group's id: only those are upgraded to supergroups`);
      const supergroup = `-100${chatId.slice(1).padStart(10, '0')}`;
      migrated.set(chatId, supergroup);
      return supergroup;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
