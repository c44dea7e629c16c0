/** Telegram: one `sendMessage` by Herald's bot to the recipient's chat. */
import { classifyProviderError } from '../../domain/delivery-errors.ts';
import type { ProviderVerdict } from '../../domain/delivery-errors.ts';
import { hasVerifiedAddress } from '../../domain/recipient.ts';
import { cutText } from '../../domain/text-cut.ts';
import type { TelegramBot } from '../../adapters/telegram-bot-api.ts';
import { sectionFor } from '../../templates/section.ts';
import { escapeTelegramHtml } from '../../templates/telegram-text.ts';
import type { DeliveryChannel } from '../channel.ts';

/** The longest text `sendMessage` takes (characters, after entity parsing; Bot API, sendMessage). */
export const maxTelegramTextLength = 4096;

/** The message's text: the title, a blank line, the message, cut to Telegram's limit (in characters, not UTF-16 units). */
export function telegramText(title: string, message: string): string {
  return cutText(`${title}\n\n${message}`, { maxCodePoints: maxTelegramTextLength });
}

/**
 * What a Bot API answer means for a delivery. 401 Unauthorized is the bot's token, not the
 * message: a token revoked or rotated in BotFather before the secret was updated. The adapter has
 * dropped its cached token (`forgetToken`), so the retry, after the retry policy's backoff, reads
 * the secret again: transient, so a rotation loses no message (a token that stays wrong fails the
 * channel after the last retry). The rest as for any provider (`classifyProviderError`): 429 waits
 * `parameters.retry_after`, 403 (the bot was blocked, or kicked from the group) and other 4xx fail
 * at once, 5xx is tried again, no answer at all is never sent again (it may have gone out).
 */
export function classifyTelegramError(error: unknown): ProviderVerdict {
  const status = (error as { $metadata?: { httpStatusCode?: unknown } } | null)?.$metadata?.httpStatusCode;
  return status === 401 ? { kind: 'transient' } : classifyProviderError(error);
}

/** The Telegram channel over `bot`; its answers are read by {@link classifyTelegramError}. */
export function telegramChannel(bot: TelegramBot): DeliveryChannel<string, string> {
  return {
    name: 'telegram',
    kind: 'send',
    needs: ['telegramChatId', 'pendingVerifications'],
    target: ({ recipient }) => {
      if (recipient.telegramChatId === undefined) return { skip: 'no telegram chat' };
      return hasVerifiedAddress(recipient, 'telegram') ? recipient.telegramChatId : { skip: 'chat not verified' };
    },
    // Always the Bot API's HTML parse mode: a template's section is written for it (its variables
    // escaped), and plain words are escaped whole, so they show exactly as written.
    render(content) {
      const chosen = sectionFor(content, 'telegram');
      return chosen.kind === 'section' ? chosen.section.text : escapeTelegramHtml(telegramText(chosen.title, chosen.message));
    },
    async send(chatId, text) {
      const { messageId } = await bot.sendMessage(chatId, text);
      return messageId ? { providerMessageId: messageId } : {};
    },
    classify: classifyTelegramError,
  };
}
