/** What Herald knows of the SES account it sends e-mail from. */

/** The SES account's sending status, as `GetAccount` (SES API v2) reports it. */
export interface EmailAccountStatus {
  /** True while the account is in the SES sandbox: it sends only to verified addresses, within the sandbox's quota. */
  readonly sandbox: boolean;
  /** False when SES paused the account's sending (a review, a reputation issue). */
  readonly sendingEnabled: boolean;
  /** E-mails per second. */
  readonly maxSendRate: number;
  /** E-mails per rolling 24 hours (-1: unlimited). */
  readonly max24HourSend: number;
  readonly sentLast24Hours: number;
}
