/** Telegram: one `sendMessage` by Herald's bot to the recipient's chat. */
import { classifyTelegramError } from '../../domain/delivery-errors.ts';
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
