/** Telegram: one `sendMessage` by Herald's bot to the recipient's chat. */
import { classifyTelegramError } from '../../domain/delivery-errors.ts';
import { hasVerifiedAddress } from '../../domain/recipient.ts';
import { cutText } from '../../domain/text-cut.ts';
import type { TelegramBot } from '../../adapters/telegram-bot-api.ts';
import { sectionFor } from '../../templates/section.ts';
import { escapeTelegramHtml, maxTelegramTextLength } from '../../templates/telegram-text.ts';
import type { DeliveryChannel } from '../channel.ts';
import { updateRecipientWhile } from './recipient-update.ts';
import type { ChannelDirectory } from './recipient-update.ts';

/** The message's text: the title, a blank line, the message, cut to Telegram's limit (in characters, not UTF-16 units). */
export function telegramText(title: string, message: string): string {
  return cutText(`${title}\n\n${message}`, { maxCodePoints: maxTelegramTextLength });
}

/**
 * The Telegram channel over `bot`; its answers are read by {@link classifyTelegramError}. A chat
 * that moved (a group upgraded to a supergroup: the bot sent to its new id) is followed in
 * `directory`, so the next message goes there at once.
 */
export function telegramChannel(bot: TelegramBot, directory?: ChannelDirectory): DeliveryChannel<string, string> {
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
    async send(chatId, text, { tenantId, recipient }) {
      const { messageId, movedTo } = await bot.sendMessage(chatId, text);
      const receipt = messageId ? { providerMessageId: messageId } : {};
      if (movedTo === undefined) return receipt;
      // The chat stays confirmed: the supergroup is the group the user confirmed, under the id Telegram gave it.
      const followed = directory
        ? await updateRecipientWhile(directory, tenantId, recipient.id, {
            stillHolds: (current) => current.telegramChatId === chatId,
            change: (current) => ({ ...current, telegramChatId: movedTo }),
            what: 'follow a Telegram chat that moved',
          })
        : false;
      return { ...receipt, detail: `the group became supergroup ${movedTo}, sent there${followed ? '; the recipient\'s telegramChatId follows it' : ''}` };
    },
    classify: classifyTelegramError,
  };
}
