/**
 * An SES account's sending quotas, as the local SES enforces them: a maximum send rate (emails
 * per second) and a maximum per rolling 24 hours ("Sending quotas" and "Errors related to the
 * sending quotas for your Amazon SES account", SES Developer Guide). An email counts once per
 * recipient ("sending limits are based on recipients rather than on messages", AWS Messaging
 * blog on SES throttling); a send is let through while the quota has room left, and then charged
 * all its recipients, as that blog describes; a send with no room left is refused with the
 * message SES gives.
 * The rate is judged over the second before each send (a sliding window), so no second, wherever
 * it starts, sees more single-recipient sends than the rate.
 * The sends of the window are a `FifoLog`: at the default quota it holds up to a million, and one
 * expires with about every send once a day has passed.
 */
import { FifoLog } from './fifo-log.ts';

/** An account's quotas. */
export interface SesQuotaLimits {
  /** Emails accepted per second. */
  readonly maxSendRate: number;
  /** Emails accepted per rolling 24 hours; -1 is unlimited, as `GetSendQuota` reports it. */
  readonly max24HourSend: number;
}

/** An accepted send, as `GET /_local/ses` lists it. */
export interface AcceptedSend {
  /** `SendEmail`, `SendRawEmail` (SES v1) or `v2:SendEmail`. */
  readonly operation: string;
  readonly recipients: number;
  /** When SES accepted it, epoch ms. */
  readonly at: number;
  /** SES's MessageId, once the send is answered. */
  messageId?: string;
}

/** SES's messages for a refused send (the `Throttling` error of the query API). */
export const sesThrottlingMessages = {
  rate: 'Maximum sending rate exceeded.',
  daily: 'Daily message quota exceeded.',
} as const;

export type SesAdmission = { readonly accepted: AcceptedSend } | { readonly refused: (typeof sesThrottlingMessages)[keyof typeof sesThrottlingMessages] };

/** Generous enough that nothing throttles unless asked: 1,000 a second, a million a day. */
export const defaultSesQuotaLimits: SesQuotaLimits = { maxSendRate: 1_000, max24HourSend: 1_000_000 };

const dayMs = 24 * 60 * 60 * 1000;

/** The quotas of one SES account, and the sends it accepted in the last 24 hours. */
export class SesSendQuota {
  readonly limits: SesQuotaLimits;
  private readonly now: () => number;
  /** Accepted sends of the last 24 hours, oldest first. */
  private readonly accepted = new FifoLog<AcceptedSend>();
  /** Their emails, added up. */
  private dailyTotal = 0;

  /** `now` gives epoch ms (a test passes its own clock). Throws RangeError on limits SES cannot have. */
  constructor(limits: SesQuotaLimits = defaultSesQuotaLimits, now: () => number = Date.now) {
    if (!(limits.maxSendRate > 0)) throw new RangeError(`maxSendRate must be a positive number of emails per second, not ${limits.maxSendRate}`);
    if (!(Number.isInteger(limits.max24HourSend) && (limits.max24HourSend >= 1 || limits.max24HourSend === -1))) {
      throw new RangeError(`max24HourSend must be a positive whole number of emails, or -1 for unlimited, not ${limits.max24HourSend}`);
    }
    this.limits = limits;
    this.now = now;
  }

  /** Accepts a send of `recipients` emails, or says which quota refuses it. */
  admit(operation: string, recipients: number): SesAdmission {
    const at = this.now();
    this.forgetBefore(at - dayMs);
    if (this.limits.max24HourSend !== -1 && this.dailyTotal >= this.limits.max24HourSend) {
      return { refused: sesThrottlingMessages.daily };
    }
    if (this.sentSince(at - 1000) >= this.limits.maxSendRate) return { refused: sesThrottlingMessages.rate };
    const send: AcceptedSend = { operation, recipients: Math.max(1, recipients), at };
    this.accepted.push(send);
    this.dailyTotal += send.recipients;
    return { accepted: send };
  }

  /** Takes back an accepted send that SES then refused for another reason (an invalid request). */
  release(send: AcceptedSend): void {
    if (this.accepted.remove(send)) this.dailyTotal -= send.recipients;
  }

  /** Emails sent in the rolling 24 hours before now (`SentLast24Hours`). */
  sentLast24Hours(): number {
    const now = this.now();
    this.forgetBefore(now - dayMs);
    return this.dailyTotal;
  }

  /** The accepted sends of the last 24 hours, oldest first. */
  sends(): readonly AcceptedSend[] {
    this.forgetBefore(this.now() - dayMs);
    return this.accepted.slice().map((send) => ({ ...send }));
  }

  /** Emails of the sends accepted after `sinceMs` (scanned from the newest: the window is a second). */
  private sentSince(sinceMs: number): number {
    let total = 0;
    for (let index = -1; index >= -this.accepted.length; index -= 1) {
      const send = this.accepted.at(index);
      if (send === undefined || send.at <= sinceMs) break;
      total += send.recipients;
    }
    return total;
  }

  private forgetBefore(cutoffMs: number): void {
    this.accepted.dropWhile((send) => {
      if (send.at > cutoffMs) return false;
      this.dailyTotal -= send.recipients;
      return true;
    });
  }
}
