/**
 * The Telegram Bot API's `sendMessage` (core.telegram.org/bots/api#sendmessage): a JSON POST to
 * `<apiUrl>/bot<token>/sendMessage`, answered `{ ok: true, result: Message }` or `{ ok: false,
 * error_code, description, parameters?: { retry_after } }`. The token is part of the URL, so
 * neither the URL nor the request ever reaches a log or an error message.
 */
import { telegramParseMode } from '../templates/telegram-text.ts';

/** An error answer of the Bot API, shaped as delivery-errors.ts classifies it. */
export class TelegramApiError extends Error {
  readonly $metadata: { readonly httpStatusCode: number };
  /** `parameters.retry_after` of a 429, in ms. */
  readonly retryAfterMs?: number;
  /** `parameters.migrate_to_chat_id` of a 400: the group was upgraded to this supergroup. */
  readonly migrateToChatId?: string;
  /** `retryAfterSeconds`, `migrateToChatId`: the answer's `parameters` (ResponseParameters). */
  constructor(status: number, description: string, parameters: { readonly retryAfterSeconds?: number; readonly migrateToChatId?: string } = {}) {
    super(`Telegram answered ${status}: ${description}`);
    this.name = 'TelegramApiError';
    this.$metadata = { httpStatusCode: status };
    if (parameters.retryAfterSeconds !== undefined) this.retryAfterMs = parameters.retryAfterSeconds * 1000;
    if (parameters.migrateToChatId !== undefined) this.migrateToChatId = parameters.migrateToChatId;
  }
}

/** Sends Telegram messages as Herald's bot. */
export interface TelegramBot {
  /**
   * Sends `text` to `chatId`; resolves with Telegram's `message_id`, and `movedTo`, the chat it was
   * sent to instead, when `chatId` is a group upgraded to a supergroup. Throws TelegramApiError on
   * an error answer.
   */
  sendMessage(chatId: string, text: string): Promise<{ readonly messageId: string; readonly movedTo?: string }>;
}

/** The longest a Bot API call may take (ms). */
export const telegramTimeoutMs = 10_000;

interface BotApiAnswer {
  readonly ok?: boolean;
  readonly result?: { readonly message_id?: number };
  readonly error_code?: number;
  readonly description?: string;
  readonly parameters?: { readonly retry_after?: number; readonly migrate_to_chat_id?: number };
}

/**
 * A TelegramBot calling `apiUrl` (https://api.telegram.org on AWS) with the token `token()` gives
 * (read from Secrets Manager, cached). A 401 (a revoked or rotated token) or a 404 (a secret that
 * is not a token: the Bot API answers "Not Found" to its path) makes `forgetToken` run, so the next
 * call, the retry of the message refused included, reads the secret again.
 */
export function telegramBotApi(options: {
  readonly apiUrl: string;
  readonly token: () => Promise<string>;
  readonly forgetToken?: () => void;
  readonly timeoutMs?: number;
}): TelegramBot {
  /** One `sendMessage` call to `chatId`. */
  const send = async (chatId: string, text: string): Promise<{ readonly messageId: string }> => {
    const token = await options.token();
    const response = await fetch(`${options.apiUrl.replace(/\/$/, '')}/bot${token}/sendMessage`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      // Herald's text is written for the HTML parse mode (shared/templates/telegram-text.ts).
      body: JSON.stringify({ chat_id: chatId, text, parse_mode: telegramParseMode }),
      signal: AbortSignal.timeout(options.timeoutMs ?? telegramTimeoutMs),
    }).catch((error: unknown) => {
      // fetch's own error says nothing of the URL, but make sure: keep only its name and code.
      const cause = error as { name?: string; cause?: { code?: string } };
      throw Object.assign(new Error(`Telegram could not be reached (${cause.name ?? 'Error'})`), {
        name: cause.name === 'TimeoutError' ? 'TimeoutError' : 'TelegramNetworkError',
        ...(cause.cause?.code ? { code: cause.cause.code } : {}),
      });
    });
    const answer = (await response.json().catch(() => ({}))) as BotApiAnswer;
    if (response.ok && answer.ok === true) return { messageId: String(answer.result?.message_id ?? '') };
    // 401: a token revoked or rotated; 404: not a token at all (every method exists). Read the secret again.
    if (response.status === 401 || response.status === 404) options.forgetToken?.();
    const { retry_after: retryAfterSeconds, migrate_to_chat_id: migrateTo } = answer.parameters ?? {};
    throw new TelegramApiError(answer.error_code ?? response.status, answer.description ?? response.statusText, {
      ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}),
      ...(migrateTo !== undefined ? { migrateToChatId: String(migrateTo) } : {}),
    });
  };
  return {
    async sendMessage(chatId, text) {
      try {
        return await send(chatId, text);
      } catch (error) {
        // A group upgraded to a supergroup answers 400 naming its new id (nothing was sent): the
        // message goes there, once, and the caller is told where the chat now is.
        const movedTo = error instanceof TelegramApiError ? error.migrateToChatId : undefined;
        if (movedTo === undefined || movedTo === chatId) throw error;
        return { ...(await send(movedTo, text)), movedTo };
      }
    },
  };
}
