/**
 * SMS through Amazon SNS (`Publish` to a phone number), within its send budget. An opted-out
 * number or any other refusal of the message fails the channel at once; SNS throttling waits
 * without spending an attempt (shared/domain/delivery-errors.ts).
 */
import { classifyProviderError } from '../../domain/delivery-errors.ts';
import { hasVerifiedAddress } from '../../domain/recipient.ts';
import type { SmsSender } from '../../ports.ts';
import { sectionFor } from '../../templates/section.ts';
import { smsBody } from '../../templates/sms-segments.ts';
import type { DeliveryChannel } from '../channel.ts';

/** The text of an SMS: the title and the message on two lines (the message alone without a title), cut as {@link smsBody} cuts. */
export function smsText(title: string, message: string): string {
  return smsBody(title === '' ? message : `${title}\n${message}`);
}

/** The SMS channel over `sms` (SNS in production, the local SNS emulator locally). */
export function smsChannel(sms: SmsSender): DeliveryChannel<string, string> {
  return {
    name: 'sms',
    kind: 'send',
    provider: 'sns-sms',
    needs: ['phone', 'pendingVerifications'],
    target: ({ recipient }) => {
      if (recipient.phone === undefined) return { skip: 'no phone number' };
      // A number its owner set and has not confirmed gets nothing but the code (contact-verification.ts).
      return hasVerifiedAddress(recipient, 'sms') ? recipient.phone : { skip: 'phone number not verified' };
    },
    render(content) {
      const chosen = sectionFor(content, 'sms');
      return chosen.kind === 'section' ? smsBody(chosen.section.text) : smsText(chosen.title, chosen.message);
    },
    async send(phone, text, { checkBudgetSecond }) {
      // The opt-out check comes first: the budget's second is checked again just before Publish.
      const { messageId } = await sms.send(phone, text, checkBudgetSecond ? { beforePublish: checkBudgetSecond } : {});
      return messageId ? { providerMessageId: messageId } : {};
    },
    classify: (error) => classifyProviderError(error),
  };
}
