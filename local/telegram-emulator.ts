/**
 * The local Telegram Bot API (core.telegram.org/bots/api), on its own port: `getMe` and
 * `sendMessage` at `/bot<token>/<method>`, with JSON, form or query parameters, answered in the
 * Bot API's own shapes: `{ ok: true, result }`, or `{ ok: false, error_code, description,
 * parameters? }` with the same HTTP status. It enforces what the real one does for these calls: the
 * bot's token (401 `Unauthorized`), a chat id and a text of 1 to 4,096 characters (400 `Bad
 * Request: …`), an unknown method (404 `Not Found`). Each message it accepts goes to the outbox.
 * Fault rules of service `telegram` (`/_local/faults`) answer with their status, `message` as the
 * `description`, and `retryAfterSeconds` as `parameters.retry_after`.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FaultInjector } from './fault-rules.ts';
import { httpUrl, listen } from './listen.ts';
import type { Outbox } from './outbox.ts';

/** The token of the local bot: what the local Secrets Manager holds for it. */
export const localTelegramBotToken = '1000000001:HERALD-local-bot-token_not-a-secret';
/** Telegram's limit on a message text (characters). */
const maxTextLength = 4096;

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

function refuse(res: ServerResponse, status: number, description: string, parameters?: { retry_after: number }): void {
  answer(res, status, { ok: false, error_code: status, description, ...(parameters ? { parameters } : {}) });
}

async function parameters(req: IncomingMessage, url: URL): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
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

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://telegram.local');
    const match = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(url.pathname);
    if (!match) return refuse(res, 404, 'Not Found');
    const [, given, method] = match as unknown as [string, string, string];
    if (given !== token) return refuse(res, 401, 'Unauthorized');
    let params: Record<string, unknown>;
    try {
      params = await parameters(req, url);
    } catch {
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
    const text = params.text;
    if (chatId === undefined || chatId === '') return refuse(res, 400, 'Bad Request: chat_id is empty');
    if (typeof text !== 'string' || text.trim() === '') return refuse(res, 400, 'Bad Request: message text is empty');
    if ([...text].length > maxTextLength) return refuse(res, 400, 'Bad Request: message is too long');
    const chat = String(chatId);
    const messageId = nextMessageId++;
    const date = Math.floor(Date.now() / 1000);
    options.outbox.record({ channel: 'telegram', provider: 'telegram', to: chat, body: { chat_id: chat, text }, providerMessageId: String(messageId) });
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
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
