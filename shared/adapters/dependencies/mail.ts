/** E-mail through SES: the mailer every e-mail goes through, and the client for the account's send quota. */
import { SESClient } from '@aws-sdk/client-ses';
import { deliveryConfig, emailConfigurationSet, once } from '../../config.ts';
import { AnsweredErrorsRetryStrategy } from '../answered-errors-retry-strategy.ts';
import { SesMailer } from '../ses-mailer.ts';
import { sdkRequestHandler } from '../sdk-clients.ts';
import { withoutSdkLogger } from '../sdk-logger.ts';

// An email must not go twice: the SDK retries only what SES refused, never a timed-out send.
const newSesClient = (): SESClient => withoutSdkLogger(new SESClient({ requestHandler: sdkRequestHandler(), retryStrategy: new AnsweredErrorsRetryStrategy() }));
/** The client for SES's account questions (`GetSendQuota`); sends go through the mailer's own. */
export const sesClient = /* @__PURE__ */ once(newSesClient);
// The mailer makes its own client, and a new one whenever a send threw before leaving (ses-mailer.ts).
export const mailer = /* @__PURE__ */ once(() => new SesMailer(newSesClient, deliveryConfig().emailFrom, emailConfigurationSet()));
