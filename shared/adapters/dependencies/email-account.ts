/**
 * The SES account's sandbox status and quota, through SES API v2. Its own module, apart from the
 * mailer: only the api function (`/v1/metrics`) asks, and the SES v2 client is ~60 KB of bundle
 * that the delivering functions would otherwise carry and load.
 */
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { once } from '../../config.ts';
import { SesAccount } from '../ses-account.ts';
import { sdkClientOptions } from '../sdk-clients.ts';
import { withoutSdkLogger } from '../sdk-logger.ts';

/** The account's sandbox status and quota (SES API v2 `GetAccount`). */
export const emailAccount = /* @__PURE__ */ once(() => new SesAccount(withoutSdkLogger(new SESv2Client(sdkClientOptions()))));
