/** Telegram: one `sendMessage` by Herald's bot to the recipient's chat. */
import { classifyProviderError } from '../../domain/delivery-errors.ts';
import { hasVerifiedAddress } from '../../domain/recipient.ts';
import type { TelegramBot } from '../../adapters/telegram-bot-api.ts';
import type { DeliveryChannel } from '../channel.ts';

/** The longest text `sendMessage` takes (characters, after entity parsing; Bot API, sendMessage). */
export const maxTelegramTextLength = 4096;

/** The message's text: the title, a blank line, the message, cut to Telegram's limit (in characters, not UTF-16 units). */
export function telegramText(title: string, message: string): string {
  const characters = [...`${title}\n\n${message}`];
  return characters.length <= maxTelegramTextLength ? characters.join('') : `${characters.slice(0, maxTelegramTextLength - 1).join('')}…`;
}

/**
 * The Telegram channel over `bot`. Its answers: 429 waits `parameters.retry_after`; 403 (the bot
 * was blocked, or kicked from the group) and other 4xx fail at once; 5xx is tried again; no
 * answer at all is never sent again (it may have gone out).
 */
export function telegramChannel(bot: TelegramBot): DeliveryChannel<string, string> {
  return {
    name: 'telegram',
    kind: 'send',
    needs: ['telegramChatId', 'pendingVerifications'],
    target: ({ recipient }) => {
      if (recipient.telegramChatId === undefined) return { skip: 'no telegram chat' };
      return hasVerifiedAddress(recipient, 'telegram') ? recipient.telegramChatId : { skip: 'chat not verified' };
    },
    render: (content) => telegramText(content.title, content.message),
    async send(chatId, text) {
      const { messageId } = await bot.sendMessage(chatId, text);
      return messageId ? { providerMessageId: messageId } : {};
    },
    classify: (error) => classifyProviderError(error),
  };
}
